package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gatewatch/gatewatch/contract"
)

// LintConfig is the lint: section of gatewatch.yaml: what `gatewatch
// contract lint -c gatewatch.yaml` checks, for contracts (JSON ones above
// all) that cannot carry comments of their own.
type LintConfig struct {
	// MaxTimeout is the largest acceptable endpoint timeout (default 30s).
	MaxTimeout Duration `yaml:"max_timeout"`
	// Disable turns rules off, by ID or slug.
	Disable []string `yaml:"disable"`
	// Severity changes a rule's severity: {GW005: warning}.
	Severity map[string]string `yaml:"severity"`
	// Exceptions accept a rule's findings on some endpoints.
	Exceptions []LintException `yaml:"exceptions"`
}

// LintException accepts one rule's findings on the endpoints matching the
// globs; Reason says why, for the reader.
type LintException struct {
	Rule      string   `yaml:"rule"`
	Endpoints []string `yaml:"endpoints"`
	Reason    string   `yaml:"reason"`
}

func (l *LintConfig) validate(v *validator) {
	for i, r := range l.Disable {
		if _, ok := contract.LookupRule(r); !ok {
			v.errorf([]any{"lint", "disable", i}, "%v", contract.UnknownRuleError(r))
		}
	}
	keys := make([]string, 0, len(l.Severity))
	for k := range l.Severity {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if _, ok := contract.LookupRule(k); !ok {
			v.errorf([]any{"lint", "severity", k}, "%v", contract.UnknownRuleError(k))
		}
		if _, err := contract.ParseSeverity(l.Severity[k]); err != nil {
			v.errorf([]any{"lint", "severity", k}, "%v", err)
		}
	}
	for i, e := range l.Exceptions {
		at := []any{"lint", "exceptions", i}
		if _, ok := contract.LookupRule(e.Rule); !ok {
			v.errorf(append(at, "rule"), "%v", contract.UnknownRuleError(e.Rule))
		}
		if len(e.Endpoints) == 0 {
			v.errorf(at, "exception for %s names no endpoint; list endpoint names or globs under endpoints", e.Rule)
		}
	}
}

// LintOptions returns the lint settings of c (validated when c was
// loaded).
func (c *Config) LintOptions() contract.LintOptions {
	o := contract.LintOptions{MaxTimeout: c.Lint.MaxTimeout.Std(), Disabled: slices.Clone(c.Lint.Disable)}
	if len(c.Lint.Severity) > 0 {
		o.Severity = map[string]contract.Severity{}
		for k, s := range c.Lint.Severity {
			o.Severity[k], _ = contract.ParseSeverity(s)
		}
	}
	for _, e := range c.Lint.Exceptions {
		o.Exceptions = append(o.Exceptions, contract.Exception{Rule: e.Rule, Endpoints: slices.Clone(e.Endpoints)})
	}
	return o
}

// PatternProblem is an endpoint pattern of gatewatch.yaml that matches no
// endpoint of the contract.
type PatternProblem struct {
	File         string
	Line, Column int
	// Path is the key path ("owners.teams[0].endpoints[1]").
	Path    string
	Pattern string
	// Nearest are up to three endpoint names closest to the pattern.
	Nearest []string
}

func (p PatternProblem) String() string {
	loc := p.File
	if p.Line > 0 {
		loc = fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
	}
	return loc + ": " + p.Message()
}

// Message is the problem without its place in the file.
func (p PatternProblem) Message() string {
	s := fmt.Sprintf("%s: pattern %q matches no endpoint of the contract", p.Path, p.Pattern)
	if len(p.Nearest) > 0 {
		q := make([]string, len(p.Nearest))
		for i, n := range p.Nearest {
			q[i] = fmt.Sprintf("%q", n)
		}
		s += "; nearest endpoints: " + strings.Join(q, ", ")
	}
	return s
}

// UnmatchedPatterns returns every owner, SLO and lint-exception pattern of
// c that matches none of ct's endpoints: a typo there silently routes the
// pages of those endpoints to the default team, or drops their SLO.
func (c *Config) UnmatchedPatterns(ct *contract.Contract) []PatternProblem {
	var out []PatternProblem
	check := func(at []any, pattern, method string) {
		for i := range ct.Endpoints {
			if matchEndpoint(pattern, method, &ct.Endpoints[i]) {
				return
			}
		}
		v := &validator{file: c.File, root: c.root}
		line, col := v.position(at)
		out = append(out, PatternProblem{File: c.File, Line: line, Column: col, Path: pathString(at), Pattern: pattern, Nearest: nearest(pattern, ct)})
	}
	for i, t := range c.Owners.Teams {
		for j, g := range t.Endpoints {
			check([]any{"owners", "teams", i, "endpoints", j}, g, "")
		}
	}
	for i, e := range c.SLO.Endpoints {
		if e.Endpoint != "" {
			check([]any{"slo", "endpoints", i, "endpoint"}, e.Endpoint, e.Method)
		}
	}
	for i, e := range c.Lint.Exceptions {
		for j, g := range e.Endpoints {
			check([]any{"lint", "exceptions", i, "endpoints", j}, g, "")
		}
	}
	return out
}

// nearest returns up to three endpoint names closest to pattern by edit
// distance (its "*" removed; a pattern ending in "*" is compared with the
// names' closest prefix), the closest first.
func nearest(pattern string, ct *contract.Contract) []string {
	p := strings.ReplaceAll(pattern, "*", "")
	prefix := strings.HasSuffix(pattern, "*")
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	seen := map[string]bool{}
	for i := range ct.Endpoints {
		n := ct.Endpoints[i].Name
		if seen[n] {
			continue
		}
		seen[n] = true
		cs = append(cs, cand{n, editDistance(p, n, prefix)})
	}
	slices.SortStableFunc(cs, func(a, b cand) int { return a.d - b.d })
	var out []string
	for _, c := range cs[:min(3, len(cs))] {
		out = append(out, c.name)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, in bytes; with
// prefix, between a and the closest prefix of b.
func editDistance(a, b string, prefix bool) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	if prefix {
		return slices.Min(prev)
	}
	return prev[len(b)]
}
