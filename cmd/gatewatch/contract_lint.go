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
	const help = "Audit a contract: version prefixes, timeouts, authentication, rate limits, duplicate and shadowed routes, plain-http backends. Exits 1 when a finding has error severity."
	cmd := parent.Command("lint", help).HelpLong(help + "\n\nExit status: 0 no finding of error severity, 1 findings of error severity, 2 the contract or gatewatch.yaml could not be read, or a flag is wrong (an unknown rule, say).")
	var file, format, out string
	var maxTimeout time.Duration
	var disable []string
	cmd.Arg("file", "krakend.json, kong.yaml or envoy.yaml").Required().StringVar(&file)
	cmd.Flag("format", "Contract format: auto, krakend, kong or envoy.").Default("auto").EnumVar(&format, loader.Formats...)
	cmd.Flag("output", "Output: text or json.").Short('o').Default("text").EnumVar(&out, "text", "json")
	durationFlag(cmd, "max-timeout", "Timeouts above this are findings.", "30s", &maxTimeout)
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
	const help = "Show the changes between two versions of a contract. Exits 1 when any change is breaking."
	cmd := parent.Command("diff", help).HelpLong(help + "\n\nExit status: 0 no breaking change, 1 breaking changes, 2 a contract could not be read.")
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
