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
// gatewatch.yaml flags, -o/--output for the folder, and an action that
// writes the files files returns from them. It returns the command, for
// flags of its own.
func generateCommand(app *kingpin.Application, name, help string, files func(in *inputs) ([]outFile, error)) *kingpin.CmdClause {
	var (
		in  inputs
		out string
	)
	cmd := generateParent(app).Command(name, help)
	in.flags(cmd)
	cmd.Flag("output", "Directory to write the files to (created if missing).").Short('o').Default(".").StringVar(&out)
	cmd.Action(func(*kingpin.ParseContext) error {
		fs, err := files(&in)
		if err != nil {
			return err
		}
		return writeFiles(out, fs)
	})
	return cmd
}
