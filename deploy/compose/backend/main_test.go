package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBackend(t *testing.T) {
	b := &backend{}
	require.NoError(t, b.set(0, 0))
	srv := httptest.NewServer(b)
	defer srv.Close()
	get := func(path string) (int, string) {
		res, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer res.Body.Close()
		var sb strings.Builder
		buf := make([]byte, 512)
		n, _ := res.Body.Read(buf)
		sb.Write(buf[:n])
		return res.StatusCode, sb.String()
	}
	code, body := get("/catalog/products")
	require.Equal(t, 200, code)
	require.Contains(t, body, `"path":"/catalog/products"`)

	code, body = get("/_control?error_rate=1&latency=30ms")
	require.Equal(t, 200, code)
	require.Equal(t, "latency 30ms, error_rate 1\n", body)
	start := time.Now()
	code, _ = get("/x")
	require.Equal(t, 503, code, "error_rate 1 fails every request")
	require.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)

	code, _ = get("/_control?error_rate=2")
	require.Equal(t, 400, code)
	code, _ = get("/_control?latency=soon")
	require.Equal(t, 400, code)
	code, body = get("/_control?error_rate=0&latency=0s")
	require.Equal(t, 200, code)
	require.Equal(t, "latency 0s, error_rate 0\n", body)
	code, _ = get("/x")
	require.Equal(t, 200, code)
}
