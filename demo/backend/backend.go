// Package backend is the demo's small backends: an HTTP server that answers
// every request with a small JSON object after a short, varying delay, and
// whose latency and error rate the demo raises in bursts.
package backend

import (
	"encoding/json"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Fault makes some requests slow or failing: those with Method (any when
// empty) whose path starts with PathPrefix.
type Fault struct {
	Method     string
	PathPrefix string
	// ErrorRatio of the matching requests are answered 503.
	ErrorRatio float64
	// Latency is added to every matching request.
	Latency time.Duration
}

func (f Fault) matches(r *http.Request) bool {
	return (f.Method == "" || f.Method == r.Method) && strings.HasPrefix(r.URL.Path, f.PathPrefix)
}

// Server is one backend. Its zero value is not usable; call New.
type Server struct {
	name     string
	mu       sync.Mutex
	faults   []Fault
	requests atomic.Int64
	failed   atomic.Int64
	srv      *http.Server
	addr     string
}

// New starts a backend on a free loopback port.
func New(name string) (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{name: name, addr: l.Addr().String()}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(l) }() // ErrServerClosed after Close
	return s, nil
}

// URL is the backend's base URL (http://127.0.0.1:port).
func (s *Server) URL() string { return "http://" + s.addr }

// Name is the name the backend was started with.
func (s *Server) Name() string { return s.name }

// SetFaults replaces the faults in force; none means healthy.
func (s *Server) SetFaults(fs ...Fault) {
	s.mu.Lock()
	s.faults = append([]Fault(nil), fs...)
	s.mu.Unlock()
}

// Counts returns the requests served and those answered 503 by a fault.
func (s *Server) Counts() (requests, failed int64) { return s.requests.Load(), s.failed.Load() }

// Close stops the backend.
func (s *Server) Close() error { return s.srv.Close() }

// ServeHTTP answers after 2 to 20 ms (a few requests take up to 60 ms),
// plus the latency of the faults that match, with 503 for a fault's share
// of requests.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	delay := time.Duration(2+rand.IntN(18)) * time.Millisecond
	if rand.IntN(100) == 0 {
		delay = time.Duration(20+rand.IntN(40)) * time.Millisecond
	}
	fail := false
	s.mu.Lock()
	for _, f := range s.faults {
		if f.matches(r) {
			delay += f.Latency
			fail = fail || rand.Float64() < f.ErrorRatio
		}
	}
	s.mu.Unlock()
	t := time.NewTimer(delay)
	select {
	case <-t.C:
	case <-r.Context().Done():
		t.Stop()
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if fail {
		s.failed.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "the " + s.name + " service is overloaded"})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"service": s.name, "path": r.URL.Path, "ok": true})
}
