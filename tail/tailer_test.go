//go:build unix

package tail

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRenameCreateRotation(t *testing.T) {
	dir := t.TempDir()
	x := filepath.Join(dir, "app.log")
	appendLines(t, x, 1, 3)
	h := startTail(t, Options{Paths: []string{x}, Start: FromBeginning, RotateGrace: time.Minute})
	require.Equal(t, numbered(1, 3), h.texts())

	// logrotate "create": rename, the writer still appends to the old
	// file before it reopens, then writes to the new one.
	require.NoError(t, os.Rename(x, x+".1"))
	appendLines(t, x+".1", 4, 5)
	appendLines(t, x, 6, 8)
	h.step()
	require.Equal(t, numbered(1, 8), h.texts(), "old file drained first")

	// Still within the grace period: late writes to the old file are read;
	// an unterminated last line waits.
	appendLines(t, x+".1", 9, 9)
	appendRaw(t, x+".1", lineText(10))
	h.step()
	require.Equal(t, numbered(1, 9), h.texts())

	h.clock.Advance(time.Minute)
	h.step()
	got := h.got()
	require.Equal(t, numbered(1, 10), h.texts())
	last := got[len(got)-1]
	require.True(t, last.Unterminated)
	require.Equal(t, x+".1", filepath.Join(dir, "app.log.1"))
	st := h.tl.Stats()
	require.Equal(t, uint64(1), st.Rotations)
	require.Len(t, st.Files, 1, "the rotated file is closed")
	require.Equal(t, x, st.Files[0].Path)
	require.NoError(t, h.stop())
}

func TestDeleteAndRecreate(t *testing.T) {
	dir := t.TempDir()
	x := filepath.Join(dir, "app.log")
	appendLines(t, x, 1, 3)
	h := startTail(t, Options{Paths: []string{x}, Start: FromBeginning, RotateGrace: -1})
	require.NoError(t, os.Remove(x))
	h.step() // the path is gone: the open file is drained and closed
	require.Empty(t, h.tl.Stats().Files)
	appendLines(t, x, 4, 5)
	h.step()
	require.Equal(t, numbered(1, 5), h.texts())

	// Deleted and re-created between two polls.
	require.NoError(t, os.Remove(x))
	appendLines(t, x, 6, 7)
	h.step()
	require.Equal(t, numbered(1, 7), h.texts())
	require.Equal(t, uint64(2), h.tl.Stats().Rotations, "deleted, then created a poll later, and deleted and created within one poll")
	require.NoError(t, h.stop())
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, b, 0o644))
}

func TestCopyTruncate(t *testing.T) {
	cases := []struct {
		name string
		glob bool // the copy matches the pattern
		// refill writes enough after the truncation that the file is
		// longer than the old read offset again (detected by fingerprint).
		refill bool
		want   []string
	}{
		{name: "copy outside pattern", want: append(numbered(1, 5), numbered(8, 9)...)},
		{name: "copy inside pattern", glob: true, want: append(append(numbered(1, 5), numbered(8, 9)...), numbered(6, 7)...)},
		{name: "refilled past offset", refill: true, want: append(numbered(1, 5), numbered(8, 30)...)},
		{name: "refilled, copy inside pattern", glob: true, refill: true, want: append(append(numbered(1, 5), numbered(8, 30)...), numbered(6, 7)...)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			x := filepath.Join(dir, "app.log")
			pattern := x
			if tc.glob {
				pattern = x + "*"
			}
			appendLines(t, x, 1, 5)
			h := startTail(t, Options{Paths: []string{pattern}, Start: FromBeginning, RotateGrace: -1})
			require.Equal(t, numbered(1, 5), h.texts())

			appendLines(t, x, 6, 7) // written before the copy, not yet read
			copyFile(t, x, x+".1")
			require.NoError(t, os.Truncate(x, 0))
			last := 9
			if tc.refill {
				last = 30
			}
			appendLines(t, x, 8, last)
			h.step()
			h.step()
			require.Equal(t, tc.want, h.texts())
			st := h.tl.Stats()
			require.Equal(t, uint64(1), st.Truncations)
			require.Equal(t, uint64(0), st.Duplicates, "the copy is not read while the original is")
			require.NoError(t, h.stop())
		})
	}
}

