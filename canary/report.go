package canary

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"

	"github.com/gatewatch/gatewatch/config"
)

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes a table per endpoint and metric, the endpoints left
// out for lack of traffic, and the score.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "gateway %s: %s against %s, %s to %s, a sample every %s\n\n", r.Gateway, r.Track, r.Baseline,
		r.Start.UTC().Format("2006-01-02T15:04:05Z"), r.End.UTC().Format("2006-01-02T15:04:05Z"), r.Step)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(r.Results) > 0 {
		fmt.Fprintf(tw, "ENDPOINT\tMETHOD\tMETRIC\tCLASSIFICATION\t%s\t%s\tRATIO\tSAMPLES\n", r.Track, r.Baseline)
		for _, e := range r.Results {
			class := string(e.Classification)
			if e.Critical {
				class += " (critical)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d/%d\n", e.Endpoint, dash(e.Method), e.Metric, class,
				human(e.Metric, float64(e.CanaryMean)), human(e.Metric, float64(e.BaselineMean)),
				num(float64(e.Ratio)), e.CanarySamples, e.BaselineSamples)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(r.Skipped) > 0 {
		fmt.Fprintf(w, "\nnot judged (too little traffic):\n")
		for _, s := range r.Skipped {
			fmt.Fprintf(tw, "  %s\t%s\t%s %s requests\t%s %s requests\n", s.Endpoint, dash(s.Method),
				r.Track, num(s.CanaryRequests), r.Baseline, num(s.BaselineRequests))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	for _, g := range r.Score.Groups {
		if g.NoData {
			fmt.Fprintf(w, "group %s: no data\n", g.Name)
			continue
		}
		fmt.Fprintf(w, "group %s: %s\n", g.Name, num(g.Score))
	}
	verdict := string(r.Score.Verdict)
	if r.NotEnoughData {
		verdict = "not enough data"
	}
	fmt.Fprintf(w, "score %s: %s", num(r.Score.Score), verdict)
	if r.Score.Reason != "" {
		fmt.Fprintf(w, " (%s)", r.Score.Reason)
	}
	_, err := fmt.Fprintln(w)
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// human writes a latency as people write durations (1.5s, 250ms) and
// other values as numbers; "-" for no data.
func human(metric string, v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	if metric == config.CanaryLatencyP99 && !math.IsInf(v, 0) {
		switch {
		case v >= 1:
			return num(v) + "s"
		case v >= 0.001:
			return num(v*1000) + "ms"
		default:
			return num(v*1e6) + "µs"
		}
	}
	return num(v)
}

func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.Abs(v) >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}
