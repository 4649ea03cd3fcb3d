package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/pagerduty"
)

func init() {
	register(func(app *kingpin.Application) {
		pd := app.Command("pagerduty", "Send events to PagerDuty's Events API v2.")
		var (
			in      inputs
			ch      changeFlags
			keyFile string
			keyEnv  string
		)
		cmd := pd.Command("change-event", "Send a Change Event (a deploy, say: \"contract 3f2a… deployed to canary\") with links to the commit or diff and the contract's hash; retried through 429s, 5xx and network errors until --timeout.")
		in.flags(cmd)
		cmd.Flag("summary", "What changed (at most 1,024 characters; longer is cut).").Required().StringVar(&ch.summary)
		cmd.Flag("source", "Where the change happened (a pipeline, a host).").Default("gatewatch").StringVar(&ch.source)
		cmd.Flag("link", "A link, as URL or TEXT=URL (repeatable): the commit, the diff, the pipeline run.").StringsVar(&ch.links)
		cmd.Flag("detail", "A custom detail as KEY=VALUE (repeatable).").StringsVar(&ch.details)
		cmd.Flag("url", "Events API v2 base URL; EU accounts use https://events.eu.pagerduty.com.").Default(config.DefaultPagerDutyURL).StringVar(&ch.url)
		cmd.Flag("routing-key-file", "File holding the service's integration (routing) key.").StringVar(&keyFile)
		cmd.Flag("routing-key-env", "Environment variable holding the routing key.").StringVar(&keyEnv)
		durationFlag(cmd, "timeout", "Give up retrying after this long.", "2m", &ch.timeout)
		cmd.Flag("dry-run", "Print the event (routing key hidden) instead of sending it.").BoolVar(&ch.dryRun)
		cmd.Action(func(*kingpin.ParseContext) error {
			ch.key = config.SecretRef{File: keyFile, Env: keyEnv}
			return changeEvent(&in, &ch)
		})
	})
}

type changeFlags struct {
	summary, source, url string
	links, details       []string
	key                  config.SecretRef
	timeout              time.Duration
	dryRun               bool
}

func changeEvent(in *inputs, f *changeFlags) error {
	if f.key.File != "" && f.key.Env != "" {
		return errors.New("at most one of --routing-key-file and --routing-key-env may be set")
	}
	if !f.key.IsSet() && !f.dryRun {
		return errors.New("no routing key: pass --routing-key-file FILE or --routing-key-env VAR")
	}
	c := pagerduty.Change{Summary: f.summary, Source: f.source, Details: map[string]any{}}
	for _, l := range f.links {
		text, href := "", l
		if k, v, ok := strings.Cut(l, "="); ok && !strings.ContainsAny(k, ":/") {
			text, href = k, v
		}
		if !strings.HasPrefix(href, "http://") && !strings.HasPrefix(href, "https://") {
			return fmt.Errorf("--link %q: expected an http(s) URL, or TEXT=URL", l)
		}
		c.Links = append(c.Links, pagerduty.Link{Href: href, Text: text})
	}
	for _, d := range f.details {
		k, v, ok := strings.Cut(d, "=")
		if !ok || k == "" {
			return fmt.Errorf("--detail %q: expected KEY=VALUE", d)
		}
		c.Details[k] = v
	}
	if in.contractFile != "" || in.configFile != "" {
		cfg, ct, err := in.load()
		if err != nil {
			return err
		}
		c.Details["gateway"] = ct.Name
		if cfg.Gateway.Name != "" {
			c.Details["gateway"] = cfg.Gateway.Name
		}
		c.Details["contract_hash"] = ct.Hash
		c.Details["contract"] = ct.Source
	}
	if len(c.Details) == 0 {
		c.Details = nil
	}
	ev := pagerduty.ChangeEvent(c)
	if f.dryRun {
		shown := *ev.Change
		shown.RoutingKey = "<secret>"
		e := json.NewEncoder(stdout)
		e.SetEscapeHTML(false)
		e.SetIndent("", "  ")
		return e.Encode(shown)
	}
	if _, err := f.key.Read(); err != nil {
		return fmt.Errorf("routing key: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	defer cancel()
	log := slog.New(slog.NewTextHandler(stderr, nil))
	if err := pagerduty.Deliver(ctx, pagerduty.New(f.url, f.key, nil), pagerduty.DefaultRetrier, ev, log, nil); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "change event accepted by PagerDuty")
	return nil
}
