package contract

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// The kinds of change Diff reports.
const (
	ChangeEndpointRemoved  = "endpoint_removed"
	ChangeEndpointAdded    = "endpoint_added"
	ChangeMethodRemoved    = "method_removed"
	ChangeMethodAdded      = "method_added"
	ChangeParamRenamed     = "param_renamed"
	ChangeAuthAdded        = "auth_added"
	ChangeAuthRemoved      = "auth_removed"
	ChangeTimeoutLowered   = "timeout_lowered"
	ChangeTimeoutRaised    = "timeout_raised"
	ChangeRateLimitChanged = "rate_limit_changed"
	ChangeRenamed          = "endpoint_renamed"
)

// breakingKinds are the change kinds that can break existing clients.
var breakingKinds = map[string]bool{
	ChangeEndpointRemoved: true,
	ChangeMethodRemoved:   true,
	ChangeParamRenamed:    true,
	ChangeAuthAdded:       true,
	ChangeTimeoutLowered:  true,
}

// IsBreaking reports whether changes of kind can break existing clients.
func IsBreaking(kind string) bool { return breakingKinds[kind] }

// Change is one difference between two versions of a contract.
type Change struct {
	Kind     string `json:"kind"`
	Breaking bool   `json:"breaking"`
	// Endpoint names the route: its method(s) and path, e.g.
	// "GET /v1/users/{id}" (the new path, or the old one when removed).
	Endpoint string `json:"endpoint"`
	Old      string `json:"old,omitempty"`
	New      string `json:"new,omitempty"`
	Message  string `json:"message"`
}

// routeRef is one (path shape, method) an endpoint serves.
type routeRef struct {
	shape  string
	method string // "ANY" for an endpoint without methods
	path   string // as written, with " @listener" when it has one
	ep     int
}

// routeRefs lists what a contract serves, keyed by path shape (parameter
// names removed, match kind prefixed when not exact) and method.
func routeRefs(c *Contract) map[string]map[string]routeRef {
	out := map[string]map[string]routeRef{}
	for i := range c.Endpoints {
		e := &c.Endpoints[i]
		ms := methodSet(e)
		if ms == nil {
			ms = []string{"ANY"}
		}
		for _, p := range diffPaths(e) {
			shape := ShapeOf(p.path)
			if p.kind != MatchExact {
				shape = string(p.kind) + " " + shape
			}
			shown := p.path
			if e.Listener != "" {
				// Routes of different listeners are different routes.
				shape += " @" + e.Listener
				shown += " @" + e.Listener
			}
			if out[shape] == nil {
				out[shape] = map[string]routeRef{}
			}
			for _, m := range ms {
				if _, ok := out[shape][m]; !ok {
					out[shape][m] = routeRef{shape: shape, method: m, path: shown, ep: i}
				}
			}
		}
	}
	return out
}

type diffPath struct {
	kind MatchKind
	path string
}

// diffPaths lists an endpoint's paths as a client addresses them: each of
// a Kong route's paths on its own, a regex by its source.
func diffPaths(e *Endpoint) []diffPath {
	kind := e.Match
	if kind == "" {
		kind = MatchExact
	}
	if len(e.Paths) > 0 {
		out := make([]diffPath, 0, len(e.Paths))
		for _, p := range e.Paths {
			k := MatchPrefix
			if strings.HasPrefix(p, "~") {
				k = MatchRegex
			} else if kind != MatchRegex {
				k = kind
			}
			out = append(out, diffPath{k, p})
		}
		return out
	}
	if kind == MatchRegex && e.Path == "" {
		return []diffPath{{kind, e.Regex}}
	}
	return []diffPath{{kind, e.Path}}
}

