package shipper

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog/loggen"
	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/shipper/estest"
)

// The crash test runs the shipper as a child process (this test binary,
// re-executed) and kills it with SIGKILL at random moments while lines are
// written and files rotate.
const (
	envCrashChild = "GATEWATCH_SHIPPER_CRASH_CHILD"
	envCrashDir   = "GATEWATCH_SHIPPER_CRASH_DIR"
	envCrashURL   = "GATEWATCH_SHIPPER_CRASH_URL"
	envCrashMode  = "GATEWATCH_SHIPPER_CRASH_MODE"
)

func TestMain(m *testing.M) {
	if os.Getenv(envCrashChild) != "" {
		os.Exit(crashChild())
	}
	if os.Getenv(envServe) != "" {
		os.Exit(serveChild())
	}
	os.Exit(m.Run())
}

func crashConfig(dir, url, mode string) (*config.Config, error) {
	return config.Load("gw.yaml", fmt.Appendf(nil, `
gateway: {name: edge}
sidecar:
  logs: [{path: %q, format: kong}]
  checkpoint_dir: %q
  poll_interval: 20ms
  checkpoint_interval: 200ms
shipper:
  enabled: true
  urls: [%q]
  mode: %s
  batch_size: 100
  flush_interval: 30ms
  timeout: 2s
  backoff: {initial: 10ms, max: 100ms}
`, filepath.Join(dir, "access.log*"), dir, url, mode))
}

// crashChild is the shipper process the crash test kills.
func crashChild() int {
	cfg, err := crashConfig(os.Getenv(envCrashDir), os.Getenv(envCrashURL), os.Getenv(envCrashMode))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	s, err := New(cfg, testContract(), nil, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := s.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// crashWriter appends Kong lines with unique request ids and rotates the
// file by rename and create every rotateEvery lines.
type crashWriter struct {
	dir         string
	rnd         *rand.Rand
	n, rotation int
	rotateEvery int
	f           *os.File
}

func (w *crashWriter) write(t *testing.T, lines int) {
	var buf []byte
	for range lines {
		if w.f == nil || (w.n > 0 && w.n%w.rotateEvery == 0 && len(buf) == 0) {
			w.rotate(t)
		}
		buf = append(buf, loggen.Line("kong", w.rnd, loggen.Request{
			Time: time.Now().UTC(), RequestID: fmt.Sprintf("crash%07d", w.n),
		})...)
		buf = append(buf, '\n')
		w.n++
		if w.n%w.rotateEvery == 0 {
			_, err := w.f.Write(buf)
			require.NoError(t, err)
			buf = buf[:0]
		}
	}
	_, err := w.f.Write(buf)
	require.NoError(t, err)
}

func (w *crashWriter) rotate(t *testing.T) {
	path := filepath.Join(w.dir, "access.log")
	if w.f != nil {
		require.NoError(t, w.f.Close())
		w.rotation++
		require.NoError(t, os.Rename(path, fmt.Sprintf("%s.%d", path, w.rotation)))
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o644)
	require.NoError(t, err)
	w.f = f
}

// crashResult is what the server holds after a crash run.
type crashResult struct {
	Lines, Kills, Rollovers int
	Lost, Doubled           int
	// Conflicts are the 409 answers: lines sent again after a kill.
	Conflicts int
}

func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash test kills a child process at least 20 times; skipped with -short")
	}
	for _, mode := range []string{config.ShipperModeIndex, config.ShipperModeDataStream} {
		t.Run(mode, func(t *testing.T) {
			r := runCrash(t, mode, 20)
			t.Logf("mode %s: %d lines, %d kills, %d forced rollovers, %d replayed lines answered 409: %d lost, %d doubled",
				mode, r.Lines, r.Kills, r.Rollovers, r.Conflicts, r.Lost, r.Doubled)
			require.Zero(t, r.Lost, "lines lost")
			if mode == config.ShipperModeIndex {
				require.Positive(t, r.Conflicts, "kills made the shipper send lines again")
				require.Zero(t, r.Doubled, "lines stored twice")
			}
		})
	}
}

func runCrash(t *testing.T, mode string, kills int) crashResult {
	srv := estest.New()
	defer srv.Close()
	dir := t.TempDir()
	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 42))
	w := &crashWriter{dir: dir, rnd: rand.New(rand.NewPCG(1, 1)), rotateEvery: 700}
	w.write(t, 100)

	// The writer keeps writing while the child is killed and restarted.
	var mu sync.Mutex
	stopWriter := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopWriter:
				return
			case <-tick.C:
				mu.Lock()
				w.write(t, 15)
				mu.Unlock()
			}
		}
	}()

	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envCrashChild+"=1", envCrashDir+"="+dir, envCrashURL+"="+srv.URL, envCrashMode+"="+mode)
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		return cmd
	}
	res := crashResult{}
	for i := range kills {
		cmd := start()
		time.Sleep(time.Duration(30+rnd.IntN(400)) * time.Millisecond)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
		res.Kills++
		if mode == config.ShipperModeDataStream && i%4 == 3 {
			if _, _, err := srv.Rollover("logs-gateway-default"); err == nil {
				res.Rollovers++
			}
		}
	}
	close(stopWriter)
	<-writerDone
	mu.Lock()
	require.NoError(t, w.f.Close())
	res.Lines = w.n
	mu.Unlock()

	// A last run ships the rest.
	target := "logs-gateway"
	if mode == config.ShipperModeDataStream {
		target = "logs-gateway-default"
	}
	cmd := start()
	deadline := time.Now().Add(60 * time.Second)
	for len(srv.IDs(target)) < res.Lines && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // let any late duplicate land
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()

	seen := map[string]int{}
	for _, d := range srv.Docs(target) {
		var doc struct {
			HTTP struct {
				Request struct {
					ID string `json:"id"`
				} `json:"request"`
			} `json:"http"`
		}
		require.NoError(t, json.Unmarshal(d.Source, &doc))
		seen[doc.HTTP.Request.ID]++
	}
	for i := range res.Lines {
		switch n := seen[fmt.Sprintf("crash%07d", i)]; {
		case n == 0:
			res.Lost++
		case n > 1:
			res.Doubled += n - 1
		}
	}
	require.Zero(t, srv.Count("logs-gateway-dlq"), "no line is a dead letter")
	res.Conflicts = srv.Stats().Conflicts
	return res
}
