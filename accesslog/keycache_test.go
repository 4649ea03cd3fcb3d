package accesslog

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// decodeResult is what a decoder made of a line: the event's copy, or the
// error.
type decodeResult struct {
	ev  Event
	err string
}

func decodeOnce(d Decoder, line []byte) decodeResult {
	var e Event
	if err := d.Decode(line, &e); err != nil {
		return decodeResult{err: err.Error()}
	}
	c := e.Clone()
	c.Raw = nil
	return decodeResult{ev: c}
}

// keyCacheLines are lines whose keys differ from the cached order in
// every way keyID must notice: another order, a missing or extra key, a
// key that is a prefix of the cached one, escapes, white space, a
// duplicate, truncation.
var keyCacheLines = map[string][]string{
	"envoy": {
		`{"start_time":"2024-05-02T10:11:12.345Z","method":"GET","path":"/a","response_code":200,"duration":3,"upstream_service_time":"2","user_agent":"curl","upstream_host":"10.0.0.1:80"}`,
		`{"start_time":"2024-05-02T10:11:12.345Z","method":"GET","path":"/a","response_code":200,"duration":3,"upstream_service_time":"2","user_agent":"curl","upstream_host":"10.0.0.1:80"}`,
		`{"method":"POST","start_time":"2024-05-02T10:11:12.345Z","path":"/b","response_code":201}`,
		`{"start_time":"2024-05-02T10:11:12.345Z","meth":"GET","method":"PUT","path":"/c","response_code":204}`,
		`{"start_time":"2024-05-02T10:11:12.345Z","meth\u006fd":"GET","path":"/d","response_code":200}`,
		`{"start_time":"2024-05-02T10:11:12.345Z","method" :"GET", "path":"/e" ,"response_code":200}`,
		`{ "start_time":"2024-05-02T10:11:12.345Z","method":"GET","path":"/f","response_code":200,"response_code":500}`,
		`{"start_time":"2024-05-02T10:11:12.345Z","method":"GET","path":"/g","response_code":200,"x\"y":1}`,
		`{"start_time":"2024-05-02T10:11:12.345Z","method":"GET","path":"/h","response_code":200,"x\"y":1}`,
		`{"start_time":"2024-05-02T10:11:12.345Z","method":"GET","path":"/i","response_code":200`,
		`{"start_time":"2024-05-02T10:11:12.345Z""method":"GET","path":"/j","response_code":200}`,
		`{"start_time":"2024-05-02T10:11:12.345Z","method":"GET","path":"/k","response_code":200,"":1}`,
		`{"start_time":"2024-05-02T10:11:12.345Z","method":"GET","path":"/l","response_code":200,"":1}`,
		`{"start_time":"2024-05-02T10:11:12.345Z","method":"GET","path":"/m","response_code":200,"path"}`,
		`{"start_time":"2024-05-02T10:11:12.345Z","method":"GET","path":"/n","response_code":200,"path`,
		`{"start_time":"2024-05-02T10:11:12.345Z","method":"GET","path":"/o","response_code":200,,"duration":1}`,
		// The first line's layout (its template) with values of other
		// kinds and escapes.
		`{"start_time":"2024-05-02T10:11:12.345Z","method":"G\u0045T","path":"\/a\/b","response_code":"200","duration":3.5,"upstream_service_time":null,"user_agent":{"a":[1]},"upstream_host":true}`,
		`{"start_time":null,"method":"get","path":"/a?x=\"y\"","response_code":-1,"duration":1e3,"upstream_service_time":"2.5","user_agent":"c\\u","upstream_host":false}`,
		`{"start_time":"2024-05-02T10:11:12.345Z","method":"GET","path":"/a","response_code":200,"duration":3,"upstream_service_time":"2","user_agent":"curl","upstream_host":"10.0.0.1:80"} `,
		`{"start_time":"2024-05-02T10:11:12.345Z","method":"GET","path":"/a","response_code":200,"duration":3,"upstream_service_time":"2","user_agent":"curl","upstream_host":"10.0.0.1:80"`,
		`{"start_time":"2024-05-02T10:11:12.345Z","method":"GET","path":"/a","response_code":200,"duration":3,"upstream_service_time":"2","user_agent":"curl","upstream_host":"10.0.0.1:80"}}`,
		`{"start_time":"2024-05-02T10:11:12.345Z","method":"GET","path":"/a","response_code":2000000000000000000000,"duration":-,"upstream_service_time":"2","user_agent":"curl","upstream_host":"10.0.0.1:80"}`,
	},
	"kong": {
		`{"request":{"method":"GET","uri":"\/a","size":1,"headers":{"host":"h","user-agent":"u"}},"response":{"status":200,"size":2},"latencies":{"request":3,"kong":1,"proxy":2},"tries":[{"ip":"10.0.0.1","port":80}],"route":{"name":"r"},"consumer":{"username":"c"},"client_ip":"203.0.113.1","started_at":1714644672123}`,
		`{"request":{"method":"GET","uri":"\/a","size":1,"headers":{"host":"h","user-agent":"u"}},"response":{"status":200,"size":2},"latencies":{"request":3,"kong":1,"proxy":2},"tries":[{"ip":"10.0.0.1","port":80}],"route":{"name":"r"},"consumer":{"username":"c"},"client_ip":"203.0.113.1","started_at":1714644672123}`,
		`{"request":{"uri":"\/b","method":"POST","headers":{"user-agent":"u","host":"h"}},"response":{"size":2,"status":201},"latencies":{"proxy":-1,"request":3},"tries":[{"port":80,"ip":"10.0.0.2"},{"ip":"10.0.0.3"}],"route":{"id":"x","name":"r2"},"client_ip":"203.0.113.2"}`,
		`{"request":{"method":"GET","uri":"\/c","headers":{"host":"h","user-agent":["u1","u2"]}},"response":{"status":200},"latencies":{"request":"x"},"route":{"name":"r"}}`,
		`{"request":{"method":"GET","uri":"\/d"},"response":{"status":200},"latencies":{"requests":3,"request":4},"service":{"nam\u0065":"s"}}`,
		`{"request":{"method":"GET","uri":"\/e"},"response":{"status":200},"consumer":{"custom_id":"c","username":"u"}}`,
		`{"request":{"method":"GET","uri":"\/f"},"response":{"status":200},"consumer":{"custom_id":"c","username":"u"}`,
		`{"request":{"method":"GET","uri" :"\/g","size":1},"response":{"status":200}}`,
		`{"request":{"method":"GET","uri"`,
		`{"request":{"method":"GET","uri":"\/h","size"}}`,
		`{"request":{"method":"GET","uri":"\/i","sizes":1},"response":{"status":200}}`,
		// The first line's layout (its template) with values of other
		// kinds, escapes, two tries, an array header.
		`{"request":{"method":"GET","uri":"\/a\/\u0062","size":"1","headers":{"host":"h","user-agent":["u1","u2"]}},"response":{"status":"200","size":2.5},"latencies":{"request":3.5,"kong":null,"proxy":"2"},"tries":[{"ip":"10.0.0.1","port":"80"}],"route":{"name":null},"consumer":{"username":"c"},"client_ip":"203.0.113.1","started_at":1714644672123}`,
		`{"request":{"method":"GET","uri":"\/a","size":1,"headers":{"host":"h","user-agent":"u"}},"response":{"status":200,"size":2},"latencies":{"request":3,"kong":1,"proxy":2},"tries":[{"ip":"10.0.0.1","port":80},{"ip":"10.0.0.2"}],"route":{"name":"r"},"consumer":{"username":"c"},"client_ip":"203.0.113.1","started_at":1714644672123}`,
		`{"request":"GET","response":{"status":200,"size":2},"latencies":{"request":3,"kong":1,"proxy":2},"tries":{"ip":"10.0.0.1"},"route":{"name":"r"},"consumer":{"username":"c"},"client_ip":"203.0.113.1","started_at":1714644672123}`,
		`{"request":{"method":"GET","uri":"\/a","size":1,"headers":{"host":"h","user-agent":"u"}},"response":{"status":200,"size":2},"latencies":{"request":3,"kong":1,"proxy":2},"tries":[{"ip":"10.0.0.1","port":80}],"route":{"name":"r"},"client_ip":"203.0.113.1","started_at":1714644672123}`,
		`{"request":{"method":"GET","uri":"\/a","size":1,"headers":{"host":"h","user-agent":"u"}},"response":{"status":200,"size":2},"latencies":{"request":3,"kong":1,"proxy":2},"tries":[{"ip":"10.0.0.1","port":80}],"route":{"name":"r"},"consumer":{"username":"c"},"client_ip":"203.0.113.1","started_at":1714644672123}`,
		`{"request":{"method":"GET","uri":"\/a","size":1,"headers":{"host":"h","user-agent":"u"}},"response":{"status":200,"size":2},"latencies":{"request":3,"kong":1,"proxy":2},"tries":[{"ip":"10.0.0.1","port":80}],"route":{"name":"r"},"consumer":{"username":"c"},"client_ip":"203.0.113.1","started_at":1714644672123,"x":{"y":[1,"}"]}}`,
	},
}

