// Command backend is the compose stack's stand-in for the shop's services:
// it answers every path with a small JSON body after a configurable
// latency, and fails a configurable share of requests with 503, so that
// the quickstart can turn up latency and errors and watch the alerts fire.
//
//	backend -listen :8080 -latency 20ms -error-rate 0
//
// The knobs change at run time without a restart:
//
//	curl 'localhost:8081/_control?latency=800ms&error_rate=0.3'
//	curl 'localhost:8081/_control'          # prints the current values
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

func main() {
	listen := flag.String("listen", ":8080", "address to listen on")
	latency := flag.Duration("latency", 20*time.Millisecond, "time to wait before answering")
	errorRate := flag.Float64("error-rate", 0, "share of requests answered 503 (0 to 1)")
	flag.Parse()
	b := &backend{}
	if err := b.set(*latency, *errorRate); err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: *listen, Handler: b, ReadHeaderTimeout: 5 * time.Second}
	log.Printf("backend listening on %s (latency %s, error rate %g)", *listen, *latency, *errorRate)
	log.Fatal(srv.ListenAndServe())
}

// backend holds the current knobs.
type backend struct {
	mu        sync.Mutex
	latency   time.Duration
	errorRate float64
}

func (b *backend) set(latency time.Duration, errorRate float64) error {
	if latency < 0 || latency > time.Minute {
		return fmt.Errorf("latency %s out of range; expected 0 to 1m", latency)
	}
	if errorRate < 0 || errorRate > 1 {
		return fmt.Errorf("error rate %g out of range; expected 0 to 1", errorRate)
	}
	b.mu.Lock()
	b.latency, b.errorRate = latency, errorRate
	b.mu.Unlock()
	return nil
}

func (b *backend) get() (time.Duration, float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.latency, b.errorRate
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_control" {
		b.control(w, r)
		return
	}
	latency, errorRate := b.get()
	time.Sleep(latency)
	w.Header().Set("Content-Type", "application/json")
	if errorRate > 0 && rand.Float64() < errorRate {
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "injected failure"})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"path": r.URL.Path, "method": r.Method})
}

// control reads latency and error_rate from the query, applies them and
// prints the values in force.
func (b *backend) control(w http.ResponseWriter, r *http.Request) {
	latency, errorRate := b.get()
	q := r.URL.Query()
	if v := q.Get("latency"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			http.Error(w, fmt.Sprintf("latency %q: expected a duration such as 800ms", v), http.StatusBadRequest)
			return
		}
		latency = d
	}
	if v := q.Get("error_rate"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			http.Error(w, fmt.Sprintf("error_rate %q: expected a number from 0 to 1", v), http.StatusBadRequest)
			return
		}
		errorRate = f
	}
	if err := b.set(latency, errorRate); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fmt.Fprintf(w, "latency %s, error_rate %g\n", latency, errorRate)
}
