package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Panel heights in grid units.
const (
	statHeight   = 4
	seriesHeight = 8
	tableHeight  = 9
)

// Grafana units.
const (
	unitReqPS   = "reqps"
	unitPercent = "percentunit"
	unitSeconds = "s"
	unitBytes   = "bytes"
	unitBPS     = "Bps"
	unitOpsPS   = "ops"
	unitNone    = "none"
)

// datasourceVar is the name of every dashboard's datasource variable.
const datasourceVar = "datasource"

// ds is how panels and targets name the datasource: the variable.
var ds = common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${" + datasourceVar + "}")}

// target is one query of a panel.
type target struct {
	expr, legend string
	instant      bool // a table's or a stat's single evaluation
}

// q is a range query with a legend.
func q(expr, legend string) target { return target{expr: expr, legend: legend} }

// board builds a dashboard and numbers its panels 1, 2, ... in the order
// they are added, and each panel's targets A, B, ..., so that the JSON is
// the same every time.
type board struct {
	b      *dashboard.DashboardBuilder
	nextID uint32
}

func (bd *board) id() uint32 {
	bd.nextID++
	return bd.nextID
}

func refID(i int) string { return string(rune('A' + i)) }

func queries(ts []target, table bool) []cog.Builder[variants.Dataquery] {
	out := make([]cog.Builder[variants.Dataquery], 0, len(ts))
	for i, t := range ts {
		p := prometheus.NewDataqueryBuilder().Datasource(ds).RefId(refID(i)).Expr(t.expr)
		if t.legend != "" {
			p.LegendFormat(t.legend)
		}
		switch {
		case table:
			p.Instant().Format(prometheus.PromQueryFormatTable)
		case t.instant:
			p.Instant()
		default:
			p.Range()
		}
		out = append(out, p)
	}
	return out
}

func (bd *board) row(title string) {
	bd.b.WithRow(dashboard.NewRowBuilder(title).Id(bd.id()))
}

// step is a threshold: from value on, color.
type step struct {
	value float64
	color string
}

// thresholds starts at base and changes color at each step.
func thresholds(base string, steps ...step) *dashboard.ThresholdsConfigBuilder {
	ts := []dashboard.Threshold{{Color: base}}
	for _, s := range steps {
		ts = append(ts, dashboard.Threshold{Value: cog.ToPtr(s.value), Color: s.color})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(ts)
}

// neutral are the thresholds of a value that is neither good nor bad.
func neutral() *dashboard.ThresholdsConfigBuilder { return thresholds("blue") }

// stat adds a single-value panel w units wide.
func (bd *board) stat(title, desc, unit string, w uint32, th *dashboard.ThresholdsConfigBuilder, ts ...target) {
	bd.b.WithPanel(stat.NewPanelBuilder().Id(bd.id()).Title(title).Description(desc).
		Datasource(ds).Targets(queries(ts, false)).Unit(unit).Span(w).Height(statHeight).
		Thresholds(th).ColorMode(common.BigValueColorModeValue).GraphMode(common.BigValueGraphModeArea).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
		Orientation(common.VizOrientationAuto))
}

// series adds a time-series panel w units wide.
func (bd *board) series(title, desc, unit string, w uint32, ts ...target) {
	bd.seriesWith(title, desc, unit, w, nil, ts...)
}

// seriesWith is series with a chance to set more options.
func (bd *board) seriesWith(title, desc, unit string, w uint32, more func(*timeseries.PanelBuilder), ts ...target) {
	p := timeseries.NewPanelBuilder().Id(bd.id()).Title(title).Description(desc).
		Datasource(ds).Targets(queries(ts, false)).Unit(unit).Span(w).Height(seriesHeight).
		Thresholds(neutral()).FillOpacity(10).LineWidth(1).ShowPoints(common.VisibilityModeNever).
		Legend(common.NewVizLegendOptionsBuilder().ShowLegend(true).DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom)).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending))
	if more != nil {
		more(p)
	}
	bd.b.WithPanel(p)
}

// table adds a table of instant queries, merged on their labels, w units
// wide; links are data links on its cells.
func (bd *board) table(title, desc, unit string, w uint32, th *dashboard.ThresholdsConfigBuilder, links []cog.Builder[dashboard.DashboardLink], ts ...target) {
	p := table.NewPanelBuilder().Id(bd.id()).Title(title).Description(desc).
		Datasource(ds).Targets(queries(ts, true)).Unit(unit).Span(w).Height(tableHeight).
		Thresholds(th).ShowHeader(true).Filterable(true).
		// Grafana's schema requires the reducer, which the SDK leaves null.
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"}))
	tr := []dashboard.DataTransformerConfig{}
	if len(ts) > 1 {
		tr = append(tr, dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}})
	}
	tr = append(tr, dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
		"excludeByName": map[string]any{"Time": true},
		"renameByName":  valueNames(ts),
	}})
	p.Transformations(tr)
	if len(links) > 0 {
		p.DataLinks(links)
	}
	bd.b.WithPanel(p)
}

// valueNames renames a table's value columns (Value #A, or Value for a
// single query) to their targets' legends.
func valueNames(ts []target) map[string]any {
	m := map[string]any{}
	for i, t := range ts {
		if t.legend == "" {
			continue
		}
		if len(ts) == 1 {
			m["Value"] = t.legend
		} else {
			m["Value #"+refID(i)] = t.legend
		}
	}
	return m
}
