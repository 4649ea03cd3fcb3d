package main

import (
	"fmt"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/contract/krakend"
	"github.com/gatewatch/gatewatch/contract/loader"
)

func registerLint(parent *kingpin.CmdClause, fcFlags func(*kingpin.CmdClause), fc *krakend.Options) {
	cmd := parent.Command("lint", "Audit a contract: version prefixes, timeouts, authentication, rate limits, duplicate and shadowed routes, plain-http backends. Exits 1 when a finding has error severity.")
	var file, format, out string
	var maxTimeout time.Duration
	var disable []string
	cmd.Arg("file", "krakend.json, kong.yaml or envoy.yaml").Required().StringVar(&file)
	cmd.Flag("format", "Contract format: auto, krakend, kong or envoy.").Default("auto").EnumVar(&format, loader.Formats...)
	cmd.Flag("output", "Output: text or json.").Short('o').Default("text").EnumVar(&out, "text", "json")
	cmd.Flag("max-timeout", "Timeouts above this are findings.").Default("30s").DurationVar(&maxTimeout)
	cmd.Flag("disable", "Rule id or name to skip (repeatable).").StringsVar(&disable)
	fcFlags(cmd)
	cmd.Action(func(*kingpin.ParseContext) error {
		c, err := loadContract(file, format, *fc)
		if err != nil {
			return err
		}
		opts := contract.LintOptions{MaxTimeout: maxTimeout, Disabled: disable}
		findings := contract.Lint(c, opts)
		if out == "json" {
			if err := contract.WriteFindingsJSON(stdout, c, findings); err != nil {
				return err
			}
		} else {
			if err := contract.WriteFindingsText(stdout, c, findings); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%d findings\n", len(findings))
		}
		if contract.HasErrors(findings) {
			return exitError{code: 1}
		}
		return nil
	})
}

func registerDiff(parent *kingpin.CmdClause, fcFlags func(*kingpin.CmdClause), fc *krakend.Options) {
	cmd := parent.Command("diff", "Show the changes between two versions of a contract. Exits 1 when any change is breaking.")
	var oldFile, newFile, format, out string
	cmd.Arg("old", "the contract before the change").Required().StringVar(&oldFile)
	cmd.Arg("new", "the contract after the change").Required().StringVar(&newFile)
	cmd.Flag("format", "Contract format: auto, krakend, kong or envoy.").Default("auto").EnumVar(&format, loader.Formats...)
	cmd.Flag("output", "Output: text or json.").Short('o').Default("text").EnumVar(&out, "text", "json")
	fcFlags(cmd)
	cmd.Action(func(*kingpin.ParseContext) error {
		oldC, err := loadContract(oldFile, format, *fc)
		if err != nil {
			return err
		}
		newC, err := loadContract(newFile, format, *fc)
		if err != nil {
			return err
		}
		changes := contract.Diff(oldC, newC)
		if out == "json" {
			err = contract.WriteChangesJSON(stdout, changes)
		} else {
			err = contract.WriteChangesText(stdout, changes)
		}
		if err != nil {
			return err
		}
		if contract.HasBreaking(changes) {
			return exitError{code: 1}
		}
		return nil
	})
}
