// Package logline turns one line of a followed access log into an Event
// and its contract endpoint. It is the one component both of the
// sidecar's readers use — the metrics reader and the shipper — so that a
// line carries the same endpoint in Prometheus and in Elasticsearch: the
// decoder is chosen by the file's path here, and the endpoint is chosen
// here.
package logline

import (
	"fmt"
	"path/filepath"

	"github.com/gatewatch/gatewatch/accesslog"
	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
)

// Reader decodes lines and finds their endpoints. It is not safe for
// concurrent use: each reader of the logs has its own.
type Reader struct {
	logs    []logDecoder
	byPath  map[string]int // a file's path → index in logs
	matcher *contract.Matcher
	// byRoute finds an endpoint by the route name the gateway logged
	// (Kong route.name, Envoy %ROUTE_NAME%): the gateway's own routing
	// decision wins over matching the path again.
	byRoute map[string]*contract.Endpoint

	// lastPath and lastDec cache the previous line's lookup (most lines
	// come from the same file).
	lastPath string
	lastDec  accesslog.Decoder

	// noHostSeen is set at the first line without a host while the
	// contract routes by host; noHostNew until NoHostOnce reports it.
	noHostSeen, noHostNew bool
}

type logDecoder struct {
	pattern string
	dec     accesslog.Decoder
}

// New returns a Reader for the logs of sc, decoding in the format each log
// names or, without one, the format of c's gateway, and matching c's
// endpoints. c may be nil: then every line is unmatched. Without logs every
// line is decoded by format detection ("auto").
func New(sc *config.SidecarConfig, c *contract.Contract) (*Reader, error) {
	var kind contract.Kind
	if c != nil {
		kind = c.Gateway
	}
	r := &Reader{byPath: map[string]int{}}
	if c != nil {
		r.matcher = contract.NewMatcher(c)
	}
	if c != nil && (c.Gateway == contract.Kong || c.Gateway == contract.Envoy) {
		r.byRoute = map[string]*contract.Endpoint{}
		dup := map[string]bool{}
		for i := range c.Endpoints {
			name := c.Endpoints[i].Name
			if _, ok := r.byRoute[name]; ok {
				dup[name] = true
			}
			r.byRoute[name] = &c.Endpoints[i]
		}
		for name := range dup { // ambiguous: match the path instead
			delete(r.byRoute, name)
		}
	}
	for i, l := range sc.Logs {
		opts := []accesslog.Option{accesslog.WithMaxLineSize(sc.MaxLineBytes)}
		if len(l.Extra) > 0 {
			opts = append(opts, accesslog.WithExtra(l.Extra))
		}
		dec, err := accesslog.NewDecoder(l.DecoderFormat(kind), l.Mapping, opts...)
		if err != nil {
			return nil, fmt.Errorf("logs[%d] (%s): %w", i, l.Path, err)
		}
		r.logs = append(r.logs, logDecoder{pattern: l.Path, dec: dec})
	}
	if len(r.logs) == 0 {
		dec, err := accesslog.NewDecoder("auto", nil)
		if err != nil {
			return nil, err
		}
		r.logs = append(r.logs, logDecoder{pattern: "*", dec: dec})
	}
	return r, nil
}

// Decode decodes line, read from the file at path, into ev (see
// accesslog.Decoder: ev is reset first; accesslog.ErrPartial means the line
// is one piece of a longer one).
func (r *Reader) Decode(path string, line []byte, ev *accesslog.Event) error {
	if path != r.lastPath || r.lastDec == nil {
		r.lastDec = r.decoder(path)
		r.lastPath = path
	}
	return r.lastDec.Decode(line, ev)
}

// decoder returns the decoder of the log whose path or pattern names path;
// a file the patterns no longer match (renamed away while being drained)
// keeps the first log's decoder.
func (r *Reader) decoder(path string) accesslog.Decoder {
	if len(r.logs) == 1 {
		return r.logs[0].dec
	}
	if i, ok := r.byPath[path]; ok {
		return r.logs[i].dec
	}
	i := 0
	for j, l := range r.logs {
		if ok, _ := filepath.Match(l.pattern, path); ok || l.pattern == path {
			i = j
			break
		}
	}
	r.byPath[string(append([]byte(nil), path...))] = i
	return r.logs[i].dec
}

// Endpoint returns the contract endpoint of a decoded event: the route the
// gateway logged when the contract has one of that name, else the
// matcher's answer; nil means unmatched.
func (r *Reader) Endpoint(ev *accesslog.Event) *contract.Endpoint {
	if r.matcher == nil {
		return nil
	}
	if ev.Route != "" && r.byRoute != nil {
		if ep, ok := r.byRoute[ev.Route]; ok {
			return ep
		}
	}
	if ev.Host == "" && !r.noHostSeen && r.matcher.HostsMatter() {
		r.noHostSeen, r.noHostNew = true, true
	}
	return r.matcher.Endpoint(r.matcher.MatchRequest(contract.Request{Method: ev.Method, Path: ev.Path, Host: ev.Host}))
}

// NoHostOnce reports, once, that a line without a host was matched by its
// path alone although the contract routes by host, so that the caller can
// say so once.
func (r *Reader) NoHostOnce() bool {
	v := r.noHostNew
	r.noHostNew = false
	return v
}
