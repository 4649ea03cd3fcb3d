// Package sidecar runs gatewatch in the gateway's pod: it follows the
// gateway's access logs, decodes each line, maps it to a contract endpoint
// and exports per-endpoint metrics on /metrics, beside the gateway's own
// metrics when asked to.
//
// The metrics reader is one of a list of independent Runners started
// together (oklog/run): the shipper, when enabled, is another one with its
// own reader and checkpoint, so that an Elasticsearch outage never holds
// back the metrics.
package sidecar

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"github.com/gatewatch/gatewatch/schema"

	"github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatewatch/gatewatch/accesslog"
	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/exporter"
	"github.com/gatewatch/gatewatch/tail"
)

// CheckpointFile is the name of the metrics reader's checkpoint in the
// sidecar's checkpoint directory.
const CheckpointFile = "metrics.checkpoint.json"

// Runner is one independent part of the sidecar (the metrics reader, the
// HTTP server, the shipper). Run blocks until ctx is cancelled or the
// runner fails; a runner that returns ends the sidecar.
type Runner interface {
	Run(ctx context.Context) error
}

// RunnerFunc adapts a function to Runner.
type RunnerFunc func(ctx context.Context) error

// Run implements Runner.
func (f RunnerFunc) Run(ctx context.Context) error { return f(ctx) }

// ShipperFactory builds the shipper's reader. It is nil until package
// shipper sets it (in an init function, as database/sql drivers register
// themselves), so that the sidecar does not depend on Elasticsearch code.
// New calls it when cfg.Shipper.Enabled; the Runner it returns follows the
// logs with its own tail.Tailer and checkpoint, independently of the
// metrics reader.
var ShipperFactory func(cfg *config.Config, c *contract.Contract, logger *slog.Logger, reg prometheus.Registerer) (Runner, error)

// Options are the settings of a Sidecar that do not come from
// gatewatch.yaml.
type Options struct {
	// Once reads every log to its current end, writes the checkpoint and
	// returns, without serving HTTP (benchmarks, backfills).
	Once bool
	// Stdin is read for the log path "-" (default os.Stdin).
	Stdin io.Reader
	// Runners are further independent readers started beside the
	// metrics reader (the shipper).
	Runners []Runner
}

// Sidecar is a configured sidecar. Create it with New, then call Run once.
type Sidecar struct {
	cfg    *config.Config
	c      *contract.Contract
	logger *slog.Logger
	reg    *prometheus.Registry
	gwReg  prometheus.Registerer // reg adding the gateway label
	opts   Options

	exp      *exporter.Exporter
	pipe     *pipeline
	tailer   *tail.Tailer
	ckpt     string
	listener net.Listener
	ready    atomic.Bool
	started  time.Time
	gatherer prometheus.Gatherer
}

// Run is New followed by (*Sidecar).Run.
func Run(ctx context.Context, cfg *config.Config, c *contract.Contract, logger *slog.Logger, reg *prometheus.Registry) error {
	s, err := New(cfg, c, logger, reg, Options{})
	if err != nil {
		return err
	}
	return s.Run(ctx)
}

