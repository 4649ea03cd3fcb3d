package tail

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Defaults of the bound on files held open while the handler is blocked.
const (
	DefaultMaxHeldFiles       = 16
	DefaultMaxHeldBytes int64 = 1 << 30
)

// Reasons of a loss (LostCount.Reason).
const (
	// LostUnread: bytes gone before they were read: a file deleted or
	// forgotten (Options.ForgetAfter) before it was read to its last known
	// size, a checkpoint entry whose file is gone at start, the pending
	// partial line of a truncated file. Only bytes are known.
	LostUnread = "unread"
	// LostHeldLimit: a new file found while the handler was blocked, let go
	// unread because holding it would pass Options.MaxHeldFiles or
	// MaxHeldBytes. Its lines and bytes are counted when it is let go.
	LostHeldLimit = "held_limit"
)

// LostReasons lists every reason of a loss, so that counters can start
// at 0.
var LostReasons = []string{LostUnread, LostHeldLimit}

// LostCount is what was lost for one reason.
type LostCount struct {
	Reason       string
	Lines, Bytes uint64
}

// heldFile is a file the watcher opened while Run's goroutine was busy (a
// blocked handler): the descriptor keeps it readable when logrotate
// deletes it, until the next scan adopts it as a reader.
type heldFile struct {
	f    *os.File
	path string
	fi   os.FileInfo
	di   devIno
}

// watch finds new files while Run's goroutine has been busy in one cycle for
// longer than PollInterval (the handler blocks while Elasticsearch is down):
// it opens them so that a rotation deleting them before they are read loses
// nothing, within MaxHeldFiles and MaxHeldBytes, and refreshes the sizes of
// open files so that the lag does not freeze.
func (t *Tailer) watch(ctx context.Context, patterns []string) {
	tick := time.NewTicker(t.opts.PollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		since := t.busySince.Load()
		if since == 0 || time.Since(time.Unix(0, since)) < t.opts.PollInterval {
			continue
		}
		t.holdNew(patterns)
	}
}

// holdNew opens the files matching patterns that no reader or held file
// has, then lets go of held files past the bound.
func (t *Tailer) holdNew(patterns []string) {
	cands := t.glob(patterns)
	t.mu.Lock()
	known := make(map[devIno]bool, len(t.readers)+len(t.held))
	for _, r := range t.readers {
		if !r.done {
			known[devIno{r.dev, r.ino}] = true
			if fi, err := r.f.Stat(); err == nil {
				r.statSize = fi.Size()
			}
		}
	}
	for _, h := range t.held {
		known[h.di] = true
		if fi, err := h.f.Stat(); err == nil {
			h.fi = fi // it grows: a new file is often opened empty
		}
	}
	for _, c := range cands {
		if known[statDevIno(c.fi)] {
			continue
		}
		f, err := os.Open(c.path)
		if err != nil {
			continue // retried by the next scan
		}
		fi, err := f.Stat()
		if err != nil || known[statDevIno(fi)] {
			_ = f.Close()
			continue
		}
		di := statDevIno(fi)
		known[di] = true
		t.held = append(t.held, &heldFile{f: f, path: c.path, fi: fi, di: di})
	}
	drop := t.overBound()
	t.mu.Unlock()
	for _, d := range drop {
		t.letGo(d.h, d.from)
	}
}

type dropped struct {
	h    *heldFile
	from int64
}

// overBound removes held files, oldest first, until the rotated readers
// and held files together are within MaxHeldFiles and MaxHeldBytes of
// unread bytes. Called with t.mu held.
func (t *Tailer) overBound() []dropped {
	files, unread := 0, int64(0)
	for _, r := range t.readers {
		if !r.done && !r.orphaned.IsZero() {
			files++
			unread += max(0, max(r.size, r.statSize)-r.off)
		}
	}
	from := func(h *heldFile) int64 {
		for _, e := range t.entries {
			if e.dev == h.di.dev && e.ino == h.di.ino && e.owner == nil {
				return min(e.readOff, h.fi.Size())
			}
		}
		return 0
	}
	for _, h := range t.held {
		files++
		unread += h.fi.Size() - from(h)
	}
	var out []dropped
	for len(t.held) > 0 && (files > t.opts.MaxHeldFiles || unread > t.opts.MaxHeldBytes) {
		h := t.held[0]
		t.held = slices.Delete(t.held, 0, 1)
		f := from(h)
		files--
		unread -= h.fi.Size() - f
		out = append(out, dropped{h, f})
	}
	return out
}

// letGo counts the lines and bytes of h from offset from as lost, logs it
// and closes h.
func (t *Tailer) letGo(h *heldFile, from int64) {
	defer h.f.Close()
	var lines, n int64
	var lastByte byte = '\n'
	buf := make([]byte, 64<<10)
	for off := from; ; {
		m, err := h.f.ReadAt(buf, off)
		lines += int64(bytes.Count(buf[:m], []byte{'\n'}))
		off += int64(m)
		n += int64(m)
		if m > 0 {
			lastByte = buf[m-1]
		}
		if err != nil || m == 0 {
			if err != nil && err != io.EOF {
				t.log.Warn("Reading a file let go unread failed; its lines are not all counted", "path", h.path, "err", err)
			}
			break
		}
	}
	if lastByte != '\n' {
		lines++ // an unterminated last line is a line too
	}
	t.addLost(LostHeldLimit, uint64(lines), uint64(n))
	t.log.Warn("Rotated file let go unread: holding it would pass the bound of files held while lines cannot be delivered",
		"path", h.path, "lines", lines, "bytes", n, "max_held_files", t.opts.MaxHeldFiles, "max_held_bytes", t.opts.MaxHeldBytes)
}

// addLost counts a loss.
func (t *Tailer) addLost(reason string, lines, bytes uint64) {
	t.lostMu.Lock()
	c := t.lostBy[reason]
	c.Lines += lines
	c.Bytes += bytes
	t.lostBy[reason] = c
	t.lostMu.Unlock()
	t.c.lost.Add(bytes)
}

type candidate struct {
	path string
	fi   os.FileInfo
}

// glob matches patterns and returns the regular files not excluded, oldest
// first, so that rotated files are drained before their successors; matched
// (when not nil) gets how many each pattern matched.
func (t *Tailer) glob(patterns []string, matched ...[]int) []candidate {
	var cands []candidate
	for i, p := range patterns {
		m, _ := filepath.Glob(p) // patterns were validated in New
		for _, p := range m {
			if t.excluded(p) {
				continue
			}
			fi, err := os.Stat(p)
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			cands = append(cands, candidate{p, fi})
			if len(matched) > 0 {
				matched[0][i]++
			}
		}
	}
	slices.SortStableFunc(cands, func(a, b candidate) int {
		if c := a.fi.ModTime().Compare(b.fi.ModTime()); c != 0 {
			return c
		}
		return cmpString(a.path, b.path)
	})
	return cands
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
