// Package promtest starts a real Prometheus for integration tests and
// reads its HTTP API.
package promtest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Bin is the Prometheus binary the Debian package installs.
const Bin = "/usr/bin/prometheus"

// SkipUnlessInstalled skips the test when Prometheus is not installed.
func SkipUnlessInstalled(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(Bin); err != nil {
		t.Skipf("%s is not installed; install the prometheus package (2.42) to run this test", Bin)
	}
}

// ScrapeConfig returns a prometheus.yml that scrapes target every second
// as job and evaluates ruleFile every second.
func ScrapeConfig(job, target, ruleFile string) []byte {
	return fmt.Appendf(nil, `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%s]
scrape_configs:
  - job_name: %s
    static_configs:
      - targets: [%q]
`, ruleFile, job, target)
}

// Config returns a prometheus.yml that scrapes and evaluates every second:
// the rule files and the scrape_configs of scrape (a generated
// prometheus-scrape.yml).
func Config(scrape []byte, ruleFiles ...string) []byte {
	b := []byte("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n")
	for _, f := range ruleFiles {
		b = fmt.Appendf(b, "  - %q\n", f)
	}
	return append(b, scrape...)
}

// WithAlertmanager returns config (a prometheus.yml without an alerting
// section, such as Config's) with one that sends alerts to the
// Alertmanager at amURL (its base URL, as amtest.Start returns it).
func WithAlertmanager(config []byte, amURL string) []byte {
	return fmt.Appendf(config, "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [%q]\n",
		strings.TrimPrefix(amURL, "http://"))
}

// FreeAddr returns a loopback address nobody listens on right now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// StartProcess starts bin with args, its output in dir/name.log. The
// process is killed when the test ends; its log is shown when the test
// failed.
func StartProcess(t testing.TB, dir, name, bin string, args ...string) {
	t.Helper()
	StartCmd(t, exec.Command(bin, args...), filepath.Join(dir, name+".log"))
}

// StartCmd starts cmd, its output appended to logFile, and returns it. The
// process is killed when the test ends; the log is shown when the test
// failed.
func StartCmd(t testing.TB, cmd *exec.Cmd, logFile string) *exec.Cmd {
	t.Helper()
	logf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logFile)
			t.Logf("%s:\n%s", filepath.Base(logFile), b)
		}
	})
	return cmd
}

// Start writes files (prometheus.yml among them) into dir, starts
// Prometheus on a free loopback port with its storage in dir, and returns
// its base URL. Prometheus is killed when the test ends; its log is shown
// when the test failed.
func Start(t testing.TB, dir string, files map[string][]byte) string {
	t.Helper()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	addr := FreeAddr(t)
	StartProcess(t, dir, "prometheus", Bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr, "--log.level=warn")
	return "http://" + addr
}

// WaitFor polls cond every second until it holds or timeout passes, then
// fails with msg's message about the state at that moment.
func WaitFor(t testing.TB, timeout time.Duration, cond func() bool, msg func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg())
		}
		time.Sleep(time.Second)
	}
}

// Result is the part of a Prometheus HTTP API answer the tests read: the
// series of a query, or the alerts of /api/v1/alerts.
type Result struct {
	Status string `json:"status"`
	Data   struct {
		Result []Series `json:"result"`
		Alerts []struct {
			Labels map[string]string `json:"labels"`
			State  string            `json:"state"`
		} `json:"alerts"`
	} `json:"data"`
}

// Series is one series of an instant query: its labels and its
// [timestamp, "value"] pair.
type Series struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// Get reads path of the HTTP API of the Prometheus at base with the
// parameters q; an answer whose status is not success is an error.
func Get(base, path string, q url.Values) (*Result, error) {
	resp, err := http.Get(base + path + "?" + q.Encode())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r Result
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", path, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s: status %s", path, r.Status)
	}
	return &r, nil
}

// Query returns the series of the instant query q.
func Query(base, q string) ([]Series, error) {
	r, err := Get(base, "/api/v1/query", url.Values{"query": {q}})
	if err != nil {
		return nil, err
	}
	return r.Data.Result, nil
}

// Count is the number of series the instant query q returns (-1 on
// error).
func Count(base, q string) int {
	s, err := Query(base, q)
	if err != nil {
		return -1
	}
	return len(s)
}

// Show returns the series of the instant query q as JSON, or the error,
// for failure messages.
func Show(base, q string) string {
	s, err := Query(base, q)
	if err != nil {
		return err.Error()
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// PromtoolBin is the promtool binary the Debian package installs.
const PromtoolBin = "/usr/bin/promtool"

// Backfill writes openMetrics (OpenMetrics text ending in "# EOF", with
// timestamps in seconds) into TSDB blocks under dir/data, where Start's
// Prometheus reads them, through promtool tsdb create-blocks-from
// openmetrics. Call it before Start.
func Backfill(t testing.TB, dir string, openMetrics []byte) {
	t.Helper()
	in := filepath.Join(dir, "backfill.om")
	if err := os.WriteFile(in, openMetrics, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(PromtoolBin, "tsdb", "create-blocks-from", "openmetrics", "-q", in, filepath.Join(dir, "data")).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
	}
}
