package accesslog

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog/loggen"
	"github.com/gatewatch/gatewatch/internal/jsonstr"
)

// TestMessageEscaperLayouts escapes lines of several layouts, alternating
// and coming back, through their layouts, and holds each message to the
// byte-by-byte reference.
func TestMessageEscaperLayouts(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	base := time.Date(2026, 11, 22, 7, 0, 0, 0, time.UTC)
	for _, format := range []string{"envoy", "kong"} {
		t.Run(format, func(t *testing.T) {
			dec, err := NewDecoder(format, nil)
			require.NoError(t, err)
			var m messageEscaper
			var ev Event
			red := NewRedactor([]string{"no-such-header"})
			used := 0
			for i := range 400 {
				req := loggen.Fill(rnd, loggen.Request{Time: base.Add(time.Duration(i) * time.Millisecond)})
				if i%7 == 3 {
					req.Path = `/v1/caf\é/"quoted"` // values that need escaping
					req.UserAgent = "a\u2028b\tc"
				}
				var line []byte
				switch i % 3 { // three layouts, for two slots
				case 0:
					line = loggen.Line(format, rnd, req)
				case 1:
					if format == "envoy" {
						line = loggen.ShortEnvoy(rnd, req)
					} else {
						line = loggen.ShortKong(req)
					}
				case 2:
					line = loggen.Line(format, rnd, req)
					line = append(line[:len(line)-1], `,"zz":[1,"x"]}`...)
				}
				ev.Reset()
				require.NoError(t, dec.Decode(line, &ev), "%s", line)
				want := string(jsonstr.AppendReference([]byte("p"), string(line)))
				got := m.append([]byte("p"), line, &ev.layout, &allEscape)
				require.Equal(t, want, string(got), "%s", line)
				// With the values the redactor found plain copied as they are.
				var esc valueSet
				require.False(t, red.scanLayout(line, &ev.layout, &esc))
				require.Equal(t, want, string(m.append([]byte("p"), line, &ev.layout, &esc)), "%s", line)
				if id := ev.layout.id(); id != 0 {
					require.Equal(t, id, m.slots[m.last].id)
					used++
				}
			}
			require.Greater(t, used, 300, "lines escaped through their layout")
		})
	}
}

// FuzzMessageEscaperMatchesReference decodes each line twice (the second
// time through the template learned the first time) with the Envoy and
// Kong decoders and holds the message escaped through its layout, into
// destinations of every spare capacity, to the byte-by-byte reference.
func FuzzMessageEscaperMatchesReference(f *testing.F) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, format := range []string{"envoy", "kong"} {
		f.Add(loggen.Line(format, rnd, loggen.Request{}), uint8(0))
		f.Add(loggen.Line(format, rnd, loggen.Request{Path: `/a/"b"\c/é`, UserAgent: "\u2028\x01"}), uint8(3))
	}
	f.Add(loggen.ShortEnvoy(rnd, loggen.Fill(rnd, loggen.Request{})), uint8(5))
	f.Add(loggen.ShortKong(loggen.Fill(rnd, loggen.Request{})), uint8(9))
	f.Add([]byte(`{"method":"GET","path":"/é\u00e9\/x","response_code":200,"start_time":"2024-05-02T10:11:12Z","a":"1234567","b":"\\\"","c":"\xff\xfe"}`), uint8(1))
	f.Add([]byte(`  {"method":"GET","path":"/x","start_time":"2024-05-02T10:11:12Z","n":null,"t":true,"o":{"k":[1,2]}}  `), uint8(0))
	envoy, kong := NewEnvoy(nil), NewKong()
	red := NewRedactor(DefaultRedactNames)
	var m messageEscaper
	f.Fuzz(func(t *testing.T, line []byte, spare uint8) {
		want := string(jsonstr.AppendReference([]byte("p"), string(line)))
		for _, dec := range []Decoder{envoy, kong} {
			for range 2 {
				var ev Event
				ev.Reset()
				if dec.Decode(line, &ev) != nil {
					continue
				}
				dst := append(make([]byte, 0, 1+int(spare)), 'p')
				got := m.append(dst, line, &ev.layout, &allEscape)
				require.Equal(t, want, string(got), "%q", line)
				var esc valueSet
				if !red.scanLayout(line, &ev.layout, &esc) {
					dst = append(make([]byte, 0, 1+int(spare)), 'p')
					require.Equal(t, want, string(m.append(dst, line, &ev.layout, &esc)), "%q", line)
				}
			}
		}
	})
}

// TestMessageEscaperStaleLayout: a layout is used only for the line it
// describes.
func TestMessageEscaperStaleLayout(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 3))
	dec := NewEnvoy(nil)
	first := loggen.ShortEnvoy(rnd, loggen.Fill(rnd, loggen.Request{}))
	var ev Event
	require.NoError(t, dec.Decode(first, &ev))
	require.NotZero(t, ev.layout.id())
	other := []byte(strings.Replace(string(first), `"method":"`, `"method":"X`, 1))
	var m messageEscaper
	require.Equal(t, string(jsonstr.AppendReference(nil, string(other))), string(m.append(nil, other, &ev.layout, &allEscape)))
}

// allEscape is the valueSet of a line whose values were not looked at.
var allEscape = func() (s valueSet) {
	for i := range s {
		s[i] = ^uint64(0)
	}
	return s
}()
