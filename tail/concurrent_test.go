//go:build unix

package tail

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// logWriter writes numbered lines to a file the way a gateway does (one
// write per line, O_APPEND) while a rotation scheme runs between lines.
type logWriter struct {
	t    *testing.T
	path string
	mu   sync.Mutex // held while a copytruncate runs, when it pauses the writer
	f    *os.File
}

func (w *logWriter) open() {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		panic(err)
	}
	w.f = f
}

func (w *logWriter) write(i int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.f.WriteString(lineText(i) + "\n"); err != nil {
		panic(err)
	}
}

// shift renames path.k to path.k+1 (highest first) and path to path.1.
func shift(path string, rotations int) error {
	if err := shiftRotated(path, rotations); err != nil {
		return err
	}
	return os.Rename(path, path+".1")
}

// shiftRotated renames path.k to path.k+1, highest first, making room for
// a new path.1.
func shiftRotated(path string, rotations int) error {
	for k := rotations; k >= 1; k-- {
		if err := os.Rename(fmt.Sprintf("%s.%d", path, k), fmt.Sprintf("%s.%d", path, k+1)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

type scheme struct {
	name   string
	glob   bool
	exact  bool // every line exactly once (false: no duplicates only)
	rotate func(w *logWriter, rotation int, next int) int
}

var schemes = []scheme{
	{name: "rename and create, rotated names in the pattern", glob: true, exact: true, rotate: renameCreate},
	{name: "rename and create, rotated names outside the pattern", exact: true, rotate: renameCreate},
	{name: "delete and re-create", exact: true, rotate: func(w *logWriter, _ int, next int) int {
		require.NoError(w.t, w.f.Close())
		require.NoError(w.t, os.Remove(w.path))
		w.open()
		return next
	}},
	{name: "copytruncate in a quiet moment, copy in the pattern", glob: true, exact: true, rotate: func(w *logWriter, rotation int, next int) int {
		w.mu.Lock()
		defer w.mu.Unlock()
		copyTruncate(w, rotation)
		return next
	}},
	{name: "copytruncate while writing", glob: true, rotate: func(w *logWriter, rotation int, next int) int {
		// The writer writes between copy and truncate: those lines are lost.
		done := make(chan struct{})
		go func() { defer close(done); copyTruncate(w, rotation) }()
		for i := 0; i < 3; i++ {
			w.write(next)
			next++
		}
		<-done
		return next
	}},
}

// renameCreate rotates like logrotate's "create": shift the old files, the
// writer still writes three lines to the renamed file, then reopens.
func renameCreate(w *logWriter, rotation int, next int) int {
	require.NoError(w.t, shift(w.path, rotation-1))
	for i := 0; i < 3; i++ {
		w.write(next)
		next++
	}
	require.NoError(w.t, w.f.Close())
	w.open()
	return next
}

func copyTruncate(w *logWriter, rotation int) {
	if err := shiftRotated(w.path, rotation-1); err != nil {
		panic(err)
	}
	b, err := os.ReadFile(w.path)
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile(w.path+".1", b, 0o644); err != nil {
		panic(err)
	}
	if err := os.Truncate(w.path, 0); err != nil {
		panic(err)
	}
}

func TestRotationWithConcurrentWriter(t *testing.T) {
	const n, every = 3000, 400
	for _, sc := range schemes {
		t.Run(sc.name, func(t *testing.T) {
			dir := t.TempDir()
			x := filepath.Join(dir, "app.log")
			w := &logWriter{t: t, path: x}
			w.open()
			pattern := x
			if sc.glob {
				pattern = x + "*"
			}
			// firstOfFile is the number of the first line of the file at
			// the path; the writer rotates only after the tailer delivered
			// it (the tailer has seen the file, as with any real rotation
			// period).
			var firstOfFile atomic.Int64
			seen := make(chan struct{}, 1)
			h := startTail(t, Options{Paths: []string{pattern}, PollInterval: time.Millisecond, RotateGrace: 200 * time.Millisecond})
			h.mu.Lock()
			h.onLine = func(l Line) {
				if int64(lineNumber(t, l.Bytes)) >= firstOfFile.Load() {
					select {
					case seen <- struct{}{}:
					default:
					}
				}
			}
			h.mu.Unlock()

			writerDone := make(chan int)
			go func() {
				defer w.f.Close()
				i, rotation := 0, 0
				for i < n {
					w.write(i)
					i++
					if i%every == 0 && i < n {
						select {
						case <-seen:
						case <-time.After(stepTimeout):
							panic("tailer never delivered a line of the current file")
						}
						rotation++
						i = sc.rotate(w, rotation, i)
						firstOfFile.Store(int64(i))
						// Drop a stale signal from before the rotation.
						select {
						case <-seen:
						default:
						}
					}
					if i%50 == 0 {
						time.Sleep(time.Millisecond)
					}
				}
				writerDone <- i
			}()
			total := <-writerDone
			if sc.exact {
				h.waitCount(total)
			}
			time.Sleep(100 * time.Millisecond) // let late duplicates, if any, arrive
			require.NoError(t, h.stop())
			got := h.got()
			if sc.exact {
				requireExactlyOnce(t, got, total)
				return
			}
			count := make(map[int]int)
			for _, l := range got {
				count[lineNumber(t, l.Bytes)]++
			}
			for k, c := range count {
				require.Equal(t, 1, c, "line %d delivered %d times", k, c)
			}
			t.Logf("copytruncate while writing: %d of %d lines delivered, none twice", len(got), total)
		})
	}
}

func TestRestartWhileWritingAndRotating(t *testing.T) {
	const n, every = 4000, 500
	dir := t.TempDir()
	x := filepath.Join(dir, "app.log")
	ckpt := filepath.Join(dir, "ckpt.json")
	w := &logWriter{t: t, path: x}
	w.open()
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		defer w.f.Close()
		for i, rotation := 0, 0; i < n; {
			w.write(i)
			i++
			if i%every == 0 {
				rotation++
				require.NoError(t, shift(x, rotation-1))
				require.NoError(t, w.f.Close())
				w.open()
			}
			if i%40 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	opts := Options{Paths: []string{x + "*"}, Checkpoint: ckpt, PollInterval: time.Millisecond, CheckpointInterval: 3 * time.Millisecond}
	var all []Line
	runs := 0
	for run := 0; ; run++ {
		runs++
		h := startTail(t, opts)
		finished := false
		select {
		case <-writerDone:
			finished = true
			h.waitCount(n - len(all))
			time.Sleep(50 * time.Millisecond)
		case <-time.After(time.Duration(5+run*3) * time.Millisecond):
		}
		require.NoError(t, h.stop())
		all = append(all, h.got()...)
		if finished {
			break
		}
	}
	t.Logf("%d runs of the tailer, %d lines", runs, len(all))
	require.Greater(t, runs, 2, "the writer was too fast to restart the tailer while it wrote")
	requireExactlyOnce(t, all, n)
}
