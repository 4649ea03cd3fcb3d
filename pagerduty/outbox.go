package pagerduty

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/gatewatch/gatewatch/schema"
)

// Metrics are the outbox's metrics; every series carries the gateway.
type Metrics struct {
	outbox prometheus.Gauge
	events *prometheus.CounterVec
}

// NewMetrics registers the outbox metrics on reg with gateway as the
// gateway label, each result pre-initialised to 0.
func NewMetrics(reg prometheus.Registerer, gateway string) *Metrics {
	f := promauto.With(reg)
	gw := prometheus.Labels{schema.LabelGateway: gateway}
	m := &Metrics{
		outbox: f.NewGauge(prometheus.GaugeOpts{Name: schema.PagerDutyOutbox.Name, Help: schema.PagerDutyOutbox.Help, ConstLabels: gw}),
		events: f.NewCounterVec(prometheus.CounterOpts{Name: schema.PagerDutyEvents.Name, Help: schema.PagerDutyEvents.Help, ConstLabels: gw},
			[]string{schema.LabelResult}),
	}
	for _, r := range []string{schema.PagerDutyAccepted, schema.PagerDutyRejected, schema.PagerDutyRetried} {
		m.events.WithLabelValues(r)
	}
	return m
}

// Outbox is a folder of events waiting for PagerDuty. Enqueue writes each
// event to its own file and syncs it (and the folder) before returning;
// Run sends the oldest first and removes a file only once PagerDuty has
// accepted its event (or refused it for good, which is logged and
// counted). Events therefore leave in the order they were enqueued, which
// keeps the order of each dedup key; an event being retried holds back
// the ones behind it. A restart resumes with what the folder holds.
//
// File names are sequence numbers (00000000000000000001.json); files hold
// the event without its routing key. One process uses one folder.
type Outbox struct {
	dir     string
	metrics *Metrics // may be nil
	log     *slog.Logger

	mu   sync.Mutex
	next uint64
	wake chan struct{}
}

const (
	outboxExt = ".json"
	tmpExt    = ".tmp"
)

// OpenOutbox opens (creating it if needed) the outbox folder dir.
// metrics may be nil.
func OpenOutbox(dir string, metrics *Metrics, log *slog.Logger) (*Outbox, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the PagerDuty outbox: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o := &Outbox{dir: dir, metrics: metrics, log: log, next: 1, wake: make(chan struct{}, 1)}
	seqs, err := o.list()
	if err != nil {
		return nil, err
	}
	if n := len(seqs); n > 0 {
		o.next = seqs[n-1] + 1
	}
	// A .tmp file is an Enqueue that did not return: its caller was told
	// nothing was stored, so it is dropped.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), tmpExt) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	o.setDepth(len(seqs))
	return o, nil
}

// list returns the sequence numbers of the stored events, in order.
func (o *Outbox) list() ([]uint64, error) {
	ents, err := os.ReadDir(o.dir)
	if err != nil {
		return nil, fmt.Errorf("reading the PagerDuty outbox: %w", err)
	}
	var seqs []uint64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), outboxExt)
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			continue
		}
		seqs = append(seqs, n)
	}
	slices.Sort(seqs)
	return seqs, nil
}

func (o *Outbox) path(seq uint64) string {
	return filepath.Join(o.dir, fmt.Sprintf("%020d%s", seq, outboxExt))
}

// Len returns the number of events waiting.
func (o *Outbox) Len() int {
	seqs, _ := o.list()
	return len(seqs)
}

func (o *Outbox) setDepth(n int) {
	if o.metrics != nil {
		o.metrics.outbox.Set(float64(n))
	}
}

// Enqueue stores ev durably. When it returns nil the event will be sent,
// even if the process dies now.
func (o *Outbox) Enqueue(ev *Event) error {
	ev.Fit()
	if ev.Alert != nil {
		ev.Alert.RoutingKey = ""
	}
	if ev.Change != nil {
		ev.Change.RoutingKey = ""
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encoding PagerDuty event: %w", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	seq := o.next
	final := o.path(seq)
	tmp := strings.TrimSuffix(final, outboxExt) + tmpExt
	if err := writeSync(tmp, b); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing PagerDuty outbox: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing PagerDuty outbox: %w", err)
	}
	if err := syncDir(o.dir); err != nil {
		return fmt.Errorf("writing PagerDuty outbox: %w", err)
	}
	o.next++
	o.setDepth(o.Len())
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return nil
}

func writeSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Run sends the stored events, oldest first, until ctx ends. Each is
// retried as r says; an event refused for good (400) is logged, counted
// and removed.
func (o *Outbox) Run(ctx context.Context, s Sender, r Retrier) {
	for ctx.Err() == nil {
		seqs, err := o.list()
		if err != nil {
			o.log.Error("reading PagerDuty outbox", "err", err)
		}
		if len(seqs) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-o.wake:
			}
			continue
		}
		o.setDepth(len(seqs))
		seq := seqs[0]
		ev, err := o.read(seq)
		if err != nil {
			o.log.Error("dropping unreadable PagerDuty outbox file", "file", filepath.Base(o.path(seq)), "err", err)
			o.remove(seq)
			continue
		}
		err = Deliver(ctx, s, r, ev, o.log, func(error) { o.count(schema.PagerDutyRetried) })
		switch {
		case err == nil:
			o.count(schema.PagerDutyAccepted)
			o.log.Info("PagerDuty accepted event", "kind", ev.Kind, "action", action(ev), "dedup_key", ev.DedupKey())
		case ctx.Err() != nil:
			return
		default:
			o.count(schema.PagerDutyRejected)
			o.log.Error("PagerDuty refused event; dropped", "kind", ev.Kind, "action", action(ev), "dedup_key", ev.DedupKey(), "err", err)
		}
		o.remove(seq)
	}
}

func action(ev *Event) string {
	if ev.Alert != nil {
		return ev.Alert.Action
	}
	return ""
}

func (o *Outbox) read(seq uint64) (*Event, error) {
	b, err := os.ReadFile(o.path(seq))
	if err != nil {
		return nil, err
	}
	var ev Event
	if err := json.Unmarshal(b, &ev); err != nil {
		return nil, err
	}
	if (ev.Kind == KindAlert) != (ev.Alert != nil) || (ev.Kind == KindChange) != (ev.Change != nil) {
		return nil, errors.New("neither an alert nor a change event")
	}
	return &ev, nil
}

func (o *Outbox) remove(seq uint64) {
	if err := os.Remove(o.path(seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
		o.log.Error("removing PagerDuty outbox file", "err", err)
	}
	if err := syncDir(o.dir); err != nil {
		o.log.Error("syncing PagerDuty outbox", "err", err)
	}
	o.setDepth(o.Len())
}

func (o *Outbox) count(result string) {
	if o.metrics != nil {
		o.metrics.events.WithLabelValues(result).Inc()
	}
}
