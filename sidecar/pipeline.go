package sidecar

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/gatewatch/gatewatch/accesslog"
	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/exporter"
	"github.com/gatewatch/gatewatch/tail"
)

// ReasonOther is the decode error reason of an error that is not an
// *accesslog.DecodeError (it should not happen; counted, never dropped).
const ReasonOther = "other"

// pipeline is the metrics reader's line handler: decode, match, record.
// It runs on the tailer's goroutine only.
type pipeline struct {
	exp     *exporter.Exporter
	matcher *contract.Matcher
	logs    []logDecoder
	byPath  map[string]int // Line.Path → index in logs
	// byRoute finds an endpoint by the route name the gateway logged
	// (Kong route.name, Envoy %ROUTE_NAME%): the gateway's own routing
	// decision wins over matching the path again.
	byRoute map[string]*contract.Endpoint
	files   map[string]exporter.FileMetrics
	ev      accesslog.Event

	// noHostSaid is set once the log was found to carry no host.
	noHostSaid bool

	// lastPath, lastFile and lastDec cache the lookups of the previous
	// line's file (most lines come from the same file).
	lastPath string
	lastFile exporter.FileMetrics
	lastDec  accesslog.Decoder

	lagMu    sync.Mutex
	lagFiles map[string]bool

	logger *slog.Logger
	// warned is when a decode error of each reason was last logged;
	// further ones are logged at most once a minute per reason.
	warned     map[string]time.Time
	suppressed map[string]int

	lines, errors uint64
}

type logDecoder struct {
	pattern string
	dec     accesslog.Decoder
}

func newPipeline(sc *config.SidecarConfig, c *contract.Contract, exp *exporter.Exporter, logger *slog.Logger) (*pipeline, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := &pipeline{
		logger:     logger,
		warned:     map[string]time.Time{},
		suppressed: map[string]int{},
		exp:        exp,
		matcher:    contract.NewMatcher(c),
		byPath:     map[string]int{},
		files:      map[string]exporter.FileMetrics{},
		lagFiles:   map[string]bool{},
	}
	p.ev.Reset()
	if c.Gateway == contract.Kong || c.Gateway == contract.Envoy {
		p.byRoute = map[string]*contract.Endpoint{}
		dup := map[string]bool{}
		for i := range c.Endpoints {
			name := c.Endpoints[i].Name
			if _, ok := p.byRoute[name]; ok {
				dup[name] = true
			}
			p.byRoute[name] = &c.Endpoints[i]
		}
		for name := range dup { // ambiguous: match the path instead
			delete(p.byRoute, name)
		}
	}
	for i, l := range sc.Logs {
		format := l.DecoderFormat(c.Gateway)
		opts := []accesslog.Option{accesslog.WithMaxLineSize(sc.MaxLineBytes)}
		if len(l.Extra) > 0 {
			opts = append(opts, accesslog.WithExtra(l.Extra))
		}
		dec, err := accesslog.NewDecoder(format, l.Mapping, opts...)
		if err != nil {
			return nil, fmt.Errorf("sidecar: logs[%d] (%s): %w", i, l.Path, err)
		}
		p.logs = append(p.logs, logDecoder{pattern: l.Path, dec: dec})
	}
	if len(p.logs) == 0 {
		return nil, errors.New("sidecar: no access logs configured")
	}
	return p, nil
}

// decoder returns the decoder of the log whose path or pattern names path;
// a file the patterns no longer match (renamed away while being drained)
// keeps the first log's decoder.
func (p *pipeline) decoder(path string) accesslog.Decoder {
	if len(p.logs) == 1 {
		return p.logs[0].dec
	}
	if i, ok := p.byPath[path]; ok {
		return p.logs[i].dec
	}
	i := 0
	for j, l := range p.logs {
		if l.pattern == path {
			i = j
			break
		}
		if ok, _ := filepath.Match(l.pattern, path); ok {
			i = j
			break
		}
	}
	p.byPath[string(append([]byte(nil), path...))] = i
	return p.logs[i].dec
}

