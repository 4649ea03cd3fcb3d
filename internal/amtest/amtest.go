// Package amtest starts a real Alertmanager for integration tests.
package amtest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Bin is the Alertmanager binary the Debian package installs.
const Bin = "/usr/bin/prometheus-alertmanager"

// Start writes config as alertmanager.yml into dir, starts Alertmanager on
// a free loopback port without clustering, and returns its base URL. It is
// killed when the test ends; its log is shown when the test failed.
func Start(t testing.TB, dir string, config []byte) string {
	t.Helper()
	file := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(file, config, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "alertmanager.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(Bin, "--config.file="+file, "--storage.path="+filepath.Join(dir, "am-data"),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("alertmanager log:\n%s", b)
		}
	})
	return "http://" + addr
}
