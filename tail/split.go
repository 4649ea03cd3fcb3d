package tail

import (
	"bytes"
	"slices"
)

// splitter cuts a byte stream into lines. It keeps an unterminated line
// pending across chunks (bounded by max bytes), strips one "\r" before "\n",
// skips NUL bytes at the start of a line and cuts lines longer than max.
type splitter struct {
	max       int
	pending   []byte
	lineStart int64 // offset of the current line's first byte (its leading NULs included)
	nul       int   // leading NUL bytes skipped in the current line
	inLine    bool  // a non-NUL byte of the current line has been seen
	cut       bool  // the current line exceeded max
	cutBytes  int64 // bytes dropped from the current line
}

func (s *splitter) reset(off int64) {
	s.pending = s.pending[:0]
	s.lineStart = off
	s.nul = 0
	s.inLine = false
	s.cut = false
	s.cutBytes = 0
}

// partial reports whether bytes of an unterminated line are held.
func (s *splitter) partial() bool { return s.inLine }

func (s *splitter) appendPending(seg []byte) {
	room := s.max - len(s.pending)
	if len(seg) > room {
		if room > 0 {
			s.pending = append(s.pending, seg[:room]...)
		}
		s.cut = true
		s.cutBytes += int64(len(seg) - max(room, 0))
		return
	}
	if cap(s.pending)-len(s.pending) < len(seg) {
		// Double (append grows large slices by 1.25x: a 60 MB line made
		// 365 MB of garbage), without passing max.
		s.pending = slices.Grow(s.pending, min(max(len(seg), len(s.pending)), s.max-len(s.pending)))
	}
	s.pending = append(s.pending, seg...)
}

// process splits chunk, whose first byte is at offset base, calling emit for
// every complete line. It stops at the first error emit returns; the bytes
// of lines not yet emitted are then lost to this splitter.
func (s *splitter) process(chunk []byte, base int64, emit func(l *Line) error) error {
	var l Line
	p := 0
	for p < len(chunk) {
		if !s.inLine {
			q := p
			for q < len(chunk) && chunk[q] == 0 {
				q++
			}
			s.nul += q - p
			p = q
			if p == len(chunk) {
				break
			}
			s.inLine = true
		}
		i := bytes.IndexByte(chunk[p:], '\n')
		if i < 0 {
			s.appendPending(chunk[p:])
			break
		}
		seg := chunk[p : p+i]
		var b []byte
		if len(s.pending) == 0 && !s.cut {
			b = seg
			if len(b) > s.max {
				s.cutBytes += int64(len(b) - s.max)
				b = b[:s.max]
				s.cut = true
			}
		} else {
			s.appendPending(seg)
			b = s.pending
		}
		if !s.cut && len(b) > 0 && b[len(b)-1] == '\r' {
			b = b[:len(b)-1]
		}
		end := base + int64(p+i+1)
		l = Line{Offset: s.lineStart, End: end, Bytes: b, Cut: s.cut, CutBytes: s.cutBytes, NUL: s.nul}
		if err := emit(&l); err != nil {
			return err
		}
		s.reset(end)
		p += i + 1
	}
	return nil
}

// flush emits the pending unterminated line, if any, ending at end.
func (s *splitter) flush(end int64, emit func(l *Line) error) error {
	if !s.inLine {
		return nil
	}
	l := Line{Offset: s.lineStart, End: end, Bytes: s.pending, Cut: s.cut, CutBytes: s.cutBytes, NUL: s.nul, Unterminated: true}
	err := emit(&l)
	s.reset(end)
	return err
}
