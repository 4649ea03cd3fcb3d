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

	"github.com/alecthomas/kingpin/v2"
)

// Version information, set with -ldflags at build time.
var (
	version  = "dev"
	revision = "unknown"
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
	app.Command("version", "Print the version of gatewatch.").Action(func(*kingpin.ParseContext) error {
		fmt.Fprintf(stdout, "gatewatch %s (revision %s)\n", version, revision)
		return nil
	})
	for _, r := range registrations {
		r(app)
	}
	return app
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
