package shipper

import (
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog"
)

func TestBuilderAppend(t *testing.T) {
	b := NewBuilder(Identity{Gateway: "edge", Kind: "kong", Track: "canary", Hash: "abc", Version: "1.2"})
	ev := accesslog.Event{}
	ev.Reset()
	ev.Time = time.Date(2026, 11, 22, 10, 11, 12, 345000000, time.FixedZone("CET", 3600))
	ev.Method, ev.Path, ev.Query, ev.Host = "GET", "/v1/users/42", "page=2", "api.example.com"
	ev.Status, ev.Duration, ev.Upstream, ev.BytesOut = 200, 3127514*time.Nanosecond, time.Millisecond, 734
	ev.Client, ev.UserAgent, ev.RequestID, ev.UpstreamHost = "2001:db8::1", "curl/8.5.0", "req-1", "10.0.3.17:8080"
	ev.Fields = map[string]string{"tenant.id": "t1"}
	ev.Raw = []byte("raw \"line\"\twith\x01control and \xff bad utf8")
	out := b.Append(nil, &ev, "/v1/users/{id}", Source{Path: "/var/log/a.log", Offset: 1234})
	require.True(t, json.Valid(out), "%s", out)
	var d map[string]any
	require.NoError(t, json.Unmarshal(out, &d))
	get := func(path string) any {
		var v any = d
		for _, k := range strings.Split(path, ".") {
			if k == "@timestamp" {
				return d[k]
			}
			v = v.(map[string]any)[k]
		}
		return v
	}
	for path, want := range map[string]any{
		"@timestamp":                  "2026-11-22T09:11:12.345000000Z",
		"http.request.method":         "GET",
		"http.request.id":             "req-1",
		"http.response.status_code":   200.0,
		"http.response.bytes":         734.0,
		"url.path":                    "/v1/users/42",
		"url.query":                   "page=2",
		"event.duration":              3127514.0,
		"client.ip":                   "2001:db8::1",
		"source.ip":                   "2001:db8::1",
		"destination.address":         "10.0.3.17:8080",
		"user_agent.original":         "curl/8.5.0",
		"labels.tenant_id":            "t1",
		"gatewatch.endpoint":          "/v1/users/{id}",
		"gatewatch.track":             "canary",
		"gatewatch.contract_hash":     "abc",
		"gatewatch.upstream_duration": 1e6,
		"log.offset":                  1234.0,
		"log.file.path":               "/var/log/a.log",
	} {
		require.Equal(t, want, get(path), path)
	}
	require.Nil(t, d["http"].(map[string]any)["request"].(map[string]any)["bytes"], "unknown sizes are left out")
	require.Equal(t, "raw \"line\"\twith\x01control and \ufffd bad utf8", d["message"])

	ev.Client = "unknown-host"
	out = b.Append(nil, &ev, "x", Source{})
	d = nil
	require.NoError(t, json.Unmarshal(out, &d))
	require.Equal(t, map[string]any{"address": "unknown-host"}, d["client"], "a non-IP client must not break the ip mapping")
	require.NotContains(t, d, "source")
}

func TestIndexNamer(t *testing.T) {
	n, err := NewIndexNamer("logs-gateway", "yyyy.MM.dd")
	require.NoError(t, err)
	at := time.Date(2026, 11, 22, 23, 59, 59, 0, time.UTC)
	require.Equal(t, "logs-gateway-2026.11.22", n.Name(at))
	require.Equal(t, "logs-gateway-2026.11.23", n.Name(at.Add(time.Second)))
	require.Equal(t, "logs-gateway-2026.11.22", n.Name(at.In(time.FixedZone("x", 5*3600))), "UTC, whatever the zone")
	require.Equal(t, "logs-gateway-1969.12.31", n.Name(time.Unix(-1, 0)))
	h, err := NewIndexNamer("gw", "yyyy-MM-dd_HH")
	require.NoError(t, err)
	require.Equal(t, "gw-2026-11-22_23", h.Name(at))
	for _, bad := range []string{"", "YYYY", "yyyy/MM", "yy"} {
		_, err := DateLayout(bad)
		require.Error(t, err, bad)
	}
}

func TestDocID(t *testing.T) {
	require.Equal(t, "c0ffee-0-0", DocID(0xc0ffee, 0, nil))
	// CRC-32C check value of "123456789" (RFC 3720 B.4).
	require.Equal(t, "ffffffffffffffff-9223372036854775807-e3069283", DocID(^uint64(0), 1<<63-1, []byte("123456789")))
	require.LessOrEqual(t, len(DocID(^uint64(0), 1<<63-1, []byte("123456789"))), maxIDLen)
	require.NotEqual(t, DocID(1, 23, nil), DocID(12, 3, nil))
	require.NotEqual(t, DocID(1, 23, []byte("a")), DocID(1, 23, []byte("b")))
}

