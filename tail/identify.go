package tail

// Telling files apart: which known content a file continues (fingerprint,
// check, device and inode, key), and where reading starts.

import (
	"cmp"
	"io"
	"slices"
)

// identify computes r's fingerprint and attaches it to an entry, deciding
// where reading starts. Called with t.mu held.
//
// The entry is, in this order: the entry of r's own device and inode whose
// last bytes read are still there (a restart, a rename); an entry no open
// file holds whose last bytes read are in r (a copy, e.g. copytruncate's);
// else a new entry. While another open file has the same fingerprint and
// the same first bytes, r is taken for a copy of it and waits; a file that
// only shares its first line is read at the same time, under its own Key.
func (t *Tailer) identify(r *reader, force bool) error {
	fp, fpr, ok, err := fingerprint(r.f, r.size, t.opts.FingerprintBytes, r.buf, force)
	if err != nil {
		return err
	}
	if !ok {
		r.initial = false // nothing complete existed at start-up: read it all once it has a line
		return nil
	}
	var own, copied []*entry
	for _, e := range t.entries {
		if e.fp != fp {
			continue
		}
		if e.owner != nil && e.owner != r {
			alike, err := t.copyOf(r, e, fpr.end)
			if err != nil {
				return err
			}
			if alike {
				if !r.waiting {
					r.waiting = true
					t.c.dups.Add(1)
					t.log.Debug("File begins as a file being read; not read while that one is", "path", r.path, "other", e.owner.path)
				}
				return nil
			}
			continue
		}
		if e.dev == r.dev && e.ino == r.ino {
			own = append(own, e)
		} else if mine, err := t.heldByOwnFile(r, e); err != nil {
			return err
		} else if !mine {
			copied = append(copied, e)
		}
	}
	r.waiting = false
	// The bytes last read before the offset must still be there:
	// otherwise this is other content with an identical first line.
	holds := func(e *entry) (bool, error) {
		if e.check.end > e.check.start && e.check.end <= r.size {
			return verify(r.f, e.check, e.checkHash, r.buf)
		}
		return true, nil
	}
	var e *entry
	var prev uint64 // the key of the content this inode held before
	for _, c := range own {
		okc, err := holds(c)
		if err != nil {
			return err
		}
		if okc && r.size >= c.readOff {
			e = c
			break
		}
		// Same inode, other content or shorter than our offset: new
		// content with an identical first line.
		t.countLost(c)
		c.dev, c.ino = 0, 0 // a copy may still continue it
		prev = c.key
		t.log.Info("File has the first line of its earlier content but other content; reading it as a new file", "path", r.path)
	}
	var start int64
	if e != nil {
		start = e.readOff
	} else {
		// The copy holding the most recent bytes: the longest read.
		slices.SortFunc(copied, func(a, b *entry) int { return cmp.Compare(b.readOff, a.readOff) })
		for _, c := range copied {
			okc, err := holds(c)
			if err != nil {
				return err
			}
			if okc && (len(own) == 0 || c.check.end <= r.size) {
				e = c
				break
			}
		}
		if e == nil && prev == 0 {
			// The content this inode held before with the same first
			// line, taken by its copy before this file was identified
			// (at a restart, the copy first): the key must be the one a
			// reader that saw the truncation gave (it only looks at
			// entries of the same fingerprint too).
			for _, c := range t.entries {
				if c.fp == fp && c.wasDev == r.dev && c.wasIno == r.ino && (r.dev != 0 || r.ino != 0) {
					prev = c.key
					break
				}
			}
		}
		switch {
		case e == nil:
			e = &entry{fp: fp, key: fileKey(t.opts.Identity, r.dev, r.ino, fp, prev)}
			for t.entries[e.key] != nil { // a hash collision
				e.key++
			}
			t.entries[e.key] = e
			start = t.startOffset(r)
			e.readOff = start
			e.tr.reset(start)
		case r.size >= e.readOff:
			start = e.readOff
		default:
			// A copy shorter than what was read of the original: the rest
			// was delivered from the original.
			start = r.size
		}
	}
	if e.check.end > r.size {
		// Bytes read past the resume point are not in this file (a copy
		// made before they were written): nothing to check against yet.
		e.check, e.checkHash = fpRange{}, 0 // no hash without a range: a checkpoint with one is refused
	}
	e.owner = r
	if (e.dev != r.dev || e.ino != r.ino) && (e.dev != 0 || e.ino != 0) {
		e.wasDev, e.wasIno = e.dev, e.ino // a copy takes it over
	}
	e.path, e.dev, e.ino, e.size = r.path, r.dev, r.ino, r.size
	e.fromCheckpoint = false
	r.id, r.fpr, r.off = e, fpr, start
	r.sp.reset(start)
	return nil
}

