package tail

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const stepTimeout = 20 * time.Second

// fakeClock is a clock tests advance by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// harness runs a Tailer in a goroutine and records copies of its lines.
type harness struct {
	t      *testing.T
	tl     *Tailer
	waker  *ManualWaker // nil with a timed waker
	clock  *fakeClock
	cancel context.CancelFunc
	done   chan error

	mu     sync.Mutex
	cond   *sync.Cond
	lines  []Line
	onLine func(Line) // called under mu after recording, optional
}

// startTail starts a Tailer. Unless opts.Waker is set or opts.PollInterval
// is non-zero, polling is stepped by hand (h.step) and the clock is fake.
func startTail(t *testing.T, opts Options) *harness {
	t.Helper()
	h := &harness{t: t, done: make(chan error, 1)}
	h.cond = sync.NewCond(&h.mu)
	if opts.Waker == nil && opts.PollInterval == 0 {
		h.waker = NewManualWaker()
		opts.Waker = h.waker
		h.clock = newFakeClock()
		opts.Now = h.clock.Now
	}
	tl, err := New(opts)
	require.NoError(t, err)
	h.tl = tl
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		h.done <- tl.Run(ctx, func(l Line) error {
			l.Bytes = append([]byte(nil), l.Bytes...)
			h.mu.Lock()
			h.lines = append(h.lines, l)
			if h.onLine != nil {
				h.onLine(l)
			}
			h.cond.Broadcast()
			h.mu.Unlock()
			return nil
		})
	}()
	t.Cleanup(func() { cancel() })
	if h.waker != nil {
		require.NoError(t, h.waker.WaitIdle(stepTimeout), "first cycle")
	}
	return h
}

func (h *harness) step() {
	h.t.Helper()
	require.NoError(h.t, h.waker.Step(stepTimeout))
}

// stop cancels Run and returns what it returned.
func (h *harness) stop() error {
	h.t.Helper()
	h.cancel()
	select {
	case err := <-h.done:
		return err
	case <-time.After(stepTimeout):
		h.t.Fatal("Run did not return after cancel")
		return nil
	}
}

// waitCount waits until at least n lines arrived.
func (h *harness) waitCount(n int) {
	h.t.Helper()
	timer := time.AfterFunc(stepTimeout, func() { h.mu.Lock(); h.cond.Broadcast(); h.mu.Unlock() })
	defer timer.Stop()
	deadline := time.Now().Add(stepTimeout)
	h.mu.Lock()
	defer h.mu.Unlock()
	for len(h.lines) < n {
		if time.Now().After(deadline) {
			h.t.Fatalf("got %d lines, want %d", len(h.lines), n)
		}
		h.cond.Wait()
	}
}

func (h *harness) got() []Line {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Line(nil), h.lines...)
}

func (h *harness) texts() []string {
	var s []string
	for _, l := range h.got() {
		s = append(s, string(l.Bytes))
	}
	return s
}

func lineText(i int) string { return fmt.Sprintf("line %06d", i) }

// numbered returns the texts of lines from..to inclusive.
func numbered(from, to int) []string {
	var s []string
	for i := from; i <= to; i++ {
		s = append(s, lineText(i))
	}
	return s
}

// appendLines appends numbered lines from..to to path, creating it.
func appendLines(t testing.TB, path string, from, to int) {
	t.Helper()
	appendRaw(t, path, strings.Join(numbered(from, to), "\n")+"\n")
}

func appendRaw(t testing.TB, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	require.NoError(t, err)
	_, err = f.WriteString(s)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// lineNumber parses "line %06d".
func lineNumber(t testing.TB, b []byte) int {
	t.Helper()
	s, ok := strings.CutPrefix(string(b), "line ")
	require.True(t, ok, "unexpected line %q", b)
	n, err := strconv.Atoi(s)
	require.NoError(t, err, "unexpected line %q", b)
	return n
}

// requireExactlyOnce checks that lines hold every number in 0..n-1 exactly
// once, and in increasing order within each file.
func requireExactlyOnce(t testing.TB, lines []Line, n int) {
	t.Helper()
	count := make([]int, n)
	last := map[uint64]int{}
	lastOff := map[uint64]int64{}
	for _, l := range lines {
		k := lineNumber(t, l.Bytes)
		require.Less(t, k, n, "line number out of range")
		count[k]++
		fp := l.File.Fingerprint
		if p, ok := last[fp]; ok {
			require.Greater(t, k, p, "order within file %s (%s)", l.File, l.Path)
			require.Greater(t, l.Offset, lastOff[fp])
		}
		last[fp], lastOff[fp] = k, l.Offset
	}
	var missing, dup []int
	for k, c := range count {
		if c == 0 {
			missing = append(missing, k)
		}
		if c > 1 {
			dup = append(dup, k)
		}
	}
	require.Empty(t, missing, "lines never delivered")
	require.Empty(t, dup, "lines delivered more than once")
}
