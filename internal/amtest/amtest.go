// Package amtest starts a real Alertmanager for integration tests.
package amtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/promtest"
)

// Bin is the Alertmanager binary the Debian package installs.
const Bin = "/usr/bin/prometheus-alertmanager"

// SkipUnlessInstalled skips the test when Alertmanager is not installed.
func SkipUnlessInstalled(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(Bin); err != nil {
		t.Skipf("%s is not installed; install the prometheus-alertmanager package (0.25) to run this test", Bin)
	}
}

// Start writes config as alertmanager.yml into dir, starts Alertmanager on
// a free loopback port without clustering, and returns its base URL. It is
// killed when the test ends; its log is shown when the test failed.
func Start(t testing.TB, dir string, config []byte) string {
	t.Helper()
	file := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(file, config, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := promtest.FreeAddr(t)
	promtest.StartProcess(t, dir, "alertmanager", Bin, "--config.file="+file, "--storage.path="+filepath.Join(dir, "am-data"),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	return "http://" + addr
}

// PostAlerts posts alerts (each a JSON object of the API v2: labels,
// annotations) to the Alertmanager at amURL, retrying until it accepts
// them, for 30s at most.
func PostAlerts(t testing.TB, amURL string, alerts ...map[string]any) {
	t.Helper()
	body, err := json.Marshal(alerts)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Post(amURL+"/api/v2/alerts", "application/json", bytes.NewReader(body))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("alertmanager did not accept alerts")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
