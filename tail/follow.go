package tail

// Following one file: polling it, noticing truncation, reading it to its
// end, delivering its lines and finishing it.

import (
	"context"
	"fmt"
	"io"
	"time"
)

// poll reads r to its end, checks it for truncation and finishes it when it
// left the patterns and is idle.
func (t *Tailer) poll(ctx context.Context, r *reader, handle func(Line) error) error {
	fi, err := r.f.Stat()
	if err != nil {
		return t.abandon(r, fmt.Errorf("stat %s: %w", r.path, err))
	}
	now := t.now()
	t.mu.Lock()
	r.size = fi.Size()
	if r.id != nil {
		if err := t.checkTruncated(r); err != nil {
			t.mu.Unlock()
			return t.abandon(r, err)
		}
		if r.id != nil {
			r.id.size = r.size
		}
	}
	if r.id == nil {
		if err := t.identify(r, t.orphanIdle(r, now) && !r.waiting); err != nil {
			t.mu.Unlock()
			return t.abandon(r, fmt.Errorf("fingerprint %s: %w", r.path, err))
		}
	}
	t.mu.Unlock()
	if r.id != nil {
		grew, err := t.read(ctx, r, handle)
		if err != nil {
			return err
		}
		if grew {
			r.lastGrowth = now
		}
	}
	if ctx.Err() == nil && t.orphanIdle(r, now) {
		return t.finish(r, handle)
	}
	return nil
}

// orphanIdle reports whether r left the patterns and has not grown for
// RotateGrace: it is finished for good.
func (t *Tailer) orphanIdle(r *reader, now time.Time) bool {
	return !r.orphaned.IsZero() && (t.opts.RotateGrace < 0 || now.Sub(maxTime(r.orphaned, r.lastGrowth)) >= t.opts.RotateGrace)
}

// checkTruncated restarts r at offset 0 when its file is shorter than the
// read offset or its first line changed. Called with t.mu held.
func (t *Tailer) checkTruncated(r *reader) error {
	truncated := r.size < r.off
	if !truncated {
		same, err := verify(r.f, r.fpr, r.id.fp, r.buf)
		if err == nil && same && r.id.check.end > r.id.check.start {
			same, err = verify(r.f, r.id.check, r.id.checkHash, r.buf)
		}
		if err != nil {
			return fmt.Errorf("verify fingerprint of %s: %w", r.path, err)
		}
		truncated = !same
	}
	if !truncated {
		return nil
	}
	t.c.truncations.Add(1)
	t.log.Info("File truncated, reading it from the start", "path", r.path, "offset", r.off, "size", r.size)
	if r.sp.partial() {
		t.addLost(LostUnread, 0, uint64(r.off-r.sp.lineStart))
	}
	t.detach(r)
	r.off, r.initial = 0, false
	r.sp.reset(0)
	return nil
}

// detach releases r's identity, remembering where delivery stopped. Called
// with t.mu held.
func (t *Tailer) detach(r *reader) {
	if r.id == nil {
		return
	}
	r.id.readOff = r.sp.lineStart
	r.id.owner = nil
	r.id.detachedAt = t.now()
	r.id = nil
}

// read reads r from its offset to the end of the file.
func (t *Tailer) read(ctx context.Context, r *reader, handle func(Line) error) (grew bool, err error) {
	e := r.id
	d := t.delivery(r, handle)
	emit := d.emit
	for {
		if ctx.Err() != nil {
			return grew, nil
		}
		n, rerr := r.f.ReadAt(r.buf, r.off)
		if n > 0 {
			grew = true
			base := r.off
			perr := r.sp.process(r.buf[:n], base, emit)
			t.afterRead()
			lastEnd := d.lastEnd
			t.mu.Lock()
			if lastEnd > base {
				s := max(lastEnd-checkBytes, base)
				e.check = fpRange{s, lastEnd}
				e.checkHash = hashPrefix(s, r.buf[s-base:lastEnd-base])
			}
			if perr == nil {
				r.off += int64(n)
			} else if lastEnd >= 0 {
				r.off = lastEnd // the rest is read again, if ever
			}
			if lastEnd >= 0 {
				e.readOff = lastEnd
				if !t.opts.ManualAck {
					e.tr.ack(e.tr.mark, lastEnd)
				}
			}
			t.mu.Unlock()
			d.publish(uint64(n))
			if perr != nil {
				return grew, perr
			}
		}
		if rerr == io.EOF || n < len(r.buf) {
			return grew, nil
		}
		if rerr != nil {
			return grew, t.abandon(r, fmt.Errorf("read %s: %w", r.path, rerr))
		}
	}
}