func TestCopyTruncateNonAppendWriterLeavesNULs(t *testing.T) {
	dir := t.TempDir()
	x := filepath.Join(dir, "app.log")
	w, err := os.OpenFile(x, os.O_WRONLY|os.O_CREATE, 0o644) // no O_APPEND
	require.NoError(t, err)
	defer w.Close()
	_, err = w.WriteString(strings.Join(numbered(1, 5), "\n") + "\n")
	require.NoError(t, err)
	h := startTail(t, Options{Paths: []string{x}, Start: FromBeginning})
	require.Equal(t, numbered(1, 5), h.texts())

	require.NoError(t, os.Truncate(x, 0))
	_, err = w.WriteString(lineText(6) + "\n" + lineText(7) + "\n") // at offset 60: a hole of 60 NULs
	require.NoError(t, err)
	h.step()
	require.Equal(t, numbered(1, 7), h.texts())
	got := h.got()
	require.Equal(t, 60, got[5].NUL)
	require.Equal(t, int64(0), got[5].Offset)
	st := h.tl.Stats()
	require.Equal(t, uint64(60), st.NULBytes)
	require.Equal(t, uint64(1), st.Truncations)
	require.NoError(t, h.stop())
}

func TestPartialLine(t *testing.T) {
	dir := t.TempDir()
	x := filepath.Join(dir, "app.log")
	appendRaw(t, x, "first\nsec")
	h := startTail(t, Options{Paths: []string{x}, Start: FromBeginning})
	require.Equal(t, []string{"first"}, h.texts())
	appendRaw(t, x, "ond\r\nthi")
	h.step()
	require.Equal(t, []string{"first", "second"}, h.texts())
	require.NoError(t, h.stop())

	// OneShot delivers the unterminated last line.
	var got []Line
	tl, err := New(Options{Paths: []string{x}, Start: FromBeginning, OneShot: true})
	require.NoError(t, err)
	require.NoError(t, tl.Run(t.Context(), func(l Line) error {
		l.Bytes = append([]byte(nil), l.Bytes...)
		got = append(got, l)
		return nil
	}))
	require.Len(t, got, 3)
	require.Equal(t, "thi", string(got[2].Bytes))
	require.True(t, got[2].Unterminated)
	require.Equal(t, int64(len("first\nsecond\r\n")), got[2].Offset)
}

func TestFileWithoutCompleteFirstLineWaits(t *testing.T) {
	dir := t.TempDir()
	x := filepath.Join(dir, "app.log")
	appendRaw(t, x, "no newline yet")
	h := startTail(t, Options{Paths: []string{x}, Start: FromEnd})
	require.Zero(t, h.tl.Stats().Files[0].File.Fingerprint, "not identified before its first line is complete")
	appendRaw(t, x, "\nnext\n")
	h.step()
	require.Equal(t, []string{"no newline yet", "next"}, h.texts(), "a file that had no complete line at start is read whole")
	require.NotZero(t, h.tl.Stats().Files[0].File.Fingerprint)
	require.NoError(t, h.stop())
}

func TestCutLines(t *testing.T) {
	dir := t.TempDir()
	x := filepath.Join(dir, "app.log")
	long := strings.Repeat("x", 100_000)
	appendRaw(t, x, "short\n"+long+"\nafter\n")
	h := startTail(t, Options{Paths: []string{x}, Start: FromBeginning, MaxLineBytes: 1000, ReadBufferBytes: 4096})
	got := h.got()
	require.Len(t, got, 3)
	require.Equal(t, "short", string(got[0].Bytes))
	require.True(t, got[1].Cut)
	require.Equal(t, long[:1000], string(got[1].Bytes))
	require.Equal(t, int64(99_000), got[1].CutBytes)
	require.Equal(t, int64(6), got[1].Offset)
	require.Equal(t, int64(6+100_001), got[1].End)
	require.Equal(t, "after", string(got[2].Bytes))
	st := h.tl.Stats()
	require.Equal(t, uint64(1), st.CutLines)
	require.Equal(t, uint64(99_000), st.CutBytes)
	require.NoError(t, h.stop())
}

func TestStartPositions(t *testing.T) {
	cases := []struct {
		name       string
		start      Start
		unknown    Start
		checkpoint bool // a checkpoint file (empty) exists
		want       []string
	}{
		{name: "beginning", start: FromBeginning, want: numbered(1, 7)},
		{name: "end", start: FromEnd, want: numbered(3, 7)},
		{name: "checkpoint, first run, unknown from beginning", start: FromCheckpoint, want: numbered(1, 7)},
		{name: "checkpoint, first run, unknown from end", start: FromCheckpoint, unknown: FromEnd, want: numbered(3, 7)},
		{name: "checkpoint exists, new files from beginning", start: FromCheckpoint, unknown: FromEnd, checkpoint: true, want: numbered(1, 7)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			x := filepath.Join(dir, "app.log")
			ckpt := filepath.Join(dir, "ckpt.json")
			if tc.checkpoint {
				require.NoError(t, WriteCheckpoint(ckpt, Checkpoint{}))
			}
			// Line 3 is being written at start-up: FromEnd delivers it whole.
			appendLines(t, x, 1, 2)
			appendRaw(t, x, "line 00")
			h := startTail(t, Options{Paths: []string{x}, Start: tc.start, StartUnknown: tc.unknown, Checkpoint: ckpt})
			appendRaw(t, x, "0003\n")
			appendLines(t, x, 4, 7)
			h.step()
			require.Equal(t, tc.want, h.texts())
			require.NoError(t, h.stop())
		})
	}
}

