//go:build unix

package shipper

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog/loggen"
	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/schema"
	"github.com/gatewatch/gatewatch/shipper/estest"
	"github.com/gatewatch/gatewatch/sidecar"
	"github.com/gatewatch/gatewatch/tail"
)

// The sidecar crash test runs whole sidecars (metrics reader and shipper)
// as child processes: this test binary, re-executed.
const (
	envSidecarChild = "GATEWATCH_SIDECAR_CRASH_DIR"
	envSidecarURL   = "GATEWATCH_SIDECAR_CRASH_URL"
)

// crashHeader begins the first file of every pod and the content written
// after a truncation: KrakenD's banner, the same first line in two pods'
// logs and in two contents of one file. It is no Kong line, so it is a
// dead letter.
const crashHeader = "Parsing configuration file: /etc/krakend/krakend.json"

// sidecarCrashChild is the sidecar the test kills: it prints its metrics
// address, then runs until SIGTERM.
func sidecarCrashChild(dir, url string) int {
	cfg, err := config.Load("gw.yaml", fmt.Appendf(nil, `
gateway: {name: edge}
sidecar:
  listen: 127.0.0.1:0
  logs:
  - {path: %q, format: kong}
  - {path: %q, format: kong, envelope: cri}
  checkpoint_dir: %q
  poll_interval: 20ms
  checkpoint_interval: 100ms
shipper:
  enabled: true
  urls: [%q]
  mode: index
  batch_size: 40
  flush_interval: 30ms
  timeout: 1s
  backoff: {initial: 10ms, max: 50ms}
`, filepath.Join(dir, "access.log*"), filepath.Join(dir, "cri.log*"), filepath.Join(dir, "state"), url))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sc, err := sidecar.New(cfg, testContract(), logger, prometheus.NewRegistry(), sidecar.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Printf("listen %s\n", sc.Addr())
	if err := sc.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return 0
}

// crashPod is one sidecar's pod: its log folder (POD_NAME is its name), a
// writer and the running child.
type crashPod struct {
	name, dir string
	rnd       *rand.Rand

	mu      sync.Mutex
	f       *os.File
	n       int // Kong lines written: request ids <name><n>
	headers int // header lines written (dead letters)
	rotated int // rotations, for the rotated files' names

	cmd    *exec.Cmd
	addr   string
	stderr *bytes.Buffer
	done   chan error
}

func newCrashPod(t *testing.T, root, name string, seed uint64) *crashPod {
	p := &crashPod{name: name, dir: filepath.Join(root, name), rnd: rand.New(rand.NewPCG(seed, seed))}
	require.NoError(t, os.MkdirAll(p.dir, 0o755))
	return p
}

func (p *crashPod) log() string { return filepath.Join(p.dir, "access.log") }

// create starts a new live file, with the header when the gateway
// starts (not after a rotation: the gateway does not know of it).
func (p *crashPod) create(t *testing.T, header bool) {
	f, err := os.OpenFile(p.log(), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o644)
	require.NoError(t, err)
	p.f = f
	if header {
		p.header(t)
	}
}

func (p *crashPod) header(t *testing.T) {
	_, err := p.f.WriteString(crashHeader + "\n")
	require.NoError(t, err)
	p.headers++
}

// write appends n Kong lines in one write; p.mu is held.
func (p *crashPod) write(t *testing.T, n int) {
	var buf []byte
	for range n {
		buf = append(buf, loggen.Line("kong", p.rnd, loggen.Request{
			Time: time.Now().UTC(), RequestID: fmt.Sprintf("%s%07d", p.name, p.n),
		})...)
		buf = append(buf, '\n')
		p.n++
	}
	_, err := p.f.Write(buf)
	require.NoError(t, err)
}

// renameRotate is logrotate's create: the live file moves away and a new
// one begins.
func (p *crashPod) renameRotate(t *testing.T) {
	require.NoError(t, p.f.Close())
	p.rotated++
	require.NoError(t, os.Rename(p.log(), fmt.Sprintf("%s.r%03d", p.log(), p.rotated)))
	p.create(t, false)
}

// copyTruncate is logrotate's copytruncate: the live file is copied and
// truncated, and the writer (O_APPEND) goes on at 0 with its next line
// (the gateway does not know; no header).
func (p *crashPod) copyTruncate(t *testing.T) {
	b, err := os.ReadFile(p.log())
	require.NoError(t, err)
	p.rotated++
	require.NoError(t, os.WriteFile(fmt.Sprintf("%s.r%03d", p.log(), p.rotated), b, 0o644))
	require.NoError(t, p.f.Truncate(0))
}

// rotateOne is logrotate's "rotate 1": access.log.1 is deleted and the
// live file renamed to access.log.1.
func (p *crashPod) rotateOne(t *testing.T) {
	require.NoError(t, p.f.Close())
	require.NoError(t, os.RemoveAll(p.log()+".1"))
	require.NoError(t, os.Rename(p.log(), p.log()+".1"))
	p.create(t, false)
}

// truncateRewrite empties the live file and writes it again from its
// header, as a gateway restarted with `>` redirection does.
func (p *crashPod) truncateRewrite(t *testing.T) {
	require.NoError(t, p.f.Truncate(0))
	p.header(t)
}

// written is every line written: Kong lines and headers.
func (p *crashPod) written() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n + p.headers
}