// FuzzAppendString checks that appendString always writes a JSON string
// that decodes to the input (invalid UTF-8 replaced by U+FFFD).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "\x00\x1f\x7f", "\u2028\u2029", "\xff\xfe", "é€😀",
		strings.Repeat(`{"a":"b\"c\\/d"},`, 30), strings.Repeat("\x01", 300), strings.Repeat("\xff\u2028", 100), "12345678\"12345678\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := appendString(nil, s)
		require.Equal(t, string(out), string(appendString([]byte("prefix"), s)[len("prefix"):]))
		var got string
		require.NoError(t, json.Unmarshal(out, &got), "%q", out)
		var want strings.Builder
		for i := 0; i < len(s); {
			r, n := utf8.DecodeRuneInString(s[i:])
			want.WriteRune(r) // RuneError for each invalid byte
			i += n
		}
		require.Equal(t, want.String(), got)
	})
}

// TestAppendTimestamp compares appendTimestamp with time's formatting of
// timestampLayout, years beyond four digits included.
func TestAppendTimestamp(t *testing.T) {
	for _, at := range []time.Time{
		time.Date(2026, 11, 22, 10, 11, 12, 345000000, time.FixedZone("CET", 3600)),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(-5, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(0, 0),
		time.Unix(1<<40, 123456789),
	} {
		require.Equal(t, at.UTC().Format(timestampLayout), string(appendTimestamp([]byte("x"), at)[1:]), "%v", at)
	}
}

// FuzzAppendTimestamp checks appendTimestamp against time's formatting.
func FuzzAppendTimestamp(f *testing.F) {
	f.Add(int64(1763806272), int64(345000000))
	f.Add(int64(-62135596800), int64(0))
	f.Add(int64(253402300800), int64(1))
	f.Fuzz(func(t *testing.T, sec, nsec int64) {
		at := time.Unix(sec, nsec)
		require.Equal(t, at.UTC().Format(timestampLayout), string(appendTimestamp(nil, at)))
	})
}

// FuzzIsIP holds isIP's IPv4 fast path to netip.ParseAddr.
func FuzzIsIP(f *testing.F) {
	for _, s := range []string{"", "1.2.3.4", "203.0.113.240", "255.255.255.255", "256.1.1.1", "01.2.3.4", "0.0.0.0",
		"1.2.3", "1.2.3.4.5", "1.2.3.", ".1.2.3", "1..2.3", "2001:db8::1", "::ffff:1.2.3.4", "fe80::1%eth0", "1.2.3.4%x",
		"unknown-host", "1234567", "10.0.3.17:8080", "999.999.999.999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, err := netip.ParseAddr(s)
		require.Equal(t, err == nil, isIP(s), "%q", s)
	})
}

// FuzzStampCache checks the cached @timestamp against appendTimestamp
// for a sequence of times, in and out of the cached second.
func FuzzStampCache(f *testing.F) {
	f.Add(int64(1763806272), int64(345000000), int64(1), int64(-1))
	f.Add(int64(253402300799), int64(999999999), int64(1), int64(1e9))
	f.Add(int64(-62135596801), int64(0), int64(5), int64(0))
	f.Fuzz(func(t *testing.T, sec, nsec, step, jump int64) {
		var c stampCache
		at := time.Unix(sec, nsec)
		for range 4 {
			require.Equal(t, string(appendTimestamp(nil, at)), string(c.append(nil, at)), "%v", at)
			at = at.Add(time.Duration(step))
			require.Equal(t, string(appendTimestamp(nil, at)), string(c.append(nil, at)), "%v", at)
			at = at.Add(time.Duration(jump))
		}
	})
}

// FuzzPipeAppendAction checks the pipe's cached create actions against
// appendAction with DocID, as the index and the file change between
// lines.
func FuzzPipeAppendAction(f *testing.F) {
	f.Add("logs-gateway-2026.11.22", "gatewatch-dlq", uint64(0xc0ffee), uint64(1), int64(0), int64(1234), []byte("GET /"))
	f.Add("a\"b", "a\"b", ^uint64(0), uint64(0), int64(1<<63-1), int64(-1), []byte{})
	f.Fuzz(func(t *testing.T, index1, index2 string, fp1, fp2 uint64, off1, off2 int64, line []byte) {
		var p pipe
		var dst []byte
		for _, c := range []struct {
			index string
			fp    uint64
			off   int64
		}{{index1, fp1, off1}, {index1, fp1, off2}, {index2, fp1, off1}, {index2, fp2, off2}, {index1, fp2, off1}, {index1, fp1, off1}} {
			mark := len(dst)
			var start, end int
			dst, start, end = p.appendAction(dst, c.index, c.fp, c.off, line)
			id := DocID(c.fp, c.off, line)
			require.Equal(t, string(appendAction(nil, c.index, id)), string(dst[mark:]))
			require.Equal(t, id, string(dst[start:end]))
		}
	})
}

// FuzzAppendDecimal checks appendDecimal against strconv.AppendInt.
func FuzzAppendDecimal(f *testing.F) {
	for _, v := range []int64{0, 9, 10, 99, 100, 867, 5355, 1 << 62, 1<<63 - 1, -1, -1 << 63} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v int64) {
		require.Equal(t, string(strconv.AppendInt([]byte("x"), v, 10)), string(appendDecimal([]byte("x"), v)))
	})
}
