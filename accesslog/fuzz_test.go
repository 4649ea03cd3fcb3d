package accesslog_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gatewatch/gatewatch/accesslog"
	"github.com/gatewatch/gatewatch/accesslog/loggen"
)

var knownReasons = map[string]bool{
	accesslog.ReasonJSON: true, accesslog.ReasonNotAccessLog: true, accesslog.ReasonMissingField: true,
	accesslog.ReasonBadStatus: true, accesslog.ReasonBadDuration: true, accesslog.ReasonBadTime: true,
	accesslog.ReasonBadField: true, accesslog.ReasonEnvelope: true, accesslog.ReasonPartialTooLong: true,
	accesslog.ReasonTooLong: true,
}

// seeds adds the reference examples, generated lines of format and some
// broken variants to the fuzz corpus.
func seeds(f *testing.F, format string, extra ...string) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for range 4 {
		f.Add(loggen.Line(format, rnd, loggen.Request{}))
	}
	f.Add(loggen.Line(format, rnd, loggen.Request{Path: `/a/"b"\c/é`, Query: "x=%00", Upstream: -1}))
	for _, s := range extra {
		f.Add([]byte(s))
		if len(s) > 10 {
			f.Add([]byte(s[:len(s)/2]))
		}
	}
	f.Add([]byte(""))
	f.Add([]byte("{}"))
	f.Add([]byte(`{"a":[1,{"b":"\u00e9\ud83d\ude00\\"}]}`))
}

// checkDecode is the property every decoder must have: no panic; success,
// ErrPartial or a *DecodeError with a known reason; a successful Event is
// normalised; decoding is deterministic for stateless decoders.
func checkDecode(t *testing.T, d accesslog.Decoder, line []byte, stateless bool) {
	var e accesslog.Event
	err := d.Decode(line, &e)
	if err != nil {
		if errors.Is(err, accesslog.ErrPartial) || errors.Is(err, accesslog.ErrOtherLog) {
			return
		}
		de, ok := accesslog.IsDecodeError(err)
		if !ok {
			t.Fatalf("error %v (%T) is not a *DecodeError", err, err)
		}
		if !knownReasons[de.Reason] || de.Msg == "" {
			t.Fatalf("bad DecodeError %+v", de)
		}
		if first := bytes.TrimLeft(line, " \t\r\n"); stateless && de.Reason == accesslog.ReasonJSON &&
			len(first) > 0 && first[0] == '{' && json.Valid(line) && depth(line) < 500 {
			t.Fatalf("valid JSON object rejected as malformed: %v", err)
		}
		return
	}
	if strings.ContainsAny(e.Method, "abcdefghijklmnopqrstuvwxyz") {
		t.Fatalf("method %q not upper case", e.Method)
	}
	if strings.IndexByte(e.Path, '?') >= 0 {
		t.Fatalf("path %q has a query", e.Path)
	}
	if e.Status < 0 || e.Status > 999 {
		t.Fatalf("status %d", e.Status)
	}
	if e.Duration < -1 || e.Upstream < -1 || e.Overhead < -1 || e.BytesIn < -1 || e.BytesOut < -1 {
		t.Fatalf("negative measurements: %+v", e)
	}
	checkLayout(t, &e, line)
	if !stateless {
		return
	}
	first := e.Clone()
	var e2 accesslog.Event
	if err := d.Decode(line, &e2); err != nil {
		t.Fatalf("second decode failed: %v", err)
	}
	if diff := cmp.Diff(first, e2.Clone(), cmpopts.IgnoreUnexported(accesslog.Event{})); diff != "" {
		t.Fatalf("decoding is not deterministic (-first +second):\n%s", diff)
	}
}

// checkLayout checks that e's layout, when the decoder set one, puts line
// back together from its literal pieces and values, and that the literal
// pieces of a layout id never change.
func checkLayout(t *testing.T, e *accesslog.Event, line []byte) {
	id, describes, literals, values := accesslog.LayoutOf(e, line)
	if id == 0 {
		return
	}
	if !describes {
		t.Fatalf("layout %d does not describe the line it came with", id)
	}
	var whole, lits []byte
	for k, v := range values {
		whole = append(whole, literals[k]...)
		whole = append(whole, v...)
		lits = append(append(lits, literals[k]...), 0)
	}
	whole = append(whole, literals[len(values)]...)
	lits = append(lits, literals[len(values)]...)
	if !bytes.Equal(whole, line) {
		t.Fatalf("layout %d puts together\n%q\nnot the line\n%q", id, whole, line)
	}
	if prev, ok := layoutLits.LoadOrStore(id, string(lits)); ok && prev.(string) != string(lits) {
		t.Fatalf("layout %d changed its literal pieces:\n%q\n%q", id, prev, lits)
	}
}

// layoutLits holds the literal pieces seen for each layout id.
var layoutLits sync.Map

// depth is the bracket nesting of a JSON text (strings ignored roughly).
func depth(b []byte) int {
	d, maxD := 0, 0
	for _, c := range b {
		switch c {
		case '{', '[':
			d++
			maxD = max(maxD, d)
		case '}', ']':
			d--
		}
	}
	return maxD
}

func FuzzDecodeKrakenD(f *testing.F) {
	seeds(f, "krakend", ginExample,
		"[GIN] 2024/05/02 - 10:11:12 |\x1b[97;42m 200 \x1b[0m|    3.127514ms |     203.0.113.9 |\x1b[97;44m GET     \x1b[0m \"/v1/users/42\"",
		`[GIN] 2024/05/02 - 10:11:12 | 404 |      12.001µs |     203.0.113.9 | GET      "/v1/search/\"x\"\\y\x00z\xff/\u2028?q=a|b"`,
		`[GIN] 2024/05/02 - 10:11:12 | 504 |          1m2s |     203.0.113.9 | GET      "/x"`,
		`[KRAKEND] 2024/05/02 - 10:11:12.123 ▶ INFO Listening on port: 8080`)
	d := accesslog.NewKrakenD(nil)
	f.Fuzz(func(t *testing.T, line []byte) { checkDecode(t, d, line, true) })
}

