package tail

// Finding files: globbing the patterns, noticing new files, rotations and
// files that left the patterns. Following one file is in follow.go, telling
// files apart in identify.go.

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

type devIno struct{ dev, ino uint64 }

func (t *Tailer) excluded(path string) bool {
	base := filepath.Base(path)
	if t.ckptAbs != "" {
		// Never read our own checkpoint (or its temporary files) as a log.
		if abs, err := filepath.Abs(path); err == nil &&
			(abs == t.ckptAbs || strings.HasPrefix(abs, t.ckptAbs+tmpSuffix)) {
			return true
		}
	}
	for _, p := range t.opts.Exclude {
		if ok, _ := filepath.Match(p, base); ok {
			return true
		}
	}
	return false
}

// scan matches the patterns, opens new files and marks readers that left
// the patterns as orphaned.
func (t *Tailer) scan(patterns []string, initial bool) {
	now := t.now()
	matched := make([]int, len(patterns))
	cands := t.glob(patterns, matched)
	// Globbing and stat are done; the rest is quick (at most an open per
	// new file) and runs under the lock Ack and Stats take.
	t.mu.Lock()
	defer t.mu.Unlock()
	t.noteMatches(patterns, matched, now)
	byDI := make(map[devIno]*reader, len(t.readers))
	byPath := make(map[string]*reader, len(t.readers))
	for _, r := range t.readers {
		r.seen = false
		byDI[devIno{r.dev, r.ino}] = r
		if r.orphaned.IsZero() {
			byPath[r.path] = r
		}
	}
	held := make(map[devIno]*heldFile, len(t.held))
	for _, h := range t.held {
		held[h.di] = h
	}
	t.held = nil
	for _, c := range cands {
		p, fi := c.path, c.fi
		if r := byDI[statDevIno(fi)]; r != nil {
			if !r.seen {
				t.moved(r, p, now)
			}
			continue
		}
		if h := held[statDevIno(fi)]; h != nil {
			delete(held, h.di)
			t.countRotation(p, byPath)
			byDI[h.di] = t.newReader(h.f, p, h.di, fi.Size(), initial, now)
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			// Vanished between Glob and Open, or unreadable; retried next scan.
			if !os.IsNotExist(err) && !t.warned[p] {
				t.warned[p] = true
				t.log.Warn("Cannot open a matching file", "path", p, "err", err)
			}
			continue
		}
		delete(t.warned, p)
		fi, err = f.Stat()
		if err != nil {
			_ = f.Close()
			continue
		}
		di := statDevIno(fi)
		if r := byDI[di]; r != nil { // replaced between Stat and Open by a file we have
			_ = f.Close()
			if !r.seen {
				t.moved(r, p, now)
			}
			continue
		}
		t.countRotation(p, byPath)
		byDI[di] = t.newReader(f, p, di, fi.Size(), initial, now)
	}
	// Held files that left the patterns (renamed away or deleted) are read
	// as rotated files, oldest first.
	for _, h := range heldInOrder(held) {
		if byDI[h.di] != nil {
			_ = h.f.Close()
			continue
		}
		r := t.newReader(h.f, h.path, h.di, h.fi.Size(), false, now)
		r.seen = false
		byDI[h.di] = r
	}
	for _, r := range t.readers {
		if !r.seen && r.orphaned.IsZero() {
			r.orphaned = now
			t.vacated[r.path] = now
		}
	}
}

// noteMatches records what each pattern matched and logs, at the first scan
// and then every unmatchedWarnEvery, a pattern that matches no file: a
// reader that silently reads nothing is the worst kind. Called with t.mu
// held.
func (t *Tailer) noteMatches(patterns []string, matched []int, now time.Time) {
	if t.unmatchedWarned == nil {
		t.unmatchedWarned = make([]time.Time, len(patterns))
	}
	t.patterns, t.matched = patterns, matched
	for i, n := range matched {
		if n > 0 {
			if !t.unmatchedWarned[i].IsZero() {
				t.log.Info("Log pattern matches files again", "glob", patterns[i], "files", n)
			}
			t.unmatchedWarned[i] = time.Time{}
			continue
		}
		if w := t.unmatchedWarned[i]; w.IsZero() || now.Sub(w) >= unmatchedWarnEvery {
			t.log.Warn("Log pattern matches no file; nothing is read from it", "glob", patterns[i])
			t.unmatchedWarned[i] = now
		}
	}
}

// moved records that r was found at path p (its own or a new name, after
// a rename): a path it left is vacated. Called with t.mu held.
func (t *Tailer) moved(r *reader, p string, now time.Time) {
	if r.path != p && r.orphaned.IsZero() {
		t.vacated[r.path] = now
	}
	r.seen, r.path, r.orphaned = true, p, time.Time{}
}

// countRotation counts a new file at path p as a rotation when a reader
// holds p now (byPath) or held it until it left the patterns. Called with
// t.mu held.
func (t *Tailer) countRotation(p string, byPath map[string]*reader) {
	if _, ok := t.vacated[p]; ok || byPath[p] != nil {
		delete(t.vacated, p)
		t.c.rotations.Add(1)
		t.log.Info("File rotated", "path", p)
	}
}

// newReader adds a reader of f. Called with t.mu held.
func (t *Tailer) newReader(f *os.File, path string, di devIno, size int64, initial bool, now time.Time) *reader {
	r := &reader{
		f: f, path: path, dev: di.dev, ino: di.ino, size: size,
		buf: make([]byte, t.opts.ReadBufferBytes), initial: initial, seen: true, lastGrowth: now,
	}
	r.sp.max = t.opts.MaxLineBytes
	t.readers = append(t.readers, r)
	return r
}

// heldInOrder returns the held files of m, oldest first.
func heldInOrder(m map[devIno]*heldFile) []*heldFile {
	out := make([]*heldFile, 0, len(m))
	for _, h := range m {
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b *heldFile) int {
		if c := a.fi.ModTime().Compare(b.fi.ModTime()); c != 0 {
			return c
		}
		return cmpString(a.path, b.path)
	})
	return out
}
