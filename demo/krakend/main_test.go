package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/luraproject/lura/v2/config"
	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog"
	"github.com/gatewatch/gatewatch/demo/backend"
)

const example = "../../examples/krakend.json"

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// startGateway serves the bundled krakend.json through Lura in front of one
// local backend per backend host, with the access log in a temporary file.
// It returns the gateway's base URL, the log's path and the backends.
func startGateway(t *testing.T) (string, string, map[string]*backend.Server) {
	t.Helper()
	cfg, err := config.NewParser().Parse(example)
	require.NoError(t, err)
	backends := map[string]*backend.Server{}
	args := []string{"-config", example, "-log-level", "ERROR"}
	for _, e := range cfg.Endpoints {
		for _, b := range e.Backend {
			for _, h := range b.Host {
				if backends[h] != nil {
					continue
				}
				s, err := backend.New(h)
				require.NoError(t, err)
				t.Cleanup(func() { _ = s.Close() })
				backends[h] = s
				args = append(args, "-backend", h+"="+s.URL())
			}
		}
	}
	addr := freeAddr(t)
	log := filepath.Join(t.TempDir(), "access.log")
	args = append(args, "-listen", addr, "-access-log", log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var stderr bytes.Buffer
	go func() { done <- run(ctx, args, &stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("the gateway did not stop within 10s of its context ending")
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/__health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			select {
			case err := <-done:
				t.Fatalf("the gateway ended: %v\n%s", err, stderr.String())
			default:
				t.Fatalf("the gateway does not answer /__health: %v\n%s", err, stderr.String())
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return base, log, backends
}

// TestAccessLogDecodes sends requests to every endpoint of the bundled
// contract through the real KrakenD engine and reads its access log with
// gatewatch's KrakenD decoder: every [GIN] line decodes to the method,
// path, query and status of the request sent, the backend failures show
// as 5xx, /__health is not logged (router.logger_skip_paths, which needs
// the "router" alias), and the other lines are gin's "Error #01" lines
// that the decoder reports as not access-log lines.
func TestAccessLogDecodes(t *testing.T) {
	base, log, backends := startGateway(t)
	backends["http://orders.shop.svc.cluster.local:8080"].SetFaults(backend.Fault{Method: "POST", PathPrefix: "/orders", ErrorRatio: 1})
	type req struct {
		method, path string
		status       int // 0: any 2xx
	}
	reqs := []req{
		{"GET", "/v1/users/42?expand=true", 0},
		{"POST", "/v1/users", 0},
		{"GET", "/v1/orders", 0},
		{"POST", "/v1/orders", 500},
		{"GET", "/v1/orders/7", 0},
		{"DELETE", "/v1/orders/7", 0},
		{"GET", "/v1/catalog/products", 0},
		{"GET", "/v1/catalog/products/sku-1", 0},
		{"POST", "/v1/payments/9/capture", 0},
		{"GET", "/health", 0},
		{"GET", "/no/such/route", 404},
		{"GET", "/__health", 0},
	}
	for _, r := range reqs {
		hr, err := http.NewRequest(r.method, base+r.path, strings.NewReader(`{"demo":true}`))
		require.NoError(t, err)
		hr.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(hr)
		require.NoError(t, err)
		resp.Body.Close()
		if r.status == 0 {
			require.Less(t, resp.StatusCode, 300, "%s %s", r.method, r.path)
		} else {
			require.Equal(t, r.status, resp.StatusCode, "%s %s", r.method, r.path)
		}
	}
	want := len(reqs) - 1 // /__health is skipped
	var lines []string
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(log)
		require.NoError(t, err)
		lines = nil
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		n := 0
		for _, l := range lines {
			if strings.HasPrefix(l, "[GIN] ") {
				n++
			}
		}
		if n >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	dec := accesslog.NewKrakenD(time.UTC)
	i := 0
	for _, l := range lines {
		var e accesslog.Event
		err := dec.Decode([]byte(l), &e)
		if !strings.HasPrefix(l, "[GIN] ") {
			require.ErrorIs(t, err, accesslog.ErrOtherLog, "gin's error line is skipped as another log, not a decode error: %q", l)
			require.True(t, strings.HasPrefix(l, "Error #"), "a line that is neither an access line nor gin's error line: %q", l)
			continue
		}
		require.NoError(t, err, "line %q", l)
		require.Less(t, i, want, "more access lines than requests: %q", l)
		r := reqs[i]
		path, query, _ := strings.Cut(r.path, "?")
		require.Equal(t, r.method, e.Method, "line %q", l)
		require.Equal(t, path, e.Path, "line %q", l)
		require.Equal(t, query, e.Query, "line %q", l)
		if r.status != 0 {
			require.Equal(t, r.status, e.Status, "line %q", l)
		} else {
			require.Less(t, e.Status, 300, "line %q", l)
		}
		require.Positive(t, e.Duration, "line %q", l)
		require.Equal(t, "127.0.0.1", e.Client, "line %q", l)
		i++
	}
	require.Equal(t, want, i, "access lines:\n%s", strings.Join(lines, "\n"))
}

// TestEveryHostMustBeMapped: a backend host left unmapped is an error
// naming it, so that the demo never sends a request off the machine.
func TestEveryHostMustBeMapped(t *testing.T) {
	err := run(context.Background(), []string{"-config", example, "-backend", "http://users.shop.svc.cluster.local:8080=http://127.0.0.1:1"}, &bytes.Buffer{})
	require.ErrorContains(t, err, "backend hosts without -backend HOST=URL")
	require.ErrorContains(t, err, "http://orders.shop.svc.cluster.local:8080")
	require.NotContains(t, err.Error(), "users.shop")
	err = run(context.Background(), []string{"-config", example, "-backend", "nonsense"}, &bytes.Buffer{})
	require.ErrorContains(t, err, fmt.Sprintf("%q: expected HOST=URL", "nonsense"))
}