// New registers the sidecar's metrics (and the Go and process collectors)
// with reg, which must not hold the sidecar's metrics already; builds one
// decoder per configured log; opens the checkpoint; and, unless opts.Once,
// listens on the configured address.
func New(cfg *config.Config, c *contract.Contract, logger *slog.Logger, reg *prometheus.Registry, opts Options) (*Sidecar, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sc := &cfg.Sidecar
	s := &Sidecar{cfg: cfg, c: c, logger: logger, reg: reg, opts: opts, started: time.Now()}
	var fields []exporter.FieldLabel
	for _, x := range sc.ExtraLabels {
		fields = append(fields, exporter.FieldLabel{Field: x.Field, Values: x.Values})
	}
	// Every series the sidecar serves carries the gateway label (the
	// exporter sets it itself; gwReg adds it to the others), so that
	// several gateways share one Prometheus.
	gateway := config.GatewayName(c, cfg)
	gwReg := prometheus.WrapRegistererWith(prometheus.Labels{schema.LabelGateway: gateway}, reg)
	s.gwReg = gwReg
	for _, col := range []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := gwReg.Register(col); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
			return nil, fmt.Errorf("sidecar: registering runtime metrics: %w", err)
		}
	}
	bytesIn, bytesOut := byteCounts(sc, c)
	s.exp = exporter.New(reg, c, exporter.Options{
		Gateway:         gateway,
		Track:           cfg.Gateway.Track,
		Version:         cfg.Gateway.Version,
		Buckets:         schema.Buckets(cfg.LatencyThresholds(c)...),
		MaxBackends:     sc.MaxBackends,
		Fields:          fields,
		NoRequestBytes:  !bytesIn,
		NoResponseBytes: !bytesOut,
	})
	s.exp.InitDecodeErrors(decodeReasons...)

	pipe, err := newPipeline(sc, c, s.exp, logger)
	if err != nil {
		return nil, err
	}
	s.pipe = pipe
	if err := gwReg.Register(pipe.skippedVec); err != nil {
		return nil, fmt.Errorf("sidecar: registering the skipped lines counter: %w", err)
	}

	if err := os.MkdirAll(sc.CheckpointDir, 0o755); err != nil {
		return nil, fmt.Errorf("sidecar: checkpoint directory: %w", err)
	}
	s.ckpt = filepath.Join(sc.CheckpointDir, CheckpointFile)
	paths := make([]string, 0, len(sc.Logs))
	for _, l := range sc.Logs {
		paths = append(paths, l.Path)
	}
	start := tail.FromCheckpoint
	switch sc.Start {
	case config.StartBeginning:
		start = tail.FromBeginning
	case config.StartEnd:
		start = tail.FromEnd
	}
	s.tailer, err = tail.New(tail.Options{
		Paths:              paths,
		Start:              start,
		StartUnknown:       tail.FromBeginning,
		Checkpoint:         s.ckpt,
		CheckpointInterval: sc.CheckpointInterval.Std(),
		MaxLineBytes:       sc.MaxLineBytes,
		PollInterval:       sc.PollInterval.Std(),
		OneShot:            opts.Once,
		HoldUnterminated:   true, // --once on a live file: its half-written last line waits for the next run
		Stdin:              opts.Stdin,
		AfterRead:          s.pipe.afterRead, // publish each read's lines at once
		ManualAck:          true,             // a partial piece is acknowledged with its last piece
		Logger:             logger,
	})
	if err != nil {
		return nil, fmt.Errorf("sidecar: %w", err)
	}
	s.pipe.ack = s.tailer.Ack
	if err := gwReg.Register(newTailCollector(s.tailer.Stats)); err != nil {
		return nil, fmt.Errorf("sidecar: registering file metrics: %w", err)
	}

	if cfg.Shipper.Enabled && !opts.Once {
		if ShipperFactory == nil {
			return nil, errors.New("sidecar: shipper.enabled is set but this gatewatch has no shipper")
		}
		r, err := ShipperFactory(cfg, c, logger.With("component", "shipper"), gwReg)
		if err != nil {
			return nil, fmt.Errorf("sidecar: shipper: %w", err)
		}
		s.opts.Runners = append(slices.Clone(s.opts.Runners), r)
	}

	gs := prometheus.Gatherers{reg}
	if g := sc.ScrapeGateway; g != nil {
		gs = append(gs, newGatewayGatherer(g.URL, g.Timeout.Std()))
	}
	s.gatherer = gs

	if !opts.Once {
		ln, err := net.Listen("tcp", sc.Listen)
		if err != nil {
			return nil, fmt.Errorf("sidecar: listening for metrics: %w", err)
		}
		s.listener = ln
	}
	return s, nil
}

// decodeReasons are the decode error reasons whose series exist from the
// start.
var decodeReasons = []string{
	accesslog.ReasonJSON, accesslog.ReasonNotAccessLog, accesslog.ReasonMissingField,
	accesslog.ReasonBadStatus, accesslog.ReasonBadDuration, accesslog.ReasonBadTime,
	accesslog.ReasonBadField, accesslog.ReasonEnvelope, accesslog.ReasonPartialTooLong,
	accesslog.ReasonTooLong, ReasonOther,
}

// Addr is the address the metrics server listens on (nil with Once).
func (s *Sidecar) Addr() net.Addr {
	if s.listener == nil {
		return nil
	}
	return s.listener.Addr()
}

// Exporter returns the sidecar's exporter.
func (s *Sidecar) Exporter() *exporter.Exporter { return s.exp }

// Handler serves /metrics, /healthz and /readyz, and a page linking them
// on /.
func (s *Sidecar) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{
		EnableOpenMetrics: true,
		ErrorHandling:     promhttp.ContinueOnError,
		ErrorLog:          slogPrinter{s.logger},
		Registry:          s.gwReg,
		Timeout:           10 * time.Second,
	}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "not ready: the log reader has not started", http.StatusServiceUnavailable)
			return
		}
		if st := s.tailer.Stats(); st.CheckpointFailing {
			http.Error(w, "not ready: the metrics reader's checkpoint cannot be written: "+st.CheckpointError, http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, landingPage)
	})
	return mux
}

