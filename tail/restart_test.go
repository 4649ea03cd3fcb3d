//go:build unix

package tail

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRestartFromCheckpoint(t *testing.T) {
	dir := t.TempDir()
	x := filepath.Join(dir, "app.log")
	ckpt := filepath.Join(dir, "ckpt.json")
	opts := Options{Paths: []string{x}, Checkpoint: ckpt}
	appendLines(t, x, 1, 5)
	appendRaw(t, x, "line 0000") // line 6 half written at shutdown
	h := startTail(t, opts)
	require.Equal(t, numbered(1, 5), h.texts())
	require.NoError(t, h.stop())

	c, exists, err := LoadCheckpoint(ckpt)
	require.NoError(t, err)
	require.True(t, exists)
	require.Len(t, c.Files, 1)
	require.Equal(t, int64(60), c.Files[0].Offset)
	require.Equal(t, int64(69), c.Files[0].Size)

	appendRaw(t, x, "06\n")
	appendLines(t, x, 7, 8)
	h = startTail(t, opts)
	require.Equal(t, numbered(6, 8), h.texts())
	require.NoError(t, h.stop())
}

func TestCheckpointIdentity(t *testing.T) {
	// A checkpoint entry is matched by fingerprint; (dev, ino) only
	// decides whether a shorter file is new content (same inode) or a copy.
	cases := []struct {
		name string
		// edit changes the checkpoint entry written after reading lines 1..5.
		edit func(e *CheckpointEntry)
		want []string
	}{
		{name: "resume", edit: func(*CheckpointEntry) {}, want: numbered(6, 8)},
		{name: "inode reused by other content", edit: func(e *CheckpointEntry) { e.File.Fingerprint++ }, want: numbered(1, 8)},
		{name: "same inode, shorter than offset", edit: func(e *CheckpointEntry) { e.Offset = 1000 }, want: numbered(1, 8)},
		{name: "a copy shorter than offset", edit: func(e *CheckpointEntry) { e.Offset, e.File.Ino = 1000, e.File.Ino+1 }, want: nil},
		{name: "other inode, same content (a copy)", edit: func(e *CheckpointEntry) { e.File.Ino++ }, want: numbered(6, 8)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			x := filepath.Join(dir, "app.log")
			ckpt := filepath.Join(dir, "ckpt.json")
			appendLines(t, x, 1, 5)
			h := startTail(t, Options{Paths: []string{x}, Checkpoint: ckpt})
			require.NoError(t, h.stop())
			c, _, err := LoadCheckpoint(ckpt)
			require.NoError(t, err)
			require.Len(t, c.Files, 1)
			dev, ino := devInoOf(t, x)
			fp := c.Files[0].File.Fingerprint
			require.Equal(t, FileID{Dev: dev, Ino: ino, Fingerprint: fp, Key: fileKey("", dev, ino, fp, 0)}, c.Files[0].File)
			tc.edit(&c.Files[0])
			require.NoError(t, WriteCheckpoint(ckpt, c))

			appendLines(t, x, 6, 8)
			h = startTail(t, Options{Paths: []string{x}, Checkpoint: ckpt})
			require.Equal(t, tc.want, h.texts())
			require.NoError(t, h.stop())
		})
	}
}

func TestInodeReuseAfterDelete(t *testing.T) {
	// Delete a file and create another until the file system hands out the
	// same inode again (ext4 and tmpfs usually do at once).
	dir := t.TempDir()
	x := filepath.Join(dir, "app.log")
	ckpt := filepath.Join(dir, "ckpt.json")
	appendRaw(t, x, "old 1\nold 2\nold 3\n")
	h := startTail(t, Options{Paths: []string{x}, Checkpoint: ckpt})
	require.NoError(t, h.stop())
	_, ino := devInoOf(t, x)
	reused := false
	for i := 0; i < 20 && !reused; i++ {
		require.NoError(t, os.Remove(x))
		appendRaw(t, x, "new 1\nnew 2\nnew 3\nnew 4\n")
		_, ino2 := devInoOf(t, x)
		reused = ino2 == ino
	}
	if !reused {
		t.Skip("the file system did not reuse the inode; TestCheckpointIdentity covers the case with an edited checkpoint")
	}
	h = startTail(t, Options{Paths: []string{x}, Checkpoint: ckpt})
	require.Equal(t, []string{"new 1", "new 2", "new 3", "new 4"}, h.texts(), "a reused inode is a new file")
	require.NoError(t, h.stop())
}