func (p *crashPod) start(t *testing.T, url string) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashSidecars$")
	cmd.Env = append(os.Environ(), envSidecarChild+"="+p.dir, envSidecarURL+"="+url, "POD_NAME="+p.name)
	p.stderr = &bytes.Buffer{}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	br := bufio.NewReader(out)
	line, err := br.ReadString('\n')
	require.NoError(t, err, "the sidecar of %s printed no address: %s", p.name, p.stderr)
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listen ")
	require.True(t, ok, "first line %q", line)
	p.cmd, p.addr = cmd, addr
	p.done = make(chan error, 1)
	go func() {
		_, _ = io.Copy(io.Discard, br)
		p.done <- cmd.Wait()
	}()
}

func (p *crashPod) kill(t *testing.T) {
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	<-p.done
	p.cmd = nil
}

// term stops the sidecar with SIGTERM and requires a clean exit.
func (p *crashPod) term(t *testing.T) {
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.done:
		require.NoError(t, err, "the sidecar of %s exits 0 on SIGTERM: %s", p.name, p.stderr)
	case <-time.After(20 * time.Second):
		t.Fatalf("the sidecar of %s did not stop within 20s of SIGTERM", p.name)
	}
	p.cmd = nil
}

// metric sums the series of family m on the pod's /metrics, those whose
// labels include match.
func (p *crashPod) metric(t *testing.T, m schema.Metric, match map[string]string) float64 {
	resp, err := http.Get("http://" + p.addr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	tp := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := tp.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	var sum float64
	mf := mfs[m.Name] // absent: 0
series:
	for _, s := range mf.GetMetric() {
		for k, v := range match {
			found := false
			for _, l := range s.GetLabel() {
				found = found || (l.GetName() == k && l.GetValue() == v)
			}
			if !found {
				continue series
			}
		}
		sum += s.GetCounter().GetValue() + s.GetGauge().GetValue() + s.GetUntyped().GetValue()
	}
	return sum
}

// crashTally is what Elasticsearch holds of one pod.
type crashTally struct {
	Stored, DeadLetters, Doubled int
	ids                          map[string]int
	where                        map[string][]string // request id → _id and path of each copy
}

func tally(t *testing.T, srv *estest.Server, pods ...*crashPod) map[string]*crashTally {
	out := map[string]*crashTally{}
	for _, p := range pods {
		out[p.name] = &crashTally{ids: map[string]int{}, where: map[string][]string{}}
	}
	for _, d := range srv.Docs("logs-gateway*") {
		var doc struct {
			HTTP struct {
				Request struct {
					ID string `json:"id"`
				} `json:"request"`
			} `json:"http"`
			Log struct {
				File struct {
					Path string `json:"path"`
				} `json:"file"`
			} `json:"log"`
		}
		require.NoError(t, json.Unmarshal(d.Source, &doc))
		pod := filepath.Base(filepath.Dir(doc.Log.File.Path))
		c, ok := out[pod]
		if !ok {
			continue
		}
		if d.Index == "logs-gateway-dlq" {
			c.DeadLetters++
			continue
		}
		require.True(t, strings.HasPrefix(doc.HTTP.Request.ID, pod), "document %s of %s has request id %q", d.ID, pod, doc.HTTP.Request.ID)
		c.where[doc.HTTP.Request.ID] = append(c.where[doc.HTTP.Request.ID], d.ID+" "+doc.Log.File.Path)
		if c.ids[doc.HTTP.Request.ID]++; c.ids[doc.HTTP.Request.ID] > 1 {
			c.Doubled++
		} else {
			c.Stored++
		}
	}
	return out
}

// TestCrashSidecars runs two sidecars (pods a and b, POD_NAME set) whose
// logs all begin with the same line, shipping to one strict Elasticsearch,
// through: 12 rounds of SIGKILLs of both (24 kills) at random moments
// while lines are written, files rotate by rename and by copytruncate, and
// Elasticsearch answers 429s, 500s and resets connections; a truncation
// rewritten with the same header; five "rotate 1" rotations while
// Elasticsearch is down (within the held-files bound: nothing is lost);
// twenty more with one pod (past the bound: the loss is counted); and, in a
// third pod, a SIGTERM between a CRI P piece and its F. At each step every
// line written is stored, dead-lettered or counted lost, none twice.
func TestCrashSidecars(t *testing.T) {
	if dir := os.Getenv(envSidecarChild); dir != "" {
		os.Exit(sidecarCrashChild(dir, os.Getenv(envSidecarURL)))
	}
	if testing.Short() {
		t.Skip("the sidecar crash test kills child processes 24 times; skipped with -short")
	}
	srv := estest.New()
	defer srv.Close()
	root := t.TempDir()
	a, b := newCrashPod(t, root, "a", 1), newCrashPod(t, root, "b", 2)
	pods := []*crashPod{a, b}
	for _, p := range pods {
		p.create(t, true)
		p.write(t, 30)
	}
	defer func() {
		for _, p := range pods {
			if p.cmd != nil {
				p.kill(t)
			}
		}
	}()

	// The writers append every 10ms and rotate every 150 lines, by rename
	// and by copytruncate in turn.
	var paused sync.Mutex // held: the writers wait
	stop := make(chan struct{})
	var writers sync.WaitGroup
	for _, p := range pods {
		writers.Add(1)
		go func() {
			defer writers.Done()
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				paused.Lock()
				p.mu.Lock()
				p.write(t, 4)
				if p.n%150 < 4 {
					if p.rotated%2 == 0 {
						p.renameRotate(t)
					} else {
						p.copyTruncate(t)
					}
				}
				p.mu.Unlock()
				paused.Unlock()
			}
		}()
	}
	stopWriters := func() {
		if stop != nil {
			close(stop)
			writers.Wait()
			stop = nil
		}
	}
	defer stopWriters()

	// settled waits until Elasticsearch holds every line of the pods
	// written so far (the writers must be paused) (less what each pod counts lost) and requires that
	// none is there twice.
	settled := func(what string, lost map[string]int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			ok := true
			got := tally(t, srv, pods...)
			for _, p := range pods {
				c := got[p.name]
				if c.Doubled > 0 {
					for id, w := range c.where {
						if len(w) > 1 {
							t.Logf("%s stored as %q", id, w)
						}
					}
				}
				require.Zero(t, c.Doubled, "%s: lines of %s stored twice", what, p.name)
				w := p.written()
				require.LessOrEqual(t, c.Stored+c.DeadLetters+lost[p.name], w, "%s: %s: more documents than lines", what, p.name)
				ok = ok && c.Stored+c.DeadLetters+lost[p.name] == w
			}
			if ok {
				return
			}
			if time.Now().After(deadline) {
				for _, p := range pods {
					c := got[p.name]
					t.Logf("%s: %d lines written (%d headers), %d stored, %d dead letters, %d counted lost", p.name, p.written(), p.headers, c.Stored, c.DeadLetters, lost[p.name])
					var missing []string
					for i := range p.n {
						if id := fmt.Sprintf("%s%07d", p.name, i); c.ids[id] == 0 && len(missing) < 20 {
							missing = append(missing, id)
						}
					}
					t.Logf("%s: missing %v", p.name, missing)
					if os.Getenv("CRASH_DEBUG") != "" {
						ents, _ := os.ReadDir(p.dir)
						for _, e := range ents {
							if b, err := os.ReadFile(filepath.Join(p.dir, e.Name())); err == nil && len(missing) > 0 {
								t.Logf("%s %d bytes, has %s at %d", e.Name(), len(b), missing[0], bytes.Index(b, []byte(missing[0])))
							}
						}
						ck, _ := os.ReadFile(filepath.Join(p.dir, "state", "shipper.checkpoint.json"))
						t.Logf("checkpoint: %s", ck)
						t.Logf("stderr: %s", p.stderr)
					}
				}
				t.Fatalf("%s: not every line is in Elasticsearch within 30s", what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	faults := []estest.Faults{
		{},
		{RequestStatus: 429, RequestCount: 3},
		{Item429: 0.2},
		{Item500: 0.2},
		{ResetCount: 2, AfterStore: true},
		{ResetCount: 2},
		{RequestStatus: 500, RequestCount: 2},
	}
	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 14))
	kills := 0
	for round := range 12 {
		srv.SetFaults(faults[rnd.IntN(len(faults))])
		for _, p := range pods {
			p.start(t, srv.URL)
		}
		time.Sleep(time.Duration(150+rnd.IntN(350)) * time.Millisecond)
		for _, p := range pods {
			p.kill(t)
			kills++
		}
		if round == 5 {
			// A truncation rewritten with the same header, once all
			// before it is stored.
			func() {
				srv.SetFaults(estest.Faults{})
				paused.Lock()
				defer paused.Unlock()
				for _, p := range pods {
					p.start(t, srv.URL)
				}
				settled("before the truncation", nil)
				for _, p := range pods {
					p.mu.Lock()
					p.truncateRewrite(t)
					p.write(t, 20)
					p.mu.Unlock()
				}
				settled("after the truncation", nil)
			}()
			for _, p := range pods {
				p.kill(t)
				kills++
			}
		}
	}
	stopWriters()
	srv.SetFaults(estest.Faults{})
	for _, p := range pods {
		p.start(t, srv.URL)
	}
	settled("after the kills", nil)
	st := srv.Stats()
	t.Logf("%d kills, %d injected faults, %d lines sent again (409)", kills, st.Injected, st.Conflicts)
	require.GreaterOrEqual(t, kills, 20)
	require.Positive(t, st.Injected, "faults were injected")

	// Elasticsearch down, five "rotate 1" rotations in each pod: the
	// deleted files are held open, nothing is lost.
	rotateDuringOutage := func(ps []*crashPod, rotations int) {
		srv.SetFaults(estest.Faults{Down: true})
		for range rotations {
			for _, p := range ps {
				p.mu.Lock()
				p.write(t, 20)
				p.rotateOne(t)
				p.mu.Unlock()
			}
			time.Sleep(80 * time.Millisecond) // four polls: the new file is seen
		}
		for _, p := range ps {
			p.mu.Lock()
			p.write(t, 20)
			p.mu.Unlock()
		}
		time.Sleep(100 * time.Millisecond)
		srv.SetFaults(estest.Faults{})
	}
	lostLines := func(p *crashPod) int {
		return int(p.metric(t, schema.ShipperLostLines, nil))
	}
	rotateDuringOutage(pods, 5)
	settled("after rotate 1 during an outage", nil)
	for _, p := range pods {
		require.Zero(t, lostLines(p), "%s counts no loss within the bound", p.name)
	}

	// Twenty more in pod a only: past tail.DefaultMaxHeldFiles the oldest
	// held files are let go, and what they held is counted lost and logged.
	rotateDuringOutage([]*crashPod{a}, tail.DefaultMaxHeldFiles+4)
	lost := map[string]int{}
	deadline := time.Now().Add(30 * time.Second)
	for lost["a"] == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		lost["a"] = lostLines(a)
	}
	require.Positive(t, lost["a"], "past the bound the loss is counted")
	require.Equal(t, float64(lost["a"]), a.metric(t, schema.ShipperLostLines, map[string]string{schema.LabelReason: tail.LostHeldLimit}))
	settled("past the held-files bound", lost)
	require.Zero(t, lostLines(b), "b rotated nothing past the bound")
	for _, p := range pods {
		p.term(t)
	}
	require.Regexp(t, `level=WARN msg="Rotated file let go unread[^\n]*path=`+regexp.QuoteMeta(a.log())+`(\.1)? lines=20 `, a.stderr.String(), "the loss is logged with the file")
	for _, p := range pods {
		c := tally(t, srv, p)[p.name]
		t.Logf("%s: %d lines written (%d headers), %d stored, %d dead letters, %d counted lost, 0 doubled", p.name, p.written(), p.headers, c.Stored, c.DeadLetters, lost[p.name])
		if lost[p.name] == 0 {
			require.Equal(t, p.headers, c.DeadLetters, "%s: every header is one dead letter", p.name)
		}
	}

	crashPartialLine(t, srv, root)
}