func FuzzDecodeKrakenDJSON(f *testing.F) {
	seeds(f, "krakend-json",
		`{"prefix":"[KRAKEND]","time":"2024/05/02 - 10:11:12","status_code":"404","latency":"812.5µs","client_ip":"203.0.113.9:4431","method":"get","path":"\/v1\/caf\u00e9","query":"?a=1"}`)
	d := accesslog.NewKrakenDJSON(nil)
	f.Fuzz(func(t *testing.T, line []byte) { checkDecode(t, d, line, true) })
}

func FuzzDecodeKong(f *testing.F) {
	seeds(f, "kong", kongExample, "["+kongExample+"]",
		`{"request":{"method":"POST","uri":"/v1/orders","headers":{"user-agent":["a","b"]}},"response":{"status":401},"latencies":{"kong":1.25,"proxy":-1,"request":1.5},"tries":[{"ip":"10.0.3.17","port":8080},{"ip":"::1","port":"81"}]}`)
	d := accesslog.NewKong()
	f.Fuzz(func(t *testing.T, line []byte) { checkDecode(t, d, line, true) })
}

func FuzzDecodeEnvoy(f *testing.F) {
	seeds(f, "envoy", envoyExample,
		strings.Replace(envoyExample, `"upstream_service_time":null`, `"upstream_service_time":"997"`, 1),
		`{"route_name":"-","response_code":"200","method":"GET","path":"/healthz","duration":"3","start_time":"2024-05-02T12:11:12.345+02:00","downstream_remote_address":"[::1]:5"}`)
	d := accesslog.NewEnvoy(nil)
	f.Fuzz(func(t *testing.T, line []byte) { checkDecode(t, d, line, true) })
}

func FuzzDecodeEnvoyText(f *testing.F) {
	seeds(f, "envoy-text", envoyTextExample,
		`[2024-05-02T10:11:12.345Z] "GET /v1/users/42 HTTP/2" 200 - 0 734 40 37 "-" "Mozilla "quoted" x" "-" "api.example.com" "10.0.3.17:8080"`,
		`[2024-05-02T10:11:12.345Z] "- - HTTP/1.1" 400 DPE 0 11 0 - "-" "-" "-" "-" "-"`)
	d := accesslog.NewEnvoyText(nil)
	f.Fuzz(func(t *testing.T, line []byte) { checkDecode(t, d, line, true) })
}

func FuzzDecodeJSON(f *testing.F) {
	seeds(f, "json",
		`{"ts":1714644672,"http":{"method":"GET","path":"/x?y","status":"200","tls":{"a":[1,2]}},"timing":{"total_ms":"1.5"}}`)
	m := genMapping(f)
	m.Extra = map[string]string{"tls": "http.tls", "level": "level"}
	d, err := accesslog.NewJSON(m, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line []byte) { checkDecode(t, d, line, true) })
}

func FuzzDecodeAuto(f *testing.F) {
	for _, format := range loggen.Formats {
		seeds(f, format)
	}
	f.Add([]byte(`{"@timestamp":"2022-06-15T15:37:02.619+00:00", "@version": 1, "level": "INFO", "message": "x", "module": "KRAKEND"}`))
	d, err := accesslog.NewDecoder("auto", nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line []byte) { checkDecode(t, d, line, true) })
}

// FuzzDecodeCRI feeds a sequence of envelope lines (split at '\n') to one
// CRI decoder, so that partial pieces and their joining are exercised.
func FuzzDecodeCRI(f *testing.F) {
	rnd := rand.New(rand.NewPCG(5, 6))
	f.Add([]byte(string(loggen.Line("cri+krakend", rnd, loggen.Request{}))))
	f.Add([]byte("2024-05-02T10:11:12.1Z stdout P " + ginExample[:20] + "\n2024-05-02T10:11:12.1Z stderr P x\n2024-05-02T10:11:12.1Z stdout F " + ginExample[20:]))
	f.Add([]byte("2024-05-02T10:11:12Z stdout F\n2024-05-02T10:11:12Z stdin F x\nyesterday stdout F x"))
	f.Add([]byte("2024-05-02T10:11:12+02:00 stdout P " + strings.Repeat("x", 100) + "\n2024-05-02T10:11:12Z stdout F y"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := accesslog.NewCRI(accesslog.NewKrakenD(nil))
		d.SetMaxLineSize(128)
		for line := range bytes.SplitSeq(data, []byte("\n")) {
			checkDecode(t, d, line, false)
		}
	})
}

// FuzzDecodeDocker does the same for Docker's json-file envelope.
func FuzzDecodeDocker(f *testing.F) {
	rnd := rand.New(rand.NewPCG(5, 6))
	f.Add(loggen.Line("docker+envoy", rnd, loggen.Request{}))
	f.Add([]byte(`{"log":"[GIN] 2024/05/02 - 10:11:12 | 200 |","stream":"stdout","time":"2024-05-02T10:11:12Z"}` + "\n" +
		`{"log":"    3.127514ms |     203.0.113.9 | GET      \"/v1/users/42?expand=true\"\n","stream":"stdout","time":"2024-05-02T10:11:12Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := accesslog.NewDocker(accesslog.NewKrakenD(nil))
		d.SetMaxLineSize(256)
		for line := range bytes.SplitSeq(data, []byte("\n")) {
			checkDecode(t, d, line, false)
		}
	})
}