// landingPage is what / on the metrics port serves.
const landingPage = `<!DOCTYPE html>
<html><head><title>gatewatch sidecar</title></head>
<body><h1>gatewatch sidecar</h1>
<ul>
<li><a href="metrics">/metrics</a>: per-endpoint request metrics, the gateway's own metrics and the sidecar's</li>
<li><a href="healthz">/healthz</a>: the process is alive</li>
<li><a href="readyz">/readyz</a>: the log reader has started</li>
</ul></body></html>
`

// Run follows the logs and serves HTTP until ctx is cancelled (a SIGTERM in
// the command), then lets the line in hand finish, writes the final
// checkpoint and returns nil. With Options.Once it returns when every log
// has been read to its end.
func (s *Sidecar) Run(ctx context.Context) error {
	var g run.Group
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The context: the group ends when the caller cancels (with Once, also
	// when the reader has read everything).
	g.Add(func() error { <-ctx.Done(); return nil }, func(error) { cancel() })

	// The metrics reader. Its error is kept apart: run.Group returns the
	// first actor's only, and on SIGTERM that is the context's, so a final
	// checkpoint that cannot be written would go unnoticed.
	readCtx, stopRead := context.WithCancel(context.Background())
	var readErr error
	g.Add(func() error {
		s.ready.Store(true)
		s.logger.Info("following access logs", "paths", len(s.cfg.Sidecar.Logs), "start", s.cfg.Sidecar.Start, "checkpoint", s.ckpt)
		err := s.tailer.Run(readCtx, s.pipe.handle)
		s.exp.Flush()
		s.updateLag()
		if err != nil {
			readErr = fmt.Errorf("metrics reader: %w", err)
			return readErr
		}
		s.logger.Info("metrics reader stopped; checkpoint written", "lines", s.pipe.lines, "decode_errors", s.pipe.errors)
		return nil
	}, func(error) { stopRead() })

	// Lag and checkpoint age.
	if !s.opts.Once {
		tickCtx, stopTick := context.WithCancel(context.Background())
		g.Add(func() error {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-tickCtx.Done():
					return nil
				case <-t.C:
					s.updateLag()
				}
			}
		}, func(error) { stopTick() })
	}

	// HTTP.
	if s.listener != nil {
		srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
		g.Add(func() error {
			s.logger.Info("serving metrics", "addr", s.listener.Addr().String())
			if err := srv.Serve(s.listener); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("metrics server: %w", err)
			}
			return nil
		}, func(error) {
			sctx, done := context.WithTimeout(context.Background(), 5*time.Second)
			defer done()
			_ = srv.Shutdown(sctx)
		})
	}

	// Further independent readers: the shipper (see ShipperFactory), with
	// its own tail.Tailer and checkpoint, so that Elasticsearch never holds
	// back the metrics. A runner that returns ends the sidecar.
	for _, r := range s.opts.Runners {
		rctx, stop := context.WithCancel(context.Background())
		g.Add(func() error { return r.Run(rctx) }, func(error) { stop() })
	}

	err := g.Run()
	if err == nil {
		err = readErr
	}
	return err
}

// updateLag publishes the lag of every open file and the checkpoint age.
func (s *Sidecar) updateLag() {
	st := s.tailer.Stats()
	s.pipe.setLag(st.Files)
	// The age counts from the last successful write; before any, from the
	// start, so that a checkpoint never written ages.
	if !st.CheckpointWritten.IsZero() {
		s.exp.CheckpointWritten(st.CheckpointWritten)
	} else {
		s.exp.CheckpointWritten(s.started)
	}
}

// slogPrinter adapts a slog.Logger to promhttp's error log.
type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.l.Warn(fmt.Sprint(v...)) }

// Summary counts what the metrics reader has handled.
type Summary struct {
	Lines        uint64
	DecodeErrors uint64
}

// Summary returns the counts so far; call it after Run returns.
func (s *Sidecar) Summary() Summary {
	return Summary{Lines: s.pipe.lines, DecodeErrors: s.pipe.errors}
}

// byteCounts reports whether some configured log's format can carry the
// request and the response size: the exporter leaves out the families no
// log can fill (a KrakenD CE sidecar would export zeros forever).
func byteCounts(sc *config.SidecarConfig, c *contract.Contract) (in, out bool) {
	if len(sc.Logs) == 0 {
		return true, true // logline decodes by detection
	}
	var kind contract.Kind
	if c != nil {
		kind = c.Gateway
	}
	for i := range sc.Logs {
		l := &sc.Logs[i]
		i, o := accesslog.ByteCounts(l.DecoderFormat(kind), l.Mapping)
		in, out = in || i, out || o
	}
	return in, out
}
