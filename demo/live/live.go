// Package live runs the demo: the bundled example contract served by a real
// KrakenD engine (demo/krakend) in front of small backends, loaded by hey
// or a built-in generator, followed by gatewatch's sidecar, and, where they
// are installed, Prometheus and Alertmanager with the configuration
// `gatewatch generate all` writes, paging a PagerDuty stand-in. It shows
// requests, errors and p99 per endpoint, alerts and pages while it runs.
package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/contract/loader"
	"github.com/gatewatch/gatewatch/demo/backend"
	"github.com/gatewatch/gatewatch/rules"
)

// Options of a demo run.
type Options struct {
	// Gatewatch and Krakend are the programs bin/gatewatch and the demo's
	// KrakenD engine.
	Gatewatch, Krakend string
	// Examples holds krakend.json and gatewatch.yaml.
	Examples string
	// Out is the folder the demo writes to (out/demo); its previous
	// run's files are replaced.
	Out string
	// Duration ends the demo; 0 runs it until ctx ends (Ctrl-C).
	Duration time.Duration
	// Hey, Prometheus and Alertmanager are the paths of those programs,
	// "" where they are not installed.
	Hey, Prometheus, Alertmanager string
	// Stdout is where the demo shows itself; Terminal redraws it in
	// place, otherwise it prints plain lines.
	Stdout   io.Writer
	Terminal bool
}

// Preferred loopback ports, so that the URLs stay the same between runs;
// a free port is taken where one is in use.
const (
	portGateway      = 18080
	portSidecar      = 19145
	portPrometheus   = 19090
	portAlertmanager = 19093
	portPagerDuty    = 19094
)

// Run runs the demo until ctx ends or o.Duration has passed, then stops
// everything it started and prints a summary.
func Run(ctx context.Context, o Options) error {
	d := &demo{o: o, out: o.Out, logs: filepath.Join(o.Out, "logs")}
	defer d.stopAll()
	if err := d.setUp(ctx); err != nil {
		return err
	}
	return d.loop(ctx)
}

// demo is one run.
type demo struct {
	o         Options
	out, logs string

	contract *contract.Contract
	gateway  string // the gateway label, rules.GatewayName
	targets  []target
	bursts   []burst
	backends map[string]*backend.Server // by contract host
	pd       *pdStandIn
	prom     *promClient

	urls       [][2]string // name, URL to open
	sidecarCmd string
	traffic    string

	procs      []*proc // in start order
	gatewayP   *proc
	sidecarP   *proc
	heyP       []*proc
	stopTraffc context.CancelFunc

	sidecarURL string
	start      time.Time
	view       view
}

func (d *demo) say(format string, args ...any) {
	if !d.o.Terminal {
		fmt.Fprintf(d.o.Stdout, format+"\n", args...)
	}
	d.view.setup = append(d.view.setup, fmt.Sprintf(format, args...))
}

