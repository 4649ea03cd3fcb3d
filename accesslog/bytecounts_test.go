package accesslog_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog"
	"github.com/gatewatch/gatewatch/accesslog/loggen"
)

// TestByteCountsAgreeWithDecoders: ByteCounts says a format carries the
// request or response size exactly when its decoder fills it from a real
// line of that format.
func TestByteCountsAgreeWithDecoders(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	for _, f := range loggen.Formats {
		if f == "json" {
			continue // the mapping decides; below
		}
		for _, format := range []string{f, "cri+" + f} {
			t.Run(format, func(t *testing.T) {
				d, err := accesslog.NewDecoder(format, nil)
				require.NoError(t, err)
				var ev accesslog.Event
				require.NoError(t, d.Decode(loggen.Line(format, rnd, loggen.Request{}), &ev))
				in, out := accesslog.ByteCounts(format, nil)
				require.Equal(t, in, ev.BytesIn >= 0, "request size")
				require.Equal(t, out, ev.BytesOut >= 0, "response size")
			})
		}
	}
	in, out := accesslog.ByteCounts("docker+json", &accesslog.Mapping{BytesIn: "req.size"})
	require.Equal(t, [2]bool{true, false}, [2]bool{in, out})
	in, out = accesslog.ByteCounts("json", nil)
	require.Equal(t, [2]bool{false, false}, [2]bool{in, out})
}
