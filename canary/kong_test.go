package canary

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/config"
)

// kongStandIn is a strict stand-in for Kong's Admin API: it knows only
// DELETE /upstreams/{upstream}/targets/{target}, answers 404 with Kong's
// JSON message for an unknown upstream or target, 204 when it removed
// one, and 401 without the right Kong-Admin-Token when it has one.
type kongStandIn struct {
	mu        sync.Mutex
	token     string
	upstreams map[string]map[string]bool
	paths     []string
}

func (k *kongStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.paths = append(k.paths, r.URL.EscapedPath())
	kongError := func(code int, msg string) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{"message":"` + msg + `"}`))
	}
	if k.token != "" && r.Header.Get(KongTokenHeader) != k.token {
		kongError(http.StatusUnauthorized, "Invalid credentials. Token or User credentials required")
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil {
			kongError(http.StatusBadRequest, "Bad path")
			return
		}
		parts[i] = u
	}
	if len(parts) != 4 || parts[0] != "upstreams" || parts[2] != "targets" {
		kongError(http.StatusNotFound, "Not found")
		return
	}
	if r.Method != http.MethodDelete {
		kongError(http.StatusMethodNotAllowed, "Method not allowed")
		return
	}
	targets, ok := k.upstreams[parts[1]]
	if !ok || !targets[parts[3]] {
		kongError(http.StatusNotFound, "Not found")
		return
	}
	delete(targets, parts[3])
	w.WriteHeader(http.StatusNoContent)
}

func newKong(t *testing.T, token string) (*kongStandIn, string) {
	k := &kongStandIn{token: token, upstreams: map[string]map[string]bool{
		"orders": {"10.0.0.5:8080": true, "10.0.0.6:8080": true},
	}}
	s := httptest.NewServer(k)
	t.Cleanup(s.Close)
	return k, s.URL
}

func TestKongRemoveTarget(t *testing.T) {
	k, base := newKong(t, "")
	a := &KongAdmin{URL: base}
	ctx := context.Background()
	require.NoError(t, a.RemoveTarget(ctx, "orders", "10.0.0.6:8080"))
	require.Equal(t, map[string]bool{"10.0.0.5:8080": true}, k.upstreams["orders"])
	require.Equal(t, []string{"/upstreams/orders/targets/10.0.0.6:8080"}, k.paths)

	err := a.RemoveTarget(ctx, "orders", "10.0.0.6:8080")
	require.EqualError(t, err, `Kong has no upstream "orders" or no target "10.0.0.6:8080" in it (404 from `+base+`/upstreams/orders/targets/10.0.0.6:8080: Not found)`)
	err = a.RemoveTarget(ctx, "payments", "10.0.0.5:8080")
	require.ErrorContains(t, err, `Kong has no upstream "payments"`)
	require.Error(t, a.RemoveTarget(ctx, "", "x"))
}

func TestKongRemoveTargetEscapes(t *testing.T) {
	k, base := newKong(t, "")
	k.upstreams["a/b"] = map[string]bool{"x y:1": true}
	a := &KongAdmin{URL: base + "/"}
	require.NoError(t, a.RemoveTarget(context.Background(), "a/b", "x y:1"))
	require.Equal(t, []string{"/upstreams/a%2Fb/targets/x%20y:1"}, k.paths)
}

func TestKongTokenNeverPrinted(t *testing.T) {
	const token = "s3cr3t-admin-token"
	k, base := newKong(t, token)
	ctx := context.Background()
	wrong := &KongAdmin{URL: base, Token: config.Secret("not-" + token)}
	err := wrong.RemoveTarget(ctx, "orders", "10.0.0.5:8080")
	require.ErrorContains(t, err, "(401; check the admin token): Invalid credentials")
	require.NotContains(t, err.Error(), token)
	require.Len(t, k.upstreams["orders"], 2)

	right := &KongAdmin{URL: base, Token: config.Secret(token)}
	require.NoError(t, right.RemoveTarget(ctx, "orders", "10.0.0.5:8080"))
	require.Len(t, k.upstreams["orders"], 1)

	// A refused connection names the target, not the token.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	down := &KongAdmin{URL: "http://user:pw@" + addr, Token: config.Secret(token)}
	err = down.RemoveTarget(ctx, "orders", "10.0.0.6:8080")
	require.ErrorContains(t, err, `removing target "10.0.0.6:8080" from Kong upstream "orders" at http://user:xxxxx@`+addr)
	require.NotContains(t, err.Error(), token)
	require.NotContains(t, err.Error(), ":pw@")
}

func TestKongBadURL(t *testing.T) {
	err := (&KongAdmin{URL: "kong:8001"}).RemoveTarget(context.Background(), "orders", "t")
	require.EqualError(t, err, `Kong Admin API URL "kong:8001" is not an http(s) URL such as http://kong-admin:8001`)
}
