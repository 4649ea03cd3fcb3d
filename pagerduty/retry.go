package pagerduty

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Retrier is the retry policy: which failures are worth another try and
// how long to wait before it. PagerDuty's advice (Events API v2 overview
// and rate-limit pages): retry 429, 5xx and network errors with backoff,
// never 400.
type Retrier struct {
	// Min is the first wait; each retry doubles it up to Max.
	Min, Max time.Duration
	// MaxRetryAfter caps a Retry-After header, so that a wrong one cannot
	// stall the outbox for days.
	MaxRetryAfter time.Duration
}

// DefaultRetrier waits 1s, 2s, 4s, ... up to 5 minutes, and honours a
// Retry-After of up to 10 minutes.
var DefaultRetrier = Retrier{Min: time.Second, Max: 5 * time.Minute, MaxRetryAfter: 10 * time.Minute}

// Retry reports whether the failure err is worth another try.
func (r Retrier) Retry(err error) bool {
	var se *SendError
	if !errors.As(err, &se) {
		return false
	}
	switch s := se.Status; {
	case s == 0:
		// Network errors and an unreadable routing key (being rotated,
		// say) may mend; a malformed event never does.
		return !errors.Is(se.Err, errInvalid)
	case s == http.StatusTooManyRequests, s == http.StatusRequestTimeout, s >= 500:
		return true
	}
	return false
}

// errInvalid marks events no retry can send.
var errInvalid = errors.New("invalid event")

// Delay returns the wait before retry number attempt (0 for the first
// retry) after err: the Retry-After header when PagerDuty sent one, else
// the exponential backoff.
func (r Retrier) Delay(attempt int, err error) time.Duration {
	var se *SendError
	if errors.As(err, &se) && se.HasRetryAfter {
		d := se.RetryAfter
		if r.MaxRetryAfter > 0 && d > r.MaxRetryAfter {
			d = r.MaxRetryAfter
		}
		return d
	}
	d := r.Min
	for i := 0; i < attempt && d < r.Max; i++ {
		d *= 2
	}
	if d > r.Max {
		d = r.Max
	}
	return d
}

// Sender sends one event once; *Client is one.
type Sender interface {
	Send(ctx context.Context, ev *Event) error
}

// Deliver sends ev until it is accepted, refused for good, or ctx ends.
// It logs an attempt only when the error changes. onRetry, when not nil,
// is called before each wait.
func Deliver(ctx context.Context, s Sender, r Retrier, ev *Event, log *slog.Logger, onRetry func(error)) error {
	var last string
	for attempt := 0; ; attempt++ {
		err := s.Send(ctx, ev)
		if err == nil || !r.Retry(err) {
			return err
		}
		if onRetry != nil {
			onRetry(err)
		}
		d := r.Delay(attempt, err)
		if msg := err.Error(); msg != last && log != nil {
			log.Warn("PagerDuty event not delivered; retrying", "kind", ev.Kind, "dedup_key", ev.DedupKey(), "err", msg, "wait", d.String())
			last = msg
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("PagerDuty retry canceled after %d attempts: %w: %w", attempt+1, context.Cause(ctx), err)
		case <-t.C:
		}
	}
}
