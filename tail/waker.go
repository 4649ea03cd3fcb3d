package tail

import (
	"errors"
	"sync"
	"time"
)

// Waker tells a Tailer when to poll again: the channel Wake returns is closed
// (or receives) when it is time. The Tailer calls Wake once per wait.
type Waker interface {
	Wake() <-chan struct{}
}

// NewTimedWaker returns a Waker that wakes every interval.
func NewTimedWaker(interval time.Duration) Waker { return timedWaker(interval) }

type timedWaker time.Duration

func (w timedWaker) Wake() <-chan struct{} {
	c := make(chan struct{})
	time.AfterFunc(time.Duration(w), func() { close(c) })
	return c
}

// ManualWaker is a Waker for tests: Step releases the waiting Tailer for
// exactly one poll cycle and returns once that cycle is done and the Tailer
// waits again, so tests advance polling deterministically without sleeping.
// It counts the Tailer's waits, so it does not suit a Tailer that also reads
// standard input (each chunk from it is one more wait).
type ManualWaker struct {
	wake  chan struct{}
	mu    sync.Mutex
	cond  *sync.Cond
	calls int // number of Wake calls (the Tailer waiting)
	steps int
}

// NewManualWaker returns a ManualWaker.
func NewManualWaker() *ManualWaker {
	w := &ManualWaker{wake: make(chan struct{})}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// Wake implements Waker.
func (w *ManualWaker) Wake() <-chan struct{} {
	w.mu.Lock()
	w.calls++
	w.cond.Broadcast()
	w.mu.Unlock()
	return w.wake
}

// errStepTimeout is returned by Step when the Tailer does not come back.
var errStepTimeout = errors.New("tailer did not reach its next wait in time (did Run return?)")

// WaitIdle blocks until the Tailer has finished the cycle in progress and
// waits for the next wake-up, or until timeout.
func (w *ManualWaker) WaitIdle(timeout time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.waitCalls(w.steps+1, timeout)
}

func (w *ManualWaker) waitCalls(n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	t := time.AfterFunc(timeout, func() { w.mu.Lock(); w.cond.Broadcast(); w.mu.Unlock() })
	defer t.Stop()
	for w.calls < n {
		if !time.Now().Before(deadline) {
			return errStepTimeout
		}
		w.cond.Wait()
	}
	return nil
}

// Step waits until the Tailer waits, wakes it for one poll cycle and waits
// until it waits again. It fails after timeout at either wait.
func (w *ManualWaker) Step(timeout time.Duration) error {
	if err := w.WaitIdle(timeout); err != nil {
		return err
	}
	select {
	case w.wake <- struct{}{}:
	case <-time.After(timeout):
		return errStepTimeout
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.steps++
	return w.waitCalls(w.steps+1, timeout)
}
