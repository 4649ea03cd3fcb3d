package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/shipper"
)

func init() {
	register(func(app *kingpin.Application) {
		var (
			in           inputs
			files        []string
			logFormat    string
			urls         []string
			maxRetryTime time.Duration
			ownFormat    string
		)
		cmd := app.Command("replay", "Ship existing access-log files to Elasticsearch (a backfill after an outage); idempotent: lines already stored are not stored again. Exit status: 0 everything stored, 2 not everything could be stored (Elasticsearch unreachable or refusing for --max-retry-time, bad arguments, unreadable input).")
		in.flags(cmd)
		cmd.Flag("url", "Elasticsearch URL (repeatable); overrides shipper.urls of gatewatch.yaml, whose TLS and auth settings still apply. Required when gatewatch.yaml names none.").StringsVar(&urls)
		durationFlag(cmd, "max-retry-time", "Give up, with a summary of what was and was not stored, when Elasticsearch has acknowledged nothing for this long.", "5m", &maxRetryTime)
		cmd.Flag("access-log.format", "Format of the gateway's access-log files (an accesslog format name); default: the format of the first log in sidecar.logs.").StringVar(&logFormat)
		cmd.Flag("log-format", "Deprecated: use --access-log.format.").Hidden().StringVar(&logFormat)
		cmd.Flag("log.format", "Format of replay's own log (its warnings and errors): text or json; the files' format is --access-log.format.").Default("text").EnumVar(&ownFormat, ownLogFormats...)
		cmd.Arg("files", "Access-log files to ship.").Required().ExistingFilesVar(&files)
		cmd.Action(func(*kingpin.ParseContext) error {
			cfg, c, err := replayInputs(&in)
			if err != nil {
				return err
			}
			if logFormat != "" {
				cfg.Sidecar.Logs = []config.LogConfig{{Path: "*", Format: logFormat}}
			}
			if len(urls) > 0 {
				cfg.Shipper.URLs = urls
			} else if !cfg.Shipper.URLsConfigured() {
				return fmt.Errorf("replay: no Elasticsearch to replay to: pass --url https://host:9200 or set shipper.urls in gatewatch.yaml (-c)")
			}
			if maxRetryTime <= 0 {
				return fmt.Errorf("replay: --max-retry-time must be positive, got %s", config.Duration(maxRetryTime))
			}
			logger := ownLogger(stderr, ownFormat, slog.LevelWarn)
			s, err := shipper.New(cfg, c, logger, nil)
			if err != nil {
				return err
			}
			s.MaxRetryTime = maxRetryTime
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			bar := shipper.NewProgressPrinter(stderr, isTerminal(stderr))
			if err := s.Replay(ctx, files, bar.Update); err != nil {
				return err
			}
			if ctx.Err() != nil {
				return fmt.Errorf("replay interrupted; run it again to continue (lines already stored are skipped)")
			}
			return nil
		})
	})
}

// replayInputs loads gatewatch.yaml and, when one is configured, the
// contract; without a contract every document's endpoint is "unmatched".
func replayInputs(in *inputs) (*config.Config, *contract.Contract, error) {
	if in.contractFile != "" {
		return in.load()
	}
	cfg := config.Default()
	if in.configFile != "" {
		c, err := config.LoadFile(in.configFile)
		if err != nil {
			return nil, nil, err
		}
		cfg = c
	}
	if cfg.Contract.Path != "" {
		return in.load()
	}
	return cfg, nil, nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
