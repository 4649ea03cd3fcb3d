package accesslog

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// FuzzJSONString checks the scanner's string unescaping against
// encoding/json on every valid JSON string with valid UTF-8 (encoding/json
// replaces invalid UTF-8, the scanner passes it through).
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{`"plain"`, `"a\"b\\c\/d"`, `"\u00e9\ud83d\ude00"`, `"\ud800x"`, `"\b\f\n\r\t"`, `"\udc00\ud800"`, `""`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var want string
		if !utf8.Valid(in) || json.Unmarshal(in, &want) != nil || len(in) == 0 || in[0] != '"' {
			return
		}
		var scratch []byte
		s := jsonScanner{}
		s.reset(in, &scratch)
		got, err := s.str()
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if got != want {
			t.Fatalf("%q: got %q, want %q", in, got, want)
		}
		end := s.pos
		if s.end() != nil {
			t.Fatalf("%q: string not fully consumed", in)
		}
		// skipString must end at the same place (json.Unmarshal allows
		// white space after the string).
		s.reset(in, &scratch)
		if _, err := s.skipString(); err != nil || s.pos != end {
			t.Fatalf("%q: skipString stopped at %d, want %d: %v", in, s.pos, end, err)
		}
	})
}

// FuzzUnquoteGo checks the gin path unquoting against strconv.Unquote.
func FuzzUnquoteGo(f *testing.F) {
	for _, s := range []string{`"/v1/x"`, `"/a\"b\\c\x00\xff\u2028\U0001F600"`, "`raw`", `"\q"`, `"é"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		want, werr := strconv.Unquote(in)
		var scratch []byte
		got, ok := unquoteGo(in, &scratch)
		// Raw invalid UTF-8 (never written by gin, which escapes it) is
		// passed through rather than replaced by U+FFFD.
		// Rune literals ('x') are not paths.
		if werr == nil && utf8.ValidString(in) && in[0] != '\'' {
			if !ok || got != want {
				t.Fatalf("%q: got %q ok=%v, want %q", in, got, ok, want)
			}
		}
	})
}

// FuzzParseRFC3339 checks the allocation-free parser against time.Parse
// for the layouts both accept.
func FuzzParseRFC3339(f *testing.F) {
	for _, s := range []string{"2024-05-02T10:11:12Z", "2024-05-02T10:11:12.345678901+02:00", "2024-05-02T10:11:12.3-07:30", "2024-02-30T10:11:12Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		want, err := time.Parse(time.RFC3339Nano, in)
		got, ok := parseRFC3339(in, time.UTC)
		// time.Parse also takes one-digit hours; we want the fixed
		// two-digit fields that the gateways write.
		fixed := len(in) >= 20 && in[10] == 'T' && in[13] == ':' && in[16] == ':'
		// time.Parse also takes zone offsets up to +24:00 and minutes of
		// 60; RFC 3339 (time-numoffset) does not, and neither do we.
		rfcOffset := true
		if n := len(in); n >= 6 && (in[n-6] == '+' || in[n-6] == '-') {
			rfcOffset = in[n-5:n-3] <= "23" && in[n-2:] <= "59"
		}
		if err == nil && fixed && rfcOffset && want.Year() >= 0 && want.Year() <= 9999 {
			if !ok || !got.Equal(want) {
				t.Fatalf("%q: got %v ok=%v, want %v", in, got, ok, want)
			}
		}
	})
}

func TestParseRFC3339(t *testing.T) {
	loc := time.FixedZone("X", 3600)
	for _, tc := range []struct {
		in   string
		want string // RFC 3339 in UTC; "" = rejected
	}{
		{"2024-05-02T10:11:12Z", "2024-05-02T10:11:12Z"},
		{"2024-05-02T10:11:12.345Z", "2024-05-02T10:11:12.345Z"},
		{"2024-05-02T10:11:12.1234567891Z", "2024-05-02T10:11:12.123456789Z"},
		{"2024-05-02T12:11:12+02:00", "2024-05-02T10:11:12Z"},
		{"2024-05-02T08:41:12-0130", "2024-05-02T10:11:12Z"},
		{"2024-05-02 11:11:12", "2024-05-02T10:11:12Z"}, // zone-less, read in loc (+01:00)
		{"2024-05-02T10:11:12.Z", ""},
		{"2024-05-02T10:11:12+2:00", ""},
		{"2024-13-02T10:11:12Z", ""},
		{"2024-05-02T10:11", ""},
		{"2024-05-02T10:11:12 Z", ""},
		{"2024-05-02T10:11:12+00:60", ""}, // time.Parse takes these two; RFC 3339 does not
		{"2024-05-02T10:11:12+24:00", ""},
	} {
		got, ok := parseRFC3339(tc.in, loc)
		if tc.want == "" {
			require.False(t, ok, tc.in)
			continue
		}
		require.True(t, ok, tc.in)
		want, err := time.Parse(time.RFC3339Nano, tc.want)
		require.NoError(t, err)
		require.True(t, want.Equal(got), "%s: got %v", tc.in, got)
	}
}

func TestHostOnly(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.9":         "203.0.113.9",
		"203.0.113.9:5123":    "203.0.113.9",
		"[2001:db8::1]:443":   "2001:db8::1",
		"2001:db8::1":         "2001:db8::1",
		"  10.0.0.1 ":         "10.0.0.1",
		"-":                   "",
		"":                    "",
		"[broken":             "[broken",
		"client.example:8080": "client.example",
	} {
		require.Equal(t, want, hostOnly(in), in)
	}
	require.Equal(t, "203.0.113.9", firstXFF("203.0.113.9:1, 10.0.0.1"))
}

func TestUpperMethodNoCopy(t *testing.T) {
	var scratch []byte
	require.Equal(t, "GET", upperMethod("GET", &scratch))
	require.Empty(t, scratch, "an upper-case method must not be copied")
	require.Equal(t, "PATCH", upperMethod("pAtch", &scratch))
	require.Equal(t, "", upperMethod("-", &scratch))
}

func TestSkipDepthLimit(t *testing.T) {
	deep := make([]byte, 0, 2*maxDepth+10)
	for range maxDepth + 1 {
		deep = append(deep, '[')
	}
	for range maxDepth + 1 {
		deep = append(deep, ']')
	}
	var scratch []byte
	s := jsonScanner{}
	s.reset(deep, &scratch)
	require.Error(t, s.skip())
	s.reset(deep[1:len(deep)-1], &scratch)
	require.NoError(t, s.skip())
	require.NoError(t, s.end())
	s.reset([]byte(`[{]}`), &scratch)
	require.Error(t, s.skip())
}

// FuzzIndexQuote checks the word-at-a-time searches against a plain loop.
func FuzzIndexQuote(f *testing.F) {
	for _, s := range []string{"", `"`, `abcdefgh"`, `abcdefghijklmno\p"`, `\`, "\x22\x5c\xa2\xdc\x00\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		wantQB, wantQ := -1, -1
		for i, c := range b {
			if wantQB < 0 && (c == '"' || c == '\\') {
				wantQB = i
			}
			if wantQ < 0 && c == '"' {
				wantQ = i
			}
		}
		if got := indexQuoteOrBackslash(b); got != wantQB {
			t.Fatalf("indexQuoteOrBackslash(%q) = %d, want %d", b, got, wantQB)
		}
		if got := indexQuote(b); got != wantQ {
			t.Fatalf("indexQuote(%q) = %d, want %d", b, got, wantQ)
		}
	})
}

func TestIntVal(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    int64
		ok, err bool
	}{
		{in: "0", want: 0, ok: true},
		{in: "-0", want: 0, ok: true},
		{in: "123,", want: 123, ok: true},
		{in: "-1}", want: -1, ok: true},
		{in: "999999999999999999", want: 999999999999999999, ok: true},
		{in: "1234567890123456789", want: 1234567890123456789, ok: true},
		{in: "1.9", want: 1, ok: true},
		{in: "1e3", want: 1000, ok: true},
		{in: `"42"`, want: 42, ok: true},
		{in: `" 7 "`, want: 7, ok: true},
		{in: `"-"`},
		{in: "null"},
		{in: "{}"},
		{in: "--1", err: true},
		{in: "1-2", err: true},
		{in: "99999999999999999999999", err: true},
	} {
		var scratch []byte
		s := jsonScanner{}
		s.reset([]byte(tc.in), &scratch)
		n, ok, err := s.intVal()
		require.Equal(t, tc.err, err != nil, "%s: %v", tc.in, err)
		require.Equal(t, tc.ok, ok, tc.in)
		require.Equal(t, tc.want, n, tc.in)
	}
}
