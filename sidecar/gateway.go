package sidecar

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// maxGatewayExposition bounds the body read from the gateway's /metrics.
const maxGatewayExposition = 32 << 20

// gatewayGatherer scrapes the gateway's own Prometheus endpoint at every
// gather, so that one scrape of the sidecar returns both.
type gatewayGatherer struct {
	url     string
	timeout time.Duration
	client  *http.Client
}

func newGatewayGatherer(url string, timeout time.Duration) *gatewayGatherer {
	return &gatewayGatherer{url: url, timeout: timeout, client: &http.Client{Timeout: timeout}}
}

// Gather implements prometheus.Gatherer.
func (g *gatewayGatherer) Gather() ([]*dto.MetricFamily, error) {
	ctx, cancel := context.WithTimeout(context.Background(), g.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.url, nil)
	if err != nil {
		return nil, fmt.Errorf("scraping the gateway: %w", err)
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := g.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scraping the gateway: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scraping the gateway at %s: HTTP status %s", g.url, resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); strings.Contains(ct, "protobuf") {
		return nil, fmt.Errorf("scraping the gateway at %s: unexpected content type %q, expected the text format", g.url, ct)
	}
	return parseExposition(io.LimitReader(resp.Body, maxGatewayExposition))
}

// parseExposition reads the Prometheus text format (an OpenMetrics "# EOF"
// line reads as a comment).
func parseExposition(r io.Reader) ([]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("reading the gateway's metrics: %w", err)
	}
	out := make([]*dto.MetricFamily, 0, len(mfs))
	for name, mf := range mfs {
		if ownFamily(name) {
			continue
		}
		out = append(out, mf)
	}
	slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return out, nil
}

// ownPrefixes are the families the sidecar exports itself; the gateway's
// families with these prefixes (its Go runtime and process metrics, when it
// is a Go program) would collide with ours and are left out.
var ownPrefixes = []string{"gatewatch_", "go_", "process_", "promhttp_"}

func ownFamily(name string) bool {
	for _, p := range ownPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
