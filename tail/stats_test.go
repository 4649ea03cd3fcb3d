//go:build unix

package tail

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestStatsLagAndAcked(t *testing.T) {
	dir := t.TempDir()
	x := filepath.Join(dir, "app.log")
	appendLines(t, x, 1, 5)
	h := startTail(t, Options{Paths: []string{x}, Start: FromBeginning, ManualAck: true})
	st := h.tl.Stats()
	require.Len(t, st.Files, 1)
	f := st.Files[0]
	require.Equal(t, x, f.Path)
	require.Equal(t, int64(60), f.Size)
	require.Equal(t, int64(60), f.Offset)
	require.Equal(t, int64(0), f.Acked)
	require.Equal(t, uint64(5), st.Lines)
	require.Equal(t, uint64(60), st.Bytes)
	dev, ino := devInoOf(t, x)
	require.Equal(t, dev, f.File.Dev)
	require.Equal(t, ino, f.File.Ino)
	require.Equal(t, h.got()[0].File, f.File)

	for _, l := range h.got()[:2] {
		h.tl.Ack(l.File, l.Offset, l.End)
	}
	h.tl.Ack(FileID{}, 0, 100) // standard input: ignored
	require.Equal(t, int64(24), h.tl.Stats().Files[0].Acked)
	require.NoError(t, h.stop())
}

func TestLostBytes(t *testing.T) {
	t.Run("checkpoint points at a file that is gone", func(t *testing.T) {
		dir := t.TempDir()
		x := filepath.Join(dir, "app.log")
		ckpt := filepath.Join(dir, "ckpt.json")
		appendLines(t, x, 1, 2)
		require.NoError(t, WriteCheckpoint(ckpt, Checkpoint{Files: []CheckpointEntry{
			{Path: filepath.Join(dir, "gone.log"), File: FileID{Dev: 1, Ino: 2, Fingerprint: 3}, Offset: 40, Size: 100},
		}}))
		h := startTail(t, Options{Paths: []string{x}, Checkpoint: ckpt, ForgetAfter: time.Hour})
		require.Equal(t, numbered(1, 2), h.texts())
		require.Equal(t, uint64(60), h.tl.Stats().LostBytes)
		require.Len(t, h.tl.Checkpoint().Files, 2, "kept in case it shows up again")
		h.clock.Advance(time.Hour)
		h.step()
		require.Len(t, h.tl.Checkpoint().Files, 1, "forgotten")
		require.Equal(t, uint64(60), h.tl.Stats().LostBytes, "counted once")
		require.NoError(t, h.stop())
	})
	t.Run("pending partial line of a truncated file", func(t *testing.T) {
		dir := t.TempDir()
		x := filepath.Join(dir, "app.log")
		appendLines(t, x, 1, 2)
		appendRaw(t, x, "half a li")
		h := startTail(t, Options{Paths: []string{x}, Start: FromBeginning})
		require.NoError(t, os.Truncate(x, 0))
		appendLines(t, x, 3, 3)
		h.step()
		require.Equal(t, numbered(1, 3), h.texts())
		st := h.tl.Stats()
		require.Equal(t, uint64(9), st.LostBytes)
		require.Equal(t, uint64(1), st.Truncations)
		require.NoError(t, h.stop())
	})
}

// TestIdenticalFirstLinesAreTwoFiles: two files that only share their
// first line (a header, the banner of two gateway pods) are both read, at
// the same time, under different Keys; a file holding the same first bytes
// as an open one is a copy and waits (see TestCopyTruncate).
func TestIdenticalFirstLinesAreTwoFiles(t *testing.T) {
	dir := t.TempDir()
	appendRaw(t, filepath.Join(dir, "a.log"), "#header\na1\n")
	appendRaw(t, filepath.Join(dir, "b.log"), "#header\nb1\n")
	h := startTail(t, Options{Paths: []string{filepath.Join(dir, "*.log")}, Start: FromBeginning, RotateGrace: -1})
	require.ElementsMatch(t, []string{"#header", "a1", "#header", "b1"}, h.texts())
	st := h.tl.Stats()
	require.Equal(t, uint64(0), st.Duplicates)
	require.Len(t, st.Files, 2)
	require.Equal(t, st.Files[0].File.Fingerprint, st.Files[1].File.Fingerprint)
	require.NotEqual(t, st.Files[0].File.Key, st.Files[1].File.Key)

	// Both go on.
	appendRaw(t, filepath.Join(dir, "a.log"), "a2\n")
	appendRaw(t, filepath.Join(dir, "b.log"), "b2\n")
	h.step()
	require.ElementsMatch(t, []string{"#header", "a1", "#header", "b1", "a2", "b2"}, h.texts())

	// A copy of a.log is not read while a.log is.
	copyFile(t, filepath.Join(dir, "a.log"), filepath.Join(dir, "c.log"))
	h.step()
	require.Len(t, h.texts(), 6)
	require.Equal(t, uint64(1), h.tl.Stats().Duplicates)
	require.NoError(t, h.stop())
}

