package main

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog/loggen"
)

func writeAccessLog(t *testing.T, path, format string, n int) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for range n {
		b.Write(loggen.Line(format, rnd, loggen.Request{}))
		b.WriteByte('\n')
	}
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
}

func TestSidecarOnce(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	writeAccessLog(t, log, "krakend", 250)
	code, out, errOut := gw(t, "sidecar", "--contract", "../../examples/krakend.json",
		"--access-log", log, "--start", "beginning", "--checkpoint-dir", filepath.Join(dir, "ck"), "--once", "--log.level", "warn")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "lines 250, decode errors 0\n", out)
	_, err := os.Stat(filepath.Join(dir, "ck", "metrics.checkpoint.json"))
	require.NoError(t, err, "the checkpoint is written")
}

func TestSidecarBadConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gatewatch.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("contract:\n  path: ../../examples/krakend.json\nsidecar:\n  start: middle\n"), 0o644))
	code, _, errOut := gw(t, "sidecar", "-c", cfg, "--once")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `gatewatch.yaml:4:3: sidecar.start: unknown start "middle"`)
}

// TestSidecarSIGTERM runs the command until it is ready, sends the process
// SIGTERM and requires a clean exit (status 0) with the checkpoint written.
func TestSidecarSIGTERM(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	writeAccessLog(t, log, "krakend", 40)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()

	done := make(chan int, 1)
	go func() {
		code, _, _ := gw(t, "sidecar", "--contract", "../../examples/krakend.json", "--access-log", log,
			"--start", "beginning", "--checkpoint-dir", filepath.Join(dir, "ck"), "--listen", addr, "--log.level", "warn")
		done <- code
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case code := <-done:
			t.Fatalf("the sidecar exited with status %d before it was ready", code)
		default:
		}
		require.True(t, time.Now().Before(deadline), "the sidecar was not ready within 20s")
		time.Sleep(20 * time.Millisecond)
	}
	// Wait until the lines are counted, then stop.
	for {
		resp, err := http.Get("http://" + addr + "/metrics")
		require.NoError(t, err)
		if regexp.MustCompile(`gatewatch_sidecar_lines_read_total\{file="` + regexp.QuoteMeta(log) + `",gateway="[^"]+"\} 40\n`).MatchString(readAll(t, resp)) {
			break
		}
		require.True(t, time.Now().Before(deadline), "40 lines not read within 20s")
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	select {
	case code := <-done:
		require.Equal(t, 0, code)
	case <-time.After(20 * time.Second):
		t.Fatal("no exit within 20s of SIGTERM")
	}
	b, err := os.ReadFile(filepath.Join(dir, "ck", "metrics.checkpoint.json"))
	require.NoError(t, err)
	fi, err := os.Stat(log)
	require.NoError(t, err)
	require.Contains(t, string(b), fmt.Sprintf(`"offset":%d`, fi.Size()))
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}
