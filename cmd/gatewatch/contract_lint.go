package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/contract/krakend"
	"github.com/gatewatch/gatewatch/contract/loader"
)

func registerLint(parent *kingpin.CmdClause, fcFlags func(*kingpin.CmdClause), fc *krakend.Options) {
	const help = "Audit a contract: version prefixes, timeouts, authentication, rate limits, duplicate and shadowed routes, plain-http backends. Exits 1 when a finding has error severity."
	cmd := parent.Command("lint", help).HelpLong(help + "\n\nRules: " + ruleList() + ".\n\nWith -c gatewatch.yaml, its lint: section applies first (the flags add to it), and owner and SLO patterns that match no endpoint are findings (GW012; errors with --strict).\n\nExit status: 0 no finding of error severity, 1 findings of error severity, 2 the contract or gatewatch.yaml could not be read, or a flag is wrong (an unknown rule, say).")
	var file, format, out, configFile string
	var maxTimeout time.Duration
	var disable, severity, except []string
	var strict bool
	cmd.Arg("file", "krakend.json, kong.yaml or envoy.yaml (default: contract.path of the -c gatewatch.yaml)").StringVar(&file)
	cmd.Flag("config", "Path of gatewatch.yaml: its lint: section, owners and SLOs.").Short('c').StringVar(&configFile)
	cmd.Flag("format", "Contract format: auto, krakend, kong or envoy.").Default("auto").EnumVar(&format, loader.Formats...)
	cmd.Flag("output", "Output: text or json.").Short('o').Default("text").EnumVar(&out, "text", "json")
	durationFlag(cmd, "max-timeout", "Timeouts above this are findings (default 30s, or lint.max_timeout of gatewatch.yaml).", "", &maxTimeout)
	cmd.Flag("disable", "Rule ID or slug to skip (repeatable).").StringsVar(&disable)
	cmd.Flag("severity", "RULE=LEVEL: report a rule's findings as error, warning or info (repeatable).").StringsVar(&severity)
	cmd.Flag("except", "RULE=ENDPOINT: accept a rule's findings on endpoints matching the glob (repeatable), e.g. GW004=/v1/public/*.").StringsVar(&except)
	cmd.Flag("strict", "Owner and SLO patterns of gatewatch.yaml that match no endpoint are errors, not warnings.").BoolVar(&strict)
	fcFlags(cmd)
	cmd.Action(func(*kingpin.ParseContext) error {
		opts, cfg, err := lintOptions(configFile, maxTimeout, disable, severity, except)
		if err != nil {
			return err
		}
		if file == "" {
			if cfg == nil || cfg.Contract.Path == "" {
				return errors.New("no contract: pass the contract file, or -c gatewatch.yaml with contract.path set")
			}
			file, format = cfg.Contract.Path, cfg.Contract.Format
			*fc = krakend.Options{Settings: cfg.Contract.Settings, Partials: cfg.Contract.Partials, Templates: cfg.Contract.Templates}
		}
		c, err := loadContract(file, format, *fc)
		if err != nil {
			return err
		}
		findings := contract.Lint(c, opts)
		if cfg != nil {
			findings = append(findings, patternFindings(cfg, c, opts, strict)...)
		}
		if out == "json" {
			if err := contract.WriteFindingsJSON(stdout, c, findings); err != nil {
				return err
			}
		} else {
			if err := contract.WriteFindingsText(stdout, c, findings); err != nil {
				return err
			}
			if err := contract.WriteSummaryText(stdout, findings); err != nil {
				return err
			}
		}
		if contract.HasErrors(findings) {
			return exitError{code: 1}
		}
		return nil
	})
}

// ruleList names every lint rule: "GW001 missing-version-prefix, ...".
func ruleList() string {
	parts := make([]string, len(contract.Rules))
	for i, r := range contract.Rules {
		parts[i] = r.ID + " " + r.Slug
	}
	return strings.Join(parts, ", ")
}

// lintOptions merges the lint: section of gatewatch.yaml (when configFile
// is set) with the flags, which add to it, and checks every rule name.
func lintOptions(configFile string, maxTimeout time.Duration, disable, severity, except []string) (contract.LintOptions, *config.Config, error) {
	var opts contract.LintOptions
	var cfg *config.Config
	if configFile != "" {
		c, err := config.LoadFile(configFile)
		if err != nil {
			return opts, nil, err
		}
		cfg, opts = c, c.LintOptions()
	}
	if maxTimeout > 0 {
		opts.MaxTimeout = maxTimeout
	}
	opts.Disabled = append(opts.Disabled, disable...)
	for _, s := range severity {
		rule, level, ok := strings.Cut(s, "=")
		if !ok {
			return opts, nil, fmt.Errorf("--severity %q: expected RULE=LEVEL, such as GW005=warning", s)
		}
		sev, err := contract.ParseSeverity(level)
		if err != nil {
			return opts, nil, fmt.Errorf("--severity %q: %w", s, err)
		}
		if opts.Severity == nil {
			opts.Severity = map[string]contract.Severity{}
		}
		opts.Severity[rule] = sev
	}
	for _, e := range except {
		rule, glob, ok := strings.Cut(e, "=")
		if !ok || glob == "" {
			return opts, nil, fmt.Errorf("--except %q: expected RULE=ENDPOINT, such as GW004=/v1/public/*", e)
		}
		opts.Exceptions = append(opts.Exceptions, contract.Exception{Rule: rule, Endpoints: []string{glob}})
	}
	if err := opts.Validate(); err != nil {
		return opts, nil, err
	}
	return opts, cfg, nil
}

// patternFindings reports the owner, SLO and exception patterns of cfg
// that match no endpoint of c, as GW012 findings in gatewatch.yaml (errors
// with strict).
func patternFindings(cfg *config.Config, c *contract.Contract, opts contract.LintOptions, strict bool) []contract.Finding {
	var out []contract.Finding
	for _, p := range cfg.UnmatchedPatterns(c) {
		f := contract.Finding{
			Rule: contract.RulePatternUnmatched.ID, Slug: contract.RulePatternUnmatched.Slug, Severity: contract.RulePatternUnmatched.Severity,
			File: p.File, Pos: contract.Position{Line: p.Line, Column: p.Column}, Message: p.Message(),
			Hint: "fix the pattern: the endpoints it was meant for get the default team's pages or the default SLO",
		}
		if s, ok := opts.Severity[contract.RulePatternUnmatched.ID]; ok {
			f.Severity = s
		}
		if strict {
			f.Severity = contract.SeverityError
		}
		if !disabledRule(opts, contract.RulePatternUnmatched) {
			out = append(out, f)
		}
	}
	return out
}

func disabledRule(opts contract.LintOptions, r contract.Rule) bool {
	for _, d := range opts.Disabled {
		if strings.EqualFold(d, r.ID) || d == r.Slug {
			return true
		}
	}
	return false
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