func (d *demo) setUp(ctx context.Context) error {
	o := d.o
	for _, name := range []string{"state", "data", "logs", "generated", "secrets", "access.log", "gatewatch.yaml", "prometheus.yml"} {
		if err := os.RemoveAll(filepath.Join(d.out, name)); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(d.logs, 0o755); err != nil {
		return err
	}
	contractFile := filepath.Join(o.Examples, "krakend.json")
	c, err := loader.Load(contractFile, "auto", loader.Options{})
	if err != nil {
		return err
	}
	d.contract = c
	d.targets = targets(c)
	if len(d.targets) == 0 {
		return fmt.Errorf("%s: no endpoint with an exact path to send traffic to", contractFile)
	}
	d.bursts = schedule(d.targets)
	// The write that fails first gets busy traffic, so that the page
	// alert's traffic guard (min_requests_per_hour, read over the alert's
	// 1h window) holds after 10 seconds rather than a minute.
	for i, t := range d.targets {
		if t.method == d.bursts[0].target.method && t.endpoint == d.bursts[0].target.endpoint {
			d.targets[i].rate = busyRate
			d.bursts[0].target.rate = busyRate
		}
	}

	addrs := map[string]string{}
	for name, port := range map[string]int{"gateway": portGateway, "sidecar": portSidecar, "prometheus": portPrometheus, "alertmanager": portAlertmanager, "pagerduty": portPagerDuty} {
		a, err := listenAddr(port)
		if err != nil {
			return err
		}
		addrs[name] = a
	}

	// Routing keys are made for this run and written to files only:
	// Alertmanager reads them there, the stand-in knows them, nothing
	// prints them.
	keys := map[string]string{}
	keyFiles := map[string]string{}
	for _, svc := range []string{"page", "ticket"} {
		k := make([]byte, 16)
		if _, err := rand.Read(k); err != nil {
			return err
		}
		key := hex.EncodeToString(k)
		p, err := writeFile(filepath.Join(d.out, "secrets"), "pagerduty-"+svc, []byte(key+"\n"), 0o600)
		if err != nil {
			return err
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return err
		}
		keys[key], keyFiles[svc] = svc, abs
	}
	if d.pd, err = newPDStandIn(addrs["pagerduty"], keys); err != nil {
		return err
	}

	absOut, err := filepath.Abs(d.out)
	if err != nil {
		return err
	}
	absContract, err := filepath.Abs(contractFile)
	if err != nil {
		return err
	}
	contractRel, err := filepath.Rel(absOut, absContract)
	if err != nil {
		contractRel = absContract
	}
	gwYAML, err := demoConfig(filepath.Join(o.Examples, "gatewatch.yaml"), d.out, contractRel, addrs["sidecar"], d.pd.URL(), keyFiles["page"], keyFiles["ticket"])
	if err != nil {
		return err
	}
	cfgFile, err := writeFile(d.out, "gatewatch.yaml", gwYAML, 0o644)
	if err != nil {
		return err
	}
	cfg, err := config.LoadFile(cfgFile)
	if err != nil {
		return fmt.Errorf("the demo's gatewatch.yaml: %w", err)
	}
	d.gateway = rules.GatewayName(c, cfg)
	d.say("== gatewatch demo: %s (%s, %d endpoints) on a real KrakenD engine (Lura v2.12.1)", d.gateway, rel(contractFile), len(c.Endpoints))
	d.say("demo-only settings in %s: sidecar on loopback, state in %s, PagerDuty stand-in, Alertmanager group_wait %s", rel(cfgFile), rel(filepath.Join(d.out, "state")), groupWait)

	genDir := filepath.Join(d.out, "generated")
	if err := d.generate(cfgFile, genDir); err != nil {
		return err
	}

	// Backends, one per backend host of the contract.
	d.backends = map[string]*backend.Server{}
	hosts := slices.Clone(c.Defaults.Hosts)
	for _, ep := range c.Endpoints {
		for _, b := range ep.Backends {
			hosts = append(hosts, b.Hosts...)
		}
	}
	gwArgs := []string{o.Krakend, "-config", contractFile, "-listen", addrs["gateway"], "-access-log", filepath.Join(d.out, "access.log")}
	for _, h := range hosts {
		if d.backends[h] != nil {
			continue
		}
		s, err := backend.New(serviceName(h))
		if err != nil {
			return err
		}
		d.backends[h] = s
		gwArgs = append(gwArgs, "-backend", h+"="+s.URL())
	}

	// The gateway. TZ=UTC: gin's line has no zone, and the sidecar reads
	// it as UTC.
	if d.gatewayP, err = d.startProc(ctx, "gateway", []string{"TZ=UTC"}, gwArgs, "http://"+addrs["gateway"]+"/__health"); err != nil {
		return err
	}
	d.say("gateway: %s", shellQuote(gwArgs))

	// The sidecar, exactly as printed.
	scArgs := []string{o.Gatewatch, "sidecar", "-c", cfgFile, "--access-log", filepath.Join(d.out, "access.log"), "--access-log.format", "krakend", "--log.format", "text"}
	d.sidecarCmd = shellQuote(scArgs)
	d.sidecarURL = "http://" + addrs["sidecar"] + "/metrics"
	if d.sidecarP, err = d.startProc(ctx, "sidecar", nil, scArgs, "http://"+addrs["sidecar"]+"/readyz"); err != nil {
		return err
	}
	d.say("sidecar: %s", d.sidecarCmd)
	d.urls = append(d.urls, [2]string{"sidecar", d.sidecarURL})

	if o.Alertmanager != "" && o.Prometheus != "" {
		amArgs := []string{o.Alertmanager, "--config.file=" + filepath.Join(genDir, "alertmanager.yml"),
			"--storage.path=" + filepath.Join(d.out, "data", "alertmanager"), "--web.listen-address=" + addrs["alertmanager"],
			"--cluster.listen-address=", "--log.level=warn"}
		if _, err := d.startProc(ctx, "alertmanager", nil, amArgs, "http://"+addrs["alertmanager"]+"/-/ready"); err != nil {
			return err
		}
		d.say("alertmanager: %s", shellQuote(amArgs))
		promYAML := prometheusConfig(filepath.Join("generated", rules.RulesFileName), cfg.Alerting.Job, addrs["sidecar"], d.gateway, addrs["alertmanager"])
		pcfg, err := writeFile(d.out, "prometheus.yml", promYAML, 0o644)
		if err != nil {
			return err
		}
		pArgs := []string{o.Prometheus, "--config.file=" + pcfg, "--storage.tsdb.path=" + filepath.Join(d.out, "data", "prometheus"),
			"--web.listen-address=" + addrs["prometheus"], "--log.level=warn"}
		if _, err := d.startProc(ctx, "prometheus", nil, pArgs, "http://"+addrs["prometheus"]+"/-/ready"); err != nil {
			return err
		}
		d.say("prometheus: %s", shellQuote(pArgs))
		d.prom = &promClient{c: &http.Client{Timeout: 2 * time.Second}, prometheus: "http://" + addrs["prometheus"], alertmanager: "http://" + addrs["alertmanager"]}
		d.urls = append(d.urls, [2]string{"Prometheus", d.prom.prometheus + "/alerts"}, [2]string{"Alertmanager", d.prom.alertmanager + "/#/alerts"})
	} else {
		d.say("Prometheus and Alertmanager are not installed, so no alert fires and no page is sent: apt-get install prometheus prometheus-alertmanager, then make demo again.")
	}
	d.urls = append(d.urls, [2]string{"gateway", "http://" + addrs["gateway"] + d.targets[0].path(42)})

	// Traffic.
	base := "http://" + addrs["gateway"]
	total := 0.0
	for _, t := range d.targets {
		total += t.rate
	}
	if o.Hey != "" {
		dur := 24 * time.Hour
		if o.Duration > 0 {
			dur = o.Duration + time.Minute
		}
		if d.heyP, err = runHey(o.Hey, base, d.logs, d.targets, dur); err != nil {
			return err
		}
		d.traffic = fmt.Sprintf("hey, one per endpoint and method (%d), %.0f req/s in all", len(d.targets), total)
	} else {
		tctx, cancel := context.WithCancel(ctx)
		d.stopTraffc = cancel
		go generate(tctx, base, d.targets)
		d.traffic = fmt.Sprintf("built-in generator (install hey for Debian's load tool), %d endpoints and methods, %.0f req/s in all", len(d.targets), total)
	}
	d.say("traffic: %s", d.traffic)
	for _, u := range d.urls {
		d.say("open %-13s %s", u[0], u[1])
	}
	d.start = time.Now()
	return nil
}

// generate runs `gatewatch generate all` into dir, with --output-dir where
// this gatewatch has it, else -o.
func (d *demo) generate(cfgFile, dir string) error {
	help, _ := exec.Command(d.o.Gatewatch, "generate", "all", "--help").CombinedOutput()
	outFlag := "-o"
	if strings.Contains(string(help), "--output-dir") {
		outFlag = "--output-dir"
	}
	argv := []string{d.o.Gatewatch, "generate", "all", "-c", cfgFile, outFlag, dir}
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", shellQuote(argv), err, out)
	}
	n := strings.Count(string(out), "wrote ")
	d.say("generated: %s  (%d files)", shellQuote(argv), n)
	return nil
}

