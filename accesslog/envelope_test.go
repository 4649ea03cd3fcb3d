package accesslog_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog"
)

func TestCRI(t *testing.T) {
	d := accesslog.NewCRI(accesslog.NewKrakenD(nil))
	var e accesslog.Event

	// A whole line. gin's zone-less, whole-second time gives way to the
	// runtime's, written at the same moment.
	require.NoError(t, d.Decode([]byte("2024-05-02T12:11:12.345678901+02:00 stdout F "+ginExample), &e))
	require.Equal(t, ginExample, string(e.Raw))
	require.Equal(t, "/v1/users/42", e.Path)
	require.True(t, e.Time.Equal(utc("2024-05-02T10:11:12.345678901Z")), "%v", e.Time)

	// Formats with a real time keep their own.
	de := accesslog.NewCRI(accesslog.NewEnvoy(nil))
	require.NoError(t, de.Decode([]byte("2024-05-02T10:11:13.5Z stdout F "+envoyExample), &e))
	require.True(t, e.Time.Equal(utc("2024-05-02T10:11:12.345Z")), "%v", e.Time)
	da := accesslog.NewCRI(accesslog.NewAuto(nil, nil))
	require.NoError(t, da.Decode([]byte("2024-05-02T10:11:13.5Z stdout F "+envoyExample), &e))
	require.True(t, e.Time.Equal(utc("2024-05-02T10:11:12.345Z")), "%v", e.Time)
	require.NoError(t, da.Decode([]byte("2024-05-02T10:11:13.5Z stdout F "+ginExample), &e))
	require.True(t, e.Time.Equal(utc("2024-05-02T10:11:13.5Z")), "%v", e.Time)

	// KrakenD's application log on the same stream is skipped, not mistaken.
	err := d.Decode([]byte("2024-05-02T10:11:12.345678901Z stdout F [KRAKEND] 2024/05/02 - 10:11:12.345 ▶ INFO Listening"), &e)
	requireReason(t, err, "other_log")

	// Partial pieces are joined; stderr pieces in between do not mix.
	pieces := []string{ginExample[:20], ginExample[20:70], ginExample[70:]}
	require.ErrorIs(t, d.Decode([]byte("2024-05-02T10:11:12.1Z stdout P "+pieces[0]), &e), accesslog.ErrPartial)
	require.ErrorIs(t, d.Decode([]byte("2024-05-02T10:11:12.1Z stderr P [GIN] 2024/05/02 - 10:11:13 | 500 "), &e), accesslog.ErrPartial)
	require.ErrorIs(t, d.Decode([]byte("2024-05-02T10:11:12.1Z stdout P "+pieces[1]), &e), accesslog.ErrPartial)
	require.NoError(t, d.Decode([]byte("2024-05-02T10:11:12.1Z stdout F "+pieces[2]), &e))
	require.Equal(t, ginExample, string(e.Raw))
	require.Equal(t, 200, e.Status)
	require.Equal(t, "expand=true", e.Query)
	kept := e.Clone()
	require.NoError(t, d.Decode([]byte("2024-05-02T10:11:12.1Z stderr F |    3.127514ms |     203.0.113.9 | GET      \"/v1/b\""), &e))
	require.Equal(t, 500, e.Status)
	require.Equal(t, "/v1/b", e.Path)
	require.Equal(t, "/v1/users/42", kept.Path)

	// The envelope's time is used when the inner format has none.
	dk := accesslog.NewCRI(accesslog.NewKong())
	require.NoError(t, dk.Decode([]byte("2024-05-02T12:11:12.5+02:00 stdout F "+`{"request":{"method":"GET","uri":"/x"},"response":{"status":200}}`), &e))
	require.True(t, e.Time.Equal(utc("2024-05-02T10:11:12.5Z")), "%v", e.Time)

	// Malformed envelopes.
	for _, line := range []string{
		"",
		"2024-05-02T10:11:12Z",
		"yesterday stdout F x",
		"2024-05-02T10:11:12Z stdin F x",
		"2024-05-02T10:11:12Z stdout X x",
		ginExample,
	} {
		requireReason(t, d.Decode([]byte(line), &e), "envelope")
	}
	// An empty final piece is an empty inner line.
	requireReason(t, d.Decode([]byte("2024-05-02T10:11:12Z stdout F"), &e), "not_access_log")
}

