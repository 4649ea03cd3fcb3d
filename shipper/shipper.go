// Package shipper ships every access-log line to Elasticsearch exactly
// once as a reader sees it, across crashes, restarts, rotation and
// Elasticsearch outages.
//
// The shipper is a reader of its own: it follows the access logs with a
// tail.Tailer and its own checkpoint, decodes and matches each line,
// redacts credentials, and sends documents with the Bulk API. Exactly once
// rests on four things:
//
//   - every document's _id is a function of the line and of where it
//     was read: the file's key (tail.FileID.Key: reader, file and content
//     generation, recorded in the checkpoint), the line's byte offset and
//     its checksum (DocID);
//   - every operation is create, so a line sent again after a crash is
//     answered 409 and counted as already stored;
//   - the target index is a function of the line too (its @timestamp,
//     IndexNamer), because Elasticsearch only rejects a duplicate _id
//     within one index;
//   - the checkpoint advances only over lines Elasticsearch acknowledged,
//     contiguously.
//
// The file on disk is the buffer: while Elasticsearch is down or slow,
// reading pauses, at most two batches are held in memory, and shipping
// resumes where it stopped.
package shipper

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/tail"
)

// Shipper follows the access logs and ships them to Elasticsearch. Create
// it with New and call Run once.
type Shipper struct {
	cfg    *config.Config
	sc     *config.ShipperConfig
	c      *contract.Contract
	logger *slog.Logger
	m      *metrics
	es     *elasticsearch.Client
	auth   func() (string, error)

	// counters for progress reports
	docs, bytes atomic.Int64

	// MaxRetryTime, when positive, makes Replay give up once Elasticsearch
	// has acknowledged nothing for that long (unreachable, refusing, down):
	// Replay then returns a *ReplayIncompleteError.
	MaxRetryTime time.Duration
}

// New returns a shipper for the logs of cfg.Sidecar and the Elasticsearch
// of cfg.Shipper. Its metrics are registered with reg (nil: none).
func New(cfg *config.Config, c *contract.Contract, logger *slog.Logger, reg prometheus.Registerer) (*Shipper, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sc := &cfg.Shipper
	tr, err := transport(sc.TLS)
	if err != nil {
		return nil, fmt.Errorf("shipper: %w", err)
	}
	es, err := elasticsearch.NewClient(elasticsearch.Config{
		Addresses:    sc.URLs,
		Transport:    tr,
		DisableRetry: true, // retries are per item, with backoff, here
	})
	if err != nil {
		return nil, fmt.Errorf("shipper: Elasticsearch client: %w", err)
	}
	return &Shipper{
		cfg: cfg, sc: sc, c: c, logger: logger,
		m: newMetrics(reg), es: es, auth: authHeader(sc.Auth),
	}, nil
}

// authHeader returns a function giving the Authorization header, reading
// the secret at each call so that a rotated key needs no restart.
func authHeader(a config.ShipperAuth) func() (string, error) {
	switch {
	case a.APIKey.IsSet():
		return func() (string, error) {
			k, err := a.APIKey.Read()
			if err != nil {
				return "", fmt.Errorf("API key: %w", err)
			}
			return "ApiKey " + k.Reveal(), nil
		}
	case a.Username != "":
		return func() (string, error) {
			p, err := a.Password.Read()
			if err != nil {
				return "", fmt.Errorf("password: %w", err)
			}
			return "Basic " + base64.StdEncoding.EncodeToString([]byte(a.Username+":"+p.Reveal())), nil
		}
	}
	return nil
}

// Run bootstraps Elasticsearch (templates and ILM policy), then follows
// the logs and ships them until ctx ends. It returns nil when ctx ends,
// and an error only when it cannot start.
func (s *Shipper) Run(ctx context.Context) error {
	ckpt := s.cfg.ShipperCheckpointPath()
	if err := os.MkdirAll(filepath.Dir(ckpt), 0o755); err != nil {
		return fmt.Errorf("shipper: checkpoint directory: %w", err)
	}
	sc := &s.cfg.Sidecar
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
	return s.run(ctx, tail.Options{
		Paths:              paths,
		Start:              start,
		StartUnknown:       tail.FromBeginning,
		Checkpoint:         ckpt,
		Identity:           ReaderIdentity(),
		Logger:             s.logger,
		CheckpointInterval: sc.CheckpointInterval.Std(),
		MaxLineBytes:       sc.MaxLineBytes,
		PollInterval:       sc.PollInterval.Std(),
		ManualAck:          true,
	}, nil)
}