func TestGlobFindsRotatedFileByFingerprint(t *testing.T) {
	dir := t.TempDir()
	x := filepath.Join(dir, "access.log")
	ckpt := filepath.Join(dir, "ckpt.json")
	opts := Options{Paths: []string{x + "*"}, Checkpoint: ckpt}
	appendLines(t, x, 1, 5)
	h := startTail(t, opts)
	require.NoError(t, h.stop())

	// While stopped: the writer adds two lines, logrotate renames, the
	// writer adds more to the old file, then writes the new one. Older
	// rotations are compressed (excluded by default).
	appendLines(t, x, 6, 7)
	require.NoError(t, os.Rename(x, x+".1"))
	appendLines(t, x+".1", 8, 9)
	require.NoError(t, os.WriteFile(x+".2.gz", []byte("\x1f\x8b\x08 compressed\n"), 0o644))
	time.Sleep(10 * time.Millisecond) // distinct modification times: x.1 is older
	appendLines(t, x, 10, 12)

	h = startTail(t, opts)
	require.Equal(t, numbered(6, 12), h.texts())
	got := h.got()
	require.Equal(t, x+".1", got[0].Path)
	require.Equal(t, x, got[len(got)-1].Path)
	require.NoError(t, h.stop())
	c, _, err := LoadCheckpoint(ckpt)
	require.NoError(t, err)
	require.Len(t, c.Files, 2)
}

func TestManualAckOutOfOrder(t *testing.T) {
	dir := t.TempDir()
	x := filepath.Join(dir, "app.log")
	ckpt := filepath.Join(dir, "ckpt.json")
	opts := Options{Paths: []string{x}, Checkpoint: ckpt, ManualAck: true}
	appendLines(t, x, 1, 20)
	h := startTail(t, opts)
	got := h.got()
	require.Len(t, got, 20)
	// The shipper hears back from Elasticsearch out of order; line 8's
	// batch never comes back.
	for _, i := range rand.New(rand.NewPCG(5, 6)).Perm(20) {
		if i == 7 {
			continue
		}
		h.tl.Ack(got[i].File, got[i].Offset, got[i].End)
		require.LessOrEqual(t, h.tl.Checkpoint().Files[0].Offset, got[6].End, "the mark never passes a gap")
	}
	require.Equal(t, got[6].End, h.tl.Stats().Files[0].Acked)
	require.NoError(t, h.stop())

	h = startTail(t, opts)
	require.Equal(t, numbered(8, 20), h.texts(), "unacknowledged lines are delivered again, acknowledged ones are not")
	for _, l := range h.got() {
		h.tl.Ack(l.File, l.Offset, l.End)
	}
	require.NoError(t, h.stop())
	h = startTail(t, opts)
	require.Empty(t, h.texts())
	require.NoError(t, h.stop())
}

func TestLaggingAcksThenCopyTruncate(t *testing.T) {
	// The shipper acknowledged lines 1..3 of 10 it had read; logrotate had
	// copied the file when it had 3 lines (the reader read 4..10 from the
	// original before the truncation). After a restart the copy resumes
	// after line 3: that it does not hold what was read past its end is no
	// reason to read it again from the start.
	for _, copied := range []int{3, 6} {
		t.Run(fmt.Sprintf("copy of %d lines", copied), func(t *testing.T) {
			dir := t.TempDir()
			x := filepath.Join(dir, "app.log")
			ckpt := filepath.Join(dir, "ckpt.json")
			opts := Options{Paths: []string{x + "*"}, Checkpoint: ckpt, ManualAck: true}
			appendLines(t, x, 1, copied)
			copyFile(t, x, filepath.Join(dir, "copy"))
			appendLines(t, x, copied+1, 10)
			h := startTail(t, opts)
			got := h.got()
			require.Len(t, got, 10)
			for _, l := range got[:3] {
				h.tl.Ack(l.File, l.Offset, l.End)
			}
			require.NoError(t, h.stop())

			require.NoError(t, os.Rename(filepath.Join(dir, "copy"), x+".1"))
			require.NoError(t, os.Truncate(x, 0))
			appendLines(t, x, 11, 12)
			h = startTail(t, opts)
			h.step()
			h.step()
			require.ElementsMatch(t, append(numbered(4, copied), numbered(11, 12)...), h.texts())
			require.Zero(t, h.tl.Stats().Truncations)
			require.NoError(t, h.stop())
			// The copy's check was cleared (it lay past the copy's end):
			// the checkpoint written then is one the next start reads.
			_, _, err := LoadCheckpoint(ckpt)
			require.NoError(t, err)
		})
	}
}