// startProc starts a program with its log in logs/ and waits until ready
// answers 200.
func (d *demo) startProc(ctx context.Context, name string, env, argv []string, ready string) (*proc, error) {
	p, err := startProc(name, filepath.Join(d.logs, name+".log"), env, argv...)
	if err != nil {
		return nil, err
	}
	d.procs = append(d.procs, p)
	if err := waitHTTP(ctx, p, ready, 30*time.Second); err != nil {
		return nil, err
	}
	return p, nil
}

// stopAll stops the traffic, then the programs in reverse order of start
// (the sidecar on SIGTERM writes its checkpoint), then the backends.
func (d *demo) stopAll() {
	if d.stopTraffc != nil {
		d.stopTraffc()
	}
	for _, p := range d.heyP {
		p.stop(os.Interrupt, 2*time.Second)
	}
	for i := len(d.procs) - 1; i >= 0; i-- {
		d.procs[i].stop(syscall.SIGTERM, 10*time.Second)
	}
	for _, s := range d.backends {
		_ = s.Close()
	}
	if d.pd != nil {
		d.pd.close()
	}
}

// serviceName names a backend host for the display: its first label
// (users.shop.svc.cluster.local:8080 is users).
func serviceName(host string) string {
	u, err := url.Parse(host)
	if err != nil || u.Hostname() == "" {
		return host
	}
	name, _, _ := strings.Cut(u.Hostname(), ".")
	return name
}
