package exporter

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/schema"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog"
	"github.com/gatewatch/gatewatch/contract"
)

func testContract() *contract.Contract {
	return &contract.Contract{
		Gateway: contract.KrakenD,
		Name:    "shop",
		Hash:    "abc123",
		Endpoints: []contract.Endpoint{
			{Name: "/v1/users/{id}", Path: "/v1/users/{id}", Methods: []string{"GET"}, Match: contract.MatchExact},
			{Name: "/v1/orders", Path: "/v1/orders", Methods: []string{"POST"}, Match: contract.MatchExact, Timeout: 3 * time.Second},
			{Name: "/health", Path: "/health", Match: contract.MatchExact},
		},
	}
}

func event(method string, status int, d time.Duration) *accesslog.Event {
	e := &accesslog.Event{}
	e.Reset()
	e.Method, e.Status, e.Duration = method, status, d
	e.Path = "/x"
	return e
}

func TestRecordCounts(t *testing.T) {
	c := testContract()
	reg := prometheus.NewPedanticRegistry()
	e := New(reg, c, Options{Track: "canary", Version: "1.2.3", Buckets: []float64{0.1, 1}})

	users, orders := &c.Endpoints[0], &c.Endpoints[1]
	e.Record(event("GET", 200, 50*time.Millisecond), users)
	e.Record(event("GET", 200, 500*time.Millisecond), users)
	e.Record(event("GET", 404, 2*time.Second), users)
	e.Record(event("POST", 503, -1), orders)
	e.Record(event("get", 200, -1), nil)     // not upper case: OTHER
	e.Record(event("BREW", 999, -1), nil)    // non-standard method
	e.Record(event("DELETE", 1234, -1), nil) // out of range status: "0"
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(""), schema.RequestsTotal.Name),
		"nothing is visible before Flush")
	e.Flush()

	want := `
# HELP gatewatch_http_requests_total Requests served by the gateway, by contract endpoint, method, status code and track.
# TYPE gatewatch_http_requests_total counter
gatewatch_http_requests_total{code="200",endpoint="/v1/users/{id}",gateway="shop",method="GET",track="canary"} 2
gatewatch_http_requests_total{code="404",endpoint="/v1/users/{id}",gateway="shop",method="GET",track="canary"} 1
gatewatch_http_requests_total{code="503",endpoint="/v1/orders",gateway="shop",method="POST",track="canary"} 1
gatewatch_http_requests_total{code="200",endpoint="unmatched",gateway="shop",method="OTHER",track="canary"} 1
gatewatch_http_requests_total{code="999",endpoint="unmatched",gateway="shop",method="OTHER",track="canary"} 1
gatewatch_http_requests_total{code="0",endpoint="unmatched",gateway="shop",method="DELETE",track="canary"} 1
# HELP gatewatch_contract_info Always 1; labels name the gateway contract the sidecar serves.
# TYPE gatewatch_contract_info gauge
gatewatch_contract_info{gateway="shop",hash="abc123",kind="krakend",track="canary",version="1.2.3"} 1
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), schema.RequestsTotal.Name, schema.ContractInfo.Name))

	// The duration histogram: pre-created series for every declared
	// method (GET for /health, which accepts any method) exist at zero;
	// an event without a duration is not observed.
	want = `
