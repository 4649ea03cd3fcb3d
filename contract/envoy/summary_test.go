package envoy

import (
	"fmt"
	"strings"

	"github.com/gatewatch/gatewatch/contract"
)

// summary renders the fields of an endpoint a test checks as one line, so
// tables of expected endpoints stay readable.
func summary(e contract.Endpoint) string {
	var b strings.Builder
	m := "ANY"
	if len(e.Methods) > 0 {
		m = strings.Join(e.Methods, ",")
	}
	fmt.Fprintf(&b, "%s %s %s %s", e.Name, m, e.Match, e.Path)
	if len(e.Paths) > 0 {
		fmt.Fprintf(&b, " paths=%s", strings.Join(e.Paths, "|"))
	}
	if e.Regex != "" {
		fmt.Fprintf(&b, " re=%s", e.Regex)
	}
	if len(e.Params) > 0 {
		fmt.Fprintf(&b, " params=%s", strings.Join(e.Params, ","))
	}
	if len(e.Hosts) > 0 {
		fmt.Fprintf(&b, " hosts=%s", strings.Join(e.Hosts, ","))
	}
	for _, h := range e.Headers {
		fmt.Fprintf(&b, " header=%s", h.Name)
		switch {
		case h.Value != "":
			fmt.Fprintf(&b, "=%s", h.Value)
		case h.Prefix != "":
			fmt.Fprintf(&b, "^=%s", h.Prefix)
		case h.Regex != "":
			fmt.Fprintf(&b, "~%s", h.Regex)
		case h.Present:
			b.WriteString("?")
		}
		if h.Invert {
			b.WriteString("!")
		}
	}
	if e.Priority != 0 {
		fmt.Fprintf(&b, " prio=%d", e.Priority)
	}
	for _, be := range e.Backends {
		fmt.Fprintf(&b, " be=%s[%s]", be.Name, strings.Join(be.Hosts, ","))
		if be.URL != "" {
			fmt.Fprintf(&b, "(%s)", be.URL)
		}
	}
	if e.DirectResponse != 0 {
		fmt.Fprintf(&b, " direct=%d", e.DirectResponse)
	}
	fmt.Fprintf(&b, " timeout=%s retries=%d", e.Timeout, e.Retries)
	if rl := e.RateLimit; rl != nil {
		fmt.Fprintf(&b, " rl=%g/%s", rl.Requests, rl.Period)
		if rl.PerClient {
			b.WriteString("/client")
		}
	}
	if e.Auth.Required || len(e.Auth.Kinds) > 0 {
		req := "optional"
		if e.Auth.Required {
			req = "required"
		}
		fmt.Fprintf(&b, " auth=%s:%s", req, strings.Join(e.Auth.Kinds, ","))
	}
	if !e.Public {
		b.WriteString(" internal")
	}
	if len(e.Tags) > 0 {
		fmt.Fprintf(&b, " tags=%s", strings.Join(e.Tags, ","))
	}
	if e.Listener != "" {
		fmt.Fprintf(&b, " listener=%s", e.Listener)
	}
	if e.Service != "" {
		fmt.Fprintf(&b, " svc=%s", e.Service)
	}
	return b.String()
}