// TestKeyCacheSameResult: a decoder whose key cache was filled by other
// lines decodes every line exactly as a fresh decoder does.
func TestKeyCacheSameResult(t *testing.T) {
	for format, lines := range keyCacheLines {
		t.Run(format, func(t *testing.T) {
			warm, err := NewDecoder(format, nil)
			require.NoError(t, err)
			for round := range 3 {
				for i, l := range lines {
					fresh, err := NewDecoder(format, nil)
					require.NoError(t, err)
					want := decodeOnce(fresh, []byte(l))
					got := decodeOnce(warm, []byte(l))
					require.Equal(t, want, got, "round %d, line %d: %s", round, i, l)
				}
			}
		})
	}
}

// FuzzKeyCache: after any cached key order, a line decodes as on a fresh
// decoder.
func FuzzKeyCache(f *testing.F) {
	for format, lines := range keyCacheLines {
		for i, l := range lines {
			prev := lines[(i+len(lines)-1)%len(lines)]
			f.Add(format == "kong", []byte(prev), []byte(l))
		}
	}
	f.Fuzz(func(t *testing.T, kong bool, prev, line []byte) {
		newDec := func() Decoder { return NewEnvoy(nil) }
		if kong {
			newDec = func() Decoder { return NewKong() }
		}
		warm := newDec()
		decodeOnce(warm, prev)
		decodeOnce(warm, line) // learn line's own order, too
		want := decodeOnce(newDec(), line)
		require.Equal(t, want, decodeOnce(warm, line))
		// And into an Event that holds prev's fields.
		var shared Event
		_ = warm.Decode(prev, &shared)
		if err := warm.Decode(line, &shared); err == nil {
			got := shared.Clone()
			got.Raw = nil
			require.Equal(t, want, decodeResult{ev: got})
		}
	})
}