# HELP gatewatch_http_request_duration_seconds Total time the gateway took to answer, by contract endpoint, method and track.
# TYPE gatewatch_http_request_duration_seconds histogram
gatewatch_http_request_duration_seconds_bucket{endpoint="/v1/users/{id}",gateway="shop",method="GET",track="canary",le="0.1"} 1
gatewatch_http_request_duration_seconds_bucket{endpoint="/v1/users/{id}",gateway="shop",method="GET",track="canary",le="1"} 2
gatewatch_http_request_duration_seconds_bucket{endpoint="/v1/users/{id}",gateway="shop",method="GET",track="canary",le="+Inf"} 3
gatewatch_http_request_duration_seconds_sum{endpoint="/v1/users/{id}",gateway="shop",method="GET",track="canary"} 2.55
gatewatch_http_request_duration_seconds_count{endpoint="/v1/users/{id}",gateway="shop",method="GET",track="canary"} 3
gatewatch_http_request_duration_seconds_bucket{endpoint="/v1/orders",gateway="shop",method="POST",track="canary",le="0.1"} 0
gatewatch_http_request_duration_seconds_bucket{endpoint="/v1/orders",gateway="shop",method="POST",track="canary",le="1"} 0
gatewatch_http_request_duration_seconds_bucket{endpoint="/v1/orders",gateway="shop",method="POST",track="canary",le="+Inf"} 0
gatewatch_http_request_duration_seconds_sum{endpoint="/v1/orders",gateway="shop",method="POST",track="canary"} 0
gatewatch_http_request_duration_seconds_count{endpoint="/v1/orders",gateway="shop",method="POST",track="canary"} 0
gatewatch_http_request_duration_seconds_bucket{endpoint="/health",gateway="shop",method="GET",track="canary",le="0.1"} 0
gatewatch_http_request_duration_seconds_bucket{endpoint="/health",gateway="shop",method="GET",track="canary",le="1"} 0
gatewatch_http_request_duration_seconds_bucket{endpoint="/health",gateway="shop",method="GET",track="canary",le="+Inf"} 0
gatewatch_http_request_duration_seconds_sum{endpoint="/health",gateway="shop",method="GET",track="canary"} 0
gatewatch_http_request_duration_seconds_count{endpoint="/health",gateway="shop",method="GET",track="canary"} 0
gatewatch_http_request_duration_seconds_bucket{endpoint="unmatched",gateway="shop",method="OTHER",track="canary",le="0.1"} 0
gatewatch_http_request_duration_seconds_bucket{endpoint="unmatched",gateway="shop",method="OTHER",track="canary",le="1"} 0
gatewatch_http_request_duration_seconds_bucket{endpoint="unmatched",gateway="shop",method="OTHER",track="canary",le="+Inf"} 0
gatewatch_http_request_duration_seconds_sum{endpoint="unmatched",gateway="shop",method="OTHER",track="canary"} 0
gatewatch_http_request_duration_seconds_count{endpoint="unmatched",gateway="shop",method="OTHER",track="canary"} 0
gatewatch_http_request_duration_seconds_bucket{endpoint="unmatched",gateway="shop",method="DELETE",track="canary",le="0.1"} 0
gatewatch_http_request_duration_seconds_bucket{endpoint="unmatched",gateway="shop",method="DELETE",track="canary",le="1"} 0
gatewatch_http_request_duration_seconds_bucket{endpoint="unmatched",gateway="shop",method="DELETE",track="canary",le="+Inf"} 0
gatewatch_http_request_duration_seconds_sum{endpoint="unmatched",gateway="shop",method="DELETE",track="canary"} 0
gatewatch_http_request_duration_seconds_count{endpoint="unmatched",gateway="shop",method="DELETE",track="canary"} 0
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), schema.RequestDuration.Name))

	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	require.Empty(t, problems)
}

func TestEveryFamilyFromSchema(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	e := New(reg, testContract(), Options{Fields: []FieldLabel{{Field: "tenant", Values: []string{"a"}}}})
	e.File("/var/log/access.log").Line(100)
	e.DecodeError(accesslog.ReasonJSON)
	ev := event("GET", 200, time.Millisecond)
	ev.Upstream, ev.UpstreamHost, ev.Time, ev.Client = time.Millisecond, "10.0.0.1:8080", time.Unix(1000, 0), "1.2.3.4"
	ev.BytesIn, ev.BytesOut = 10, 20
	e.Record(ev, nil)
	e.Flush()

	mfs, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]string{}
	for _, mf := range mfs {
		got[mf.GetName()] = mf.GetHelp()
		for _, m := range mf.GetMetric() {
			var names []string
			for _, l := range m.GetLabel() {
				names = append(names, l.GetName())
			}
			require.ElementsMatch(t, schemaLabels(t, mf.GetName()), names, mf.GetName())
		}
	}
	for _, m := range []schema.Metric{schema.RequestsTotal, schema.RequestDuration, schema.UpstreamDuration, schema.RequestBytes, schema.ResponseBytes,
		schema.BackendResponses, schema.DistinctClients, schema.ContractInfo, schema.RequestsByField, schema.LinesRead, schema.BytesRead, schema.DecodeErrors, schema.LagBytes, schema.LastEvent, schema.CheckpointAge} {
		require.Equal(t, m.Help, got[m.Name], m.Name)
	}
}

