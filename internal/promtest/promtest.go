// Package promtest starts a real Prometheus for integration tests.
package promtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Bin is the Prometheus binary the Debian package installs.
const Bin = "/usr/bin/prometheus"

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
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(Bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("prometheus log:\n%s", b)
		}
	})
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