func TestCRIMaxLineSize(t *testing.T) {
	d := accesslog.NewCRI(accesslog.NewKrakenD(nil))
	d.SetMaxLineSize(64)
	var e accesslog.Event
	p := "2024-05-02T10:11:12Z stdout P "
	require.ErrorIs(t, d.Decode([]byte(p+"req-id-0042 "+strings.Repeat("x", 28)), &e), accesslog.ErrPartial)
	require.ErrorIs(t, d.Decode([]byte(p+strings.Repeat("y", 40)), &e), accesslog.ErrPartial) // over the limit
	require.ErrorIs(t, d.Decode([]byte(p+strings.Repeat("z", 40)), &e), accesslog.ErrPartial)
	requireReason(t, d.Decode([]byte("2024-05-02T10:11:12Z stdout F end"), &e), "partial_too_long")
	// The dead letter keeps the joined line's first 64 bytes (its request
	// id), as a cut line keeps its first max_line_bytes.
	require.Equal(t, "req-id-0042 "+strings.Repeat("x", 28)+strings.Repeat("y", 24), string(e.Raw))
	// The next line starts afresh.
	d.SetMaxLineSize(0)
	require.NoError(t, d.Decode([]byte("2024-05-02T10:11:12Z stdout F "+ginExample), &e))
	require.Equal(t, 200, e.Status)
}

func TestDocker(t *testing.T) {
	d := accesslog.NewDocker(accesslog.NewKrakenD(nil))
	var e accesslog.Event
	wrap := func(log, stream string) []byte {
		return []byte(`{"log":` + strconv.Quote(log) + `,"stream":"` + stream + `","time":"2024-05-02T10:11:12.3456789Z"}`)
	}
	require.NoError(t, d.Decode(wrap(ginExample+"\n", "stdout"), &e))
	require.Equal(t, ginExample, string(e.Raw))
	require.Equal(t, "/v1/users/42", e.Path)
	require.Equal(t, 3127514*time.Nanosecond, e.Duration)

	// Docker splits long lines at 16 KiB: pieces without "\n".
	require.ErrorIs(t, d.Decode(wrap(ginExample[:50], "stdout"), &e), accesslog.ErrPartial)
	require.NoError(t, d.Decode(wrap(ginExample[50:]+"\r\n", "stdout"), &e))
	require.Equal(t, ginExample, string(e.Raw))

	// Kong JSON inside Docker JSON, time from the envelope.
	dk := accesslog.NewDocker(accesslog.NewKong())
	require.NoError(t, dk.Decode(wrap(`{"request":{"method":"GET","uri":"/x"},"response":{"status":204}}`+"\n", "stdout"), &e))
	require.Equal(t, 204, e.Status)
	require.True(t, e.Time.Equal(utc("2024-05-02T10:11:12.3456789Z")))

	for _, line := range []string{`{"stream":"stdout"}`, `{"log":"x\n"`, `not json`} {
		requireReason(t, d.Decode([]byte(line), &e), "envelope")
	}
}

