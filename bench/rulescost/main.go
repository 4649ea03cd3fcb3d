// Command rulescost prepares and feeds the comparison of what generated
// rules cost where they run (scripts/bench-compare-rules.sh): gatewatch's
// rules against Sloth's for the same endpoints, in two Prometheus servers
// with the same synthetic series.
//
//	rulescost prepare -n 1000 -dir DIR -history 72h
//
// writes DIR/kong.yaml (a Kong contract of n routes), DIR/sloth.yml (one
// Sloth availability SLO per route, reading the same request counter) and
// DIR/history.om (OpenMetrics samples of the request counter and duration
// histogram every -step over -history up to now, for promtool tsdb
// create-blocks-from openmetrics).
//
//	rulescost serve -n 1000 -dir DIR -addr 127.0.0.1:0
//
// serves the same series live through the real exporter (package
// exporter), adding a second of traffic every second, and writes the
// address it listens on to DIR/addr.
//
// Every route serves perSecond requests a second, 0.5% of them 5xx (every
// route fails once in a cycle of failEvery requests), with
// durations spread over the histogram's buckets; the history continues
// the same rates, so rate() over any window sees the same traffic.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/gatewatch/gatewatch/accesslog"
	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/contract/loader"
	"github.com/gatewatch/gatewatch/exporter"
	"github.com/gatewatch/gatewatch/schema"
)

const (
	gatewayName = "bench"
	perSecond   = 20
	failEvery   = 200 // one request in 200 answered 503
)

