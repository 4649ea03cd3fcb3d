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

func run(args []string) int {
	app := kingpin.New("gatewatch", "Monitoring as code for API gateways: one gateway contract in, the whole observability stack out.")
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	app.Terminate(nil)
	app.HelpFlag.Short('h')
	app.Command("version", "Print the version of gatewatch.").Action(func(*kingpin.ParseContext) error {
		fmt.Fprintf(stdout, "gatewatch %s (revision %s)\n", version, revision)
		return nil
	})
	for _, r := range registrations {
		r(app)
	}
	helpAsked := false
	for _, a := range args {
		if a == "--help" || a == "-h" || a == "help" {
			helpAsked = true
		}
	}
	_, err := app.Parse(args)
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	case helpAsked:
		return 0
	}
	fmt.Fprintf(stderr, "gatewatch: error: %v\n", err)
	return 1
}
