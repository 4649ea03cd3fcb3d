package accesslog

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog/loggen"
	"github.com/gatewatch/gatewatch/internal/jsonstr"
)

func TestRedactLine(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"clean line unchanged",
			`{"request":{"method":"GET","uri":"/v1/users/42?expand=true"}}`,
			`{"request":{"method":"GET","uri":"/v1/users/42?expand=true"}}`},
		{"kong headers",
			`{"request":{"headers":{"host":"api","Authorization":"Bearer abc.def","x-api-key":"k-123","cookie":"sid=1; t=2"}}}`,
			`{"request":{"headers":{"host":"api","Authorization":"REDACTED","x-api-key":"REDACTED","cookie":"REDACTED"}}}`},
		{"repeated header as array",
			`{"response":{"headers":{"set-cookie":["a=1","b=\"2\""],"vary":"x"}}}`,
			`{"response":{"headers":{"set-cookie":"REDACTED","vary":"x"}}}`},
		{"spaces around colon and escaped quote in value",
			`{"password" : "p\"w", "user":"bob"}`,
			`{"password" : "REDACTED", "user":"bob"}`},
		{"number value",
			`{"querystring":{"token":12345,"page":2}}`,
			`{"querystring":{"token":"REDACTED","page":2}}`},
		{"query parameters anywhere",
			`{"path":"/v1/x?token=abc&page=2&access_token=zz#frag"}`,
			`{"path":"/v1/x?token=REDACTED&page=2&access_token=REDACTED#frag"}`},
		{"query parameter with JSON-escaped ampersand",
			`{"uri":"/a?b=1\u0026api_key=s3cr3t"}`,
			`{"uri":"/a?b=1\u0026api_key=REDACTED"}`},
		{"gin text line",
			`[GIN] 2024/05/02 - 10:11:12 | 200 |    3.1ms |     203.0.113.9 | GET      "/v1/users/42?Token=abc&x=1"`,
			`[GIN] 2024/05/02 - 10:11:12 | 200 |    3.1ms |     203.0.113.9 | GET      "/v1/users/42?Token=REDACTED&x=1"`},
		{"header text",
			`upstream said Authorization: Bearer eyJhbGci.x.y`,
			`upstream said Authorization: REDACTED`},
		{"header text inside a JSON string",
			`{"msg":"sent Cookie: a=b; c=d","level":"info"}`,
			`{"msg":"sent Cookie: REDACTED","level":"info"}`},
		{"JSON inside a JSON string (CRI/docker envelope)",
			`{"log":"{\"authorization\":\"Basic dXNlcjpwYXNz\",\"status\":200}\n","stream":"stdout"}`,
			`{"log":"{\"authorization\":\"REDACTED\",\"status\":200}\n","stream":"stdout"}`},
		{"longer words are not names",
			`{"tokenizer":"x","my_token":"y","secretary":"z","path":"/tokens?tokens=1"}`,
			`{"tokenizer":"x","my_token":"y","secretary":"z","path":"/tokens?tokens=1"}`},
		{"already redacted stays the same",
			`{"authorization":"REDACTED"}`,
			`{"authorization":"REDACTED"}`},
		{"null is kept",
			`{"authorization":null}`,
			`{"authorization":null}`},
		{"cut line",
			`{"authorization":"Bearer abc`,
			`{"authorization":"REDACTED`},
	}
	r := NewRedactor(DefaultRedactNames)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := r.redactLine([]byte(tc.in))
			require.Equal(t, tc.want, string(got))
		})
	}
}

func TestRedactConfiguredNames(t *testing.T) {
	r := NewRedactor([]string{" X-Session ", "pin"})
	got := r.redactLine([]byte(`{"x-session":"abc","authorization":"keep","q":"/a?PIN=1234"}`))
	require.Equal(t, `{"x-session":"REDACTED","authorization":"keep","q":"/a?PIN=REDACTED"}`, string(got))
}