// TestRestartAfterRenameSameHeader: while the reader is down, app.log
// (fully read) is renamed to app.log.1 and a new app.log begins with the
// same header, shorter than what was read of the old one; both have the
// same modification time (file times tick once a jiffy, so a rotation
// right after a write gives a tie, and the new file is then identified
// first). The new file must not take the old file's checkpoint entry for
// a copy's: that read the renamed file again from 0 (doubled) and skipped
// the new file's lines (lost), as the sidecar crash test found.
func TestRestartAfterRenameSameHeader(t *testing.T) {
	dir := t.TempDir()
	x := filepath.Join(dir, "app.log")
	ckpt := filepath.Join(dir, "ckpt.json")
	opts := Options{Paths: []string{x + "*"}, Checkpoint: ckpt}
	appendRaw(t, x, "header\n")
	appendLines(t, x, 1, 5)
	h := startTail(t, opts)
	require.Equal(t, append([]string{"header"}, numbered(1, 5)...), h.texts())
	require.NoError(t, h.stop())

	require.NoError(t, os.Rename(x, x+".1"))
	appendRaw(t, x, "header\n")
	appendLines(t, x, 6, 6)
	tie := time.Now().Truncate(time.Second)
	require.NoError(t, os.Chtimes(x, tie, tie))
	require.NoError(t, os.Chtimes(x+".1", tie, tie))
	h = startTail(t, opts)
	require.Equal(t, append([]string{"header"}, numbered(6, 6)...), h.texts())
	require.NoError(t, h.stop())
}

// TestRestartAfterCopyTruncateSameHeader: a reader sees a copytruncate of
// a file with a header (copy app.log.1, app.log truncated and rewritten
// from the same header) and delivers the new content's lines, then dies
// before its checkpoint records them. After the restart the copy, older,
// is identified first and takes the old content's entry; the new content
// must still get the key the first reader gave it, or its lines are
// delivered again under other ids (stored twice by the shipper).
func TestRestartAfterCopyTruncateSameHeader(t *testing.T) {
	dir := t.TempDir()
	x := filepath.Join(dir, "app.log")
	ckpt := filepath.Join(dir, "ckpt.json")
	opts := Options{Paths: []string{x + "*"}, Checkpoint: ckpt}
	appendRaw(t, x, "header\n")
	appendLines(t, x, 1, 5)
	h := startTail(t, opts)
	require.NoError(t, h.stop())
	before, err := os.ReadFile(ckpt)
	require.NoError(t, err)

	h = startTail(t, opts)
	copyFile(t, x, x+".1")
	require.NoError(t, os.Truncate(x, 0))
	appendRaw(t, x, "header\n")
	appendLines(t, x, 6, 7)
	h.step()
	h.step()
	first := h.got()
	require.Equal(t, []string{"header", lineText(6), lineText(7)}, h.texts())
	require.NoError(t, h.stop())

	// Killed before that checkpoint was written.
	require.NoError(t, os.WriteFile(ckpt, before, 0o600))
	old := time.Now().Add(-time.Minute)
	require.NoError(t, os.Chtimes(x+".1", old, old))
	h = startTail(t, opts)
	again := h.got()
	require.Equal(t, []string{"header", lineText(6), lineText(7)}, h.texts(), "the copy is not read again")
	require.NoError(t, h.stop())
	for i := range first {
		require.Equal(t, first[i].File.Key, again[i].File.Key, "line at %d keeps its key", first[i].Offset)
	}
}