// Bootstrap installs the ILM policies and index templates, retrying with
// backoff while Elasticsearch is unreachable, until ctx ends.
func (s *Shipper) Bootstrap(ctx context.Context) error {
	arts, err := Templates(s.sc, s.gatewayName())
	if err != nil {
		return fmt.Errorf("shipper: %w", err)
	}
	bo := Backoff{Initial: s.sc.Backoff.Initial.Std(), Max: s.sc.Backoff.Max.Std()}
	for _, a := range arts {
		if a.Path == "" {
			continue
		}
		for attempt := 0; ; attempt++ {
			err := s.put(ctx, a.Path, a.Content)
			if err == nil {
				break
			}
			var perm *permanentError
			if errors.As(err, &perm) {
				return fmt.Errorf("shipper: bootstrap %s: %w", a.Path, err)
			}
			d := bo.Delay(attempt)
			s.logger.Warn("Elasticsearch bootstrap failed; retrying", "path", a.Path, "err", err, "retry_in", d)
			if !sleep(ctx, d) {
				return ctx.Err()
			}
		}
	}
	return nil
}

// permanentError is an answer that retrying will not change.
type permanentError struct{ error }

func (s *Shipper) put(ctx context.Context, path string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, s.sc.Timeout.Std())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, path, bytesReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if s.auth != nil {
		v, err := s.auth()
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", v)
	}
	res, err := s.es.Perform(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode/100 == 2 {
		drainClose(res.Body)
		return nil
	}
	var b [4096]byte
	n, _ := res.Body.Read(b[:])
	err = fmt.Errorf("answered %d: %s", res.StatusCode, errorReason(b[:n]))
	if res.StatusCode == http.StatusBadRequest {
		return &permanentError{err}
	}
	return err
}

func (s *Shipper) gatewayName() string {
	if s.cfg.Gateway.Name != "" {
		return s.cfg.Gateway.Name
	}
	if s.c != nil {
		return s.c.Name
	}
	return ""
}

// ReplayProgress reports a replay's progress.
type ReplayProgress struct {
	// Bytes is the size of the lines acknowledged so far, Total the size
	// of the files when the replay started.
	Bytes, Total int64
	// Documents acknowledged so far (stored, duplicates and dead letters).
	Documents int64
	// Files is how many files were given.
	Files   int
	Elapsed time.Duration
	Done    bool
}

// ReplayIncompleteError is Replay's answer when it gave up (see
// Shipper.MaxRetryTime): what was and was not stored.
type ReplayIncompleteError struct {
	Progress ReplayProgress
	Waited   time.Duration
}

func (e *ReplayIncompleteError) Error() string {
	p := e.Progress
	return fmt.Sprintf("replay: gave up after %s without an acknowledgement from Elasticsearch: %d documents (%s of %s in %d files) acknowledged, %s not stored; run it again to continue (lines already stored are skipped)",
		config.Duration(e.Waited), p.Documents, size(p.Bytes), size(p.Total), p.Files, size(max(0, p.Total-p.Bytes)))
}