func schemaLabels(t *testing.T, name string) []string {
	for _, m := range schema.Schema {
		if m.Name == name {
			if m.Labels == nil {
				return []string{}
			}
			return m.Labels
		}
	}
	t.Fatalf("metric %s is not in the schema", name)
	return nil
}

func TestBackendsBounded(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	e := New(reg, testContract(), Options{MaxBackends: 2})
	for _, h := range []string{"a:1", "b:1", "c:1", "d:1", "a:1"} {
		ev := event("GET", 200, -1)
		ev.UpstreamHost = h
		e.Record(ev, nil)
	}
	e.Flush()
	want := `
# HELP gatewatch_http_backend_responses_total Responses by upstream host and status code, where the log format names the upstream.
# TYPE gatewatch_http_backend_responses_total counter
gatewatch_http_backend_responses_total{backend="a:1",code="200",gateway="shop",track="stable"} 2
gatewatch_http_backend_responses_total{backend="b:1",code="200",gateway="shop",track="stable"} 1
gatewatch_http_backend_responses_total{backend="other",code="200",gateway="shop",track="stable"} 2
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), schema.BackendResponses.Name))
}

func TestDistinctClients(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	e := New(reg, testContract(), Options{})
	base := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	record := func(at time.Time, client string) {
		ev := event("GET", 200, -1)
		ev.Time, ev.Client = at, client
		e.Record(ev, nil)
	}
	for i := range 500 {
		record(base.Add(time.Duration(i)*100*time.Millisecond), fmt.Sprintf("10.0.%d.%d", i%5, i%250))
	}
	// Still inside the first minute: nothing published yet.
	require.Equal(t, 0.0, testutil.ToFloat64(gaugeOf(t, reg, schema.DistinctClients.Name)))
	record(base.Add(61*time.Second), "192.0.2.1")
	got := testutil.ToFloat64(gaugeOf(t, reg, schema.DistinctClients.Name))
	require.InDelta(t, 250, got, 10, "HyperLogLog estimate of 250 distinct clients")
	// A minute with no request at all gives 0.
	record(base.Add(200*time.Second), "192.0.2.1")
	require.Equal(t, 0.0, testutil.ToFloat64(gaugeOf(t, reg, schema.DistinctClients.Name)))
}

func TestCheckpointAgeAndLastEvent(t *testing.T) {
	now := time.Unix(5000, 0)
	reg := prometheus.NewPedanticRegistry()
	e := New(reg, testContract(), Options{Now: func() time.Time { return now }})
	require.Equal(t, 0.0, testutil.ToFloat64(gaugeOf(t, reg, schema.CheckpointAge.Name)))
	e.CheckpointWritten(time.Unix(4990, 0))
	require.Equal(t, 10.0, testutil.ToFloat64(gaugeOf(t, reg, schema.CheckpointAge.Name)))

	ev := event("GET", 200, -1)
	ev.Time = time.Unix(4000, 500_000_000)
	e.Record(ev, nil)
	ev.Time = time.Unix(3000, 0) // an older line does not move it back
	e.Record(ev, nil)
	require.Equal(t, 0.0, testutil.ToFloat64(gaugeOf(t, reg, schema.LastEvent.Name)), "published by Flush")
	e.Flush()
	require.Equal(t, 4000.5, testutil.ToFloat64(gaugeOf(t, reg, schema.LastEvent.Name)))
}

// gaugeOf returns a collector that yields the one metric named name.
func gaugeOf(t *testing.T, g prometheus.Gatherer, name string) prometheus.Collector {
	mfs, err := g.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			require.Len(t, mf.GetMetric(), 1)
			return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: "x"}, func() float64 {
				return mf.GetMetric()[0].GetGauge().GetValue()
			})
		}
	}
	t.Fatalf("%s not gathered", name)
	return nil
}

func TestRecordDoesNotAllocate(t *testing.T) {
	c := testContract()
	e := New(prometheus.NewRegistry(), c, Options{})
	evs := []*accesslog.Event{}
	for i, st := range []int{200, 201, 404, 500, 503} {
		ev := event([]string{"GET", "POST", "PATCH", "BREW", "GET"}[i], st, time.Duration(i)*time.Millisecond)
		ev.Upstream = time.Millisecond
		ev.UpstreamHost = fmt.Sprintf("10.0.0.%d:80", i)
		ev.Client = fmt.Sprintf("192.0.2.%d", i)
		ev.Time = time.Unix(int64(1000+i*30), 0)
		ev.BytesIn, ev.BytesOut = 100, 2000
		evs = append(evs, ev)
	}
	eps := []*contract.Endpoint{&c.Endpoints[0], &c.Endpoints[1], nil, &c.Endpoints[2], &c.Endpoints[0]}
	copyOfUsers := c.Endpoints[0] // a matcher returning copies still finds the series
	eps[4] = &copyOfUsers
	for i := range evs { // warm up: create the series
		e.Record(evs[i], eps[i])
	}
	e.Flush()
	allocs := testing.AllocsPerRun(1000, func() {
		for i := range evs {
			e.Record(evs[i], eps[i])
		}
		e.Flush()
	})
	require.Zero(t, allocs)
}

func TestFieldLabels(t *testing.T) {
	c := testContract()
	reg := prometheus.NewPedanticRegistry()
	e := New(reg, c, Options{Fields: []FieldLabel{{Field: "tenant", Values: []string{"acme", "globex", "acme", ""}}}})
	for _, tenant := range []string{"acme", "acme", "globex", "initech", ""} {
		ev := event("GET", 200, -1)
		ev.Fields = map[string]string{"tenant": tenant}
		e.Record(ev, &c.Endpoints[0])
	}
	ev := event("GET", 500, -1) // no Fields at all
	e.Record(ev, nil)
	e.Flush()
	want := `
# HELP gatewatch_http_requests_by_field_total Requests by contract endpoint, status code and the value of an allow-listed access-log field (sidecar.extra_labels).
# TYPE gatewatch_http_requests_by_field_total counter
gatewatch_http_requests_by_field_total{code="200",endpoint="/v1/users/{id}",field="tenant",gateway="shop",track="stable",value="acme"} 2
gatewatch_http_requests_by_field_total{code="200",endpoint="/v1/users/{id}",field="tenant",gateway="shop",track="stable",value="globex"} 1
gatewatch_http_requests_by_field_total{code="200",endpoint="/v1/users/{id}",field="tenant",gateway="shop",track="stable",value="other"} 1
gatewatch_http_requests_by_field_total{code="200",endpoint="/v1/users/{id}",field="tenant",gateway="shop",track="stable",value="none"} 1
gatewatch_http_requests_by_field_total{code="500",endpoint="unmatched",field="tenant",gateway="shop",track="stable",value="none"} 1
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), schema.RequestsByField.Name))

	evs := []*accesslog.Event{event("GET", 200, -1), event("GET", 200, -1)}
	evs[0].Fields = map[string]string{"tenant": "acme"}
	evs[1].Fields = map[string]string{"tenant": "someone-else"}
	for _, ev := range evs {
		e.Record(ev, &c.Endpoints[0])
	}
	require.Zero(t, testing.AllocsPerRun(1000, func() {
		for _, ev := range evs {
			e.Record(ev, &c.Endpoints[0])
		}
	}))
}

