// Package krakend reads KrakenD gateway configurations (krakend.json,
// krakend.yaml, and flexible-configuration templates) into the
// gateway-neutral contract model.
//
// Both configuration generations are understood: "version": 2 with its
// github_com/devopsfaith/... extra_config namespaces and "version": 3 with
// qos/..., auth/..., proxy and telemetry/... namespaces, including files that
// mix them.
package krakend

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gatewatch/gatewatch/contract"
)

// Options for KrakenD flexible configuration (what `krakend run` renders with
// FC_ENABLE=1).
type Options struct {
	// Settings, Partials and Templates are folders (FC_SETTINGS,
	// FC_PARTIALS, FC_TEMPLATES); empty means not given. When any is given,
	// the file is rendered as a template before it is read.
	Settings, Partials, Templates string
	// Out is optional: the rendered configuration is written here, like
	// FC_OUT. Positions in errors and endpoints then refer to this file.
	Out string
}

// Detect reports whether data looks like a KrakenD config (JSON/YAML with
// "endpoints" and/or "version" 2|3 and KrakenD keys, or a Go template with
// {{ }}).
func Detect(data []byte) bool {
	root, err := parseAny("", data)
	if err == nil {
		return looksLikeKrakenD(root)
	}
	if !hasTemplateAction(data) {
		return false
	}
	lower := bytes.ToLower(data)
	return bytes.Contains(lower, []byte("endpoints")) || bytes.Contains(lower, []byte("krakend"))
}

// krakendKeys are top-level keys that, beside a version, mark a KrakenD
// configuration.
var krakendKeys = []string{"endpoints", "extra_config", "timeout", "cache_ttl", "output_encoding", "plugin", "host", "port"}

func looksLikeKrakenD(root *node) bool {
	if root.kind != kindObject {
		return false
	}
	if eps := root.get("endpoints"); eps != nil && eps.kind == kindArray {
		return true
	}
	if s := root.get("$schema"); s != nil && s.kind == kindString && strings.Contains(s.text, "krakend.io") {
		return true
	}
	if v := root.get("version"); v == nil || !knownVersion(v) {
		return false
	}
	for _, k := range krakendKeys {
		if root.get(k) != nil {
			return true
		}
	}
	return false
}

// knownVersion reports whether a "version" value is one KrakenD 2.x reads:
// 2 (KrakenD 1.x files), 3 (KrakenD 2.x) or 4 (the newest releases).
func knownVersion(v *node) bool {
	if v.kind != kindNumber && v.kind != kindString {
		return false
	}
	switch strings.TrimSpace(v.text) {
	case "2", "3", "4":
		return true
	}
	return false
}

func hasTemplateAction(data []byte) bool {
	i := bytes.Index(data, []byte("{{"))
	return i >= 0 && bytes.Contains(data[i+2:], []byte("}}"))
}

// bom is the UTF-8 byte order mark some editors write at the start of a file.
var bom = []byte("\xef\xbb\xbf")

// parseAny parses data by the path's extension (.json, .yaml, .yml), or
// otherwise as JSON when it starts like JSON and as YAML when not, as a
// rendered template may be either.
func parseAny(path string, data []byte) (*node, error) {
	data = bytes.TrimPrefix(data, bom)
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	ext := strings.ToLower(filepath.Ext(path))
	if ext == ".yaml" || ext == ".yml" || (ext != ".json" && len(trimmed) > 0 && trimmed[0] != '{' && trimmed[0] != '[') {
		return parseYAML(data)
	}
	if len(trimmed) == 0 {
		return nil, &syntaxError{pos: contract.Position{Line: 1, Column: 1}, msg: "empty file: expected a KrakenD configuration object"}
	}
	return parseJSON(data)
}