// Diff compares two versions of a contract. Endpoints are paired by method
// and path shape, with parameter names ignored, so "/users/{id}" becoming
// "/users/{user_id}" is a parameter rename, not a removal and an addition.
// The changes come sorted by path shape, then kind (breaking kinds first),
// then method.
func Diff(old, new *Contract) []Change {
	d := &differ{old: old, new: new, compared: map[[2]int]bool{}, renamed: map[[2]string]bool{}}
	or, nr := routeRefs(old), routeRefs(new)
	shapes := make([]string, 0, len(or)+len(nr))
	for s := range or {
		shapes = append(shapes, s)
	}
	for s := range nr {
		if _, ok := or[s]; !ok {
			shapes = append(shapes, s)
		}
	}
	slices.Sort(shapes)
	for _, shape := range shapes {
		d.shape = shape
		om, nm := or[shape], nr[shape]
		switch {
		case nm == nil:
			ms := sortedMethods(om)
			p := om[ms[0]].path
			d.add(ChangeEndpointRemoved, strings.Join(ms, ",")+" "+p, p, "",
				fmt.Sprintf("endpoint %s %s was removed; clients calling it will get 404", strings.Join(ms, ","), p))
			continue
		case om == nil:
			ms := sortedMethods(nm)
			p := nm[ms[0]].path
			d.add(ChangeEndpointAdded, strings.Join(ms, ",")+" "+p, "", p,
				fmt.Sprintf("endpoint %s %s was added", strings.Join(ms, ","), p))
			continue
		}
		for _, m := range sortedMethods(om) {
			o := om[m]
			if n, ok := nm[m]; ok {
				d.pair(m, o, n)
				continue
			}
			if n, ok := nm["ANY"]; ok {
				// Now open to every method: nothing is lost.
				d.pair(m, o, n)
				continue
			}
			newMs := sortedMethods(nm)
			if m == "ANY" {
				d.add(ChangeMethodRemoved, "ANY "+o.path, "ANY", strings.Join(newMs, ","),
					fmt.Sprintf("%s accepted any method and now only %s", o.path, strings.Join(newMs, ",")))
				for _, nmeth := range newMs {
					d.pair(nmeth, o, nm[nmeth])
				}
				continue
			}
			d.add(ChangeMethodRemoved, m+" "+o.path, m, "",
				fmt.Sprintf("method %s of %s was removed", m, o.path))
		}
		if _, any := om["ANY"]; !any {
			for _, m := range sortedMethods(nm) {
				if _, ok := om[m]; !ok {
					d.add(ChangeMethodAdded, m+" "+nm[m].path, "", m,
						fmt.Sprintf("method %s of %s was added", m, nm[m].path))
				}
			}
		}
	}
	slices.SortStableFunc(d.out, func(a, b keyedChange) int {
		return cmp.Or(
			cmp.Compare(a.shape, b.shape),
			cmp.Compare(kindOrder(a.Kind), kindOrder(b.Kind)),
			cmp.Compare(a.Endpoint, b.Endpoint),
			cmp.Compare(a.Message, b.Message),
		)
	})
	out := make([]Change, len(d.out))
	for i, c := range d.out {
		out[i] = c.Change
	}
	return out
}

type keyedChange struct {
	shape string
	Change
}

type differ struct {
	old, new *Contract
	shape    string
	out      []keyedChange
	compared map[[2]int]bool
	renamed  map[[2]string]bool
}

func (d *differ) add(kind, endpoint, o, n, msg string) {
	d.out = append(d.out, keyedChange{d.shape, Change{Kind: kind, Breaking: IsBreaking(kind), Endpoint: endpoint, Old: o, New: n, Message: msg}})
}

