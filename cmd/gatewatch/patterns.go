package main

import (
	"fmt"
)

// preflight reads the inputs of a generate command and tells on stderr
// what the user should know before the files are written: latency
// thresholds derived from a timeout the file never set (the gateway's
// default), and owner, SLO and lint patterns of gatewatch.yaml that match
// no endpoint. With strict the patterns are findings: nothing is written
// and the command exits 1. When the inputs do not load (the generator
// itself then says why), or there is no contract, there is nothing to
// tell.
func preflight(in *inputs, strict bool) error {
	if in.configFile == "" && in.contractFile == "" {
		return nil
	}
	cfg, c, err := in.load()
	if err != nil {
		return nil
	}
	if in.configFile == "" {
		return nil
	}
	ps := cfg.UnmatchedPatterns(c)
	level := "warning"
	if strict {
		level = "error"
	}
	for _, p := range ps {
		fmt.Fprintf(stderr, "gatewatch: %s: %s\n", level, p)
	}
	if strict && len(ps) > 0 {
		fmt.Fprintf(stderr, "gatewatch: --strict: %d pattern(s) of %s match no endpoint; nothing written\n", len(ps), cfg.File)
		return exitError{code: 1}
	}
	return nil
}