// BenchmarkRecord measures Record alone on a realistic event mix.
func BenchmarkRecord(b *testing.B) {
	c := testContract()
	e := New(prometheus.NewRegistry(), c, Options{Buckets: schema.Buckets(3 * time.Second)})
	var evs []*accesslog.Event
	for i := range 64 {
		ev := event([]string{"GET", "POST", "GET", "DELETE"}[i%4], []int{200, 200, 404, 503}[i%4], time.Duration(i)*time.Millisecond)
		ev.Upstream = time.Duration(i) * 900 * time.Microsecond
		ev.UpstreamHost = fmt.Sprintf("10.0.0.%d:8080", i%8)
		ev.Client = fmt.Sprintf("192.0.2.%d", i)
		ev.Time = time.Unix(1000+int64(i), 0)
		ev.BytesIn, ev.BytesOut = 300, 4000
		evs = append(evs, ev)
	}
	eps := []*contract.Endpoint{&c.Endpoints[0], &c.Endpoints[1], nil, &c.Endpoints[2]}
	for i, ev := range evs {
		e.Record(ev, eps[i%4])
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.Record(evs[i%64], eps[i%4])
		if i%256 == 255 { // as the metrics reader does after each read
			e.Flush()
		}
	}
	b.StopTimer()
	// On a shared machine wall time per op includes waiting for a CPU;
	// CPU time per event is the cost.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestNativeHistograms: the request duration histogram carries native
// buckets (factor 1.1 is schema 3) besides the classic ones; the upstream
// one only with Options.NativeUpstream.
func TestNativeHistograms(t *testing.T) {
	for _, nativeUpstream := range []bool{false, true} {
		t.Run(fmt.Sprint("native_upstream=", nativeUpstream), func(t *testing.T) {
			c := testContract()
			reg := prometheus.NewPedanticRegistry()
			e := New(reg, c, Options{Buckets: schema.Buckets(3 * time.Second), NativeUpstream: nativeUpstream})
			ev := event("GET", 200, 120*time.Millisecond)
			ev.Upstream = 100 * time.Millisecond
			e.Record(ev, &c.Endpoints[0])
			e.Flush()
			mfs, err := reg.Gather()
			require.NoError(t, err)
			seen := 0
			for _, mf := range mfs {
				if mf.GetName() != schema.RequestDuration.Name && mf.GetName() != schema.UpstreamDuration.Name {
					continue
				}
				native := mf.GetName() == schema.RequestDuration.Name || nativeUpstream
				for _, m := range mf.GetMetric() {
					h := m.GetHistogram()
					if !native {
						require.Nil(t, h.Schema, "%s has native buckets", mf.GetName())
						require.Empty(t, h.GetPositiveSpan())
					} else {
						require.NotNil(t, h.Schema, "%s has no native buckets", mf.GetName())
						require.Equal(t, int32(3), h.GetSchema())
					}
					if h.GetSampleCount() == 1 {
						seen++
						if native {
							require.NotEmpty(t, h.GetPositiveSpan())
						}
						var les []float64
						for _, b := range h.GetBucket() {
							les = append(les, b.GetUpperBound())
						}
						require.Contains(t, les, 3.0, "the endpoint timeout is a classic bucket")
					}
				}
			}
			require.Equal(t, 2, seen)
		})
	}
}

// TestGatewayLabel: every family the exporter registers carries the
// gateway label with Options.Gateway (else the contract's name), and the
// schema declares it in each family's labels.
func TestGatewayLabel(t *testing.T) {
	for _, tc := range []struct{ opt, name, want string }{
		{"edge-eu", "shop", "edge-eu"},
		{"", "shop", "shop"},
		{"", "", "gateway"},
	} {
		c := testContract()
		c.Name = tc.name
		reg := prometheus.NewPedanticRegistry()
		e := New(reg, c, Options{Gateway: tc.opt, Fields: []FieldLabel{{Field: "tenant", Values: []string{"acme"}}}})
		ev := event("GET", 200, time.Millisecond)
		ev.UpstreamHost = "users:8080"
		ev.Fields = map[string]string{"tenant": "acme"}
		e.Record(ev, &c.Endpoints[0])
		e.File("/var/log/access.log").Line(10)
		e.InitDecodeErrors("json")
		e.Flush()
		mfs, err := reg.Gather()
		require.NoError(t, err)
		declared := map[string]schema.Metric{}
		for _, m := range schema.Schema {
			declared[m.Name] = m
		}
		for _, mf := range mfs {
			m, ok := declared[mf.GetName()]
			require.True(t, ok, "%s is not declared in the schema", mf.GetName())
			require.Equal(t, schema.LabelGateway, m.Labels[0], "%s: the schema lists the gateway label first", m.Name)
			for _, s := range mf.GetMetric() {
				var names []string
				for _, l := range s.GetLabel() {
					names = append(names, l.GetName())
					if l.GetName() == schema.LabelGateway {
						require.Equal(t, tc.want, l.GetValue(), mf.GetName())
					}
				}
				require.ElementsMatch(t, m.Labels, names, "%s: the series' labels are the schema's", m.Name)
			}
		}
	}
}

// fileSeries returns the value of each per-file family's series by file
// label ("lines", "bytes", "lag" prefixes).
func fileSeries(t *testing.T, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	short := map[string]string{schema.LinesRead.Name: "lines", schema.BytesRead.Name: "bytes", schema.LagBytes.Name: "lag"}
	got := map[string]float64{}
	for _, mf := range mfs {
		prefix, ok := short[mf.GetName()]
		if !ok {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == schema.LabelFile {
					got[prefix+" "+l.GetValue()] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
				}
			}
		}
	}
	return got
}