func TestRewrittenWithIdenticalFirstLine(t *testing.T) {
	dir := t.TempDir()
	x := filepath.Join(dir, "app.log")
	ckpt := filepath.Join(dir, "ckpt.json")
	appendRaw(t, x, "#header\nold 1\nold 2\n")
	h := startTail(t, Options{Paths: []string{x}, Checkpoint: ckpt})
	require.Equal(t, []string{"#header", "old 1", "old 2"}, h.texts())

	// Truncated and refilled past the read offset, same first line: the
	// bytes before the offset changed, so it is read again from the start.
	require.NoError(t, os.Truncate(x, 0))
	appendRaw(t, x, "#header\nnew 1\nnew 2\nnew 3\n")
	h.step()
	require.Equal(t, []string{"#header", "old 1", "old 2", "#header", "new 1", "new 2", "new 3"}, h.texts())
	require.Equal(t, uint64(1), h.tl.Stats().Truncations)
	require.NoError(t, h.stop())
	// Each content has its own Key: the lines at the same offsets of the
	// two contents never share an id.
	got := h.got()
	keys := map[uint64]bool{}
	for _, l := range got {
		keys[l.File.Key] = true
	}
	require.Len(t, keys, 2)
	require.Equal(t, got[0].Offset, got[3].Offset)
	require.NotEqual(t, got[0].File.Key, got[3].File.Key)
	secondKey := got[3].File.Key

	// The same while stopped: the checkpoint offset is not trusted.
	require.NoError(t, os.Truncate(x, 0))
	appendRaw(t, x, "#header\nnewer 1\nnewer 2\nnewer 3\nnewer 4\n")
	h = startTail(t, Options{Paths: []string{x}, Checkpoint: ckpt})
	require.Equal(t, []string{"#header", "newer 1", "newer 2", "newer 3", "newer 4"}, h.texts())
	require.NoError(t, h.stop())
	third := h.got()[0].File.Key
	require.NotEqual(t, secondKey, third)
	require.False(t, keys[third])

	// A restart that continues the third content keeps its Key.
	appendRaw(t, x, "newer 5\n")
	h = startTail(t, Options{Paths: []string{x}, Checkpoint: ckpt})
	require.Equal(t, []string{"newer 5"}, h.texts())
	require.Equal(t, third, h.got()[0].File.Key)
	require.NoError(t, h.stop())
}

func TestCheckpointFileIsNotALog(t *testing.T) {
	dir := t.TempDir()
	appendLines(t, filepath.Join(dir, "app.log"), 1, 2)
	h := startTail(t, Options{Paths: []string{filepath.Join(dir, "*")}, Start: FromBeginning, Checkpoint: filepath.Join(dir, "ckpt")})
	require.NoError(t, h.tl.SaveCheckpoint())
	appendRaw(t, filepath.Join(dir, "ckpt"+tmpSuffix+"1"), "leftover\n")
	h.step()
	require.Equal(t, numbered(1, 2), h.texts())
	require.NoError(t, h.stop())
}

func TestConcurrentAcks(t *testing.T) {
	// The shipper acknowledges from other goroutines, out of order, while
	// Run reads; the mark ends at the end of the file.
	dir := t.TempDir()
	x := filepath.Join(dir, "app.log")
	const n = 5000
	appendLines(t, x, 0, n-1)
	acks := make(chan Line, 64)
	var tl *Tailer
	done := make(chan struct{})
	for w := 0; w < 4; w++ {
		go func() {
			for l := range acks {
				tl.Ack(l.File, l.Offset, l.End)
				_ = tl.Stats()
			}
			done <- struct{}{}
		}()
	}
	var err error
	tl, err = New(Options{Paths: []string{x}, Start: FromBeginning, ManualAck: true, OneShot: true})
	require.NoError(t, err)
	require.NoError(t, tl.Run(t.Context(), func(l Line) error {
		acks <- l
		return nil
	}))
	close(acks)
	for w := 0; w < 4; w++ {
		<-done
	}
	c := tl.Checkpoint()
	require.Len(t, c.Files, 1)
	require.Equal(t, int64(n*12), c.Files[0].Offset)
}

// TestPatternMatchingNothingIsLogged: a pattern matching no file is logged
// at the first scan and again every unmatchedWarnEvery while it still
// matches nothing; Stats says what each pattern matched.
func TestPatternMatchingNothingIsLogged(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	var mu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logs.Write(p) })
	pattern := filepath.Join(dir, "*.log")
	h := startTail(t, Options{Paths: []string{pattern}, Logger: slog.New(slog.NewTextHandler(w, nil))})
	count := func() int { mu.Lock(); defer mu.Unlock(); return strings.Count(logs.String(), "matches no file") }
	require.Equal(t, 1, count())
	require.Equal(t, []PatternStats{{Pattern: pattern, Files: 0}}, h.tl.Stats().Patterns)
	h.step()
	require.Equal(t, 1, count(), "not at every poll")
	h.clock.Advance(unmatchedWarnEvery)
	h.step()
	require.Equal(t, 2, count())
	appendLines(t, filepath.Join(dir, "a.log"), 1, 1)
	h.step()
	require.Equal(t, []PatternStats{{Pattern: pattern, Files: 1}}, h.tl.Stats().Patterns)
	require.NoError(t, h.stop())
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
