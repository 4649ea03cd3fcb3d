package dashboards

import (
	"github.com/gatewatch/gatewatch/schema"
)

// Values of the shipper's result label the sidecar dashboard picks out;
// they are the shipper's ResultDeadLetter and ResultDropped (the shipper
// package is not imported: it would pull the sidecar into the
// generators; dashboards_test.go checks they agree).
const (
	resultDeadLetter = "dead_letter"
	resultDropped    = "dropped"
)

// sidecar answers: is every sidecar reading its logs and shipping them,
// and is anything lost.
func (g *generator) sidecar(bd *board) {
	gw := g.gw
	up := gw.with(eq(schema.LabelJob, g.cfg.Alerting.Job)).of(schema.PrometheusUp)
	r := func(m schema.Metric, by ...string) string { return sumBy(rate(gw.of(m.Name), rateInterval), by...) }

	bd.row("Health")
	bd.stat("Sidecars up", "Sidecars of this gateway that Prometheus scraped successfully (job "+g.cfg.Alerting.Job+").", unitNone, 4, neutral(),
		q("sum("+up+")", ""))
	bd.stat("Since the last line", "Seconds since any sidecar read an access-log line.", unitSeconds, 4,
		thresholds("green", step{300, "orange"}, step{900, "red"}),
		q("time() - max("+gw.of(schema.LastEvent.Name)+")", ""))
	bd.stat("Checkpoint age", "Oldest checkpoint of the metrics readers.", unitSeconds, 4,
		thresholds("green", step{60, "orange"}, step{300, "red"}),
		q("max("+gw.of(schema.CheckpointAge.Name)+")", ""))
	bd.stat("Shipping lag", "Age of the oldest line not yet acknowledged by Elasticsearch.", unitSeconds, 4,
		thresholds("green", step{60, "orange"}, step{600, "red"}),
		q("max("+gw.of(schema.ShipperLagSeconds.Name)+")", ""))
	bd.stat("Decode errors per second", "Lines that could not be decoded.", unitOpsPS, 4,
		thresholds("green", step{0.001, "orange"}),
		q(r(schema.DecodeErrors), ""))
	bd.stat("Dead letters per second", "Documents sent to the dead-letter index.", unitOpsPS, 4,
		thresholds("green", step{0.001, "orange"}),
		q(sumBy(rate(gw.with(eq(schema.LabelResult, resultDeadLetter)).of(schema.ShippedDocuments.Name), rateInterval)), ""))

	bd.row("Reading")
	bd.series("Lines read per second", "Access-log lines read, by file.", unitOpsPS, 12,
		q(r(schema.LinesRead, schema.LabelFile), legendOf(schema.LabelFile)))
	bd.series("Bytes read per second", "Access-log bytes read, by file.", unitBPS, 12,
		q(r(schema.BytesRead, schema.LabelFile), legendOf(schema.LabelFile)))
	bd.series("Lag", "Bytes written to a followed file that the metrics reader has not read yet.", unitBytes, 12,
		q(agg("max", gw.of(schema.LagBytes.Name), schema.LabelFile), legendOf(schema.LabelFile)))
	bd.series("Decode errors by reason", "Lines that could not be decoded, by reason.", unitOpsPS, 12,
		q(r(schema.DecodeErrors, schema.LabelReason), legendOf(schema.LabelReason)))
	bd.series("Files", "Rotations, copytruncate truncations, duplicate files and abandoned files per second; open files.", unitNone, 12,
		q(r(schema.Rotations), "rotations/s"),
		q(r(schema.Truncations), "truncations/s"),
		q(r(schema.DuplicateFiles), "duplicates/s"),
		q(r(schema.FileErrors), "file errors/s"),
		q("sum("+gw.of(schema.OpenFiles.Name)+")", "open files"))
	bd.series("Bytes not read as lines", "Bytes skipped by reason: too_long, nul, lost (rotated or truncated before they were read).", unitBPS, 12,
		q(r(schema.SkippedBytes, schema.LabelReason), legendOf(schema.LabelReason)))
	bd.series("Checkpoints", "Age of the metrics readers' checkpoints and failed checkpoint writes.", unitSeconds, 12,
		q(agg("max", gw.of(schema.CheckpointAge.Name), schema.LabelInstance), legendOf(schema.LabelInstance)),
		q(r(schema.CheckpointErrors), "write errors/s"))
	bd.series("Sidecars", "Scrape status of each sidecar.", unitNone, 12,
		q(agg("max", up, schema.LabelInstance), legendOf(schema.LabelInstance)))

	bd.row("Shipping")
	bd.series("Documents by result", "Documents sent to Elasticsearch: stored, duplicate (already stored), dead_letter, retried, dropped.", unitOpsPS, 12,
		q(r(schema.ShippedDocuments, schema.LabelResult), legendOf(schema.LabelResult)))
	bd.series("Dead letters and drops", "Documents sent to the dead-letter index, and those refused even there (logged).", unitOpsPS, 12,
		q(sumBy(rate(gw.with(eq(schema.LabelResult, resultDeadLetter)).of(schema.ShippedDocuments.Name), rateInterval)), "dead letters"),
		q(sumBy(rate(gw.with(eq(schema.LabelResult, resultDropped)).of(schema.ShippedDocuments.Name), rateInterval)), "dropped"))
	bd.series("Shipping lag", "Age of the oldest line not yet acknowledged by Elasticsearch, per sidecar.", unitSeconds, 12,
		q(agg("max", gw.of(schema.ShipperLagSeconds.Name), schema.LabelInstance), legendOf(schema.LabelInstance)))
	bd.series("Bytes not yet shipped", "Bytes in followed files not yet acknowledged by Elasticsearch, per sidecar.", unitBytes, 12,
		q(agg("max", gw.of(schema.ShipperLagBytes.Name), schema.LabelInstance), legendOf(schema.LabelInstance)))
	bd.series("Bulk request errors", "Failed bulk requests to Elasticsearch, by reason.", unitOpsPS, 12,
		q(r(schema.ShipperErrors, schema.LabelReason), legendOf(schema.LabelReason)))
	bd.series("Losses", "Bytes of rotated files that disappeared before they were shipped, by reason.", unitBPS, 12,
		q(r(schema.ShipperLostBytes, schema.LabelReason), legendOf(schema.LabelReason)))
}
