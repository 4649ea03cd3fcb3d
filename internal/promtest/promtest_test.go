package promtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigPromtool: what Config and WithAlertmanager build from a
// generated-style scrape file (leading comment included) is a
// prometheus.yml that promtool accepts, with the rule file, the scrape
// job and the Alertmanager target in it.
func TestConfigPromtool(t *testing.T) {
	if _, err := os.Stat(PromtoolBin); err != nil {
		t.Skipf("%s is not installed; install the prometheus package (2.42) to run this test", PromtoolBin)
	}
	dir := t.TempDir()
	scrape := []byte("# Generated; do not edit.\nscrape_configs:\n  - job_name: shop\n    honor_labels: true\n    static_configs:\n      - targets: [127.0.0.1:9091]\n")
	rules := "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: up\n"
	if err := os.WriteFile(filepath.Join(dir, "shop.rules.yml"), []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := WithAlertmanager(Config(scrape, "shop.rules.yml"), "http://127.0.0.1:9093")
	p := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(p, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(PromtoolBin, "check", "config", p).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check config: %v\n%s\n%s", err, out, cfg)
	}
	for _, want := range []string{"1 rule files found", "SUCCESS"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("promtool says %q, want %q in it", out, want)
		}
	}
	for _, want := range []string{`- "shop.rules.yml"`, "job_name: shop", `targets: ["127.0.0.1:9093"]`} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("prometheus.yml lacks %q:\n%s", want, cfg)
		}
	}
}
