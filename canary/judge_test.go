package canary

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/schema"
)

// TestBuildQueries: the judge's queries parse, select the gateway and both
// tracks, and name only schema metrics.
func TestBuildQueries(t *testing.T) {
	c := config.Default().Canary
	c.Track, c.Baseline = "green", "blue"
	qs := BuildQueries(`shop "eu"`, c)
	for _, q := range []string{qs.Traffic, qs.ErrorRatio, qs.LatencyP99} {
		expr, err := parser.NewParser(parser.Options{}).ParseExpr(q)
		require.NoError(t, err, q)
		names := 0
		parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
			vs, ok := n.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			names++
			require.Contains(t, []string{schema.RequestsTotal.Name, schema.RequestDuration.Name + schema.BucketSuffix}, vs.Name)
			var gw, track bool
			for _, m := range vs.LabelMatchers {
				switch m.Name {
				case schema.LabelGateway:
					gw = m.Matches(`shop "eu"`)
				case schema.LabelTrack:
					track = m.Matches("green") && m.Matches("blue") && !m.Matches("canary")
				}
			}
			require.True(t, gw && track, "%s selects the gateway and both tracks", vs)
			return nil
		})
		require.Positive(t, names)
	}
}

// fakeQuerier answers the traffic query with one endpoint and every range
// query with nothing, or fails.
type fakeQuerier struct{ err error }

func (f fakeQuerier) Query(context.Context, string, time.Time, ...v1.Option) (model.Value, v1.Warnings, v1.Infos, error) {
	if f.err != nil {
		return nil, nil, nil, f.err
	}
	v := model.Vector{}
	for _, track := range []string{"canary", "baseline"} {
		v = append(v, &model.Sample{Metric: model.Metric{
			model.LabelName(schema.LabelEndpoint): "/a", model.LabelName(schema.LabelMethod): "GET", model.LabelName(schema.LabelTrack): model.LabelValue(track),
		}, Value: 500})
	}
	return v, nil, nil, nil
}

func (f fakeQuerier) QueryRange(context.Context, string, v1.Range, ...v1.Option) (model.Value, v1.Warnings, v1.Infos, error) {
	return model.Matrix{}, nil, nil, nil
}

// TestJudgeNoSeries: traffic but no samples at all makes every built-in
// metric Nodata for the endpoint, hence not enough data.
func TestJudgeNoSeries(t *testing.T) {
	rep, err := Judge(context.Background(), fakeQuerier{}, Request{Gateway: "g", End: time.Unix(1e9, 0), Config: config.Default().Canary})
	require.NoError(t, err)
	require.Len(t, rep.Results, 2)
	for _, r := range rep.Results {
		require.Equal(t, "/a", r.Endpoint)
		require.Equal(t, Nodata, r.Classification)
	}
	require.True(t, rep.NotEnoughData)
	var b strings.Builder
	require.NoError(t, rep.WriteText(&b))
	require.Contains(t, b.String(), "not enough data")

	_, err = Judge(context.Background(), fakeQuerier{err: errors.New("connection refused")}, Request{Gateway: "g", End: time.Unix(1e9, 0), Config: config.Default().Canary})
	require.ErrorContains(t, err, "querying Prometheus")
}
