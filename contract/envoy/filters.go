package envoy

import (
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/contract/internal/yamldoc"
)

// applyFilters sets the endpoint's Auth and RateLimit from the HTTP filters
// in effect on the route: the connection manager's filters, as configured
// or overridden per route or virtual host (typed_per_filter_config).
func (l *loader) applyFilters(ep *contract.Endpoint, vh *vhost, filters []httpFilter, rn *yaml.Node, p string) error {
	rpf, err := l.perFilter(rn, p)
	if err != nil {
		return err
	}
	for _, f := range filters {
		per, pp := yamldoc.Get(rpf, f.name), yamldoc.Field(yamldoc.Field(p, "typed_per_filter_config"), f.name)
		if per == nil {
			per, pp = yamldoc.Get(vh.perFilter, f.name), "virtual host typed_per_filter_config."+f.name
		}
		per = yamldoc.Resolve(per)
		enabled := !f.disabled
		if per != nil && strings.HasSuffix(typeURL(per), ".FilterConfig") {
			// config.route.v3.FilterConfig wraps the per-route config and
			// can switch the filter on or off.
			dis, _, err := l.Boolean(yamldoc.Get(per, "disabled"), yamldoc.Field(pp, "disabled"))
			if err != nil {
				return err
			}
			enabled = !dis
			per, pp = yamldoc.Resolve(yamldoc.Get(per, "config")), yamldoc.Field(pp, "config")
		} else if per != nil {
			dis, _, err := l.Boolean(yamldoc.Get(per, "disabled"), yamldoc.Field(pp, "disabled"))
			if err != nil {
				return err
			}
			enabled = !dis
		}
		if !enabled {
			continue
		}
		switch f.kind {
		case "jwt":
			has, required, err := l.jwt(ep, f, per, pp)
			if err != nil {
				return err
			}
			if has {
				ep.Auth.Kinds = appendUnique(ep.Auth.Kinds, "jwt")
				ep.Auth.Required = ep.Auth.Required || required
			}
		case "ext_authz", "oauth2", "basic-auth":
			ep.Auth.Required = true
			ep.Auth.Kinds = appendUnique(ep.Auth.Kinds, f.kind)
		case "local_ratelimit":
			cfg, cp := f.cfg, f.path
			if per != nil && yamldoc.Get(per, "token_bucket") != nil {
				cfg, cp = per, pp
			}
			rl, err := l.localRateLimit(cfg, cp)
			if err != nil {
				return err
			}
			if rl != nil {
				ep.RateLimit = rl
			}
		}
	}
	return nil
}

func appendUnique(dst []string, s string) []string {
	for _, d := range dst {
		if d == s {
			return dst
		}
	}
	return append(dst, s)
}

// jwt decides whether jwt_authn verifies tokens on the endpoint (has) and
// whether a request without a valid token is refused (required). A per-route
// requirement_name wins; otherwise the first rule that covers every path of
// the endpoint decides.
func (l *loader) jwt(ep *contract.Endpoint, f httpFilter, per *yaml.Node, pp string) (has, required bool, err error) {
	if per != nil {
		name, err := l.Str(yamldoc.Get(per, "requirement_name"), yamldoc.Field(pp, "requirement_name"))
		if err != nil {
			return false, false, err
		}
		if name != "" {
			req := yamldoc.Get(yamldoc.Get(f.cfg, "requirement_map"), name)
			if req == nil {
				return false, false, l.Errorf(yamldoc.Get(per, "requirement_name"), yamldoc.Field(pp, "requirement_name"),
					"requirement %q is not in the jwt_authn filter's requirement_map", name)
			}
			return true, l.strict(f.cfg, req, 0), nil
		}
	}
	rp := yamldoc.Field(f.path, "rules")
	rules, err := l.List(yamldoc.Get(f.cfg, "rules"), rp)
	if err != nil {
		return false, false, err
	}
	for _, r := range rules {
		if !covers(ep, yamldoc.Get(r, "match")) {
			continue
		}
		req := yamldoc.Get(r, "requires")
		if yamldoc.IsNull(req) {
			return false, false, nil
		}
		return true, l.strict(f.cfg, req, 0), nil
	}
	return false, false, nil
}

