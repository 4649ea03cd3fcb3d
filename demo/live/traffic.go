package live

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/demo/backend"
)

// target is one endpoint and method the traffic goes to.
type target struct {
	endpoint, method string
	template         string // the contract's path template
	rate             float64
	host             string // the backend host of the contract
	backendPath      string // its url_pattern
}

// path fills the template's {params} with n.
func (t target) path(n int) string {
	segs := strings.Split(t.template, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segs[i] = strconv.Itoa(n)
		}
	}
	return strings.Join(segs, "/")
}

// targets are the contract's endpoints with exact path templates, each
// method at a rate a shop might see: 4 requests a second for reads, 2 for
// writes, 1 for health checks.
func targets(c *contract.Contract) []target {
	var out []target
	for _, ep := range c.Endpoints {
		if ep.Match != contract.MatchExact {
			continue
		}
		methods := ep.Methods
		if len(methods) == 0 {
			methods = []string{http.MethodGet}
		}
		var host, bpath string
		if len(ep.Backends) > 0 {
			bpath = ep.Backends[0].URL
			if len(ep.Backends[0].Hosts) > 0 {
				host = ep.Backends[0].Hosts[0]
			}
		}
		for _, m := range methods {
			rate := 4.0
			switch {
			case strings.Contains(ep.Path, "health"):
				rate = 1
			case m != http.MethodGet:
				rate = 2
			}
			out = append(out, target{endpoint: ep.Name, method: m, template: ep.Path, rate: rate, host: host, backendPath: bpath})
		}
	}
	return out
}

// busyRate is the rate of the endpoint of the first error burst.
const busyRate = 6.0

// runHey starts one Debian hey per target (two workers, each at half the
// rate) for d, its reports in logDir.
func runHey(hey, base, logDir string, ts []target, d time.Duration) ([]*proc, error) {
	var ps []*proc
	for i, t := range ts {
		argv := []string{hey, "-z", d.String(), "-c", "2", "-q", strconv.FormatFloat(t.rate/2, 'g', -1, 64), "-m", t.method}
		if t.method == http.MethodPost || t.method == http.MethodPut || t.method == http.MethodPatch {
			argv = append(argv, "-T", "application/json", "-d", `{"demo":true}`)
		}
		argv = append(argv, base+t.path(1000+i))
		p, err := startProc("hey", fmt.Sprintf("%s/hey-%02d.log", logDir, i), nil, argv...)
		if err != nil {
			for _, p := range ps {
				p.stop(os.Interrupt, time.Second)
			}
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// generate is the built-in load generator for machines without hey: each
// target at its rate with random path parameters, at most 8 requests in
// flight per target, until ctx ends.
func generate(ctx context.Context, base string, ts []target) {
	c := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for _, t := range ts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(time.Duration(float64(time.Second) / t.rate))
			defer tick.Stop()
			sem := make(chan struct{}, 8)
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				select {
				case sem <- struct{}{}:
				default:
					continue // the gateway is slow: drop this request
				}
				go func() {
					defer func() { <-sem }()
					var body io.Reader
					if t.method != http.MethodGet && t.method != http.MethodDelete {
						body = strings.NewReader(`{"demo":true}`)
					}
					req, err := http.NewRequestWithContext(ctx, t.method, base+t.path(1+rand.IntN(99999)), body)
					if err != nil {
						return
					}
					if body != nil {
						req.Header.Set("Content-Type", "application/json")
					}
					resp, err := c.Do(req)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}()
			}
		}()
	}
	wg.Wait()
}

// burst is a stretch of time in which one endpoint's backend fails or is
// slow.
type burst struct {
	start, length time.Duration
	target        target
	fault         backend.Fault
	what          string
}

// cycle is how often the bursts repeat.
const cycle = 15 * time.Minute

// schedule is the demo's story, repeated every cycle: at once 40% of one
// write fails for 4 minutes (an availability page about 2.5 minutes in,
// resolved a few minutes after the burst), then one read is 400ms slower
// for 4 minutes (a latency page), then calm.
func schedule(ts []target) []burst {
	pick := func(method, endpoint string, fallback int) target {
		for _, t := range ts {
			if t.method == method && t.endpoint == endpoint {
				return t
			}
		}
		return ts[fallback%len(ts)]
	}
	w := pick(http.MethodPost, "/v1/orders", 0)
	r := pick(http.MethodGet, "/v1/catalog/products/{sku}", 1)
	prefix := func(t target) string {
		p, _, _ := strings.Cut(t.backendPath, "{")
		return p
	}
	return []burst{
		{
			start: 0, length: 4 * time.Minute, target: w,
			fault: backend.Fault{Method: w.method, PathPrefix: prefix(w), ErrorRatio: 0.4},
			what:  fmt.Sprintf("errors: 40%% of %s %s fail (backend 503)", w.method, w.endpoint),
		},
		{
			start: 5 * time.Minute, length: 4 * time.Minute, target: r,
			fault: backend.Fault{Method: r.method, PathPrefix: prefix(r), Latency: 400 * time.Millisecond},
			what:  fmt.Sprintf("latency: %s %s 400ms slower", r.method, r.endpoint),
		},
	}
}

// active returns the burst in force at elapsed, and the next one.
func active(bs []burst, elapsed time.Duration) (cur *burst, next *burst, nextAt time.Duration) {
	n := elapsed / cycle
	in := elapsed % cycle
	for i := range bs {
		b := &bs[i]
		if in >= b.start && in < b.start+b.length {
			cur = b
		}
		if b.start > in && next == nil {
			next, nextAt = b, n*cycle+b.start
		}
	}
	if next == nil {
		next, nextAt = &bs[0], (n+1)*cycle+bs[0].start
	}
	return cur, next, nextAt
}