// Load parses a krakend.json / krakend.yaml (or a flexible-config template
// when opts has folders) into the neutral model.
func Load(path string, data []byte, opts Options) (*contract.Contract, error) {
	src, file := data, path
	if opts.rendering() {
		out, err := render(path, data, opts)
		if err != nil {
			return nil, err
		}
		src, file = out, path+" (rendered)"
		if opts.Out != "" {
			if err := os.WriteFile(opts.Out, out, 0o644); err != nil {
				return nil, &contract.Error{File: opts.Out, Err: fmt.Errorf("writing the rendered configuration of %s: %w", path, err)}
			}
			file = opts.Out
		}
	}
	root, err := parseAny(file, src)
	if err != nil {
		var se *syntaxError
		if !errors.As(err, &se) {
			return nil, &contract.Error{File: file, Err: err}
		}
		if !opts.rendering() && hasTemplateAction(data) {
			first := newLineIndex(data).pos(bytes.Index(data, []byte("{{")))
			return nil, &contract.Error{File: path, Pos: first, Err: fmt.Errorf(
				"%w ({{ ... }} found), not plain JSON or YAML: pass its settings, partials and/or templates folders "+
					"(--settings, --partials, --templates; krakend's FC_SETTINGS, FC_PARTIALS, FC_TEMPLATES) to render it "+
					"(read as plain text it fails at %s: %s)",
				ErrTemplate, se.pos, se.msg)}
		}
		msg := se.msg
		if opts.rendering() && bytes.Contains(src, []byte("<no value>")) {
			msg += ` (the rendered text contains "<no value>": the template reads a setting that is missing)`
		}
		return nil, &contract.Error{File: file, Pos: se.pos, Err: errors.New(msg)}
	}
	b := &builder{file: file}
	c := b.contract(path, root)
	if len(b.errs) > 0 {
		return nil, errors.Join(b.errs...)
	}
	c.Hash = contract.HashSource(data)
	if opts.rendering() && len(c.Endpoints) > 0 {
		b.notes = append([]contract.Note{{Text: fmt.Sprintf("positions refer to the rendered configuration %s, not to the template", file)}}, b.notes...)
	}
	if bytes.HasPrefix(src, bom) {
		b.notes = append([]contract.Note{{Pos: contract.Position{Line: 1, Column: 1},
			Text: "the file starts with a UTF-8 byte order mark, which KrakenD's JSON parser rejects"}}, b.notes...)
	}
	c.Notes = b.notes
	return c, nil
}

// builder turns a parsed tree into a Contract, collecting every problem.
type builder struct {
	file  string
	errs  []error
	notes []contract.Note
}

func (b *builder) note(n *node, path, format string, args ...any) {
	b.notes = append(b.notes, contract.Note{Pos: n.pos, Path: path, Text: fmt.Sprintf(format, args...)})
}

func (b *builder) fail(n *node, path, format string, args ...any) {
	e := &contract.Error{File: b.file, Path: path, Err: fmt.Errorf(format, args...)}
	if n != nil {
		e.Pos = n.pos
	}
	b.errs = append(b.errs, e)
}

func (b *builder) contract(path string, root *node) *contract.Contract {
	c := &contract.Contract{
		Gateway:   contract.KrakenD,
		Source:    path,
		Name:      strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)),
		Endpoints: []contract.Endpoint{},
	}
	if root.kind != kindObject {
		b.fail(root, "", "expected a KrakenD configuration object at the top level, got %s", root.describe())
		return c
	}
	if v := root.get("version"); v != nil && !knownVersion(v) {
		b.note(v, "version", "version %s is not 2, 3 or 4; read with the namespaces of all of them", v.describe())
	}
	if n := root.get("name"); n != nil {
		switch {
		case n.kind == kindString && n.text != "":
			c.Name = n.text
		case n.kind != kindString && n.kind != kindNull:
			b.fail(n, "name", "expected a string, got %s", n.describe())
		}
	}
	if n := root.get("port"); n != nil {
		c.Defaults.Port = b.port(n)
	}
	if n := root.get("timeout"); n != nil {
		c.Defaults.Timeout = b.duration(n, "timeout")
	}
	if n := root.get("host"); n != nil {
		c.Defaults.Hosts = b.hosts(n, "host")
	}
	eps := root.get("endpoints")
	if eps == nil || eps.kind == kindNull {
		return c
	}
	if eps.kind != kindArray {
		b.fail(eps, "endpoints", "expected an array of endpoint objects, got %s", eps.describe())
		return c
	}
	seen := map[string]contract.Position{}
	for i, en := range eps.vals {
		ep, ok := b.endpoint(en, fmt.Sprintf("endpoints[%d]", i), &c.Defaults)
		if !ok {
			continue
		}
		if first, dup := seen[ep.ID()]; dup {
			b.note(en, fmt.Sprintf("endpoints[%d]", i), "%s is declared again (first at %s); requests match the first declaration", ep.ID(), first)
		} else {
			seen[ep.ID()] = ep.Pos
		}
		c.Endpoints = append(c.Endpoints, ep)
	}
	return c
}