// heldByOwnFile reports whether e's own file (its device and inode) is
// open in another reader not identified yet and still holds e: its last
// bytes read are there. That file continues e; r, with the same first
// line, is not its copy though it may be too short to tell (a new file
// after a rename, identified first when both have the same modification
// time).
func (t *Tailer) heldByOwnFile(r *reader, e *entry) (bool, error) {
	if e.dev == 0 && e.ino == 0 || e.check.end <= e.check.start {
		return false, nil
	}
	for _, o := range t.readers {
		if o == r || o.done || o.id != nil || o.dev != e.dev || o.ino != e.ino {
			continue
		}
		if o.size < e.readOff || o.size < e.check.end {
			return false, nil
		}
		return verify(o.f, e.check, e.checkHash, r.buf)
	}
	return false, nil
}

// sameStartBytes is how much of two files with the same first line is
// compared to tell a copy from another file.
const sameStartBytes = 4096

// copyOf reports whether r may be a copy of the file that holds entry e
// open: they hold the same bytes from from up to sameStartBytes or the end
// of the shorter one. Files that only share their first line (the banner
// of two gateway pods, a header) differ within a few lines. While the open
// file may have changed since it was last read (truncated, perhaps
// rewritten: a copytruncate whose truncation is not noticed yet), r is
// taken for a copy: it waits until the truncation is noticed.
func (t *Tailer) copyOf(r *reader, e *entry, from int64) (bool, error) {
	o := e.owner
	fi, err := o.f.Stat()
	if err != nil || fi.Size() < o.off {
		return true, nil
	}
	if ok, err := verify(o.f, o.fpr, e.fp, r.buf); err != nil || !ok {
		return true, nil
	}
	if e.check.end > e.check.start {
		if ok, err := verify(o.f, e.check, e.checkHash, r.buf); err != nil || !ok {
			return true, nil
		}
	}
	return sameStart(r, o, min(fi.Size(), o.size), from)
}

// sameStart reports whether r and o hold the same bytes from from up to
// sameStartBytes or the end of the shorter one (o's size taken as osize).
func sameStart(r, o *reader, osize, from int64) (bool, error) {
	n := min(r.size, osize, sameStartBytes) - from
	if n <= 0 {
		return true, nil
	}
	var a, b [sameStartBytes]byte
	if _, err := r.f.ReadAt(a[:n], from); err != nil && err != io.EOF {
		return false, err
	}
	if _, err := o.f.ReadAt(b[:n], from); err != nil && err != io.EOF {
		return false, err
	}
	return a == b, nil
}

// startOffset is where a file without an entry starts.
func (t *Tailer) startOffset(r *reader) int64 {
	if !r.initial {
		return 0
	}
	s := t.opts.Start
	if s == FromCheckpoint {
		if t.ckptExisted {
			return 0
		}
		s = t.opts.StartUnknown
	}
	if s != FromEnd || r.size == 0 {
		return 0
	}
	// Start after the last newline in the last buffer of the file, so that
	// a line being written is delivered whole.
	n := min(int64(len(r.buf)), r.size)
	m, err := r.f.ReadAt(r.buf[:n], r.size-n)
	if m < int(n) && err != nil {
		return r.size
	}
	for i := n - 1; i >= 0; i-- {
		if r.buf[i] == '\n' {
			return r.size - n + i + 1
		}
	}
	return r.size
}

func (t *Tailer) countLost(e *entry) {
	if !e.lostCounted && e.size > e.tr.mark && e.owner == nil {
		if n := e.size - max(e.tr.mark, e.readOff); n > 0 {
			t.addLost(LostUnread, 0, uint64(n))
			t.log.Warn("File gone before it was read to its end", "path", e.path, "bytes", n)
		}
	}
	e.lostCounted = true
}

// countUnmatchedCheckpointEntries counts the unread rest of files the
// checkpoint points at that the first scan did not find.
func (t *Tailer) countUnmatchedCheckpointEntries() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range t.entries {
		if e.fromCheckpoint {
			t.countLost(e)
		}
	}
}