// TestRedactByOrigin: an extra field is judged by where its value comes
// from, not only by its own name.
func TestRedactByOrigin(t *testing.T) {
	r := NewRedactor(DefaultRedactNames, map[string]string{
		"who": "request.headers.authorization", "jar": "request.headers.cookie",
		"t": "request.querystring.to%6Ben", "variant": "request.headers.x-ab-variant",
	})
	ev := &Event{Fields: map[string]string{"who": "Bearer s3cr3t", "jar": "sid=1", "t": "abc", "variant": "B"}}
	r.RedactFields(ev)
	require.Equal(t, map[string]string{"who": Redacted, "jar": Redacted, "t": Redacted, "variant": "B"}, ev.Fields)
}

// TestRedactQueryEncodings: url.query and the line redact the same
// parameters, after ';' too and with percent-encoded names.
func TestRedactQueryEncodings(t *testing.T) {
	r := NewRedactor(DefaultRedactNames)
	for _, tc := range []struct{ in, want string }{
		{"a=1;token=s3cr3t;b=2", "a=1;token=REDACTED;b=2"},
		{"to%6Ben=s3cr3t&page=2", "to%6Ben=REDACTED&page=2"},
		{"api%5Fkey=s3cr3t", "api%5Fkey=REDACTED"},
		{"API%5fKEY=s3cr3t;x=%zz", "API%5fKEY=REDACTED;x=%zz"},
		{"a=%6B&to%6=x", "a=%6B&to%6=x"}, // a malformed escape is no name
		{"page=2&sort=asc", "page=2&sort=asc"},
	} {
		ev := &Event{Query: tc.in, Raw: []byte(`{"uri":"/p?` + tc.in + `"}`)}
		r.redact(ev)
		require.Equal(t, tc.want, ev.Query, "url.query of %s", tc.in)
		require.Equal(t, `{"uri":"/p?`+tc.want+`"}`, string(ev.Raw), "line of %s", tc.in)
	}
}

func TestRedactEvent(t *testing.T) {
	r := NewRedactor(DefaultRedactNames)
	ev := &Event{
		Query:  "a=1&token=abc&b=&api_key=k",
		Fields: map[string]string{"request.headers.authorization": "Bearer x", "consumer": "mobile"},
		Raw:    []byte(`{"uri":"/p?a=1&token=abc","request":{"headers":{"authorization":"Bearer x"}}}`),
	}
	r.redact(ev)
	require.Equal(t, "a=1&token=REDACTED&b=&api_key=REDACTED", ev.Query)
	require.Equal(t, map[string]string{"request.headers.authorization": Redacted, "consumer": "mobile"}, ev.Fields)
	require.Equal(t, `{"uri":"/p?a=1&token=REDACTED","request":{"headers":{"authorization":"REDACTED"}}}`, string(ev.Raw))

	clean := &Event{Query: "page=2", Raw: []byte("GET /x 200")}
	raw := clean.Raw
	r.redact(clean)
	require.Equal(t, "page=2", clean.Query)
	require.Same(t, &raw[0], &clean.Raw[0], "a clean line must not be copied")
}

// FuzzRedactLine checks that redaction never panics, that valid JSON stays
// valid JSON, and that a secret planted under a sensitive key never
// survives.
func FuzzRedactLine(f *testing.F) {
	for _, s := range []string{
		`{"request":{"headers":{"authorization":"Bearer abc"}}}`,
		`{"set-cookie":["a","b"],"x":{"token":{"a":[1,2]}}}`,
		`{"log":"{\"token\":\"x\"}"}`,
		`GET /a?token=1&b=2 Authorization: Basic x`,
		`{"a":"\u0026token=zz"}`,
		`{"uri":"/a?to%6Ben=s3cr3t;api%5Fkey=k&x=%zz"}`,
		`GET /a;b?API%5fKEY=1%`,
		`"token":`,
		`token`,
		`{"token" :`,
	} {
		f.Add(s)
	}
	r := NewRedactor(DefaultRedactNames)
	f.Fuzz(func(t *testing.T, s string) {
		out := r.redactLine([]byte(s))
		if json.Valid([]byte(s)) && !json.Valid(out) {
			t.Fatalf("valid JSON became invalid:\n in: %s\nout: %s", s, out)
		}
		planted, err := json.Marshal(map[string]any{"x": s, "password": "SECRET-VALUE-42"})
		require.NoError(t, err)
		out = r.redactLine(planted)
		if strings.Contains(string(out), "SECRET-VALUE-42") {
			t.Fatalf("secret survived: %s", out)
		}
		require.True(t, json.Valid(out), "%s", out)
	})
}

