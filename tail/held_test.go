//go:build unix

package tail

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestHeldWhileBlocked: while the handler blocks, logrotate's "rotate 1"
// (delete app.log.1, rename app.log to app.log.1, create app.log) runs five
// times. Files created meanwhile are held open, so their lines are read
// once the handler resumes, even though they were deleted; past
// MaxHeldFiles the oldest are let go, and their lines and bytes are counted
// as lost (LostHeldLimit): delivered + lost = written.
func TestHeldWhileBlocked(t *testing.T) {
	for _, tc := range []struct {
		name                string
		maxFiles            int
		wantLines, wantLost int
	}{
		{name: "within the bound", maxFiles: 0, wantLines: 60},
		{name: "past the bound", maxFiles: 2, wantLines: 30, wantLost: 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			x := filepath.Join(dir, "app.log")
			appendLines(t, x, 1, 10)
			tl, err := New(Options{Paths: []string{x}, Start: FromBeginning, PollInterval: 10 * time.Millisecond,
				RotateGrace: 30 * time.Millisecond, MaxHeldFiles: tc.maxFiles})
			require.NoError(t, err)
			gate := make(chan struct{})
			var n atomic.Int64
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- tl.Run(ctx, func(Line) error {
					if n.Add(1) == 1 {
						<-gate // blocked, as the shipper while Elasticsearch is down
					}
					return nil
				})
			}()
			for i := 1; i <= 5; i++ {
				time.Sleep(40 * time.Millisecond) // several watcher ticks
				require.NoError(t, os.RemoveAll(x+".1"))
				require.NoError(t, os.Rename(x, x+".1"))
				appendLines(t, x, 100*i+1, 100*i+10)
			}
			time.Sleep(40 * time.Millisecond)
			close(gate)
			deadline := time.Now().Add(10 * time.Second)
			for n.Load() < int64(tc.wantLines) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond)
			cancel()
			require.NoError(t, <-done)
			require.EqualValues(t, tc.wantLines, n.Load())
			st := tl.Stats()
			require.Equal(t, []LostCount{
				{Reason: LostUnread},
				{Reason: LostHeldLimit, Lines: uint64(tc.wantLost), Bytes: uint64(12 * tc.wantLost)},
			}, st.Lost)
		})
	}
}
