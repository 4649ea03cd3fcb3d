package exporter

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/schema"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
)

// TestNativeKey holds the unrolled search to sort.SearchFloat64s, on every
// boundary and between them.
func TestNativeKey(t *testing.T) {
	check := func(v float64) {
		frac, exp := math.Frexp(v)
		want := sort.SearchFloat64s(nativeBounds[:], frac) + (exp-1)*8
		require.Equal(t, want, nativeKey(v), "v=%g", v)
	}
	for e := -35; e <= 35; e++ {
		for _, b := range nativeBounds {
			v := math.Ldexp(b, e)
			check(v)
			check(math.Nextafter(v, 0))
			check(math.Nextafter(v, math.Inf(1)))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		check(math.Exp(r.Float64()*60 - 30))
	}
	require.Equal(t, -239, nativeKey(time.Duration(1).Seconds()), "1ns")
	require.GreaterOrEqual(t, nativeKey(time.Duration(math.MaxInt64).Seconds())-nativeMinKey, 0)
	require.Less(t, nativeKey(time.Duration(math.MaxInt64).Seconds())-nativeMinKey, nativeKeys)
}

// TestHistogramSameAsClientGolang feeds the same durations to the
// exporter's histogram and to a client_golang histogram with the same
// options, and requires the same exposition: classic buckets, count, sum
// (up to float rounding), native
// schema, zero bucket, spans and deltas — including the lowered
// resolution once more than NativeMaxBucketNumber buckets are populated.
func TestHistogramSameAsClientGolang(t *testing.T) {
	bounds := schema.Buckets(3*time.Second, 300*time.Millisecond)
	cases := []struct {
		name string
		draw func(r *rand.Rand) time.Duration
	}{
		{"milliseconds", func(r *rand.Rand) time.Duration { return time.Duration(r.IntN(2000)) * time.Millisecond }},
		{"log-uniform 1µs-10s", func(r *rand.Rand) time.Duration {
			return time.Duration(math.Exp(r.Float64()*math.Log(1e7)) * 1e3)
		}},
		{"with zeros", func(r *rand.Rand) time.Duration {
			if r.IntN(4) == 0 {
				return 0
			}
			return time.Duration(r.IntN(5000)) * time.Microsecond
		}},
		// 1ns to 2^63ns: hundreds of schema-3 buckets, so the resolution
		// is lowered.
		{"every magnitude", func(r *rand.Rand) time.Duration { return time.Duration(math.Exp2(r.Float64() * 62)) }},
		{"bucket boundaries", func(r *rand.Rand) time.Duration {
			return time.Duration(bounds[r.IntN(len(bounds))] * 1e9)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, uint64(len(tc.name))))
			ref := prometheus.NewHistogram(prometheus.HistogramOpts{
				Name: "ref", Help: "ref", Buckets: bounds,
				NativeHistogramBucketFactor:     NativeBucketFactor,
				NativeHistogramMaxBucketNumber:  NativeMaxBucketNumber,
				NativeHistogramMinResetDuration: NativeMinResetDuration,
			})
			h := newHistogram(bounds, true)
			for range 20000 {
				d := tc.draw(r)
				ref.Observe(d.Seconds())
				h.observe(bounds, d.Seconds())
			}
			var m dto.Metric
			require.NoError(t, ref.Write(&m))
			want, got := m.GetHistogram(), h.write(bounds, time.Now())

			require.Equal(t, want.GetSampleCount(), got.GetSampleCount())
			require.InEpsilon(t, want.GetSampleSum()+1, got.GetSampleSum()+1, 1e-9)
			require.Len(t, got.GetBucket(), len(want.GetBucket()))
			for i := range want.GetBucket() {
				require.Equal(t, want.GetBucket()[i].GetUpperBound(), got.GetBucket()[i].GetUpperBound())
				require.Equal(t, want.GetBucket()[i].GetCumulativeCount(), got.GetBucket()[i].GetCumulativeCount(), "le=%g", want.GetBucket()[i].GetUpperBound())
			}
			require.Equal(t, want.GetSchema(), got.GetSchema())
			require.Equal(t, want.GetZeroThreshold(), got.GetZeroThreshold())
			require.Equal(t, want.GetZeroCount(), got.GetZeroCount())
			require.Equal(t, spansOf(want), spansOf(got))
			require.Equal(t, want.GetPositiveDelta(), got.GetPositiveDelta())
			if tc.name == "every magnitude" {
				require.Less(t, got.GetSchema(), int32(nativeSchema), "resolution lowered")
			}
		})
	}
}