// BenchmarkRedactLine compares redactLine with the word-by-word
// reference scan, on a short clean Kong line and on a full loggen Kong
// line (which holds "authorization":"REDACTED").
func BenchmarkRedactLine(b *testing.B) {
	short := []byte(`{"request":{"id":"7f3c1a9e2b4d","method":"GET","uri":"/v1/users/42?expand=true","headers":{"host":"api.example.com","user-agent":"curl/8.5.0","accept":"*/*"},"size":118},"response":{"status":200,"size":734},"latencies":{"kong":2,"proxy":37,"request":40},"client_ip":"203.0.113.9","started_at":1714644672123}`)
	kong := loggen.Line("kong", rand.New(rand.NewPCG(1, 2)), loggen.Request{})
	for _, c := range []struct {
		name string
		line []byte
	}{{"short", short}, {"kong", kong}} {
		r := NewRedactor(DefaultRedactNames)
		b.Run(c.name+"/anchors", func(b *testing.B) {
			b.SetBytes(int64(len(c.line)))
			for b.Loop() {
				r.redactLine(c.line)
			}
		})
		b.Run(c.name+"/words", func(b *testing.B) {
			b.SetBytes(int64(len(c.line)))
			for b.Loop() {
				referenceRedactLine(r, c.line)
			}
		})
	}
}

// referenceRedactLine is the word-by-word scan redactLine used before it
// searched for anchor bytes: every word of the line is compared with the
// names. The two must agree on every line.
func referenceRedactLine(r *Redactor, line []byte) []byte {
	r.spans = r.spans[:0]
	for i := 0; i < len(line); {
		if !nameByte[line[i]] {
			i++
			continue
		}
		j := i + 1
		for j < len(line) && nameByte[line[j]] {
			j++
		}
		w := i
		if j-i > 5 && i > 0 && line[i-1] == '\\' && (line[i] == 'u' || line[i] == 'U') && string(line[i+1:i+5]) == "0026" {
			w = i + 5
		}
		if j-w < 64 && r.isName(line[w:j]) {
			r.match(line, w, j)
		}
		i = j
	}
	if len(r.spans) == 0 {
		return line
	}
	slices.SortStableFunc(r.spans, func(a, b span) int { return a.start - b.start })
	return r.appendRedacted(nil, line, nil)
}

var redactSamples = []string{
	`{"request":{"headers":{"authorization":"Bearer abc"}}}`,
	`{"set-cookie":["a","b"],"x":{"token":{"a":[1,2]}}}`,
	`{"log":"{\"token\":\"x\"}"}`,
	`GET /a?token=1&b=2 Authorization: Basic x`,
	`{"a":"\u0026token=zz"}`,
	`{"a":"x\u0026token=zz\U0026Api_Key=1;secret=2"}`,
	`"token":`,
	`token`,
	`{"token" :`,
	`{"Proxy-Authorization":"Basic x","authorization":"y","TOKEN":1,"access_token":[{"a":"]"}],"my_token":"k","tokenizer":2}`,
	`Cookie: a=b; c=d Set-Cookie: e=f PASSWORD: x`,
	`{"k":"\"password\":\"x\"","x-api-key":"s","apikey":"t","api_key":"u"}`,
}

