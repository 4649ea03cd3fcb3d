package main

import (
	"fmt"
)

// checkPatterns prints a warning on stderr for each owner, SLO and lint
// pattern of gatewatch.yaml that matches no endpoint of the contract; with
// strict they are findings: nothing is written and the command exits 1.
// Without gatewatch.yaml, or when the contract does not load (the command
// itself then says why), there is nothing to check.
func checkPatterns(in *inputs, strict bool) error {
	if in.configFile == "" {
		return nil
	}
	cfg, c, err := in.load()
	if err != nil {
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