func TestStdin(t *testing.T) {
	tl, err := New(Options{Paths: []string{"-"}, Stdin: strings.NewReader("a\n\x00\x00b\r\nc")})
	require.NoError(t, err)
	var got []Line
	require.NoError(t, tl.Run(t.Context(), func(l Line) error {
		l.Bytes = append([]byte(nil), l.Bytes...)
		got = append(got, l)
		return nil
	}))
	require.Len(t, got, 3)
	require.Equal(t, Line{Path: "-", Offset: 0, End: 2, Bytes: []byte("a")}, got[0])
	require.Equal(t, Line{Path: "-", Offset: 2, End: 7, Bytes: []byte("b"), NUL: 2}, got[1])
	require.Equal(t, Line{Path: "-", Offset: 7, End: 8, Bytes: []byte("c"), Unterminated: true}, got[2])

	// A pipe written concurrently, together with a file.
	dir := t.TempDir()
	x := filepath.Join(dir, "app.log")
	appendLines(t, x, 0, 99)
	pr, pw := io.Pipe()
	go func() {
		for i := 100; i < 1100; i++ {
			_, _ = pw.Write([]byte(lineText(i) + "\n"))
		}
		_ = pw.Close()
	}()
	h := startTail(t, Options{Paths: []string{x, "-"}, Start: FromBeginning, Stdin: pr})
	h.waitCount(1100)
	requireExactlyOnce(t, h.got(), 1100)
	require.NoError(t, h.stop())
}

func TestHandlerErrorStopsRun(t *testing.T) {
	dir := t.TempDir()
	x := filepath.Join(dir, "app.log")
	ckpt := filepath.Join(dir, "ckpt.json")
	appendLines(t, x, 1, 5)
	tl, err := New(Options{Paths: []string{x}, Checkpoint: ckpt, Waker: NewManualWaker()})
	require.NoError(t, err)
	n := 0
	err = tl.Run(t.Context(), func(l Line) error {
		n++
		if n == 3 {
			return io.ErrUnexpectedEOF
		}
		return nil
	})
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.ErrorContains(t, err, x+":24")
	c, _, err := LoadCheckpoint(ckpt)
	require.NoError(t, err)
	require.Len(t, c.Files, 1)
	require.Equal(t, int64(24), c.Files[0].Offset, "only the handled lines are acknowledged")
}

func TestNewRejectsBadOptions(t *testing.T) {
	_, err := New(Options{})
	require.ErrorContains(t, err, "no paths")
	_, err = New(Options{Paths: []string{"[x"}})
	require.ErrorContains(t, err, `bad pattern "[x"`)
	_, err = New(Options{Paths: []string{"x"}, StartUnknown: FromEnd + 1})
	require.ErrorContains(t, err, "StartUnknown")
}

func devInoOf(t *testing.T, path string) (uint64, uint64) {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	st := fi.Sys().(*syscall.Stat_t)
	return uint64(st.Dev), st.Ino //nolint:unconvert
}

// TestRotationSeenOverTwoPolls: a rename seen in one poll whose new file
// appears only in the next is one rotation, whether the renamed file
// still matches the patterns or not.
func TestRotationSeenOverTwoPolls(t *testing.T) {
	for _, glob := range []bool{false, true} {
		dir := t.TempDir()
		x := filepath.Join(dir, "app.log")
		pattern := x
		if glob {
			pattern = x + "*"
		}
		appendLines(t, x, 1, 2)
		h := startTail(t, Options{Paths: []string{pattern}, Start: FromBeginning})
		require.NoError(t, os.Rename(x, x+".1"))
		h.step() // the old file has left (or moved); no new file yet
		appendLines(t, x, 3, 4)
		h.step()
		require.Equal(t, numbered(1, 4), h.texts())
		require.Equal(t, uint64(1), h.tl.Stats().Rotations, "glob %v", glob)
		require.NoError(t, h.stop())
	}
}