func (p *pipeline) file(path string) exporter.FileMetrics {
	if fm, ok := p.files[path]; ok {
		return fm
	}
	path = string(append([]byte(nil), path...))
	fm := p.exp.File(path)
	p.files[path] = fm
	return fm
}

// handle takes one line from the tailer. It never fails: a line that
// cannot be read is counted by reason and skipped.
func (p *pipeline) handle(l tail.Line) error {
	if l.Path != p.lastPath || p.lastDec == nil {
		p.lastFile, p.lastDec = p.file(l.Path), p.decoder(l.Path)
		p.lastPath = l.Path
	}
	n := l.End - l.Offset
	if n <= 0 {
		n = int64(len(l.Bytes)) + 1
	}
	p.lastFile.Line(n)
	p.lines++
	if l.Cut {
		p.decodeError(l, accesslog.ReasonTooLong, fmt.Sprintf("line longer than max_line_bytes (%d bytes skipped)", l.CutBytes))
		return nil
	}
	if err := p.lastDec.Decode(l.Bytes, &p.ev); err != nil {
		if errors.Is(err, accesslog.ErrPartial) {
			return nil
		}
		if de, ok := accesslog.IsDecodeError(err); ok {
			p.decodeError(l, de.Reason, de.Msg)
		} else {
			p.decodeError(l, ReasonOther, err.Error())
		}
		return nil
	}
	p.exp.Record(&p.ev, p.endpoint())
	return nil
}

// decodeError counts a line that could not be read and logs why — the
// place and the decoder's message, never the line itself (it may hold
// secrets) — at most once a minute per reason.
func (p *pipeline) decodeError(l tail.Line, reason, msg string) {
	p.errors++
	p.exp.DecodeError(reason)
	now := time.Now()
	if last, ok := p.warned[reason]; ok && now.Sub(last) < time.Minute {
		p.suppressed[reason]++
		return
	}
	p.logger.Warn("access-log line not decoded", "file", l.Path, "offset", l.Offset, "reason", reason,
		"error", msg, "suppressed_since_last", p.suppressed[reason])
	p.warned[reason] = now
	p.suppressed[reason] = 0
}

// endpoint returns the contract endpoint of the decoded event: the route
// the gateway logged when the contract has one of that name, else the
// matcher's answer (nil: unmatched).
func (p *pipeline) endpoint() *contract.Endpoint {
	if p.ev.Route != "" && p.byRoute != nil {
		if ep, ok := p.byRoute[p.ev.Route]; ok {
			return ep
		}
	}
	if p.ev.Host == "" && !p.noHostSaid && p.matcher.HostsMatter() {
		p.noHostSaid = true
		p.logger.Warn("access log carries no host: endpoints are matched by path alone, though the contract routes by host",
			"hint", "log the Host header (%REQ(:AUTHORITY)% for Envoy; Kong's JSON log has it)")
	}
	return p.matcher.Endpoint(p.matcher.MatchRequest(contract.Request{Method: p.ev.Method, Path: p.ev.Path, Host: p.ev.Host}))
}

// setLag publishes the unread bytes of every open file; files no longer
// open get 0.
func (p *pipeline) setLag(files []tail.FileStats) {
	p.lagMu.Lock()
	defer p.lagMu.Unlock()
	open := make(map[string]bool, len(files))
	for _, f := range files {
		if f.Path == "-" {
			continue
		}
		lag := f.Size - f.Offset
		if lag < 0 {
			lag = 0
		}
		p.exp.File(f.Path).Lag.Set(float64(lag))
		open[f.Path] = true
		p.lagFiles[f.Path] = true
	}
	for path := range p.lagFiles {
		if !open[path] {
			p.exp.File(path).Lag.Set(0)
		}
	}
}