// durations are the request durations of one second of a route, spread
// over the buckets.
var durations = []time.Duration{
	2 * time.Millisecond, 8 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond,
	80 * time.Millisecond, 150 * time.Millisecond, 300 * time.Millisecond, 600 * time.Millisecond,
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: rulescost prepare|serve [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	n := fs.Int("n", 1000, "routes")
	dir := fs.String("dir", ".", "work folder")
	history := fs.Duration("history", 72*time.Hour, "prepare: length of the backfilled history")
	step := fs.Duration("step", time.Minute, "prepare: interval of the backfilled samples")
	addr := fs.String("addr", "127.0.0.1:0", "serve: listen address")
	_ = fs.Parse(os.Args[2:])
	var err error
	switch os.Args[1] {
	case "prepare":
		err = prepare(*n, *dir, *history, *step)
	case "serve":
		err = serve(*dir, *addr)
	default:
		err = fmt.Errorf("unknown command %q; expected prepare or serve", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rulescost:", err)
		os.Exit(1)
	}
}

func route(i int) string { return fmt.Sprintf("route-%05d", i) }

func prepare(n int, dir string, history, step time.Duration) error {
	var k strings.Builder
	fmt.Fprintf(&k, "_format_version: \"3.0\"\nservices:\n")
	var s strings.Builder
	fmt.Fprintf(&s, "version: \"prometheus/v1\"\nservice: %q\nslos:\n", gatewayName)
	sel := func(i int, extra string) string {
		return fmt.Sprintf(`%s{%s="%s",%s="%s"%s}`, schema.RequestsTotal.Name,
			schema.LabelGateway, gatewayName, schema.LabelEndpoint, route(i), extra)
	}
	for i := range n {
		fmt.Fprintf(&k, "  - name: svc-%05d\n    url: http://backend-%d:8080\n    read_timeout: 2000\n    routes:\n      - name: %s\n        paths: [/r%d]\n        methods: [GET]\n",
			i, i%20, route(i), i)
		fmt.Fprintf(&s, "  - name: %s\n    objective: 99.9\n    sli:\n      events:\n        error_query: sum(rate(%s[{{.window}}]))\n        total_query: sum(rate(%s[{{.window}}]))\n    alerting:\n      name: BenchAvailability\n      page_alert: {labels: {severity: page}}\n      ticket_alert: {labels: {severity: ticket}}\n",
			route(i), sel(i, `,code=~"5.."`), sel(i, ""))
	}
	if err := os.WriteFile(filepath.Join(dir, "kong.yaml"), []byte(k.String()), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "sloth.yml"), []byte(s.String()), 0o644); err != nil {
		return err
	}
	c, exp, reg, err := load(dir)
	if err != nil {
		return err
	}
	// A cycle of traffic (every route has failed once) gives every
	// series' value per cycle.
	now := time.Now()
	for sec := range cycle {
		tick(c, exp, now, sec)
	}
	mfs, err := reg.Gather()
	if err != nil {
		return err
	}
	return writeHistory(filepath.Join(dir, "history.om"), mfs, history, step)
}

// load reads DIR/kong.yaml and builds the exporter the sidecar would.
func load(dir string) (*contract.Contract, *exporter.Exporter, *prometheus.Registry, error) {
	c, err := loader.Load(filepath.Join(dir, "kong.yaml"), "kong", loader.Options{})
	if err != nil {
		return nil, nil, nil, err
	}
	c.Name = gatewayName
	cfg := config.Default()
	reg := prometheus.NewRegistry()
	exp := exporter.New(reg, c, exporter.Options{Gateway: gatewayName, Buckets: schema.Buckets(cfg.LatencyThresholds(c)...)})
	return c, exp, reg, nil
}

// cycle is the seconds after which every route has served failEvery
// requests, one of them failed.
const cycle = failEvery / perSecond

// tick records second sec of traffic on every route: each route fails
// one request in failEvery, the routes at different seconds.
func tick(c *contract.Contract, exp *exporter.Exporter, now time.Time, sec int) {
	for i := range c.Endpoints {
		ep := &c.Endpoints[i]
		for j := range perSecond {
			ev := accesslog.Event{
				Time: now, Method: "GET", Path: ep.Path, Status: http.StatusOK,
				Duration: durations[j%len(durations)], Upstream: -1, Overhead: -1, BytesIn: -1, BytesOut: -1,
			}
			if j == 0 && (sec+i)%cycle == 0 {
				ev.Status = http.StatusServiceUnavailable
			}
			exp.Record(&ev, ep)
		}
	}
	exp.Flush()
}

// writeHistory writes, for the request counter and the duration histogram,
// samples every step over history ending now, each value growing linearly
// from its per-second value (the series of a sidecar that has served the
// same traffic all along).
func writeHistory(path string, mfs []*dto.MetricFamily, history, step time.Duration) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	end := time.Now().Add(-2 * time.Minute).Truncate(step)
	steps := int(history / step)
	ts := func(k int) string {
		return strconv.FormatInt(end.Add(-time.Duration(steps-k)*step).Unix(), 10)
	}
	// cycles since the start of the history at sample k.
	secs := func(k int) float64 { return float64(k) * step.Seconds() / cycle }
	for _, mf := range mfs {
		switch mf.GetName() {
		case schema.RequestsTotal.Name:
			base := strings.TrimSuffix(mf.GetName(), "_total")
			fmt.Fprintf(w, "# TYPE %s counter\n", base)
			for _, m := range mf.GetMetric() {
				ls := labels(m, "")
				for k := 0; k <= steps; k++ {
					fmt.Fprintf(w, "%s_total%s %g %s\n", base, ls, m.GetCounter().GetValue()*secs(k), ts(k))
				}
			}
		case schema.RequestDuration.Name:
			name := mf.GetName()
			fmt.Fprintf(w, "# TYPE %s histogram\n", name)
			for _, m := range mf.GetMetric() {
				h := m.GetHistogram()
				for _, b := range h.GetBucket() {
					ls := labels(m, fmt.Sprintf(`le="%s"`, schema.LE(b.GetUpperBound())))
					for k := 0; k <= steps; k++ {
						fmt.Fprintf(w, "%s_bucket%s %g %s\n", name, ls, float64(b.GetCumulativeCount())*secs(k), ts(k))
					}
				}
				inf := labels(m, `le="+Inf"`)
				for k := 0; k <= steps; k++ {
					fmt.Fprintf(w, "%s_bucket%s %g %s\n", name, inf, float64(h.GetSampleCount())*secs(k), ts(k))
				}
				ls := labels(m, "")
				for k := 0; k <= steps; k++ {
					fmt.Fprintf(w, "%s_count%s %g %s\n", name, ls, float64(h.GetSampleCount())*secs(k), ts(k))
				}
				for k := 0; k <= steps; k++ {
					fmt.Fprintf(w, "%s_sum%s %g %s\n", name, ls, h.GetSampleSum()*secs(k), ts(k))
				}
			}
		}
	}
	fmt.Fprintln(w, "# EOF")
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// labels writes {a="x",...} with extra appended.
func labels(m *dto.Metric, extra string) string {
	var ps []string
	for _, l := range m.GetLabel() {
		ps = append(ps, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	slices.Sort(ps)
	if extra != "" {
		ps = append(ps, extra)
	}
	return "{" + strings.Join(ps, ",") + "}"
}

func serve(dir, addr string) error {
	c, exp, reg, err := load(dir)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "addr"), []byte(ln.Addr().String()), 0o644); err != nil {
		return err
	}
	go func() {
		sec := 0
		for now := range time.Tick(time.Second) {
			tick(c, exp, now, sec)
			sec++
		}
	}()
	return http.Serve(ln, promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}))
}
