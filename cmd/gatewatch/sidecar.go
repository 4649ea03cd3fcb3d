package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatewatch/gatewatch/sidecar"
)

func init() {
	register(func(app *kingpin.Application) {
		var (
			in        inputs
			listen    string
			once      bool
			logFormat string
		)
		cmd := app.Command("sidecar", "Follow the gateway's access logs and export per-endpoint metrics on /metrics (run beside the gateway).")
		in.flags(cmd)
		cmd.Flag("listen", "Address of the metrics server; overrides sidecar.listen of gatewatch.yaml.").StringVar(&listen)
		cmd.Flag("once", "Read every log to its end, write the checkpoint, print a summary and exit (benchmarks, backfills).").BoolVar(&once)
		cmd.Flag("log-format", "Format of the sidecar's own log: json or text.").Default("json").EnumVar(&logFormat, "json", "text")
		cmd.Action(func(*kingpin.ParseContext) error {
			cfg, c, err := in.load()
			if err != nil {
				return err
			}
			if listen != "" {
				cfg.Sidecar.Listen = listen
			}
			var h slog.Handler = slog.NewJSONHandler(stderr, nil)
			if logFormat == "text" {
				h = slog.NewTextHandler(stderr, nil)
			}
			logger := slog.New(h)
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			s, err := sidecar.New(cfg, c, logger, prometheus.NewRegistry(), sidecar.Options{Once: once})
			if err != nil {
				return err
			}
			logger.Info("contract loaded", "gateway", c.Name, "kind", string(c.Gateway), "endpoints", len(c.Endpoints), "hash", c.Hash)
			if err := s.Run(ctx); err != nil {
				return err
			}
			if once {
				st := s.Summary()
				fmt.Fprintf(stdout, "lines %d, decode errors %d\n", st.Lines, st.DecodeErrors)
			}
			return nil
		})
	})
}
