package rules

import (
	"slices"
	"strings"

	"github.com/gatewatch/gatewatch/schema"

	"github.com/gatewatch/gatewatch/contract"
)

// series is one (endpoint, method) pair of the contract as the exporter
// labels it. An endpoint that answers any method is represented with Any
// set and Methods holding the methods other endpoints of the same name
// claim (which it does not serve).
type series struct {
	ep      *contract.Endpoint
	name    string
	methods []string // the methods served; with any, the methods excluded
	any     bool
}

// endpointSeries turns the contract's endpoints into disjoint selectors: an
// endpoint name that appears several times (KrakenD declares one endpoint per
// path and method) keeps each method with the first endpoint that declares
// it, and an endpoint without methods takes the methods nobody else claims.
func endpointSeries(c *contract.Contract) []series {
	claimed := map[string][]string{} // name → methods claimed explicitly
	for i := range c.Endpoints {
		ep := &c.Endpoints[i]
		for _, m := range ep.Methods {
			m = strings.ToUpper(m)
			if !slices.Contains(claimed[ep.Name], m) {
				claimed[ep.Name] = append(claimed[ep.Name], m)
			}
		}
	}
	var out []series
	taken := map[string]bool{} // name + " " + method, or name + " *"
	for i := range c.Endpoints {
		ep := &c.Endpoints[i]
		if ep.Name == "" {
			continue
		}
		if len(ep.Methods) == 0 {
			if taken[ep.Name+" *"] {
				continue
			}
			taken[ep.Name+" *"] = true
			excl := slices.Clone(claimed[ep.Name])
			slices.Sort(excl)
			out = append(out, series{ep: ep, name: ep.Name, methods: excl, any: true})
			continue
		}
		var ms []string
		for _, m := range ep.Methods {
			m = strings.ToUpper(m)
			if !taken[ep.Name+" "+m] {
				taken[ep.Name+" "+m] = true
				ms = append(ms, m)
			}
		}
		if len(ms) == 0 {
			continue
		}
		slices.Sort(ms)
		out = append(out, series{ep: ep, name: ep.Name, methods: ms})
	}
	return out
}

// target selects a set of endpoint names that share one method condition.
type target struct {
	names   []string
	methods []string
	any     bool
}

func (t target) key() string {
	k := strings.Join(t.methods, ",")
	if t.any {
		return "!" + k
	}
	return k
}

// matchers writes the label matchers of t.
func (t target) matchers() []string {
	ms := []string{oneOf(schema.LabelEndpoint, t.names, false)}
	switch {
	case !t.any:
		ms = append(ms, oneOf(schema.LabelMethod, t.methods, false))
	case len(t.methods) > 0:
		ms = append(ms, oneOf(schema.LabelMethod, t.methods, true))
	}
	return ms
}

// matches reports whether the series with these labels is selected.
func (t target) matches(endpoint, method string) bool {
	if !slices.Contains(t.names, endpoint) {
		return false
	}
	return slices.Contains(t.methods, method) != t.any
}

// sample returns an (endpoint, method) pair the target selects.
func (t target) sample() (string, string) {
	if !t.any {
		return t.names[0], t.methods[0]
	}
	for _, m := range []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"} {
		if !slices.Contains(t.methods, m) {
			return t.names[0], m
		}
	}
	return t.names[0], "PROPFIND"
}

// groupTargets collects series into targets by method condition, in order
// of first appearance. It is linear in the series: a set per target
// finds a name already there (a contract of 10,000 endpoints may put all
// of them into one target).
func groupTargets(ss []series) []target {
	var ts []target
	idx := map[string]int{}
	seen := map[string]bool{} // target key + "\x00" + name
	for _, s := range ss {
		t := target{methods: s.methods, any: s.any}
		k := t.key()
		i, ok := idx[k]
		if !ok {
			i = len(ts)
			idx[k] = i
			ts = append(ts, t)
		}
		if nk := k + "\x00" + s.name; !seen[nk] {
			seen[nk] = true
			ts[i].names = append(ts[i].names, s.name)
		}
	}
	return ts
}

// class is a set of series that share everything an alert rule states
// statically; one rule per class serves all of them.
type class[K comparable] struct {
	key     K
	targets []target
}

// classify groups series by key, in order of first appearance.
func classify[K comparable](ss []series, key func(series) (K, bool)) []class[K] {
	var order []K
	members := map[K][]series{}
	for _, s := range ss {
		k, ok := key(s)
		if !ok {
			continue
		}
		if _, seen := members[k]; !seen {
			order = append(order, k)
		}
		members[k] = append(members[k], s)
	}
	out := make([]class[K], 0, len(order))
	for _, k := range order {
		out = append(out, class[K]{key: k, targets: groupTargets(members[k])})
	}
	return out
}
