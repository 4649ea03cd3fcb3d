// Command demo is `make demo`: the bundled example run for real until
// Ctrl-C or for DEMO_SECONDS (package live does the work).
//
//	demo [-gatewatch bin/gatewatch] [-krakend bin/gatewatch-demo-krakend]
//	     [-examples examples] [-out out/demo] [-seconds N]
//
// Debian's hey, prometheus and prometheus-alertmanager are used where they
// are on PATH; -hey, -prometheus and -alertmanager name them elsewhere, or
// "none" to run without.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/gatewatch/gatewatch/demo/live"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	var o live.Options
	fs.StringVar(&o.Gatewatch, "gatewatch", "bin/gatewatch", "the gatewatch binary")
	fs.StringVar(&o.Krakend, "krakend", "bin/gatewatch-demo-krakend", "the demo's KrakenD engine (go build ./demo/krakend)")
	fs.StringVar(&o.Examples, "examples", "examples", "folder with krakend.json and gatewatch.yaml")
	fs.StringVar(&o.Out, "out", "out/demo", "folder the demo writes to (its previous run's files are replaced)")
	secs := fs.String("seconds", os.Getenv("DEMO_SECONDS"), "stop after this many seconds (default DEMO_SECONDS; empty or 0 runs until Ctrl-C)")
	hey := fs.String("hey", "", `hey binary (default: hey on PATH; "none" uses the built-in generator)`)
	prom := fs.String("prometheus", "", `Prometheus binary (default: prometheus on PATH; "none" runs without)`)
	am := fs.String("alertmanager", "", `Alertmanager binary (default: prometheus-alertmanager or alertmanager on PATH; "none" runs without)`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *secs != "" {
		n, err := strconv.Atoi(*secs)
		if err != nil || n < 0 {
			return fmt.Errorf("DEMO_SECONDS or -seconds %q: expected a whole number of seconds such as 150", *secs)
		}
		o.Duration = time.Duration(n) * time.Second
	}
	o.Hey = find(*hey, "hey")
	o.Prometheus = find(*prom, "prometheus")
	o.Alertmanager = find(*am, "prometheus-alertmanager", "alertmanager")
	for _, p := range []string{o.Gatewatch, o.Krakend} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%w (make demo builds it)", err)
		}
	}
	o.Stdout = os.Stdout
	o.Terminal = isTerminal(os.Stdout) && os.Getenv("TERM") != "dumb"
	return live.Run(ctx, o)
}

// find returns flag when set ("" for "none"), else the first of names on
// PATH, else "".
func find(flag string, names ...string) string {
	switch flag {
	case "none":
		return ""
	case "":
	default:
		return flag
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// isTerminal reports whether f is a terminal (a character device), so that
// the demo redraws in place there and prints plain lines into pipes and
// files.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
