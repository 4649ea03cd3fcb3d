// Package sidecartest runs a real sidecar on a Kong access log that a test
// writes, for the end-to-end tests.
package sidecartest

import (
	"bufio"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/sidecar"
)

// Start creates dir/access.log, empty, and runs a sidecar for cfg and c
// that follows it as a Kong log from its beginning (polling every 20ms,
// checkpoints under dir/state) and serves its metrics on a free loopback
// port (Addr). cfg's sidecar section is set so; the rest is used as it
// is. The sidecar stops when the test ends. Start returns the sidecar and
// the log's path.
func Start(t testing.TB, dir string, cfg *config.Config, c *contract.Contract) (*sidecar.Sidecar, string) {
	t.Helper()
	logPath := filepath.Join(dir, "access.log")
	if err := os.WriteFile(logPath, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// Kong's JSON log lines are the easiest to write exactly.
	cfg.Sidecar.Logs = []config.LogConfig{{Path: logPath, Format: "kong", Envelope: "none"}}
	cfg.Sidecar.Listen = "127.0.0.1:0"
	cfg.Sidecar.CheckpointDir = filepath.Join(dir, "state")
	cfg.Sidecar.Start = config.StartBeginning
	cfg.Sidecar.PollInterval = config.Duration(20 * time.Millisecond)
	sc, err := sidecar.New(cfg, c, nil, prometheus.NewRegistry(), sidecar.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return sc, logPath
}

// WriteEvery calls write at once and then every interval until the test
// ends, each time with the file at path opened for appending, a random
// source seeded the same in every test (for loggen.Line) and the time;
// what write writes is flushed and the file closed after each call.
func WriteEvery(t testing.TB, path string, interval time.Duration, write func(w *bufio.Writer, rnd *rand.Rand, now time.Time)) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	written := make(chan struct{})
	go func() {
		defer close(written)
		rnd := rand.New(rand.NewPCG(1, 2))
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
			if err != nil {
				return
			}
			w := bufio.NewWriter(f)
			write(w, rnd, time.Now())
			_ = w.Flush()
			_ = f.Close()
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() { stop(); <-written })
}