// strict reports whether a JwtRequirement refuses a request without a
// valid token.
func (l *loader) strict(cfg, req *yaml.Node, depth int) bool {
	req = yamldoc.Resolve(req)
	if yamldoc.IsNull(req) || depth > yamldoc.MaxAliasDepth {
		return false
	}
	switch {
	case yamldoc.Get(req, "provider_name") != nil, yamldoc.Get(req, "provider_and_audiences") != nil:
		return true
	case yamldoc.Get(req, "allow_missing") != nil, yamldoc.Get(req, "allow_missing_or_failed") != nil:
		return false
	case yamldoc.Get(req, "requires_any") != nil:
		rs := yamldoc.Resolve(yamldoc.Get(yamldoc.Get(req, "requires_any"), "requirements"))
		if rs == nil || rs.Kind != yaml.SequenceNode || len(rs.Content) == 0 {
			return false
		}
		for _, r := range rs.Content {
			if !l.strict(cfg, r, depth+1) {
				return false
			}
		}
		return true
	case yamldoc.Get(req, "requires_all") != nil:
		rs := yamldoc.Resolve(yamldoc.Get(yamldoc.Get(req, "requires_all"), "requirements"))
		if rs == nil || rs.Kind != yaml.SequenceNode {
			return false
		}
		for _, r := range rs.Content {
			if l.strict(cfg, r, depth+1) {
				return true
			}
		}
	case yamldoc.Get(req, "requirement_name") != nil:
		name := yamldoc.Resolve(yamldoc.Get(req, "requirement_name"))
		if name != nil && name.Kind == yaml.ScalarNode {
			return l.strict(cfg, yamldoc.Get(yamldoc.Get(cfg, "requirement_map"), name.Value), depth+1)
		}
	}
	return false
}

// covers reports whether a route match of a jwt_authn rule matches every
// request path of the endpoint. Rules that also look at headers or query
// parameters cover only part of it.
func covers(ep *contract.Endpoint, m *yaml.Node) bool {
	m = yamldoc.Resolve(m)
	if m == nil || m.Kind != yaml.MappingNode || yamldoc.Get(m, "headers") != nil || yamldoc.Get(m, "query_parameters") != nil {
		return false
	}
	text := func(k string) (string, bool) {
		n := yamldoc.Resolve(yamldoc.Get(m, k))
		if n == nil || n.Kind != yaml.ScalarNode {
			return "", false
		}
		return n.Value, true
	}
	plain := ep.Match != contract.MatchRegex
	if p, ok := text("prefix"); ok {
		return p == "" || p == "/" || (plain && strings.HasPrefix(ep.Path, p))
	}
	if p, ok := text("path"); ok {
		return ep.Match == contract.MatchExact && ep.Path == p
	}
	if p, ok := text("path_separated_prefix"); ok {
		return plain && (ep.Path == p || strings.HasPrefix(ep.Path, p+"/"))
	}
	if sr := yamldoc.Get(m, "safe_regex"); sr != nil {
		src := yamldoc.Resolve(yamldoc.Get(sr, "regex"))
		if src == nil || ep.Match != contract.MatchExact {
			return false
		}
		re, err := regexp.Compile("^(?:" + src.Value + ")$")
		return err == nil && re.MatchString(ep.Path)
	}
	return false
}

// localRateLimit reads a local_ratelimit configuration. Envoy enforces it
// only when filter_enabled and filter_enforced are above 0% (both default
// to 0%), so nil is returned otherwise.
func (l *loader) localRateLimit(cfg *yaml.Node, p string) (*contract.RateLimit, error) {
	tb := yamldoc.Get(cfg, "token_bucket")
	if yamldoc.IsNull(tb) {
		return nil, nil
	}
	tp := yamldoc.Field(p, "token_bucket")
	if _, err := l.Mapping(tb, tp); err != nil {
		return nil, err
	}
	on := func(k string) (bool, error) {
		n := yamldoc.Get(yamldoc.Get(cfg, k), "default_value")
		v, ok, err := l.Number(yamldoc.Get(n, "numerator"), yamldoc.Field(yamldoc.Field(yamldoc.Field(p, k), "default_value"), "numerator"))
		return ok && v > 0, err
	}
	enabled, err := on("filter_enabled")
	if err != nil {
		return nil, err
	}
	enforced, err := on("filter_enforced")
	if err != nil {
		return nil, err
	}
	tokens, ok, err := l.Number(yamldoc.Get(tb, "tokens_per_fill"), yamldoc.Field(tp, "tokens_per_fill"))
	if err != nil {
		return nil, err
	}
	if !ok {
		tokens = 1
	}
	if _, _, err := l.Number(yamldoc.Get(tb, "max_tokens"), yamldoc.Field(tp, "max_tokens")); err != nil {
		return nil, err
	}
	fi := yamldoc.Get(tb, "fill_interval")
	if yamldoc.IsNull(fi) {
		return nil, l.Errorf(tb, tp, "expected fill_interval in the token bucket")
	}
	period, err := l.duration(fi, yamldoc.Field(tp, "fill_interval"))
	if err != nil {
		return nil, err
	}
	if period <= 0 {
		return nil, l.Errorf(fi, yamldoc.Field(tp, "fill_interval"), "expected a fill interval above 0")
	}
	if !enabled || !enforced {
		l.noteOnce(cfg, p, "local rate limit is not enforced: filter_enabled and filter_enforced must be above 0% (both default to 0%)")
		return nil, nil
	}
	return &contract.RateLimit{Requests: tokens, Period: period}, nil
}

// noteOnce adds a note about n unless one was already made for it.
func (l *loader) noteOnce(n *yaml.Node, path, text string) {
	for _, x := range l.Notes {
		if x.Pos == yamldoc.Pos(n) && x.Text == text {
			return
		}
	}
	l.Note(n, path, "%s", text)
}
