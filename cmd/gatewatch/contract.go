package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/contract/krakend"
	"github.com/gatewatch/gatewatch/contract/loader"
)

func init() {
	register(func(app *kingpin.Application) {
		cmd := app.Command("contract", "Read, audit and compare gateway contracts.")
		var fc krakend.Options
		fcFlags := func(c *kingpin.CmdClause) {
			c.Flag("settings", "KrakenD flexible configuration settings folder (FC_SETTINGS).").StringVar(&fc.Settings)
			c.Flag("partials", "KrakenD flexible configuration partials folder (FC_PARTIALS).").StringVar(&fc.Partials)
			c.Flag("templates", "KrakenD flexible configuration templates folder (FC_TEMPLATES).").StringVar(&fc.Templates)
		}

		show := cmd.Command("show", "List the endpoints of a contract.")
		var showFile, showFormat, showOut string
		show.Arg("file", "krakend.json, kong.yaml or envoy.yaml").Required().StringVar(&showFile)
		show.Flag("format", "Contract format: auto, krakend, kong or envoy.").Default("auto").EnumVar(&showFormat, loader.Formats...)
		show.Flag("output", "Output: table or json.").Short('o').Default("table").EnumVar(&showOut, "table", "json")
		fcFlags(show)
		show.Action(func(*kingpin.ParseContext) error {
			c, err := loadContract(showFile, showFormat, fc)
			if err != nil {
				return err
			}
			if showOut == "json" {
				return writeJSON(stdout, c)
			}
			return writeTable(stdout, c)
		})

		registerLint(cmd, fcFlags, &fc)
		registerDiff(cmd, fcFlags, &fc)
	})
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func writeTable(w io.Writer, c *contract.Contract) error {
	fmt.Fprintf(w, "%s contract %q (%s), %d endpoints, sha256 %s\n\n", c.Gateway, c.Name, c.Source, len(c.Endpoints), shortHash(c.Hash))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "METHODS\tENDPOINT\tMATCH\tTIMEOUT\tRATE LIMIT\tAUTH\tBACKENDS\tLINE")
	for i := range c.Endpoints {
		ep := &c.Endpoints[i]
		methods := "ANY"
		if len(ep.Methods) > 0 {
			methods = strings.Join(ep.Methods, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", methods, ep.Name, matchText(ep), durText(ep.Timeout),
			rateText(ep.RateLimit), authText(ep.Auth), backendText(ep), ep.Pos)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range c.Notes {
		loc := c.Source
		if p := n.Pos.String(); p != "" {
			loc += ":" + p
		}
		if n.Path != "" {
			loc += ": " + n.Path
		}
		fmt.Fprintf(w, "\nnote: %s: %s\n", loc, n.Text)
	}
	return nil
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func matchText(ep *contract.Endpoint) string {
	if ep.Match == contract.MatchExact && ep.Path == ep.Name {
		return "exact"
	}
	p := ep.Path
	if ep.Match == contract.MatchRegex && ep.Regex != "" {
		p = ep.Regex
	}
	return string(ep.Match) + " " + p
}

func durText(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return contract.FormatDuration(d)
}

func rateText(r *contract.RateLimit) string {
	if r == nil {
		return "-"
	}
	s := fmt.Sprintf("%g/%s", r.Requests, contract.FormatDuration(r.Period))
	if r.PerClient {
		s += " per client"
	}
	return s
}

func authText(a contract.Auth) string {
	if !a.Required {
		return "none"
	}
	if len(a.Kinds) == 0 {
		return "required"
	}
	return strings.Join(a.Kinds, ",")
}

func backendText(ep *contract.Endpoint) string {
	if ep.DirectResponse != 0 {
		return fmt.Sprintf("direct %d", ep.DirectResponse)
	}
	var parts []string
	for _, b := range ep.Backends {
		switch {
		case b.Name != "":
			parts = append(parts, b.Name)
		case len(b.Hosts) > 0:
			parts = append(parts, strings.Join(b.Hosts, "|")+b.URL)
		default:
			parts = append(parts, b.URL)
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}
