// Command krakend is a real KrakenD engine for the demo and its tests: Lura
// (KrakenD's engine, github.com/luraproject/lura/v2) serving a krakend.json
// as KrakenD Community Edition does, with CE's own access log (gin's default
// logger line) written to a file that gatewatch's sidecar follows.
//
// It is a program of its own so that Lura and gin are never linked into
// bin/gatewatch. Lura v2.12.1 builds with gin v1.9.1, whose line is the one
// KrakenD CE v2.11.0 to v2.13.1 writes (../../../shared/REFERENCE.md §11).
//
// Every backend host of the contract must be mapped to a local address with
// -backend, so that the demo never sends a request off the machine:
//
//	krakend -config examples/krakend.json -listen 127.0.0.1:8080 \
//	  -backend http://users.shop.svc.cluster.local:8080=http://127.0.0.1:9001 \
//	  -access-log out/demo/access.log
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/gin-gonic/gin"
	"github.com/luraproject/lura/v2/config"
	"github.com/luraproject/lura/v2/logging"
	"github.com/luraproject/lura/v2/proxy"
	luragin "github.com/luraproject/lura/v2/router/gin"
	"github.com/luraproject/lura/v2/transport/http/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "krakend:", err)
		os.Exit(2)
	}
}

// hostMap maps backend hosts of the contract to local base URLs.
type hostMap map[string]string

func (m hostMap) String() string { return fmt.Sprint(map[string]string(m)) }

func (m hostMap) Set(s string) error {
	from, to, ok := strings.Cut(s, "=")
	if !ok || from == "" || to == "" {
		return fmt.Errorf("%q: expected HOST=URL, such as http://users.svc:8080=http://127.0.0.1:9001", s)
	}
	m[normalizeHost(from)] = normalizeHost(to)
	return nil
}

// normalizeHost writes a host as Lura's config.Init leaves it: with a
// scheme and without a trailing slash.
func normalizeHost(h string) string {
	h = strings.TrimRight(h, "/")
	if !strings.Contains(h, "://") {
		h = "http://" + h
	}
	return h
}

// run parses args, starts the gateway and serves until ctx ends.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("krakend", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgFile := fs.String("config", "krakend.json", "the KrakenD configuration to serve (version 3)")
	listen := fs.String("listen", "", "address to listen on (host:port); default the configuration's port on every interface")
	accessLog := fs.String("access-log", "-", "file the gin access log is appended to; - is standard output, as in KrakenD CE")
	level := fs.String("log-level", "INFO", "level of the [KRAKEND] application log on standard error: DEBUG, INFO, WARNING, ERROR or CRITICAL")
	backends := hostMap{}
	fs.Var(backends, "backend", "HOST=URL: send the requests for backend HOST to URL instead; repeatable; every host of the configuration must be mapped")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := load(*cfgFile, *listen, backends)
	if err != nil {
		return err
	}
	var w io.Writer = os.Stdout
	if *accessLog != "-" {
		f, err := os.OpenFile(*accessLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	logger, err := logging.NewLogger(*level, stderr, "[KRAKEND]")
	if err != nil {
		return fmt.Errorf("-log-level %q: %w", *level, err)
	}
	serve(ctx, cfg, logger, w)
	return nil
}

// load parses a krakend.json as KrakenD does and points it at the local
// listen address and backends.
func load(file, listen string, backends hostMap) (config.ServiceConfig, error) {
	// KrakenD CE accepts the short namespace "router" for Lura's gin
	// options (logger_skip_paths, disable_access_log, ...) and normalizes
	// the parsed configuration; Lura alone knows only the long one.
	config.ExtraConfigAlias["router"] = luragin.Namespace
	cfg, err := config.NewParser().Parse(file)
	if err != nil {
		return cfg, err
	}
	cfg.Normalize()
	if listen != "" {
		host, port, err := net.SplitHostPort(listen)
		if err != nil {
			return cfg, fmt.Errorf("-listen %q: %w", listen, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return cfg, fmt.Errorf("-listen %q: port %q is not a number", listen, port)
		}
		cfg.Address, cfg.Port = host, p
	}
	cfg.Host = mapHosts(cfg.Host, backends)
	var unmapped []string
	for _, e := range cfg.Endpoints {
		for _, b := range e.Backend {
			for _, h := range b.Host {
				if _, ok := backends[h]; !ok && !slices.Contains(unmapped, h) {
					unmapped = append(unmapped, h)
				}
			}
			b.Host = mapHosts(b.Host, backends)
		}
	}
	if len(unmapped) > 0 {
		return cfg, fmt.Errorf("%s: backend hosts without -backend HOST=URL: %s", file, strings.Join(unmapped, ", "))
	}
	return cfg, nil
}

func mapHosts(hosts []string, m hostMap) []string {
	out := make([]string, len(hosts))
	for i, h := range hosts {
		if to, ok := m[h]; ok {
			h = to
		}
		out[i] = h
	}
	return out
}

// serve runs the gateway as KrakenD CE wires Lura (krakend-ce
// executor.go, without CE's plugins): gin engine with the default access
// logger writing to w, the default proxy stack, until ctx ends.
func serve(ctx context.Context, cfg config.ServiceConfig, logger logging.Logger, w io.Writer) {
	engine := luragin.NewEngine(cfg, luragin.EngineOptions{Logger: logger, Writer: w})
	luragin.NewFactory(luragin.Config{
		Engine:         engine,
		Middlewares:    []gin.HandlerFunc{},
		HandlerFactory: luragin.EndpointHandler,
		ProxyFactory:   proxy.DefaultFactory(logger),
		Logger:         logger,
		RunServer:      server.RunServerWithLoggerFactory(logger),
	}).NewWithContext(ctx).Run(cfg)
}