// lineDelivery is the one path from a file's splitter to the handler: it
// names each line's file, hands it over and counts it; the counts reach
// the Tailer's counters at publish, once per read.
type lineDelivery struct {
	t       *Tailer
	path    string
	file    FileID
	handle  func(Line) error
	lastEnd int64 // End of the last line handled; -1: none yet

	lines, cutLines, cutBytes, nuls uint64
}

// delivery returns the delivery of r's lines (nil r: standard input).
func (t *Tailer) delivery(r *reader, handle func(Line) error) *lineDelivery {
	d := &lineDelivery{t: t, path: "-", handle: handle, lastEnd: -1}
	if r != nil {
		d.path, d.file = r.path, FileID{Dev: r.dev, Ino: r.ino, Fingerprint: r.id.fp, Key: r.id.key}
	}
	return d
}

func (d *lineDelivery) emit(l *Line) error {
	l.Path, l.File = d.path, d.file
	d.lines++
	if l.Cut {
		d.cutLines++
		d.cutBytes += uint64(l.CutBytes)
	}
	d.nuls += uint64(l.NUL)
	if err := d.handle(*l); err != nil {
		return fmt.Errorf("tail: handle line at %s:%d: %w", d.path, l.Offset, err)
	}
	d.lastEnd = l.End
	return nil
}

// publish adds the counts since the last publish, and n bytes read, to
// the Tailer's counters.
func (d *lineDelivery) publish(n uint64) {
	t := d.t
	t.c.bytes.Add(n)
	t.c.lines.Add(d.lines)
	t.c.cutLines.Add(d.cutLines)
	t.c.cutBytes.Add(d.cutBytes)
	t.c.nulBytes.Add(d.nuls)
	d.lines, d.cutLines, d.cutBytes, d.nuls = 0, 0, 0, 0
}

func (t *Tailer) afterRead() {
	if t.opts.AfterRead != nil {
		t.opts.AfterRead()
	}
}

// finish delivers r's last unterminated line and closes it.
func (t *Tailer) finish(r *reader, handle func(Line) error) error {
	if r.done {
		return nil
	}
	if r.id != nil && r.sp.partial() && !(t.opts.HoldUnterminated && r.orphaned.IsZero()) {
		l0 := r.sp.lineStart
		d := t.delivery(r, handle)
		err := r.sp.flush(r.off, d.emit)
		t.afterRead()
		d.publish(0)
		end := d.lastEnd
		if err != nil {
			r.sp.lineStart = l0
			return err
		}
		t.mu.Lock()
		r.id.readOff = end
		if !t.opts.ManualAck {
			r.id.tr.ack(l0, end)
		}
		t.mu.Unlock()
	}
	t.mu.Lock()
	t.detach(r)
	r.done = true
	t.mu.Unlock()
	_ = r.f.Close()
	return nil
}

// abandon closes r after an I/O error; the error is not fatal to Run (the
// file is opened again by the next scan if it still matches).
func (t *Tailer) abandon(r *reader, err error) error {
	t.c.errors.Add(1)
	t.log.Error("Giving up on a file after an I/O error", "path", r.path, "err", err)
	t.mu.Lock()
	if r.id != nil {
		r.id.readOff = r.sp.lineStart
	}
	t.detach(r)
	r.done = true
	t.mu.Unlock()
	_ = r.f.Close()
	return nil
}