// crashPartialLine: a CRI line split by the runtime into a P piece and its
// F; the sidecar gets SIGTERM after reading the P. After the restart the
// metrics reader counts the request once, with no decode error, and
// Elasticsearch holds the joined line once.
func crashPartialLine(t *testing.T, srv *estest.Server, root string) {
	c := newCrashPod(t, root, "c", 3)
	cri := filepath.Join(c.dir, "cri.log")
	ts := func(i int) string {
		return time.Date(2026, 11, 20, 12, 0, i, 0, time.UTC).Format("2006-01-02T15:04:05.000000000Z07:00")
	}
	var b strings.Builder
	for i := range 3 {
		fmt.Fprintf(&b, "%s stdout F %s\n", ts(i), loggen.Line("kong", c.rnd, loggen.Request{Time: time.Now().UTC(), RequestID: fmt.Sprintf("c%07d", i)}))
	}
	line := loggen.Line("kong", c.rnd, loggen.Request{Time: time.Now().UTC(), RequestID: "c0000003"})
	fmt.Fprintf(&b, "%s stdout P %s\n", ts(3), line[:len(line)/2])
	require.NoError(t, os.WriteFile(cri, []byte(b.String()), 0o644))
	c.start(t, srv.URL)
	file := map[string]string{schema.LabelFile: cri}
	waitFor(t, "the P piece read", func() bool { return c.metric(t, schema.LinesRead, file) == 4 })
	waitFor(t, "the lines before it stored", func() bool { return tally(t, srv, c)["c"].Stored == 3 })
	c.term(t)

	f, err := os.OpenFile(cri, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = fmt.Fprintf(f, "%s stdout F %s\n", ts(4), line[len(line)/2:])
	require.NoError(t, err)
	require.NoError(t, f.Close())
	c.start(t, srv.URL)
	waitFor(t, "the joined line stored", func() bool { return tally(t, srv, c)["c"].Stored == 4 })
	waitFor(t, "the request counted", func() bool { return c.metric(t, schema.RequestsTotal, nil) == 1 })
	require.Zero(t, c.metric(t, schema.DecodeErrors, nil), "the F piece alone is no decode error")
	c.term(t)
	got := tally(t, srv, c)["c"]
	require.Equal(t, 1, got.ids["c0000003"])
	require.Zero(t, got.Doubled)
	require.Zero(t, got.DeadLetters)
}
