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

	"github.com/gatewatch/gatewatch/accesslog"
	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/sidecar"
)

func init() {
	register(func(app *kingpin.Application) {
		var (
			in            inputs
			listen        string
			once          bool
			logFormat     string
			logLevel      string
			accessLogs    []string
			accessFormat  string
			checkpointDir string
			startAt       string
		)
		cmd := app.Command("sidecar", "Follow the gateway's access logs and export per-endpoint metrics on /metrics (run beside the gateway).")
		in.flags(cmd)
		cmd.Flag("listen", "Address of the metrics server; overrides sidecar.listen of gatewatch.yaml.").StringVar(&listen)
		cmd.Flag("once", "Read every log to its end, write the checkpoint, print a summary and exit (benchmarks, backfills).").BoolVar(&once)
		cmd.Flag("access-log", "Access log to follow (a file, a glob, or - for standard input); repeatable; replaces sidecar.logs of gatewatch.yaml.").StringsVar(&accessLogs)
		cmd.Flag("access-log.format", "Format of the gateway's --access-log files (default: the contract's); the sidecar's own log is --log.format.").EnumVar(&accessFormat, accesslog.Formats...)
		cmd.Flag("access-log-format", "Deprecated: use --access-log.format.").Hidden().EnumVar(&accessFormat, accesslog.Formats...)
		cmd.Flag("checkpoint-dir", "Folder of the metrics reader's checkpoint; overrides sidecar.checkpoint_dir.").StringVar(&checkpointDir)
		cmd.Flag("start", "Where reading begins: checkpoint, beginning or end; overrides sidecar.start.").EnumVar(&startAt, config.StartCheckpoint, config.StartBeginning, config.StartEnd)
		cmd.Flag("log.format", "Format of the sidecar's own log: json or text.").Default("json").EnumVar(&logFormat, "json", "text")
		cmd.Flag("log.level", "Lowest level of the sidecar's own log: debug, info, warn or error.").Default("info").EnumVar(&logLevel, "debug", "info", "warn", "error")
		cmd.Action(func(*kingpin.ParseContext) error {
			cfg, c, err := in.load()
			if err != nil {
				return err
			}
			if listen != "" {
				cfg.Sidecar.Listen = listen
			}
			if len(accessLogs) > 0 {
				cfg.Sidecar.Logs = nil
				for _, p := range accessLogs {
					cfg.Sidecar.Logs = append(cfg.Sidecar.Logs, config.LogConfig{Path: p, Format: accessFormat, Envelope: "none"})
				}
			}
			if checkpointDir != "" {
				cfg.Sidecar.CheckpointDir = checkpointDir
			}
			if startAt != "" {
				cfg.Sidecar.Start = startAt
			}
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return err
			}
			ho := &slog.HandlerOptions{Level: level}
			var h slog.Handler = slog.NewJSONHandler(stderr, ho)
			if logFormat == "text" {
				h = slog.NewTextHandler(stderr, ho)
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