// TestRedactLineMatchesWordScan compares redactLine with the word-by-word
// reference on the samples, every line loggen writes and their upper-case
// versions.
func TestRedactLineMatchesWordScan(t *testing.T) {
	r := NewRedactor(DefaultRedactNames)
	ref := NewRedactor(DefaultRedactNames)
	var lines []string
	lines = append(lines, redactSamples...)
	for _, s := range redactSamples {
		lines = append(lines, strings.ToUpper(s))
	}
	for _, l := range lines {
		want := string(referenceRedactLine(ref, []byte(l)))
		require.Equal(t, want, string(r.redactLine([]byte(l))), "%s", l)
		require.Equal(t, `"`+want+`"`, string(r.appendLine([]byte(`"`), []byte(l), nil))+`"`, "%s", l)
	}
}

// TestAppendLineEscapes checks that appendLine passes the text and the
// replacements through appendText.
func TestAppendLineEscapes(t *testing.T) {
	r := NewRedactor(DefaultRedactNames)
	upper := func(dst, b []byte) []byte { return append(dst, bytes.ToUpper(b)...) }
	require.Equal(t, `>{"A":1,"TOKEN":"REDACTED"}`, string(r.appendLine([]byte(">"), []byte(`{"a":1,"token":"s"}`), upper)))
	require.Equal(t, `>{"A":1}`, string(r.appendLine([]byte(">"), []byte(`{"a":1}`), upper)))
}

// manyAnchors returns name with names anchored on more than four bytes.
func manyAnchors(name string) []string {
	return []string{name, "token", "quux", "jam", "vex", "bzz", "why", "fog", "pi-g", "x_1"}
}

// TestRedactManyAnchors runs the samples and their upper-case forms with
// names on more than four anchor bytes (digits, '-' and '_' among them)
// against the word-by-word reference.
func TestRedactManyAnchors(t *testing.T) {
	names := manyAnchors("Authorization")
	r, ref := NewRedactor(names), NewRedactor(names)
	require.Greater(t, len(r.anchors), 4)
	lines := append([]string{`{"quux":"a","JAM":1,"x":"?vex=2&Why=3","Pi-G: x","x_1":[1]}`, "bzz=1\r-\x7f_"}, redactSamples...)
	for _, l := range lines {
		for _, l := range []string{l, strings.ToUpper(l)} {
			require.Equal(t, string(referenceRedactLine(ref, []byte(l))), string(r.redactLine([]byte(l))), "%s", l)
		}
	}
}

// FuzzRedactLineMatchesWordScan checks redactLine against the word-by-word
// reference, with the default names, with names of the fuzzer's choosing,
// and with names on more than four anchor bytes.
func FuzzRedactLineMatchesWordScan(f *testing.F) {
	for _, s := range redactSamples {
		f.Add(s, "x-trace")
	}
	f.Add(`{"a.b":"x","u0026k":"y","\u0026u0026k=z"}`, "u0026k")
	f.Fuzz(func(t *testing.T, s, name string) {
		for _, names := range [][]string{DefaultRedactNames, {name, "token"}, manyAnchors(name)} {
			r, ref := NewRedactor(names), NewRedactor(names)
			want := string(referenceRedactLine(ref, []byte(s)))
			require.Equal(t, want, string(r.redactLine([]byte(s))))
		}
	})
}

