package sidecar

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatewatch/gatewatch/accesslog"
	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/exporter"
	"github.com/gatewatch/gatewatch/logline"
	"github.com/gatewatch/gatewatch/schema"
	"github.com/gatewatch/gatewatch/tail"
)

// ReasonOther is the decode error reason of an error that is not an
// *accesslog.DecodeError (it should not happen; counted, never dropped).
const ReasonOther = "other"

// pipeline is the metrics reader's line handler: decode and match (by
// logline.Reader, as the shipper does), record. It runs on the tailer's
// goroutine only.
type pipeline struct {
	exp    *exporter.Exporter
	reader *logline.Reader
	files  map[string]exporter.FileMetrics
	ev     accesslog.Event

	// lastPath and lastFile cache the lookup of the previous line's file
	// (most lines come from the same file).
	lastPath string
	lastFile exporter.FileMetrics

	// ack acknowledges a handled line to the tailer (tail.Tailer.Ack;
	// nil in benchmarks). The pieces of a line the container runtime split
	// are acknowledged together with the last one, so that a checkpoint
	// never lands between them: partial has, per file key, the offset of
	// the first piece of a line not finished yet.
	ack     func(file tail.FileID, offset, end int64)
	partial map[uint64]int64

	lagMu    sync.Mutex
	lagFiles map[string]bool

	// forgetAfter is sidecar.forget_files_after: setLag removes the
	// series of files gone that long, and sets forgot so that the
	// reader's goroutine drops its handles of them (afterRead).
	forgetAfter time.Duration
	forgot      atomic.Bool

	logger *slog.Logger
	// warned is when a decode error of each reason was last logged;
	// further ones are logged at most once a minute per reason.
	warned     map[string]time.Time
	suppressed map[string]int

	lines, errors uint64
	// skippedVec counts lines of another log in the same stream
	// (accesslog.ErrOtherLog): not decode errors. skipped is its only
	// series, looked up once.
	skippedVec *prometheus.CounterVec
	skipped    prometheus.Counter
}

func newPipeline(sc *config.SidecarConfig, c *contract.Contract, exp *exporter.Exporter, logger *slog.Logger) (*pipeline, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if len(sc.Logs) == 0 {
		return nil, errors.New("sidecar: no access logs configured")
	}
	lr, err := logline.New(sc, c)
	if err != nil {
		return nil, fmt.Errorf("sidecar: %w", err)
	}
	p := &pipeline{
		logger:      logger,
		warned:      map[string]time.Time{},
		suppressed:  map[string]int{},
		exp:         exp,
		reader:      lr,
		files:       map[string]exporter.FileMetrics{},
		lagFiles:    map[string]bool{},
		partial:     map[uint64]int64{},
		forgetAfter: sc.ForgetFilesAfter.Std(),
	}
	if p.forgetAfter <= 0 {
		p.forgetAfter = config.DefaultForgetFilesAfter
	}
	p.skippedVec = prometheus.NewCounterVec(prometheus.CounterOpts{Name: schema.SkippedLines.Name, Help: schema.SkippedLines.Help}, schema.SkippedLines.VariableLabels())
	p.skipped = p.skippedVec.WithLabelValues(accesslog.SkippedOtherLog)
	p.ev.Reset()
	return p, nil
}

func (p *pipeline) file(path string) exporter.FileMetrics {
	if fm, ok := p.files[path]; ok && !fm.Forgotten() {
		return fm
	}
	path = string(append([]byte(nil), path...))
	fm := p.exp.File(path)
	p.files[path] = fm
	return fm
}

// handle takes one line from the tailer. It never fails: a line that
// cannot be read is counted by reason and skipped. Each line is
// acknowledged once handled, a split line's pieces with its last one.
func (p *pipeline) handle(l tail.Line) error {
	start, pending := l.Offset, false
	if len(p.partial) > 0 {
		start, pending = p.partial[l.File.Key]
		if !pending {
			start = l.Offset
		}
	}
	if p.record(l) {
		if !pending {
			p.partial[l.File.Key] = l.Offset
		}
		return nil
	}
	if pending {
		delete(p.partial, l.File.Key)
	}
	if p.ack != nil {
		p.ack(l.File, start, l.End)
	}
	return nil
}

// record counts, decodes, matches and records one line; it reports a
// piece of a split line (accesslog.ErrPartial), which waits for the rest.
func (p *pipeline) record(l tail.Line) (partial bool) {
	if l.Path != p.lastPath || p.lastFile == (exporter.FileMetrics{}) {
		p.lastFile = p.file(l.Path)
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
		return false
	}
	if err := p.reader.Decode(l.Path, l.Bytes, &p.ev); err != nil {
		if errors.Is(err, accesslog.ErrPartial) {
			return true
		}
		if errors.Is(err, accesslog.ErrOtherLog) {
			p.skipped.Inc()
			return false
		}
		if de, ok := accesslog.IsDecodeError(err); ok {
			p.decodeError(l, de.Reason, de.Msg)
		} else {
			p.decodeError(l, ReasonOther, err.Error())
		}
		return false
	}
	p.exp.Record(&p.ev, p.reader.Endpoint(&p.ev))
	if p.reader.NoHostOnce() {
		p.logger.Warn("access log carries no host: endpoints are matched by path alone, though the contract routes by host",
			"file", l.Path, "hint", "log the Host header (%REQ(:AUTHORITY)% for Envoy; Kong's JSON log has it)")
	}
	return false
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

// afterRead publishes a read's lines (tail.Options.AfterRead) and, once
// setLag has removed files' series, drops the handles of them, so that
// neither the exporter nor p.files keeps a series per rotated name. It
// runs on the reader's goroutine, once per read, never per line.
func (p *pipeline) afterRead() {
	p.exp.Flush()
	if p.forgot.Load() && p.forgot.Swap(false) {
		for path, fm := range p.files {
			if fm.Forgotten() {
				delete(p.files, path)
			}
		}
		if p.lastFile.Forgotten() {
			p.lastPath, p.lastFile = "", exporter.FileMetrics{}
		}
	}
}

// setLag publishes the unread bytes of every open file; files no longer
// open get 0 until they have been gone (not followed, not held) for
// forgetAfter, when their series are removed.
func (p *pipeline) setLag(files []tail.FileStats) {
	p.lagMu.Lock()
	defer p.lagMu.Unlock()
	open := make(map[string]bool, len(files))
	for _, f := range files {
		open[f.Path] = true
		if f.Path == "-" {
			continue
		}
		lag := f.Size - f.Offset
		if lag < 0 {
			lag = 0
		}
		p.exp.File(f.Path).Lag.Set(float64(lag))
		p.lagFiles[f.Path] = true
	}
	if gone := p.exp.ForgetFiles(open, p.forgetAfter); len(gone) > 0 {
		for _, path := range gone {
			delete(p.lagFiles, path)
		}
		p.forgot.Store(true)
		p.logger.Debug("removed the series of files no longer followed", "files", len(gone), "forget_files_after", config.Duration(p.forgetAfter).String())
	}
	for path := range p.lagFiles {
		if !open[path] {
			p.exp.File(path).Lag.Set(0)
		}
	}
}