// TestForgetFiles: the series of a file neither open nor read for the
// forget time are removed; open files, and files read since, keep theirs
// with their values; a forgotten path read again starts at zero, and lines
// counted on a handle taken before the removal are not lost.
func TestForgetFiles(t *testing.T) {
	now := time.Unix(10_000, 0)
	reg := prometheus.NewPedanticRegistry()
	e := New(reg, testContract(), Options{Now: func() time.Time { return now }})
	live, old, quiet := e.File("/l/access.log"), e.File("/l/access.log-20261201"), e.File("/l/access.log-20261202")
	live.Line(100)
	live.Lag.Set(7)
	old.Line(50)
	old.Lag.Set(3)
	quiet.Line(10)
	e.Flush()
	open := map[string]bool{"/l/access.log": true}

	require.Empty(t, e.ForgetFiles(open, 0), "0 forgets nothing")
	// Lines read are noticed at the next call (the sidecar calls it every
	// second): the forget time counts from there.
	require.Empty(t, e.ForgetFiles(open, 10*time.Minute))
	now = now.Add(5 * time.Minute)
	require.Empty(t, e.ForgetFiles(open, 10*time.Minute))
	quiet.Line(20) // read since: it is not gone yet
	e.Flush()
	now = now.Add(5 * time.Minute)
	require.Equal(t, []string{"/l/access.log-20261201"}, e.ForgetFiles(open, 10*time.Minute))
	require.True(t, old.Forgotten())
	require.False(t, live.Forgotten())
	require.Equal(t, map[string]float64{
		"lines /l/access.log": 1, "bytes /l/access.log": 100, "lag /l/access.log": 7,
		"lines /l/access.log-20261202": 2, "bytes /l/access.log-20261202": 30, "lag /l/access.log-20261202": 0,
	}, fileSeries(t, reg))

	// A line counted on the old handle after the removal (the path is back)
	// goes to the path's new series, which starts at zero.
	old.Line(5)
	e.Flush()
	again := e.File("/l/access.log-20261201")
	require.False(t, again.Forgotten())
	require.Equal(t, 1.0, fileSeries(t, reg)["lines /l/access.log-20261201"])
	require.Equal(t, 5.0, fileSeries(t, reg)["bytes /l/access.log-20261201"])

	require.Empty(t, e.ForgetFiles(open, 10*time.Minute))
	now = now.Add(10 * time.Minute)
	require.Equal(t, []string{"/l/access.log-20261202", "/l/access.log-20261201"}, e.ForgetFiles(open, 10*time.Minute))
	require.Equal(t, map[string]float64{"lines /l/access.log": 1, "bytes /l/access.log": 100, "lag /l/access.log": 7}, fileSeries(t, reg))
}