// FuzzScanLayoutMatchesScan decodes each line (twice: the second time
// through its template) with the Envoy and Kong decoders and checks that
// scanLayout, looking at the values only where the layout allows, finds
// what the whole-line scan finds, with the default names, names of the
// fuzzer's choosing and names on many anchor bytes; and that
// AppendRedactedJSONString, through the layout or without the Event,
// appends that redacted line escaped as the byte-by-byte reference does.
func FuzzScanLayoutMatchesScan(f *testing.F) {
	rnd := rand.New(rand.NewPCG(5, 6))
	for _, format := range []string{"envoy", "kong"} {
		f.Add(loggen.Line(format, rnd, loggen.Request{Path: "/v1/x", Query: "token=abc&page=2"}), "x-trace")
		f.Add(loggen.Line(format, rnd, loggen.Request{UserAgent: "Authorization: Bearer abc", Query: "a=1&API_KEY=z"}), "quux")
	}
	f.Add([]byte(`{"request":{"method":"GET","uri":"/x?Secret=1","headers":{"host":"h","authorization":"Bearer x"}},"response":{"status":200},"started_at":1714644672000}`), "host")
	f.Add([]byte(`{"method":"GET","path":"/x","response_code":200,"start_time":"2024-05-02T10:11:12Z","a":{"token":"s","b":[1,"cookie: c"]},"c":"\u0026token=x"}`), "b")
	f.Add([]byte(`{"start_time":"2024-05-02T10:11:12Z","method":"GET","path":"/a","quux":"v","x_1":"?jam=1"}`), "x_1")
	envoy, kong := NewEnvoy(nil), NewKong()
	f.Fuzz(func(t *testing.T, line []byte, name string) {
		for _, names := range [][]string{DefaultRedactNames, {name, "token"}, manyAnchors(name)} {
			r, ref := NewRedactor(names), NewRedactor(names)
			want := string(ref.redactLine(line))
			wantJSON := `"` + string(jsonstr.AppendReference(nil, want)) + `"`
			require.Equal(t, wantJSON, string(r.AppendRedactedJSONString(nil, line, nil)), "%q", line)
			for _, dec := range []Decoder{envoy, kong} {
				for range 2 {
					var ev Event
					ev.Reset()
					if dec.Decode(line, &ev) != nil {
						continue
					}
					got := string(line)
					var esc valueSet
					if r.scanLayout(line, &ev.layout, &esc) {
						got = string(r.appendScanned(nil, line, nil))
					}
					require.Equal(t, want, got, "%q", line)
					checkEscapeSet(t, &ev.layout, &esc)
					require.Equal(t, wantJSON, string(r.AppendRedactedJSONString([]byte{}, line, &ev)), "%q", line)
				}
			}
		}
	})
}

// checkEscapeSet checks that the values scanLayout left out of esc need
// no escaping in a JSON string, but for a string's own quotes.
func checkEscapeSet(t *testing.T, l *lineLayout, esc *valueSet) {
	for k := range l.values() {
		v := l.value(k)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		plain := !slices.ContainsFunc(v, func(c byte) bool { return c < 0x20 || c == '"' || c == '\\' || c >= 0x80 })
		require.True(t, plain || esc.has(k), "value %d %q needs escaping but is not in the set", k, v)
	}
}

// TestScanLayoutUsesValues checks that scanLayout takes the values-only
// path for lines whose keys hold no name, and still finds the names in
// their values, and the whole-line path for a layout with a sensitive key.
func TestScanLayoutUsesValues(t *testing.T) {
	r := NewRedactor(DefaultRedactNames)
	d := NewEnvoy(nil)
	line := []byte(`{"start_time":"2024-05-02T10:11:12Z","method":"GET","path":"/a?token=s3cr3t&b=1","response_code":200,"ua":"x"}`)
	for range 2 {
		var ev Event
		require.NoError(t, d.Decode(line, &ev))
		require.NotZero(t, ev.layout.id())
		var esc valueSet
		require.True(t, r.scanLayout(line, &ev.layout, &esc))
		require.Equal(t, valueSet{}, esc)
		require.Equal(t, `{"start_time":"2024-05-02T10:11:12Z","method":"GET","path":"/a?token=REDACTED&b=1","response_code":200,"ua":"x"}`, string(r.appendScanned(nil, line, nil)))
		require.False(t, r.layoutHoldsName(&ev.layout))
	}
	escaped := []byte(`{"start_time":"2024-05-02T10:11:12Z","method":"GET","path":"/a\\/é","response_code":200,"ua":{"x":1}}`)
	var ev Event
	require.NoError(t, d.Decode(escaped, &ev))
	var esc valueSet
	require.False(t, r.scanLayout(escaped, &ev.layout, &esc))
	require.Equal(t, []bool{false, false, true, false, true}, []bool{esc.has(0), esc.has(1), esc.has(2), esc.has(3), esc.has(4)})
	keyed := []byte(`{"start_time":"2024-05-02T10:11:12Z","method":"GET","path":"/a","response_code":200,"authorization":"Bearer x"}`)
	ev = Event{}
	require.NoError(t, d.Decode(keyed, &ev))
	require.True(t, r.layoutHoldsName(&ev.layout))
	require.True(t, r.scanLayout(keyed, &ev.layout, &esc))
	require.True(t, esc.has(0) && esc.has(3))
	require.Equal(t, `{"start_time":"2024-05-02T10:11:12Z","method":"GET","path":"/a","response_code":200,"authorization":"REDACTED"}`, string(r.appendScanned(nil, keyed, nil)))
}

