// Command gen writes generated gateway access-log lines (package loggen)
// for scripts/bench-compare.sh: a file of n lines at once, or a file that
// grows at a fixed rate of lines per second.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gatewatch/gatewatch/accesslog/loggen"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/contract/loader"
)

func main() {
	format := flag.String("format", "envoy", "line format (loggen.Formats, optionally cri+ or docker+)")
	n := flag.Int("n", 1_000_000, "lines to write (ignored with -rate)")
	out := flag.String("out", "access.log", "file to append to")
	rate := flag.Int("rate", 0, "lines per second; 0 writes -n lines at once")
	dur := flag.Duration("duration", 30*time.Second, "how long to write with -rate")
	seed := flag.Uint64("seed", 1, "random seed")
	contractFile := flag.String("contract", "", "draw requests from this contract's endpoints (path parameters filled in, a few unmatched paths, 5xx bursts on -failing)")
	failing := flag.String("failing", "", "with -contract: the endpoint name whose requests fail with 503 a quarter of the time")
	flag.Parse()
	var err error
	if *contractFile != "" {
		next, err = contractRequests(*contractFile, *failing)
	}
	if err == nil {
		err = run(*format, *n, *out, *rate, *dur, *seed)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// next fills in the request a line is written for; by default it leaves
// everything to loggen's random choices.
var next = func(_ *rand.Rand, r loggen.Request) loggen.Request { return r }

// contractRequests returns a next that sends requests to the endpoints of
// a contract, so that the sidecar (and the demo) see realistic traffic.
func contractRequests(path, failing string) (func(*rand.Rand, loggen.Request) loggen.Request, error) {
	c, err := loader.Load(path, "auto", loader.Options{})
	if err != nil {
		return nil, err
	}
	var eps []contract.Endpoint
	for _, ep := range c.Endpoints {
		if ep.Match == contract.MatchExact {
			eps = append(eps, ep)
		}
	}
	if len(eps) == 0 {
		return nil, fmt.Errorf("%s: no endpoint with an exact path template to send requests to", path)
	}
	return func(rnd *rand.Rand, r loggen.Request) loggen.Request {
		if rnd.IntN(100) == 0 {
			r.Method, r.Path, r.Status = "GET", fmt.Sprintf("/wp-login-%d.php", rnd.IntN(1000)), 404
			return r
		}
		ep := eps[rnd.IntN(len(eps))]
		r.Method = "GET"
		if len(ep.Methods) > 0 {
			r.Method = ep.Methods[rnd.IntN(len(ep.Methods))]
		}
		r.Path = fillParams(ep.Path, rnd)
		r.Route = ep.Name
		switch {
		case ep.Name == failing && rnd.IntN(4) == 0:
			r.Status = 503
		case rnd.IntN(1000) == 0:
			r.Status = 500
		default:
			r.Status = []int{200, 200, 200, 200, 200, 200, 201, 204, 404, 429}[rnd.IntN(10)]
		}
		return r
	}, nil
}

// fillParams replaces each {param} segment of a template with a number.
func fillParams(template string, rnd *rand.Rand) string {
	segs := strings.Split(template, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segs[i] = strconv.Itoa(1 + rnd.IntN(99999))
		}
	}
	return strings.Join(segs, "/")
}

func run(format string, n int, out string, rate int, dur time.Duration, seed uint64) error {
	f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	rnd := rand.New(rand.NewPCG(seed, seed))
	w := bufio.NewWriterSize(f, 1<<20)
	if rate <= 0 {
		for range n {
			w.Write(loggen.Line(format, rnd, next(rnd, loggen.Request{})))
			w.WriteByte('\n')
		}
		return w.Flush()
	}
	// Rate-limited: a batch every 10ms, flushed so that a follower sees
	// it at once.
	const tick = 10 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	start := time.Now()
	written := 0
	for now := range t.C {
		if now.Sub(start) >= dur {
			break
		}
		due := int(float64(rate) * now.Sub(start).Seconds())
		for ; written < due; written++ {
			w.Write(loggen.Line(format, rnd, next(rnd, loggen.Request{Time: now})))
			w.WriteByte('\n')
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "gen: wrote %d lines in %s\n", written, time.Since(start).Round(time.Millisecond))
	return nil
}
