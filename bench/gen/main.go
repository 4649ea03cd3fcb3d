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
	"time"

	"github.com/gatewatch/gatewatch/accesslog/loggen"
)

func main() {
	format := flag.String("format", "envoy", "line format (loggen.Formats, optionally cri+ or docker+)")
	n := flag.Int("n", 1_000_000, "lines to write (ignored with -rate)")
	out := flag.String("out", "access.log", "file to append to")
	rate := flag.Int("rate", 0, "lines per second; 0 writes -n lines at once")
	dur := flag.Duration("duration", 30*time.Second, "how long to write with -rate")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if err := run(*format, *n, *out, *rate, *dur, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
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
			w.Write(loggen.Line(format, rnd, loggen.Request{}))
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
			w.Write(loggen.Line(format, rnd, loggen.Request{Time: now}))
			w.WriteByte('\n')
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "gen: wrote %d lines in %s\n", written, time.Since(start).Round(time.Millisecond))
	return nil
}