// FuzzRedactQuery checks url.query redaction against a simple reference:
// every parameter (split on '&' and ';') whose percent-decoded name is
// sensitive has the value REDACTED, every other parameter is unchanged,
// and the separators stay where they were.
func FuzzRedactQuery(f *testing.F) {
	for _, q := range []string{"a=1&token=s3cr3t", "a=1;to%6Ben=x;b", "api%5Fkey=1&&=&%zz=2", "TOKEN=a=b;x=%"} {
		f.Add(q)
	}
	r := NewRedactor(DefaultRedactNames)
	f.Fuzz(func(t *testing.T, q string) {
		ev := &Event{Query: q}
		r.RedactFields(ev)
		got := strings.FieldsFunc(ev.Query, func(c rune) bool { return c == '&' || c == ';' })
		want := strings.FieldsFunc(q, func(c rune) bool { return c == '&' || c == ';' })
		require.Equal(t, len(want), len(got), "%q -> %q", q, ev.Query)
		for i, part := range want {
			name, _, hasValue := strings.Cut(part, "=")
			decoded, ok := percentDecode([]byte(name))
			if hasValue && ok && r.isName(decoded) {
				require.Equal(t, name+"="+Redacted, got[i], "%q -> %q", q, ev.Query)
			} else {
				require.Equal(t, part, got[i], "%q -> %q", q, ev.Query)
			}
		}
	})
}

// TestAppendRedactedJSONString checks the shipper's one call: the line
// redacted and escaped into a JSON string, the same whether the Event of
// the line is given (its layout then used), not given, or is the Event
// of another line; and for a line past bigLine.
func TestAppendRedactedJSONString(t *testing.T) {
	r := NewRedactor(DefaultRedactNames)
	d := NewEnvoy(nil)
	line := []byte(`{"start_time":"2024-05-02T10:11:12Z","method":"GET","path":"/a?token=s3cr3t&b=1","response_code":200,"ua":"x\"y"}`)
	want := `"{\"start_time\":\"2024-05-02T10:11:12Z\",\"method\":\"GET\",\"path\":\"/a?token=REDACTED&b=1\",\"response_code\":200,\"ua\":\"x\\\"y\"}"`
	var ev Event
	for range 2 { // the second time through the learned template
		ev.Reset()
		require.NoError(t, d.Decode(line, &ev))
		require.NotZero(t, ev.layout.id())
		require.Equal(t, want, string(r.AppendRedactedJSONString([]byte{}, line, &ev)))
	}
	require.Equal(t, ">"+want, string(r.AppendRedactedJSONString([]byte(">"), line, nil)))
	other := []byte(strings.Replace(string(line), "s3cr3t", "s3cr3tX", 1))
	require.Equal(t, want, string(r.AppendRedactedJSONString(nil, other, &ev)), "the Event of another line")

	big := []byte(`{"start_time":"2024-05-02T10:11:12Z","method":"GET","path":"/a?token=s3cr3t","response_code":200,"pad":"` + strings.Repeat("x", bigLine) + `"}`)
	ev.Reset()
	require.NoError(t, d.Decode(big, &ev))
	got := r.AppendRedactedJSONString(nil, big, &ev)
	var s string
	require.NoError(t, json.Unmarshal(got, &s))
	require.Equal(t, strings.Replace(string(big), "s3cr3t", Redacted, 1), s)
}
