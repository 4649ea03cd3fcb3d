package exporter

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/schema"
)

// TestNoByteFamilies: a byte family the options leave out is neither
// described nor collected (the pedantic registry checks both agree),
// while the other one still counts.
func TestNoByteFamilies(t *testing.T) {
	for _, tc := range []struct {
		name          string
		noIn, noOut   bool
		wantIn, wantO bool
	}{
		{"both", false, false, true, true},
		{"no request bytes", true, false, false, true},
		{"neither", true, true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testContract()
			reg := prometheus.NewPedanticRegistry()
			e := New(reg, c, Options{NoRequestBytes: tc.noIn, NoResponseBytes: tc.noOut})
			ev := event("GET", 200, -1)
			ev.BytesIn, ev.BytesOut = 100, 700
			e.Record(ev, &c.Endpoints[0])
			e.Flush()
			mfs, err := reg.Gather()
			require.NoError(t, err)
			got := map[string]float64{}
			for _, mf := range mfs {
				for _, m := range mf.GetMetric() {
					got[mf.GetName()] += m.GetCounter().GetValue()
				}
			}
			require.Equal(t, 1.0, got[schema.RequestsTotal.Name])
			in, ok := got[schema.RequestBytes.Name]
			require.Equal(t, tc.wantIn, ok, schema.RequestBytes.Name)
			out, ok := got[schema.ResponseBytes.Name]
			require.Equal(t, tc.wantO, ok, schema.ResponseBytes.Name)
			if tc.wantIn {
				require.Equal(t, 100.0, in)
			}
			if tc.wantO {
				require.Equal(t, 700.0, out)
			}
		})
	}
}
