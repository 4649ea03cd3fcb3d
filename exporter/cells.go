package exporter

import (
	"math"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The request metrics are plain counters guarded by Exporter.mu. Record
// does not touch them: it appends the line's observation to a log that only
// the reader (the one goroutine that calls Record) owns, and Flush applies
// the log to the counters under the lock, which Collect also holds. So a
// line costs no lock and no atomic operation, each counter's cache line is
// visited once per line (at Flush), and a scrape always
// sees whole lines: a histogram's buckets, count and sum and the request
// counter change together.

// observation is what Record logs of one line.
type observation struct {
	series  uint32 // index in Exporter.methodList
	backend int32  // index in Exporter.backendList; -1: none
	code    uint16
	// dur and up are in seconds; negative: not logged.
	dur, up           float64
	bytesIn, bytesOut uint64
}

// fieldObservation is one line's count by an allow-listed field value.
type fieldObservation struct {
	table uint32 // index in Exporter.fieldList
	code  uint16
}

// maxPending bounds the observation log: Record flushes when it is full,
// in case the reader's own Flush calls come late.
const maxPending = 8192

// codeCounts holds one counter per status code 0..999, in ten classes of
// a hundred allocated on first use.
type codeCounts struct {
	classes [10]*[100]uint64
}

// inc counts status (0 when out of range); the caller holds Exporter.mu.
func (t *codeCounts) inc(status uint16) {
	if status > 999 {
		status = 0
	}
	cl := t.classes[status/100]
	if cl == nil {
		cl = new([100]uint64)
		t.classes[status/100] = cl
	}
	cl[status%100]++
}

// each calls f for every code with a count.
func (t *codeCounts) each(f func(code int, n uint64)) {
	for cl, p := range t.classes {
		if p == nil {
			continue
		}
		for i, n := range p {
			if n > 0 {
				f(cl*100+i, n)
			}
		}
	}
}

// Native histogram layout: observations are kept at schema 3 (bucket
// factor 2^(1/8) ≈ 1.09, the schema client_golang picks for
// NativeBucketFactor 1.1) in a dense array that covers every positive
// time.Duration, 1ns to 2^63ns; the exposition lowers the resolution when
// more than NativeMaxBucketNumber buckets are populated.
const (
	nativeSchema = 3
	// nativeMinKey is the lowest bucket key of a positive Duration (1ns is
	// key -239); nativeKeys covers up to 2^63ns (key 265).
	nativeMinKey = -240
	nativeKeys   = 512
	// nativeZeroThreshold is client_golang's default: only 0 falls in the
	// zero bucket.
	nativeZeroThreshold = 2.938735877055719e-39
)

// nativeBounds are the schema 3 bucket boundaries of a mantissa in
// [0.5, 1), as client_golang has them.
var nativeBounds = [8]float64{
	0.5, 0.5452538663326288, 0.5946035575013605, 0.6484197773255048,
	0.7071067811865475, 0.7711054127039704, 0.8408964152537144, 0.9170040432046711,
}

// nativeKey returns the schema 3 bucket key of v > 0: the bucket
// (2^((k-1)/8), 2^(k/8)] holds v.
func nativeKey(v float64) int {
	frac, exp := math.Frexp(v)
	// The number of bounds below frac (sort.SearchFloat64s), unrolled.
	i := 0
	if nativeBounds[3] < frac {
		i = 4
	}
	if nativeBounds[i+1] < frac {
		i += 2
	}
	if nativeBounds[i] < frac {
		i++
	}
	if i == 7 && nativeBounds[7] < frac {
		i = 8
	}
	return i + (exp-1)*8
}

// histogram is a classic histogram with, optionally, native buckets; its
// counters are guarded by Exporter.mu.
type histogram struct {
	// buckets are the classic buckets, not cumulative; the last is +Inf.
	buckets []uint64
	sum     float64
	// native is nil for a classic-only histogram.
	native *nativeCounts
}

type nativeCounts struct {
	zero uint64
	keys [nativeKeys]uint64
	// schema is the exposition's schema, lowered for good once too many
	// buckets are populated.
	schema int32
}

func newHistogram(bounds []float64, native bool) *histogram {
	h := &histogram{buckets: make([]uint64, len(bounds)+1)}
	if native {
		h.native = &nativeCounts{schema: nativeSchema}
	}
	return h
}

// observe records v ≥ 0 seconds (a time.Duration's Seconds: at most
// 2^63ns); bounds are the classic upper bounds.
func (h *histogram) observe(bounds []float64, v float64) {
	i := 0
	for i < len(bounds) && v > bounds[i] {
		i++
	}
	h.buckets[i]++
	h.sum += v
	if n := h.native; n != nil {
		if v <= nativeZeroThreshold {
			n.zero++
		} else {
			n.keys[nativeKey(v)-nativeMinKey]++
		}
	}
}

// write fills a dto histogram, as client_golang
// writes a histogram with classic and native buckets; the caller holds
// Exporter.mu.
func (h *histogram) write(bounds []float64, created time.Time) *dto.Histogram {
	var count uint64
	out := &dto.Histogram{
		Bucket:           make([]*dto.Bucket, len(bounds)),
		CreatedTimestamp: timestamppb.New(created),
	}
	for i, ub := range bounds {
		count += h.buckets[i]
		out.Bucket[i] = &dto.Bucket{CumulativeCount: new(count), UpperBound: new(ub)}
	}
	count += h.buckets[len(bounds)]
	out.SampleCount = new(count)
	out.SampleSum = new(h.sum)
	if n := h.native; n != nil {
		out.Schema = new(n.lowerSchema())
		out.ZeroThreshold = new(float64(nativeZeroThreshold))
		out.ZeroCount = new(n.zero)
		// An empty one is still native: its zero threshold is not 0
		// (client_golang adds an empty span only for a zero threshold of 0).
		out.PositiveSpan, out.PositiveDelta = n.spans()
	}
	return out
}

// downscale maps a schema 3 key to its bucket at schema 3-d.
func downscale(k int, d int32) int {
	return (k + 1<<d - 1) >> d
}

// lowerSchema lowers the exposition schema until at most
// NativeMaxBucketNumber buckets are populated, and returns it.
func (n *nativeCounts) lowerSchema() int32 {
	for n.schema > -4 {
		d := nativeSchema - n.schema
		buckets, last := 0, math.MinInt
		for i := range n.keys {
			if n.keys[i] == 0 {
				continue
			}
			if j := downscale(i+nativeMinKey, d); j != last {
				buckets++
				last = j
			}
		}
		if buckets <= NativeMaxBucketNumber {
			break
		}
		n.schema--
	}
	return n.schema
}

// spans encodes the populated buckets at the exposition schema as
// client_golang does: gaps of up to two buckets are filled with empty
// buckets, longer gaps start a new span; counts are delta-encoded.
func (n *nativeCounts) spans() ([]*dto.BucketSpan, []int64) {
	var (
		spans     []*dto.BucketSpan
		deltas    []int64
		prevCount int64
		nextKey   int
		curKey    = math.MinInt
		curCount  int64
	)
	d := nativeSchema - n.schema
	emit := func(key int, count int64) {
		gap := int32(key - nextKey)
		if len(spans) == 0 || gap > 2 {
			spans = append(spans, &dto.BucketSpan{Offset: new(gap), Length: new(uint32(0))})
		} else {
			for range gap {
				*spans[len(spans)-1].Length++
				deltas = append(deltas, -prevCount)
				prevCount = 0
			}
		}
		*spans[len(spans)-1].Length++
		deltas = append(deltas, count-prevCount)
		prevCount = count
		nextKey = key + 1
	}
	for i := range n.keys {
		c := n.keys[i]
		if c == 0 {
			continue
		}
		k := downscale(i+nativeMinKey, d)
		if k != curKey {
			if curKey != math.MinInt {
				emit(curKey, curCount)
			}
			curKey, curCount = k, 0
		}
		curCount += int64(c)
	}
	if curKey != math.MinInt {
		emit(curKey, curCount)
	}
	return spans, deltas
}