// Replay ships files from their first byte to their end, then returns:
// a backfill after an outage. It is idempotent: lines already stored
// answer 409. progress, when not nil, is called about once a second and
// at the end.
func (s *Shipper) Replay(ctx context.Context, files []string, progress func(ReplayProgress)) error {
	var total int64
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		total += fi.Size()
	}
	begin := time.Now()
	now := func(done bool) ReplayProgress {
		return ReplayProgress{Bytes: s.bytes.Load(), Total: total, Documents: s.docs.Load(), Files: len(files), Elapsed: time.Since(begin), Done: done}
	}
	report := func(done bool) {
		if progress != nil {
			progress(now(done))
		}
	}
	report(false) // at once: bootstrapping may wait for Elasticsearch
	ctx, giveUp := context.WithCancel(ctx)
	defer giveUp()
	var gaveUp atomic.Bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(min(time.Second, max(s.MaxRetryTime/10, 10*time.Millisecond)))
		defer t.Stop()
		lastDocs, lastChange, lastReport := int64(-1), time.Now(), time.Now()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			if d := s.docs.Load(); d != lastDocs {
				lastDocs, lastChange = d, time.Now()
			} else if s.MaxRetryTime > 0 && time.Since(lastChange) >= s.MaxRetryTime {
				gaveUp.Store(true)
				giveUp()
				return
			}
			if time.Since(lastReport) >= time.Second {
				lastReport = time.Now()
				report(false)
			}
		}
	}()
	err := s.run(ctx, tail.Options{
		Paths:        files,
		Start:        tail.FromBeginning,
		ManualAck:    true,
		OneShot:      true,
		Exclude:      []string{},
		MaxLineBytes: s.cfg.Sidecar.MaxLineBytes,
		Identity:     ReaderIdentity(),
		Logger:       s.logger,
	}, nil)
	close(stop)
	wg.Wait()
	if gaveUp.Load() {
		return &ReplayIncompleteError{Progress: now(false), Waited: s.MaxRetryTime}
	}
	if err == nil {
		report(true)
	}
	return err
}

// run bootstraps, then runs the tailer, the flusher and the sender.
func (s *Shipper) run(ctx context.Context, opts tail.Options, hook func(*pipe)) error {
	if *s.sc.Bootstrap {
		if err := s.Bootstrap(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = config.DefaultMaxLineBytes
	}
	tailer, err := tail.New(opts)
	if err != nil {
		return fmt.Errorf("shipper: %w", err)
	}
	p, err := s.newPipe(tailer)
	if err != nil {
		return err
	}
	if hook != nil {
		hook(p)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p.ctx = ctx
	// The sender finishes the request in flight when ctx ends, for up to
	// shutdownGrace, so that a clean stop leaves an exact checkpoint.
	sendCtx, sendCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer sendCancel()
	stopGrace := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(shutdownGrace, sendCancel)
		_ = t
	})
	defer stopGrace()
	var wg sync.WaitGroup
	wg.Add(1)
	senderDone := make(chan struct{})
	go func() {
		defer close(senderDone)
		p.sender(sendCtx, ctx)
	}()
	go func() {
		defer wg.Done()
		p.flusher(ctx)
	}()
	s.logger.Info("shipping access logs", "paths", opts.Paths, "mode", s.sc.Mode, "checkpoint", opts.Checkpoint)
	err = tailer.Run(ctx, p.handle)
	if err == nil && opts.OneShot && ctx.Err() == nil {
		// Send what is left and wait for its acknowledgement.
		if p.handOver(ctx, true) {
			close(p.full)
			select {
			case <-senderDone:
			case <-ctx.Done():
			}
		}
	}
	cancel()
	wg.Wait()
	<-senderDone
	if serr := tailer.SaveCheckpoint(); serr != nil && err == nil {
		err = serr
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("shipper: %w", err)
	}
	return nil
}

// shutdownGrace is how long a stopping shipper waits for the bulk request
// in flight.
const shutdownGrace = 5 * time.Second

// ReaderIdentity names this reader in the keys of the files it reads first
// (tail.Options.Identity), so that the documents of two pods never share
// an _id: $POD_NAME (set it from the Kubernetes downward API), else the
// host name (a pod's, in Kubernetes), else "".
func ReaderIdentity() string {
	if v := os.Getenv("POD_NAME"); v != "" {
		return v
	}
	h, _ := os.Hostname()
	return h
}

// randomKey identifies standard input for one run: its offsets restart at
// zero each time, so they must not collide with the ids of an earlier run.
func randomKey() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:]) | 1
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