func (b *builder) port(n *node) int {
	text := n.text
	switch n.kind {
	case kindNumber:
	case kindString:
		text = strings.TrimSpace(text)
	default:
		b.fail(n, "port", "expected a port number, got %s", n.describe())
		return 0
	}
	p, err := strconv.Atoi(text)
	if err != nil || p < 0 || p > 65535 {
		b.fail(n, "port", "expected a port number from 0 to 65535, got %s", n.describe())
		return 0
	}
	return p
}

func (b *builder) duration(n *node, path string) time.Duration {
	if n.kind == kindNull {
		return 0
	}
	if n.kind != kindString {
		b.fail(n, path, `expected a Go duration string such as "3s" or "1500ms", got %s`, n.describe())
		return 0
	}
	d, err := time.ParseDuration(strings.TrimSpace(n.text))
	if err != nil || d < 0 {
		b.fail(n, path, `expected a Go duration string such as "3s" or "1500ms", got %s`, n.describe())
		return 0
	}
	return d
}

// hosts reads a host list; a single string is accepted as a list of one.
func (b *builder) hosts(n *node, path string) []string {
	switch n.kind {
	case kindNull:
		return nil
	case kindString:
		return []string{n.text}
	case kindArray:
		out := make([]string, 0, len(n.vals))
		for i, h := range n.vals {
			if h.kind != kindString {
				b.fail(h, fmt.Sprintf("%s[%d]", path, i), "expected a host string, got %s", h.describe())
				continue
			}
			out = append(out, h.text)
		}
		return out
	}
	b.fail(n, path, "expected an array of host strings, got %s", n.describe())
	return nil
}

var paramRe = regexp.MustCompile(`\{([^{}/]+)\}`)

