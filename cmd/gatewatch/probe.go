package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/prober"
)

func init() {
	register(func(app *kingpin.Application) {
		var (
			in       inputs
			listen   string
			once     bool
			logLevel string
		)
		cmd := app.Command("probe", "Call the gateway's endpoints from outside at an interval, export the results on /metrics and page PagerDuty itself after repeated failures (probe section of gatewatch.yaml).")
		in.flags(cmd)
		cmd.Flag("listen", "Address of the metrics server; overrides probe.listen (off: none).").StringVar(&listen)
		cmd.Flag("once", "Probe every check once, print the results and exit: 0 all passed, 1 some failed. Pages nobody.").BoolVar(&once)
		cmd.Flag("log.level", "Lowest level of the prober's own log: debug, info, warn or error.").Default("info").EnumVar(&logLevel, "debug", "info", "warn", "error")
		cmd.Action(func(*kingpin.ParseContext) error {
			cfg, c, err := probeInputs(&in)
			if err != nil {
				return err
			}
			if listen != "" {
				cfg.Probe.Listen = listen
			}
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return err
			}
			logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
			if once {
				cfg.Probe.PagerDuty.RoutingKeyFile, cfg.Probe.PagerDuty.RoutingKeyEnv = "", ""
				logger = slog.New(slog.DiscardHandler)
			}
			s, err := prober.FromConfig(cfg, c, logger)
			if err != nil {
				return err
			}
			if once {
				return probeOnce(s)
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			logger.Info("probing", "checks", len(s.Targets), "interval", cfg.Probe.Interval.String(), "paging", s.Outbox != nil)
			return s.Run(ctx)
		})
	})
}

// probeInputs reads gatewatch.yaml and, when one is named, the contract:
// the prober also runs on probe.targets alone.
func probeInputs(in *inputs) (*config.Config, *contract.Contract, error) {
	if in.contractFile != "" {
		return in.load()
	}
	cfg, err := generateConfig(in)
	if err != nil {
		return nil, nil, err
	}
	if cfg.Contract.Path == "" {
		return cfg, nil, nil
	}
	return in.load()
}

func probeOnce(s *prober.Setup) error {
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "CHECK\tRESULT\tSTATUS\tTIME\tURL")
	failed := 0
	for i, t := range s.Targets {
		r := s.Prober.Check(context.Background(), i)
		res := "ok"
		if !r.Success {
			res = "FAIL: " + r.Err
			failed++
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s %s\n", t.Name, res, r.Status, r.Duration.Round(time.Millisecond), t.Method, t.URL)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if failed > 0 {
		fmt.Fprintf(stdout, "%d of %d checks failed\n", failed, len(s.Targets))
		return exitError{code: 1}
	}
	return nil
}
