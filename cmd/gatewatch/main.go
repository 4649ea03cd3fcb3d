// Command gatewatch is monitoring as code for API gateways: it reads a
// gateway contract (KrakenD, Kong, Envoy) and generates the observability
// stack from it, and runs as a sidecar that exports per-endpoint metrics and
// ships access logs.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/alecthomas/kingpin/v2"
)

// registrations holds the subcommands; each command file adds itself with
// register in an init function.
var registrations []func(app *kingpin.Application)

func register(f func(app *kingpin.Application)) { registrations = append(registrations, f) }

// exitError carries a specific exit status out of a command (lint findings,
// breaking changes) without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// stdout and stderr are where commands write; tests replace them.
var (
	stdout io.Writer = os.Stdout
	stderr io.Writer = os.Stderr
)

func main() { os.Exit(run(os.Args[1:])) }

// terminated carries kingpin's exit out of Parse: --help, -h and
// --version end the program before any command's action runs.
type terminated struct{ code int }

// newApp builds the command line with every registered command.
func newApp() *kingpin.Application {
	app := kingpin.New("gatewatch", "Monitoring as code for API gateways: one gateway contract in, the whole observability stack out.\n\nExit status: 0 clean, 1 findings (lint findings, breaking changes, failing checks), 2 the command could not do its job (bad arguments, unreadable input).")
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	app.Terminate(func(code int) { panic(terminated{code}) })
	app.HelpFlag.Short('h')
	app.UsageTemplate(usageTemplate)
	for _, r := range registrations {
		r(app)
	}
	documentExitStatus(app)
	return app
}

// usageTemplate is kingpin's default template, except that a command's own
// help shows its long help when it has one.
var usageTemplate = strings.Replace(kingpin.DefaultUsageTemplate,
	`usage: {{.App.Name}} {{.Context.SelectedCommand}}{{template "FormatUsage" .Context.SelectedCommand}}`,
	`usage: {{.App.Name}} {{.Context.SelectedCommand}}{{template "FormatCommand" .Context.SelectedCommand}}{{if .Context.SelectedCommand.Commands}} <command> [<args> ...]{{end}}
{{if .Context.SelectedCommand.HelpLong}}
{{.Context.SelectedCommand.HelpLong|Wrap 0 -}}
{{else if .Context.SelectedCommand.Help}}
{{.Context.SelectedCommand.Help|Wrap 0 -}}
{{end -}}
`, 1)

// exitStatusHelp is added to the help of every command that does not say
// its own exit status.
const exitStatusHelp = "Exit status: 0 done, 2 the command could not do its job (bad arguments, unreadable or invalid input)."

// documentExitStatus gives every command without subcommands and without a
// long help of its own a long help: its help and exitStatusHelp. The long
// help is what `COMMAND --help` shows (usageTemplate); the list of commands
// keeps the short help.
func documentExitStatus(app *kingpin.Application) {
	var walk func(get func(string) *kingpin.CmdClause, cmds []*kingpin.CmdModel)
	walk = func(get func(string) *kingpin.CmdClause, cmds []*kingpin.CmdModel) {
		for _, m := range cmds {
			c := get(m.Name)
			if len(m.Commands) > 0 {
				walk(c.GetCommand, m.Commands)
				continue
			}
			if m.HelpLong == "" {
				c.HelpLong(m.Help + "\n\n" + exitStatusHelp)
			}
		}
	}
	walk(app.GetCommand, app.Model().Commands)
}

// run executes the command line and returns the exit status: 0 clean,
// 1 findings, 2 failure.
func run(args []string) (code int) {
	app := newApp()
	defer func() {
		if r := recover(); r != nil {
			t, ok := r.(terminated)
			if !ok {
				panic(r)
			}
			code = t.code
		}
	}()
	_, err := app.Parse(args)
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	}
	fmt.Fprintf(stderr, "gatewatch: error: %v\n", err)
	return 2
}
