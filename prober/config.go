package prober

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/pagerduty"
	"github.com/gatewatch/gatewatch/probe"
	"github.com/gatewatch/gatewatch/rules"
)

// Alert names whose runbook the prober's events link to.
const runbookAlert = "GatewatchProbeFailing"

// Setup is `gatewatch probe` assembled from gatewatch.yaml: the prober,
// its outbox and PagerDuty client (nil without a routing key), and the
// metrics server.
type Setup struct {
	Prober   *Prober
	Outbox   *pagerduty.Outbox
	Client   *pagerduty.Client
	Listen   string
	Registry *prometheus.Registry
	Targets  []probe.Target
	log      *slog.Logger
}

// FromConfig builds the prober of cfg's probe section; c (may be nil) adds
// the contract's checks. Notes about checks that could not be derived are
// logged.
func FromConfig(cfg *config.Config, c *contract.Contract, log *slog.Logger) (*Setup, error) {
	p := &cfg.Probe
	gateway := cfg.Gateway.Name
	if c != nil {
		gateway = rules.GatewayName(c, cfg)
	} else if gateway == "" {
		return nil, errors.New("no gateway name: set gateway.name in gatewatch.yaml, or contract.path so that the contract's name is used")
	}
	targets, notes := probe.Targets(c, cfg)
	for _, n := range notes {
		log.Warn(n)
	}
	if len(targets) == 0 {
		return nil, errors.New("nothing to probe: add probe.targets to gatewatch.yaml, or set probe.base_url so that the contract's endpoints are probed")
	}
	location := p.Location
	if location == "" {
		location, _ = os.Hostname()
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &Setup{Listen: p.Listen, Registry: reg, Targets: targets, log: log}
	o := Options{
		Gateway: gateway, Targets: targets, Interval: p.Interval.Std(),
		TriggerAfter: p.TriggerAfter, ResolveAfter: p.ResolveAfter,
		Location: location, Severity: p.PagerDuty.Severity, Registerer: reg, Logger: log,
	}
	link := config.LinkData{Alert: runbookAlert, Gateway: gateway, UID: rules.DashboardUID(gateway)}
	if u, err := cfg.Alerting.DashboardFor(link); err == nil && u != "" {
		o.Links = append(o.Links, pagerduty.Link{Href: u, Text: "Dashboard"})
	}
	if u, err := cfg.Alerting.RunbookFor(link); err == nil && u != "" {
		o.Links = append(o.Links, pagerduty.Link{Href: u, Text: "Runbook"})
	}
	if p.PagerDuty.RoutingKey().IsSet() {
		if _, err := p.PagerDuty.RoutingKey().Read(); err != nil {
			return nil, fmt.Errorf("probe.pagerduty: %w", err)
		}
		ob, err := pagerduty.OpenOutbox(p.OutboxDir, pagerduty.NewMetrics(reg, gateway), log)
		if err != nil {
			return nil, err
		}
		s.Outbox, o.Outbox = ob, ob
		o.StateFile = filepath.Join(p.OutboxDir, "state.json") // not a sequence number: the outbox ignores it
		s.Client = pagerduty.New(p.PagerDuty.URL, p.PagerDuty.RoutingKey(), nil)
	} else {
		log.Warn("probe.pagerduty has no routing key: the prober exports metrics but pages nobody")
	}
	pr, err := New(o)
	if err != nil {
		return nil, err
	}
	s.Prober = pr
	return s, nil
}

// Run probes, sends the outbox and serves /metrics until ctx ends.
func (s *Setup) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	if s.Listen != "" && s.Listen != "off" {
		l, err := net.Listen("tcp", s.Listen)
		if err != nil {
			return fmt.Errorf("probe.listen: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{}))
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- srv.Serve(l) }()
		defer srv.Close()
		s.log.Info("serving metrics", "address", l.Addr().String())
	}
	if s.Outbox != nil {
		go s.Outbox.Run(ctx, s.Client, pagerduty.DefaultRetrier)
	}
	go s.Prober.Run(ctx)
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("metrics server: %w", err)
		}
	}
	return nil
}
