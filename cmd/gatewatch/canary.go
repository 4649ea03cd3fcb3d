package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/gatewatch/gatewatch/canary"
	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/rules"
)

func init() {
	register(func(app *kingpin.Application) {
		cmd := app.Command("canary", "Judge a canary against its baseline; abort a failed one.")
		registerCanaryJudge(cmd)
		registerCanaryAbort(cmd)
	})
}

func registerCanaryJudge(parent *kingpin.CmdClause) {
	cmd := parent.Command("judge", "Compare the canary and baseline tracks (or green and blue) per endpoint with enough traffic, on the 5xx ratio, the p99 latency and the metrics of gatewatch.yaml, as Kayenta's NetflixACAJudge does. Exits 0 when the canary passes, 1 when it fails or is marginal, 2 when there is not enough data.")
	var (
		in                 inputs
		promURL, out, end  string
		gateway            string
		track, baseline    string
		window, step       model.Duration
		timeout            time.Duration
		minRequests        float64
		windowSet, stepSet bool
	)
	in.flags(cmd)
	cmd.Flag("prometheus", "Base URL of the Prometheus to query (http://prometheus:9090).").Required().StringVar(&promURL)
	cmd.Flag("gateway", "Gateway label value; default: gateway.name of gatewatch.yaml, else the contract's name.").StringVar(&gateway)
	cmd.Flag("window", "How far back to read samples (canary.window, 10m).").IsSetByUser(&windowSet).SetValue(&window)
	cmd.Flag("step", "Distance between samples (canary.step, 30s).").IsSetByUser(&stepSet).SetValue(&step)
	cmd.Flag("end", "End of the window: RFC 3339 or Unix seconds (now).").StringVar(&end)
	cmd.Flag("track", "Track under test (canary.track: canary; green for blue-green).").EnumVar(&track, config.Tracks...)
	cmd.Flag("baseline", "Track compared with (canary.baseline: baseline; blue for blue-green).").EnumVar(&baseline, config.Tracks...)
	cmd.Flag("min-requests", "Requests each track must have served an endpoint within the window (canary.min_requests, 100).").Float64Var(&minRequests)
	durationFlag(cmd, "timeout", "Timeout of each Prometheus query.", "30s", &timeout)
	cmd.Flag("output", "Output: text or json.").Short('o').Default("text").EnumVar(&out, "text", "json")
	cmd.Action(func(*kingpin.ParseContext) error {
		cfg, name, err := canaryInputs(&in, gateway)
		if err != nil {
			return err
		}
		c := cfg.Canary
		if windowSet {
			c.Window = config.Duration(window)
		}
		if stepSet {
			c.Step = config.Duration(step)
		}
		if track != "" {
			c.Track = track
		}
		if baseline != "" {
			c.Baseline = baseline
		}
		if minRequests > 0 {
			c.MinRequests = minRequests
		}
		if c.Track == c.Baseline {
			return fmt.Errorf("the track under test and the baseline are both %q", c.Track)
		}
		if c.Step <= 0 || c.Window < 3*c.Step {
			return fmt.Errorf("window %s must hold at least 3 steps of %s", c.Window, c.Step)
		}
		endTime := time.Now()
		if end != "" {
			if endTime, err = parseTime(end); err != nil {
				return err
			}
		}
		client, err := api.NewClient(api.Config{Address: promURL, Client: &http.Client{Timeout: timeout}})
		if err != nil {
			return fmt.Errorf("--prometheus %q: %w", promURL, err)
		}
		rep, err := canary.Judge(context.Background(), v1.NewAPI(client), canary.Request{Gateway: name, End: endTime, Config: c})
		if err != nil {
			return err
		}
		if out == "json" {
			err = rep.WriteJSON(stdout)
		} else {
			err = rep.WriteText(stdout)
		}
		if err != nil {
			return err
		}
		switch {
		case rep.NotEnoughData:
			return exitError{code: 2}
		case rep.Score.Verdict != canary.VerdictPass:
			return exitError{code: 1}
		}
		return nil
	})
}

// canaryInputs reads gatewatch.yaml (or the defaults) and finds the
// gateway's name: --gateway, else rules.GatewayName of the contract and
// the configuration. A contract is read only when one is named.
func canaryInputs(in *inputs, gateway string) (*config.Config, string, error) {
	cfg, err := generateConfig(in)
	if err != nil {
		return nil, "", err
	}
	if gateway != "" {
		return cfg, gateway, nil
	}
	if in.contractFile == "" && cfg.Contract.Path == "" {
		if cfg.Gateway.Name == "" {
			return nil, "", errors.New("no gateway name: pass --gateway NAME, or -c gatewatch.yaml with gateway.name or contract.path, or --contract FILE")
		}
		return cfg, cfg.Gateway.Name, nil
	}
	cfg, c, err := in.load()
	if err != nil {
		return nil, "", err
	}
	return cfg, rules.GatewayName(c, cfg), nil
}

func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && f < 1e11 {
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
	}
	return time.Time{}, fmt.Errorf("--end %q is neither an RFC 3339 time (2026-12-04T20:00:00Z) nor Unix seconds", s)
}

func registerCanaryAbort(parent *kingpin.CmdClause) {
	cmd := parent.Command("abort", "Remove the canary's target from a Kong upstream through the Admin API (DELETE /upstreams/{upstream}/targets/{target}), so that it gets no more traffic.")
	var (
		admin            canary.KongAdmin
		upstream, target string
		token            config.SecretRef
		timeout          time.Duration
	)
	cmd.Flag("kong-admin-url", "Base URL of Kong's Admin API (http://kong-admin:8001).").Required().StringVar(&admin.URL)
	cmd.Flag("upstream", "Upstream name or id.").Required().StringVar(&upstream)
	cmd.Flag("target", "Target to remove: host:port or its id.").Required().StringVar(&target)
	cmd.Flag("admin-token-file", "File holding the Kong-Admin-Token (Kong Enterprise RBAC).").StringVar(&token.File)
	cmd.Flag("admin-token-env", "Environment variable holding the Kong-Admin-Token.").StringVar(&token.Env)
	durationFlag(cmd, "timeout", "Timeout of the request.", "10s", &timeout)
	cmd.Action(func(*kingpin.ParseContext) error {
		tok, err := token.Read()
		if err != nil {
			return fmt.Errorf("Kong admin token: %w", err)
		}
		admin.Token = tok
		admin.Client = &http.Client{Timeout: timeout}
		if err := admin.RemoveTarget(context.Background(), upstream, target); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "removed target %s from Kong upstream %s\n", target, upstream)
		return nil
	})
}
