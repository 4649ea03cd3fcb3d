package main

import (
	"bufio"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/rules"
)

// bins builds bin/gatewatch, the demo's KrakenD engine and the demo
// program once for the tests of this file.
var bins = struct {
	once                     sync.Once
	dir                      string
	gatewatch, krakend, demo string
	err                      error
}{}

func build(t *testing.T) (gatewatch, krakend, demo string) {
	t.Helper()
	bins.once.Do(func() {
		bins.dir, bins.err = os.MkdirTemp("", "gatewatch-demo-bin")
		if bins.err != nil {
			return
		}
		bins.gatewatch = filepath.Join(bins.dir, "gatewatch")
		bins.krakend = filepath.Join(bins.dir, "gatewatch-demo-krakend")
		bins.demo = filepath.Join(bins.dir, "gatewatch-demo")
		for _, b := range [][2]string{{bins.gatewatch, "../cmd/gatewatch"}, {bins.krakend, "./krakend"}, {bins.demo, "."}} {
			cmd := exec.Command("go", "build", "-o", b[0], b[1])
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				bins.err = &buildError{pkg: b[1], err: err, out: string(out)}
				return
			}
		}
	})
	if bins.err != nil {
		t.Fatal(bins.err)
	}
	return bins.gatewatch, bins.krakend, bins.demo
}

type buildError struct {
	pkg, out string
	err      error
}

func (e *buildError) Error() string { return "go build " + e.pkg + ": " + e.err.Error() + "\n" + e.out }

func TestMain(m *testing.M) {
	code := m.Run()
	if bins.dir != "" {
		os.RemoveAll(bins.dir)
	}
	os.Exit(code)
}

// TestGatewatchHasNoLura: the KrakenD engine stays in its own program;
// `go version -m` lists no Lura or gin module in bin/gatewatch (it has
// about 30 more modules and 25 MB, REFERENCE §11), and the demo's
// engine has them.
func TestGatewatchHasNoLura(t *testing.T) {
	gatewatch, krakend, _ := build(t)
	out, err := exec.Command("go", "version", "-m", gatewatch).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "github.com/prometheus/client_golang", "go version -m lists the modules")
	for _, m := range []string{"github.com/luraproject/lura", "github.com/gin-gonic/gin"} {
		require.NotContains(t, string(out), m)
	}
	out, err = exec.Command("go", "version", "-m", krakend).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "github.com/luraproject/lura/v2\tv2.12.1")
}

// tools returns the installed Prometheus and Alertmanager, or skips the
// test saying what is missing; in CI, which installs them, it fails.
func tools(t *testing.T) (prometheus, alertmanager string) {
	t.Helper()
	var missing []string
	prometheus, err := exec.LookPath("prometheus")
	if err != nil {
		missing = append(missing, "prometheus")
	}
	alertmanager, err = exec.LookPath("prometheus-alertmanager")
	if err != nil {
		missing = append(missing, "prometheus-alertmanager")
	}
	if len(missing) > 0 {
		msg := strings.Join(missing, " and ") + " not installed (apt-get install prometheus prometheus-alertmanager)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; CI installs them")
		}
		t.Skip(msg)
	}
	return prometheus, alertmanager
}

// runDemo runs the demo binary with args, plain output (a pipe), and
// returns its output. stopWhen, if given, is called on each line; when it
// returns true the demo gets SIGINT, as Ctrl-C sends it.
func runDemo(t *testing.T, timeout time.Duration, stopWhen func(string) bool, args ...string) string {
	t.Helper()
	_, _, demo := build(t)
	cmd := exec.Command(demo, args...)
	cmd.Env = append(os.Environ(), "DEMO_SECONDS=")
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	pipe, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	timer := time.AfterFunc(timeout, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	var out strings.Builder
	sc := bufio.NewScanner(pipe)
	interrupted := false
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if !interrupted && stopWhen != nil && stopWhen(line) {
			interrupted = true
			_ = cmd.Process.Signal(syscall.SIGINT)
		}
	}
	err = cmd.Wait()
	require.NoError(t, err, "the demo failed:\n%s\nstderr:\n%s", out.String(), stderr.String())
	return out.String()
}

var (
	countedRE = regexp.MustCompile(`(?m)^requests counted by the sidecar: (\d+) \(5xx: (\d+)\)`)
	firedRE   = regexp.MustCompile(`(?m)^alerts fired: \d+ \(severity page: (\d+)\)`)
	pagesRE   = regexp.MustCompile(`(?m)^pages received by the PagerDuty stand-in: \d+ \(trigger: (\d+), resolve: \d+\), refused: (\d+)$`)
	sidecarRE = regexp.MustCompile(`(?m)^sidecar: (.+)$`)
)

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