// pair compares the endpoints serving method m of one path shape in the
// old and the new contract.
func (d *differ) pair(m string, o, n routeRef) {
	ref := m + " " + n.path
	if o.path != n.path && !d.renamed[[2]string{o.path, n.path}] {
		d.renamed[[2]string{o.path, n.path}] = true
		d.add(ChangeParamRenamed, ref, o.path, n.path,
			fmt.Sprintf("path parameters of %s were renamed (%s); the URL shape is unchanged, but clients and tools that address parameters by name (generated SDKs, OpenAPI, gateway transforms) break", o.path, paramRenames(o.path, n.path)))
	}
	k := [2]int{o.ep, n.ep}
	if d.compared[k] {
		return
	}
	d.compared[k] = true
	oe, ne := &d.old.Endpoints[o.ep], &d.new.Endpoints[n.ep]
	switch {
	case !oe.Auth.Required && ne.Auth.Required:
		d.add(ChangeAuthAdded, ref, "none", authText(ne.Auth),
			fmt.Sprintf("%s now requires authentication (%s); clients without credentials get 401", ref, authText(ne.Auth)))
	case oe.Auth.Required && !ne.Auth.Required:
		d.add(ChangeAuthRemoved, ref, authText(oe.Auth), "none",
			fmt.Sprintf("%s no longer requires authentication", ref))
	}
	switch ot, nt := oe.Timeout, ne.Timeout; {
	case ot == nt:
	case nt != 0 && (ot == 0 || nt < ot):
		d.add(ChangeTimeoutLowered, ref, durationText(ot), durationText(nt),
			fmt.Sprintf("%s timeout lowered from %s to %s; slow requests that succeeded will now fail", ref, durationText(ot), durationText(nt)))
	default:
		d.add(ChangeTimeoutRaised, ref, durationText(ot), durationText(nt),
			fmt.Sprintf("%s timeout raised from %s to %s", ref, durationText(ot), durationText(nt)))
	}
	if ol, nl := rateText(oe.RateLimit), rateText(ne.RateLimit); ol != nl {
		d.add(ChangeRateLimitChanged, ref, ol, nl, fmt.Sprintf("%s rate limit changed from %s to %s", ref, ol, nl))
	}
	if oe.Name != ne.Name {
		d.add(ChangeRenamed, ref, oe.Name, ne.Name,
			fmt.Sprintf("%s is now labelled endpoint=%q (was %q); dashboards and alerts start a new series", ref, ne.Name, oe.Name))
	}
}

var kindOrderList = []string{
	ChangeEndpointRemoved, ChangeMethodRemoved, ChangeParamRenamed, ChangeAuthAdded, ChangeTimeoutLowered,
	ChangeEndpointAdded, ChangeMethodAdded, ChangeAuthRemoved, ChangeTimeoutRaised, ChangeRateLimitChanged, ChangeRenamed,
}

func kindOrder(k string) int { return slices.Index(kindOrderList, k) }

func sortedMethods(m map[string]routeRef) []string {
	ms := make([]string, 0, len(m))
	for k := range m {
		ms = append(ms, k)
	}
	slices.Sort(ms)
	return ms
}

// paramRenames describes renamed parameters: "id → user_id".
func paramRenames(o, n string) string {
	on, nn := templateParams(o), templateParams(n)
	var parts []string
	for k := range min(len(on), len(nn)) {
		if on[k] != nn[k] {
			parts = append(parts, on[k]+" → "+nn[k])
		}
	}
	return strings.Join(parts, ", ")
}

func templateParams(p string) []string {
	var out []string
	for {
		i := strings.IndexByte(p, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(p[i:], '}')
		if j < 0 {
			return out
		}
		out = append(out, p[i+1:i+j])
		p = p[i+j+1:]
	}
}

func authText(a Auth) string {
	if !a.Required {
		return "none"
	}
	if len(a.Kinds) == 0 {
		return "required"
	}
	return strings.Join(a.Kinds, ",")
}

func durationText(d time.Duration) string {
	if d == 0 {
		return "none"
	}
	return FormatDuration(d)
}

func rateText(r *RateLimit) string {
	if r == nil {
		return "none"
	}
	s := fmt.Sprintf("%g/%s", r.Requests, FormatDuration(r.Period))
	if r.PerClient {
		s += " per client"
	}
	return s
}

// HasBreaking reports whether any change is breaking.
func HasBreaking(cs []Change) bool {
	return slices.ContainsFunc(cs, func(c Change) bool { return c.Breaking })
}

// WriteChangesText writes one line per change:
// "BREAKING endpoint_removed GET /v1/users/{id}: message".
func WriteChangesText(w io.Writer, cs []Change) error {
	for _, c := range cs {
		tag := "change  "
		if c.Breaking {
			tag = "BREAKING"
		}
		if _, err := fmt.Fprintf(w, "%s %s %s: %s\n", tag, c.Kind, c.Endpoint, c.Message); err != nil {
			return fmt.Errorf("writing changes: %w", err)
		}
	}
	return nil
}

// WriteChangesJSON writes the changes as one JSON array (an empty array
// when there are none).
func WriteChangesJSON(w io.Writer, cs []Change) error {
	if cs == nil {
		cs = []Change{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(cs); err != nil {
		return fmt.Errorf("writing changes: %w", err)
	}
	return nil
}