func (b *builder) endpoint(n *node, path string, defs *contract.Defaults) (contract.Endpoint, bool) {
	if n.kind != kindObject {
		b.fail(n, path, "expected an endpoint object, got %s", n.describe())
		return contract.Endpoint{}, false
	}
	p := n.get("endpoint")
	switch {
	case p == nil:
		b.fail(n, path, `missing "endpoint": every endpoint object needs its path, e.g. "endpoint": "/v1/users/{id}"`)
		return contract.Endpoint{}, false
	case p.kind != kindString:
		b.fail(p, path+".endpoint", "expected a path string, got %s", p.describe())
		return contract.Endpoint{}, false
	}
	tmpl := p.text
	if !strings.HasPrefix(tmpl, "/") {
		// KrakenD cleans the path the same way before routing.
		tmpl = "/" + tmpl
		b.note(p, path+".endpoint", "path %q has no leading \"/\"; KrakenD serves it as %q", p.text, tmpl)
	}
	ep := contract.Endpoint{
		Name:    tmpl,
		Path:    tmpl,
		Match:   contract.MatchExact,
		Methods: []string{"GET"},
		Timeout: defs.Timeout,
		Public:  true,
		Pos:     n.pos,
	}
	if strings.HasSuffix(tmpl, "/*") {
		ep.Match = contract.MatchPrefix
		ep.Path = strings.TrimSuffix(tmpl, "*")
	}
	for _, m := range paramRe.FindAllStringSubmatch(tmpl, -1) {
		ep.Params = append(ep.Params, m[1])
	}
	if m := n.get("method"); m != nil && m.kind != kindNull {
		if m.kind != kindString || strings.TrimSpace(m.text) == "" {
			b.fail(m, path+".method", "expected an HTTP method string such as \"GET\", got %s", m.describe())
		} else {
			ep.Methods = []string{strings.ToUpper(strings.TrimSpace(m.text))}
		}
	}
	if t := n.get("timeout"); t != nil && t.kind != kindNull {
		ep.Timeout = b.duration(t, path+".timeout")
	}
	if be := n.get("backend"); be != nil {
		ep.Backends = b.backends(be, path+".backend", defs)
	}
	if len(ep.Backends) == 0 {
		b.note(n, path, "%s has no backend; KrakenD does not serve an endpoint without one", ep.ID())
	}
	ep.Tags = append(ep.Tags, comments(n)...)
	if xc := n.get("extra_config"); xc != nil {
		b.extraConfig(xc, path+".extra_config", &ep)
	}
	for _, t := range ep.Tags {
		switch strings.ToLower(t) {
		case "internal", "private":
			ep.Public = false
		}
	}
	return ep, true
}

// comments returns an object's "@comment" text (a string or a list of
// strings).
func comments(n *node) []string {
	var out []string
	for i, k := range n.keys {
		if k != "@comment" {
			continue
		}
		out = append(out, strs(n.vals[i])...)
	}
	return out
}

// strs returns a string, or the strings of an array, ignoring other values.
func strs(n *node) []string {
	switch n.kind {
	case kindString:
		return []string{n.text}
	case kindArray:
		var out []string
		for _, v := range n.vals {
			if v.kind == kindString {
				out = append(out, v.text)
			}
		}
		return out
	}
	return nil
}

// backends reads an endpoint's backend list; a single backend object
// instead of a list is accepted.
func (b *builder) backends(n *node, path string, defs *contract.Defaults) []contract.Backend {
	var items []*node
	switch n.kind {
	case kindNull:
		return nil
	case kindObject:
		items = []*node{n}
	case kindArray:
		items = n.vals
	default:
		b.fail(n, path, "expected an array of backend objects, got %s", n.describe())
		return nil
	}
	out := make([]contract.Backend, 0, len(items))
	for i, bn := range items {
		bp := path
		if n.kind == kindArray {
			bp = fmt.Sprintf("%s[%d]", path, i)
		}
		if bn.kind != kindObject {
			b.fail(bn, bp, "expected a backend object, got %s", bn.describe())
			continue
		}
		var be contract.Backend
		if h := bn.get("host"); h != nil {
			be.Hosts = b.hosts(h, bp+".host")
		}
		if len(be.Hosts) == 0 {
			if len(defs.Hosts) == 0 {
				b.note(bn, bp, "backend has no host and the configuration has no global host to inherit")
			}
			be.Hosts = append([]string(nil), defs.Hosts...)
		}
		if u := bn.get("url_pattern"); u != nil && u.kind != kindNull {
			if u.kind != kindString {
				b.fail(u, bp+".url_pattern", "expected a string, got %s", u.describe())
			} else {
				be.URL = u.text
			}
		}
		out = append(out, be)
	}
	return out
}