func spansOf(h *dto.Histogram) [][2]int64 {
	var out [][2]int64
	for _, s := range h.GetPositiveSpan() {
		out = append(out, [2]int64{int64(s.GetOffset()), int64(s.GetLength())})
	}
	return out
}

// TestEmptyNativeHistogram: an empty histogram still says it is native.
func TestEmptyNativeHistogram(t *testing.T) {
	ref := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ref", Help: "ref", NativeHistogramBucketFactor: NativeBucketFactor})
	var m dto.Metric
	require.NoError(t, ref.Write(&m))
	got := newHistogram(schema.DefaultBuckets, true).write(schema.DefaultBuckets, time.Now())
	require.Equal(t, spansOf(m.GetHistogram()), spansOf(got))
	require.Equal(t, m.GetHistogram().GetSchema(), got.GetSchema())
}

// TestScrapeSeesWholeFlushes scrapes continuously while the reader records
// and flushes: every scrape must see a consistent state (count = +Inf
// bucket = native buckets + zero bucket = requests counter) and counts
// that never go down. Run with -race, it also checks the locking.
func TestScrapeSeesWholeFlushes(t *testing.T) {
	c := testContract()
	reg := prometheus.NewPedanticRegistry()
	e := New(reg, c, Options{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		ev := event("GET", 200, 0)
		for i := range 30000 {
			ev.Duration = time.Duration(i%1000) * time.Millisecond
			e.Record(ev, &c.Endpoints[0])
			if i%64 == 0 {
				e.Flush()
			}
		}
		e.Flush()
	}()
	var last uint64
	check := func() {
		mfs, err := reg.Gather()
		require.NoError(t, err)
		var requests, count uint64
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				if labelOf(m, "endpoint") != c.Endpoints[0].Name || labelOf(m, "method") != "GET" {
					continue
				}
				switch mf.GetName() {
				case schema.RequestsTotal.Name:
					requests = uint64(m.GetCounter().GetValue())
				case schema.RequestDuration.Name:
					h := m.GetHistogram()
					count = h.GetSampleCount()
					native := h.GetZeroCount()
					var n int64
					for _, d := range h.GetPositiveDelta() {
						n += d
						native += uint64(n)
					}
					require.Equal(t, count, native, "native buckets and count")
					if bs := h.GetBucket(); len(bs) > 0 {
						require.LessOrEqual(t, bs[len(bs)-1].GetCumulativeCount(), count)
					}
				}
			}
		}
		require.Equal(t, requests, count, "requests counter and histogram count")
		require.GreaterOrEqual(t, count, last)
		last = count
	}
	for {
		select {
		case <-done:
			check()
			require.Equal(t, uint64(30000), last)
			return
		default:
			check()
		}
	}
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// TestInvalidUTF8Labels: a backend host from a log line with invalid UTF-8
// becomes a valid label value instead of breaking the scrape.
func TestInvalidUTF8Labels(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	e := New(reg, testContract(), Options{})
	ev := event("GET", 200, time.Millisecond)
	ev.UpstreamHost = "bad\xff:80"
	e.Record(ev, nil)
	e.Flush()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	found := false
	for _, mf := range mfs {
		if mf.GetName() == schema.BackendResponses.Name {
			require.Equal(t, "bad\uFFFD:80", labelOf(mf.GetMetric()[0], "backend"))
			found = true
		}
	}
	require.True(t, found)
}

// TestRecordFlushesWhenTheLogIsFull: a reader that never calls Flush still
// publishes every maxPending lines.
func TestRecordFlushesWhenTheLogIsFull(t *testing.T) {
	c := testContract()
	reg := prometheus.NewPedanticRegistry()
	e := New(reg, c, Options{})
	ev := event("GET", 200, time.Millisecond)
	for range maxPending + 10 {
		e.Record(ev, &c.Endpoints[0])
	}
	mfs, err := reg.Gather()
	require.NoError(t, err)
	var n float64
	for _, mf := range mfs {
		if mf.GetName() == schema.RequestsTotal.Name {
			n = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	require.Equal(t, float64(maxPending), n)
	e.Flush()
	require.Len(t, e.pending, 0)
}
