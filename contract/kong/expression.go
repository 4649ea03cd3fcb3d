package kong

import (
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/contract/internal/yamldoc"
)

// exprPredicate is one comparison of a Kong expressions-router route:
// field, operator and a "string" or r#"raw string"# literal.
var exprPredicate = regexp.MustCompile(`^(http\.path|http\.method|http\.host|http\.headers\.[A-Za-z0-9_]+)\s*(==|\^=|~)\s*(?:("(?:[^"\\]|\\.)*")|r#"(.*)"#)$`)

// expression reads the route expression of Kong's expressions router
// (expression: 'http.path ^= "/v1" && http.method == "GET"'). Only a
// conjunction of path, method, host and header comparisons can be
// expressed in the contract; anything else matches as the prefix "/", with
// a note.
func (l *loader) expression(ep *contract.Endpoint, expr string, n *yaml.Node, p string) {
	ep.Path, ep.Match = "/", contract.MatchPrefix
	unsupported := func(why string) {
		ep.Path, ep.Match, ep.Regex, ep.Params = "/", contract.MatchPrefix, "", nil
		ep.Methods, ep.Hosts, ep.Headers = nil, nil, nil
		l.Note(n, p, "route expression %q %s; the endpoint matches every path instead", expr, why)
	}
	if strings.Contains(expr, "||") {
		unsupported("uses ||, which the contract cannot express")
		return
	}
	paths := 0
	for _, part := range strings.Split(expr, "&&") {
		part = strings.TrimSpace(part)
		for strings.HasPrefix(part, "(") && strings.HasSuffix(part, ")") {
			part = strings.TrimSpace(part[1 : len(part)-1])
		}
		m := exprPredicate.FindStringSubmatch(part)
		if m == nil {
			unsupported("has a condition other than http.path, http.method, http.host or http.headers compared with ==, ^= or ~")
			return
		}
		val := m[4]
		if m[3] != "" {
			v, err := strconv.Unquote(m[3])
			if err != nil {
				unsupported("has a string literal that does not parse")
				return
			}
			val = v
		}
		switch field, op := m[1], m[2]; {
		case field == "http.path":
			paths++
			if paths > 1 {
				unsupported("compares http.path more than once")
				return
			}
			switch {
			case val == "" && op == "^=":
				ep.Path, ep.Match = "/", contract.MatchPrefix
			case val == "":
				unsupported("compares http.path with an empty string")
				return
			case op == "==":
				ep.Path, ep.Match = val, contract.MatchExact
			case op == "^=":
				ep.Path, ep.Match = val, contract.MatchPrefix
			default:
				re, err := compilePath(val)
				if err != nil {
					unsupported("has a path regex that " + err.Error())
					return
				}
				// The expressions router searches the whole path.
				ep.Path, ep.Match, ep.Regex = val, contract.MatchRegex, "^(?:.*?(?:"+re+"))"
				for _, name := range regexp.MustCompile(re).SubexpNames() {
					if name != "" {
						ep.Params = append(ep.Params, name)
					}
				}
			}
		case op != "==":
			unsupported("compares " + field + " with " + op)
			return
		case field == "http.method":
			ep.Methods = append(ep.Methods, strings.ToUpper(val))
		case field == "http.host":
			ep.Hosts = append(ep.Hosts, val)
		default:
			name := strings.ReplaceAll(strings.TrimPrefix(field, "http.headers."), "_", "-")
			hm := contract.HeaderMatch{Name: name, Value: val}
			if yamldoc.RedactHeader(&hm) {
				l.Note(n, p, "the value of header %s is a credential and is not kept; the condition is reduced to the header being present", name)
			}
			ep.Headers = append(ep.Headers, hm)
		}
	}
}
