package main

import (
	"bytes"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/shipper/estest"
)

// planted is the secret TestPlantedSecretsNeverLeave puts everywhere a
// user can put one; every variant below contains it.
const planted = "pl4nt3dS3cr3t"

// recorder keeps every request body and URL sent to Elasticsearch; the
// Authorization header is where the credential belongs and is not kept.
type recorder struct {
	mu   sync.Mutex
	sent bytes.Buffer
	next http.Handler
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.sent.WriteString(req.URL.String())
	r.sent.WriteByte('\n')
	for k, vs := range req.Header {
		if k != "Authorization" {
			r.sent.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
		}
	}
	r.sent.Write(body)
	r.mu.Unlock()
	req.Body = io.NopCloser(bytes.NewReader(body))
	r.next.ServeHTTP(w, req)
}

// TestPlantedSecretsNeverLeave plants one secret in every place a user can
// put one — a secret file (the Elasticsearch API key), the environment (a
// password), request headers, cookies, query parameters in every encoding,
// extra labels taken from them, and URLs with user:password — runs
// replay, sidecar --once and generate all, and scans everything printed,
// logged, written (generated files, checkpoints) and sent to Elasticsearch
// (bodies, dead letters, paths) for it.
func TestPlantedSecretsNeverLeave(t *testing.T) {
	dir := t.TempDir()
	es := estest.New()
	defer es.Close()
	es.RequireAuth("ApiKey " + planted + "-apikey")
	rec := &recorder{next: es}
	srv := httptest.NewServer(rec)
	defer srv.Close()

	secrets := filepath.Join(dir, "secrets") // the only place the secret may be on disk, with the logs
	require.NoError(t, os.MkdirAll(secrets, 0o700))
	keyFile := filepath.Join(secrets, "es-api-key")
	require.NoError(t, os.WriteFile(keyFile, []byte(planted+"-apikey\n"), 0o600))
	pdKey := filepath.Join(secrets, "pd-key")
	require.NoError(t, os.WriteFile(pdKey, []byte(planted+"-routing\n"), 0o600))
	t.Setenv("GW_TEST_ES_PASSWORD", planted+"-env")

	logs := filepath.Join(dir, "logs")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	var b strings.Builder
	for i, uri := range []string{
		`/v1/users/1?token=` + planted + `a&page=2`,
		`/v1/users/2?page=2;access_token=` + planted + `b`,
		`/v1/users/3?to%6Ben=` + planted + `c`,
		`/v1/users/4?api%5Fkey=` + planted + `d`,
		`/v1/users/5?a=1\u0026password=` + planted + `e`,
		`/v1/users/6?API_KEY=` + planted + `f`,
	} {
		b.WriteString(`{"request":{"method":"GET","uri":"` + uri + `","querystring":{"token":"` + planted + `g"},` +
			`"headers":{"host":"shop","authorization":"Bearer ` + planted + `h","cookie":"sid=` + planted + `i; theme=dark",` +
			`"x-api-key":"` + planted + `j","proxy-authorization":"Basic ` + planted + `k"}},` +
			`"response":{"status":200,"headers":{"set-cookie":"sid=` + planted + `l"}},"latencies":{"request":12},` +
			`"started_at":179500000000` + string(rune('0'+i)) + `}` + "\n")
	}
	// A line that does not decode goes to the dead-letter index, raw and
	// redacted, with its error.
	b.WriteString(`{"request":{"method":"GET","uri":"/x?token=` + planted + `m","size":"twelve"},"response":{"status":200},"started_at":1795000000009}` + "\n")
	log := filepath.Join(logs, "access.log")
	require.NoError(t, os.WriteFile(log, []byte(b.String()), 0o644))

	state := filepath.Join(dir, "state")
	cfg := filepath.Join(dir, "gatewatch.yaml")
	write := func(shipperAuth string) {
		require.NoError(t, os.WriteFile(cfg, []byte(`contract:
  path: `+mustAbs(t, "../../examples/krakend.json")+`
sidecar:
  logs:
    - path: `+log+`
      format: kong
      extra:
        who: request.headers.authorization
        jar: request.headers.cookie
        tok: request.querystring.token
        host: request.headers.host
  checkpoint_dir: `+state+`
  start: beginning
alerting:
  pagerduty:
    page: {routing_key_file: `+pdKey+`}
shipper:
  enabled: true
  urls: [`+srv.URL+`]
  backoff: {initial: 10ms, max: 50ms}
`+shipperAuth), 0o644))
	}
	var printed strings.Builder
	record := func(code int, out, errOut string) int {
		printed.WriteString(out)
		printed.WriteString(errOut)
		return code
	}

	write("  auth:\n    api_key: {file: " + keyFile + "}\n")
	code := record(gw(t, "replay", "-c", cfg, log))
	require.Equal(t, 0, code, printed.String())
	require.Equal(t, 7, es.Count("logs-gateway*"), "every line is stored, one as a dead letter")
	code = record(gw(t, "sidecar", "-c", cfg, "--once", "--log.level", "debug"))
	require.Equal(t, 0, code, printed.String())
	code = record(gw(t, "generate", "all", "-c", cfg, "--output-dir", filepath.Join(dir, "generated")))
	require.Equal(t, 0, code, printed.String())

	// Secrets written where they do not belong are refused without being
	// repeated.
	write("  auth:\n    username: elastic\n    password: " + planted + "-inline\n")
	require.Equal(t, 2, record(gw(t, "replay", "-c", cfg, log)))
	write("  auth:\n    username: elastic\n    password: {env: GW_TEST_ES_PASSWORD}\n")
	require.NoError(t, os.WriteFile(cfg, bytes.Replace(mustRead(t, cfg), []byte("urls: ["+srv.URL), []byte("urls: [http://elastic:"+planted+"-url@es :9200"), 1), 0o644))
	require.Equal(t, 2, record(gw(t, "replay", "-c", cfg, log)))
	require.NoError(t, os.WriteFile(cfg, bytes.Replace(mustRead(t, cfg), []byte("urls: [http://elastic:"+planted+"-url@es :9200"), []byte("urls: [http://elastic:"+planted+"-url@es:9200"), 1), 0o644))
	require.Equal(t, 2, record(gw(t, "replay", "-c", cfg, log)))

	require.NotEmpty(t, printed.String())
	requireNoSecret(t, "printed or logged", printed.String())
	rec.mu.Lock()
	sent := rec.sent.String()
	rec.mu.Unlock()
	require.Contains(t, sent, "REDACTED", "the documents were scanned")
	requireNoSecret(t, "sent to Elasticsearch", sent)
	var files int
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path == cfg || strings.HasPrefix(path, secrets) || strings.HasPrefix(path, logs) {
			return err
		}
		files++
		requireNoSecret(t, "written to "+path, string(mustRead(t, path)))
		return nil
	}))
	require.Greater(t, files, 5, "generated files and checkpoints were scanned")
}

// requireNoSecret fails with the text around the first planted secret in s.
func requireNoSecret(t *testing.T, where, s string) {
	t.Helper()
	if i := strings.Index(s, planted); i >= 0 {
		t.Fatalf("the secret was %s: ...%s...", where, s[max(0, i-200):min(len(s), i+50)])
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

func mustAbs(t *testing.T, path string) string {
	t.Helper()
	p, err := filepath.Abs(path)
	require.NoError(t, err)
	return p
}