// FuzzTimeCache: a timestamp parses the same with a time cache filled by
// another one (or by itself) as without; and as time.Parse reads it.
func FuzzTimeCache(f *testing.F) {
	for _, p := range [][2]string{
		{"2024-05-02T10:11:12.345Z", "2024-05-02T10:11:12.999Z"},
		{"2024-05-02T10:11:12.345Z", "2024-05-02T10:11:12+02:00"},
		{"2024-05-02T10:11:12Z", "2024-05-02T10:11:12"},
		{"2024-02-31T23:59:60.5-0130", "2024-02-31T23:59:60.5-0130"},
		{"2024-05-02T10:11:12.345Z", "2024-05-02T10:11:13.345Z"},
		{"2024-05-02 10:11:12,5z", "2024-05-02 10:11:12x"},
	} {
		f.Add(p[0], p[1])
	}
	loc := time.FixedZone("X", 3600)
	f.Fuzz(func(t *testing.T, prev, s string) {
		var c timeCache
		parseRFC3339Cached(prev, loc, &c)
		want, wantOK := parseRFC3339(s, loc)
		for range 2 { // after prev, then after s itself
			got, ok := parseRFC3339Cached(s, loc, &c)
			require.Equal(t, wantOK, ok)
			require.Equal(t, want, got)
		}
		if tp, err := time.Parse(time.RFC3339Nano, s); err == nil && wantOK {
			require.True(t, tp.Equal(want), "%s: %v, time.Parse %v", s, want, tp)
		}
	})
}