// namespace reduces an extra_config namespace to its feature name, so the
// v2 spellings (github_com/devopsfaith/krakend-ratelimit/juju/router,
// github.com/devopsfaith/krakend-jose/validator) and the v3 ones
// (qos/ratelimit/router, auth/validator) compare equal.
func namespace(ns string) string {
	switch ns {
	case "qos/ratelimit/router",
		"github_com/devopsfaith/krakend-ratelimit/juju/router",
		"github.com/devopsfaith/krakend-ratelimit/juju/router",
		"github_com/krakendio/krakend-ratelimit/juju/router",
		"github.com/krakendio/krakend-ratelimit/juju/router",
		"github_com/devopsfaith/krakend-ratelimit/rate/router",
		"github.com/devopsfaith/krakend-ratelimit/rate/router":
		return "ratelimit"
	case "auth/validator",
		"github_com/devopsfaith/krakend-jose/validator",
		"github.com/devopsfaith/krakend-jose/validator",
		"github_com/krakendio/krakend-jose/validator",
		"github.com/krakendio/krakend-jose/validator":
		return "jwt"
	case "auth/basic",
		"github_com/devopsfaith/krakend-basic-auth",
		"github.com/devopsfaith/krakend-basic-auth":
		return "basic-auth"
	case "auth/api-keys",
		"github_com/devopsfaith/krakend-apikeys",
		"github.com/devopsfaith/krakend-apikeys":
		return "key-auth"
	case "documentation/openapi":
		return "openapi"
	}
	return ""
}

func (b *builder) extraConfig(n *node, path string, ep *contract.Endpoint) {
	if n.kind == kindNull {
		return
	}
	if n.kind != kindObject {
		b.fail(n, path, "expected an object of namespaces, got %s", n.describe())
		return
	}
	for i, ns := range n.keys {
		v := n.vals[i]
		switch feature := namespace(ns); feature {
		case "ratelimit":
			if rl := b.rateLimit(v, path+"."+ns); rl != nil {
				ep.RateLimit = rl
			}
		case "jwt", "basic-auth", "key-auth":
			if v.kind == kindNull {
				continue
			}
			ep.Auth.Required = true
			if !contains(ep.Auth.Kinds, feature) {
				ep.Auth.Kinds = append(ep.Auth.Kinds, feature)
			}
		case "openapi":
			if v.kind == kindObject {
				for _, key := range []string{"tags", "tag"} {
					if t := v.get(key); t != nil {
						ep.Tags = append(ep.Tags, strs(t)...)
					}
				}
			}
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// rateLimit reads a router rate limit. The endpoint-wide max_rate wins over
// the per-client client_max_rate when both are set; both v3 (snake_case)
// and v2 (camelCase) keys are read.
func (b *builder) rateLimit(n *node, path string) *contract.RateLimit {
	if n.kind != kindObject {
		if n.kind != kindNull {
			b.fail(n, path, "expected a rate-limit object, got %s", n.describe())
		}
		return nil
	}
	period := time.Second
	if e := n.get("every"); e != nil && e.kind != kindNull {
		if d := b.duration(e, path+".every"); d > 0 {
			period = d
		}
	}
	rate := func(keys ...string) float64 {
		for _, k := range keys {
			if r := n.get(k); r != nil && r.kind != kindNull {
				v, ok := number(r)
				if !ok || v < 0 {
					b.fail(r, path+"."+k, "expected a non-negative number of requests, got %s", r.describe())
					return 0
				}
				return v
			}
		}
		return 0
	}
	total, client := rate("max_rate", "maxRate"), rate("client_max_rate", "clientMaxRate")
	switch {
	case total > 0:
		if client > 0 {
			b.note(n, path, "the per-client limit (client_max_rate %v) is not kept: the model holds one limit, the endpoint-wide max_rate %v", client, total)
		}
		return &contract.RateLimit{Requests: total, Period: period}
	case client > 0:
		return &contract.RateLimit{Requests: client, Period: period, PerClient: true}
	}
	return nil
}

// number reads a number node (a numeric string is accepted too).
func number(n *node) (float64, bool) {
	if n.kind != kindNumber && n.kind != kindString {
		return 0, false
	}
	text := strings.TrimSpace(n.text)
	if v, err := strconv.ParseFloat(text, 64); err == nil && !math.IsInf(v, 0) && !math.IsNaN(v) {
		return v, true
	}
	if v, err := strconv.ParseInt(text, 0, 64); err == nil {
		return float64(v), true
	}
	return 0, false
}