func TestAuto(t *testing.T) {
	m := &accesslog.Mapping{Method: "verb", Path: "url", Status: "code"}
	for _, withFallback := range []bool{false, true} {
		var fb *accesslog.Mapping
		if withFallback {
			fb = m
		}
		d, err := accesslog.NewDecoder("auto", fb)
		require.NoError(t, err)
		ad := d.(*accesslog.AutoDecoder)
		for _, tc := range []struct {
			line, format, reason string
			status               int
		}{
			{line: ginExample, format: "krakend", status: 200},
			{line: `{"prefix":"[KRAKEND]","time":"2024-05-02T10:11:12Z","status_code":201,"latency":"0.003s","client_ip":"203.0.113.9","method":"GET","path":"/x"}`, format: "krakend-json", status: 201},
			{line: kongExample, format: "kong", status: 200},
			{line: envoyExample, format: "envoy", status: 503},
			{line: envoyTextExample, format: "envoy-text", status: 503},
			{line: `{"@timestamp":"2022-06-15T15:37:02.619+00:00", "@version": 1, "level": "INFO", "message": "Starting the KrakenD instance", "module": "KRAKEND"}`, reason: "not_access_log"},
			{line: `[KRAKEND] 2024/05/02 - 10:11:12.345 ▶ INFO Listening on port: 8080`, reason: "other_log"},
			{line: `panic: runtime error`, reason: "not_access_log"},
			{line: `{"verb":"GET","url":"/y","code":418}`, format: map[bool]string{true: "json"}[withFallback], status: 418,
				reason: map[bool]string{false: "not_access_log"}[withFallback]},
		} {
			require.Equal(t, tc.format, ad.Detect([]byte(tc.line)), tc.line)
			var e accesslog.Event
			err := d.Decode([]byte(tc.line), &e)
			if tc.reason != "" {
				requireReason(t, err, tc.reason)
				continue
			}
			require.NoError(t, err, tc.line)
			require.Equal(t, tc.status, e.Status)
		}
	}
}

func TestErrPartialIsNotDecodeError(t *testing.T) {
	_, ok := accesslog.IsDecodeError(accesslog.ErrPartial)
	require.False(t, ok)
	var de *accesslog.DecodeError
	require.False(t, errors.As(accesslog.ErrPartial, &de))
}

// TestKrakenDPodLog reads what kubelet writes for a KrakenD CE container:
// application log lines and access lines on one stream, one access line
// split by the runtime. Every access line is decoded, every other line
// is recognised as KrakenD's or gin's own log (ErrOtherLog), partial
// pieces are neither.
func TestKrakenDPodLog(t *testing.T) {
	long := `[GIN] 2024/05/02 - 10:11:14 | 200 |   12.5ms |     203.0.113.9 | GET      "/v1/search?q=` + strings.Repeat("x", 300) + `"`
	log := strings.Join([]string{
		`2024-05-02T10:11:10.000000001Z stdout F [KRAKEND] 2024/05/02 - 10:11:10.000 ▶ INFO Starting KrakenD v2.13.8`,
		`2024-05-02T10:11:10.000000002Z stdout F [GIN-debug] GET    /__health                 --> handler (3 handlers)`,
		`2024-05-02T10:11:12.100000000Z stdout F ` + ginExample,
		`2024-05-02T10:11:13.100000000Z stdout F [GIN] 2024/05/02 - 10:11:13 | 502 |   30.000912ms |     203.0.113.9 | POST     "/v1/orders"`,
		`2024-05-02T10:11:13.100000001Z stdout F Error #01: invalid status code`,
		`2024-05-02T10:11:14.1Z stdout P ` + long[:100],
		`2024-05-02T10:11:14.1Z stderr F [KRAKEND] 2024/05/02 - 10:11:14.100 ▶ ERROR [ENDPOINT: /v1/orders] backend timeout`,
		`2024-05-02T10:11:14.1Z stdout P ` + long[100:250],
		`2024-05-02T10:11:14.1Z stdout F ` + long[250:],
	}, "\n")
	d, err := accesslog.NewDecoder("cri+krakend", nil)
	require.NoError(t, err)
	var statuses []int
	reasons := map[string]int{}
	partials := 0
	for line := range strings.SplitSeq(log, "\n") {
		var e accesslog.Event
		err := d.Decode([]byte(line), &e)
		switch {
		case err == nil:
			statuses = append(statuses, e.Status)
		case errors.Is(err, accesslog.ErrPartial):
			partials++
		case errors.Is(err, accesslog.ErrOtherLog):
			reasons[accesslog.SkippedOtherLog]++
		default:
			de, ok := accesslog.IsDecodeError(err)
			require.True(t, ok, "%v", err)
			reasons[de.Reason]++
		}
	}
	require.Equal(t, []int{200, 502, 200}, statuses)
	require.Equal(t, map[string]int{"other_log": 4}, reasons)
	require.Equal(t, 2, partials)
}