// FuzzStrVal: strVal's word-at-a-time fast path reads a string value
// exactly as str does.
func FuzzStrVal(f *testing.F) {
	for _, s := range []string{`"GET"`, `"a\"b"`, `"12345678"x`, `"1234567"`, `"abc\\d","e"`, `"-","x":1`, `"` + "\xff\x00" + `"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 || in[0] != '"' {
			return
		}
		var sa, sb []byte
		var a, b jsonScanner
		a.reset(in, &sa)
		b.reset(in, &sb)
		want, wantErr := b.str()
		got, ok, err := a.strVal()
		require.Equal(t, wantErr == nil, err == nil)
		if err == nil {
			require.True(t, ok)
			require.Equal(t, want, got)
			require.Equal(t, b.pos, a.pos)
		}
	})
}

// FuzzUnescapeSimple: a string with escapes reads the same through
// unescapeSimple's fast path (\/, \\, \" only, 8 bytes at a time) as
// through the general loop.
func FuzzUnescapeSimple(f *testing.F) {
	for _, s := range []string{`"\/v1\/users\/42?x=1"`, `"a\\b\"c"`, `"\/"`, `"0123456789\/abcdefgh\/"`, `"x\u00e9\/"`, `"\/` + "\xff" + `"`, `"\/unterminated`} {
		f.Add([]byte(s), 0)
		f.Add([]byte(s), 40)
	}
	f.Fuzz(func(t *testing.T, in []byte, room int) {
		if len(in) == 0 || in[0] != '"' || room < 0 || room > 1<<10 {
			return
		}
		i := indexQuoteOrBackslash(in[1:])
		if i < 0 || in[1+i] != '\\' {
			return
		}
		// The fast path needs room in the scratch buffer; try with and
		// without.
		fast := make([]byte, 0, room)
		general := []byte(nil)
		var a, b jsonScanner
		a.reset(in, &fast)
		b.reset(in, &general)
		a.pos, b.pos = 1, 1
		want, wantErr := b.strEscapedAny(1, 1+i)
		got, err := a.strEscaped(1, 1+i)
		require.Equal(t, wantErr == nil, err == nil, "%q", in)
		if err == nil {
			require.Equal(t, want, got)
			require.Equal(t, b.pos, a.pos)
		}
	})
}

// TestReusedEvent: decoding into an Event that held other lines (as the
// sidecar does) gives what decoding into a new one gives, error lines
// between them included.
func TestReusedEvent(t *testing.T) {
	// Lines with only the required fields, after full ones.
	minimal := map[string]string{
		"envoy": `{"method":"GET","path":"/m","response_code":200}`,
		"kong":  `{"request":{"method":"GET","uri":"/m"},"response":{"status":200}}`,
	}
	for format, lines := range keyCacheLines {
		lines = append(slices.Clone(lines), minimal[format], lines[0], minimal[format])
		for _, extra := range []map[string]string{nil, {"x": "x", "ua": "user_agent"}} {
			t.Run(fmt.Sprintf("%s, %d extra fields", format, len(extra)), func(t *testing.T) {
				testReusedEvent(t, format, extra, lines)
			})
		}
	}
}

func testReusedEvent(t *testing.T, format string, extra map[string]string, lines []string) {
	var opts []Option
	if extra != nil {
		opts = append(opts, WithExtra(extra))
	}
	d, err := NewDecoder(format, nil, opts...)
	require.NoError(t, err)
	fresh, err := NewDecoder(format, nil, opts...)
	require.NoError(t, err)
	var e Event
	for round := range 2 {
		for i, l := range lines {
			var want Event
			wantErr := fresh.Decode([]byte(l), &want)
			gotErr := d.Decode([]byte(l), &e)
			require.Equal(t, wantErr, gotErr, "round %d, line %d", round, i)
			if wantErr == nil {
				require.Equal(t, want.Clone(), e.Clone(), "round %d, line %d: %s", round, i, l)
			}
		}
	}
}