// TestDemoPagesWithinMinutes runs `make demo`'s program for real, with
// Debian's Prometheus and Alertmanager, for at most 170 seconds: the
// sidecar counts the gateway's requests, 5xx among them, the error burst
// on POST /v1/orders makes the generated availability page alert fire,
// and Alertmanager's page reaches the PagerDuty stand-in, which refuses
// nothing. The demo stops on SIGINT (Ctrl-C) once the page arrived and
// prints its summary. Its output has no escape codes (not a terminal);
// the per-run routing keys appear in no output and no file but their
// own; and the sidecar command it printed runs as printed.
func TestDemoPagesWithinMinutes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo for up to 3 minutes")
	}
	prometheus, alertmanager := tools(t)
	gatewatch, krakend, _ := build(t)
	out := filepath.Join(t.TempDir(), "out")
	examples, err := filepath.Abs("../examples")
	require.NoError(t, err)
	// Event lines as the demo prints them; the alert's name and labels
	// come from package rules, the page's summary from its annotation.
	firingRE := regexp.MustCompile(`(?m)^\[\d\d:\d\d\] FIRING +` + rules.AlertAvailabilityBurn + ` +POST /v1/orders +` + rules.LabelSeverity + `=` + rules.SeverityPage + `\b`)
	pageRE := regexp.MustCompile(`^\[\d\d:\d\d\] PAGE +trigger critical to the page service: .*POST /v1/orders`)
	paged := false
	text := runDemo(t, 200*time.Second, func(line string) bool {
		paged = paged || pageRE.MatchString(line)
		return paged
	}, "-gatewatch", gatewatch, "-krakend", krakend, "-examples", examples, "-out", out, "-seconds", "170",
		"-prometheus", prometheus, "-alertmanager", alertmanager)
	require.True(t, paged, "no page for POST /v1/orders within 170s:\n%s", text)
	require.NotContains(t, text, "\x1b", "escape codes in plain output")
	require.Regexp(t, firingRE, text)

	m := countedRE.FindStringSubmatch(text)
	require.NotNil(t, m, text)
	require.Greater(t, atoi(t, m[1]), 500, "requests counted")
	require.Greater(t, atoi(t, m[2]), 50, "5xx counted")
	m = firedRE.FindStringSubmatch(text)
	require.NotNil(t, m, text)
	require.GreaterOrEqual(t, atoi(t, m[1]), 1, "page alerts fired")
	m = pagesRE.FindStringSubmatch(text)
	require.NotNil(t, m, text)
	require.GreaterOrEqual(t, atoi(t, m[1]), 1, "pages received")
	require.Equal(t, "0", m[2], "events the stand-in refused")

	// The routing keys made for this run: in their files only.
	var keys []string
	for _, svc := range []string{"page", "ticket"} {
		b, err := os.ReadFile(filepath.Join(out, "secrets", "pagerduty-"+svc))
		require.NoError(t, err)
		keys = append(keys, strings.TrimSpace(string(b)))
	}
	err = filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Base(filepath.Dir(path)) == "secrets" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, k := range keys {
			require.NotContains(t, string(b), k, "a routing key in %s", path)
		}
		return nil
	})
	require.NoError(t, err)
	for _, k := range keys {
		require.NotContains(t, text, k, "a routing key in the output")
	}

	// The printed sidecar command runs as printed (here reading the log
	// to its end once), with its state in the output folder.
	m = sidecarRE.FindStringSubmatch(text)
	require.NotNil(t, m, text)
	cmd := exec.Command("sh", "-c", m[1]+" --once")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s\n%s", m[1], b)
	require.Regexp(t, `lines \d+, decode errors \d+`, string(b))
	_, err = os.Stat(filepath.Join(out, "state"))
	require.NoError(t, err, "the sidecar's state is under the output folder")
}

// TestDemoWithoutPrometheus runs the demo for 12 seconds as on a machine
// with only Go: no Prometheus, no Alertmanager, no hey. The built-in
// generator's requests are counted per endpoint, and the demo says how to
// get the alerts.
func TestDemoWithoutPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo for 12 seconds")
	}
	gatewatch, krakend, _ := build(t)
	examples, err := filepath.Abs("../examples")
	require.NoError(t, err)
	// A relative -out, as make demo passes (out/demo): the generated
	// Kubernetes manifests once refused the relative state folder.
	t.Chdir(t.TempDir())
	out := filepath.Join("out", "demo")
	text := runDemo(t, 60*time.Second, nil, "-gatewatch", gatewatch, "-krakend", krakend, "-examples", examples, "-out", out,
		"-seconds", "12", "-hey", "none", "-prometheus", "none", "-alertmanager", "none")
	require.NotContains(t, text, "\x1b", "escape codes in plain output")
	require.Contains(t, text, "traffic: built-in generator")
	require.Contains(t, text, "apt-get install prometheus prometheus-alertmanager")
	m := countedRE.FindStringSubmatch(text)
	require.NotNil(t, m, text)
	require.Greater(t, atoi(t, m[1]), 100, "requests counted")
	require.Regexp(t, `(?m)^  POST    /v1/orders +[1-9]`, text, "the per-endpoint table shows the busy write")
}

// TestDemoScriptPlainOutput runs scripts/demo.sh (what make demo runs)
// into a pipe for 3 seconds of live demo: its headings and the live part
// carry no escape codes, and the live part ends with its summary.
func TestDemoScriptPlainOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo script")
	}
	gatewatch, krakend, demo := build(t)
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "bin"), 0o755))
	require.NoError(t, os.Symlink(demo, filepath.Join(dir, "bin", "gatewatch-demo")))
	require.NoError(t, os.Symlink(krakend, filepath.Join(dir, "bin", "gatewatch-demo-krakend")))
	script, err := filepath.Abs("../scripts/demo.sh")
	require.NoError(t, err)
	examples, err := filepath.Abs("../examples")
	require.NoError(t, err)
	cmd := exec.Command("bash", script, gatewatch, examples, filepath.Join(dir, "out"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DEMO_SECONDS=3", "TERM=xterm")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	text := string(out)
	require.NotContains(t, text, "\x1b", "escape codes in piped output")
	require.Contains(t, text, "== The contract: every endpoint of the gateway")
	require.Contains(t, text, "== The main job, live")
	require.Regexp(t, countedRE, text)
}
