package main

import (
	"github.com/alecthomas/kingpin/v2"
)

// generateParent returns the `generate` command, which generate.go
// registers; a generator's file may run before or after it, so it
// creates the command when it is not there yet.
func generateParent(app *kingpin.Application) *kingpin.CmdClause {
	if gen := app.GetCommand("generate"); gen != nil {
		return gen
	}
	return app.Command("generate", "Generate monitoring artifacts from the contract and gatewatch.yaml.")
}

// generateCommand registers `gatewatch generate name`: the contract and
// gatewatch.yaml flags, --output-dir for the folder (and the deprecated
// -o), --strict, and an action that writes the files files returns from
// them. It returns the command, for flags of its own.
func generateCommand(app *kingpin.Application, name, help string, files func(in *inputs) ([]outFile, error)) *kingpin.CmdClause {
	var (
		in     inputs
		strict bool
	)
	cmd := generateParent(app).Command(name, help)
	in.flags(cmd)
	dir := outputDir(cmd)
	cmd.Flag("strict", "Owner and SLO patterns of gatewatch.yaml that match no endpoint are errors: nothing is written, exit status 1.").BoolVar(&strict)
	cmd.HelpLong(help + "\n\n" + generateExitHelp)
	cmd.Action(func(*kingpin.ParseContext) error {
		if err := preflight(&in, strict); err != nil {
			return err
		}
		fs, err := files(&in)
		if err != nil {
			return err
		}
		return writeFiles(dir(), fs)
	})
	return cmd
}
