package tail

import (
	"context"
	"fmt"
	"io"
)

// stdinReader reads standard input in a goroutine (reads block) and hands
// chunks to Run through an unbuffered channel; two buffers alternate, so
// memory stays bounded.
type stdinReader struct {
	chunks chan []byte
	free   chan []byte
	sp     splitter
	off    int64
	err    error
}

func newStdinReader(ctx context.Context, in io.Reader, bufSize, maxLine int) *stdinReader {
	s := &stdinReader{chunks: make(chan []byte), free: make(chan []byte, 2)}
	s.sp.max = maxLine
	s.free <- make([]byte, bufSize)
	s.free <- make([]byte, bufSize)
	go func() {
		defer close(s.chunks)
		for {
			var buf []byte
			select {
			case buf = <-s.free:
			case <-ctx.Done():
				return
			}
			n, err := in.Read(buf)
			if n > 0 {
				select {
				case s.chunks <- buf[:n]:
				case <-ctx.Done():
					return
				}
			} else {
				s.free <- buf
			}
			if err != nil {
				if err != io.EOF {
					s.err = err // read by Run after chunks is closed
				}
				return
			}
		}
	}()
	return s
}

func (s *stdinReader) emitter(t *Tailer, handle func(Line) error) func(l *Line) error {
	return func(l *Line) error {
		l.Path = "-"
		t.lines.Add(1)
		t.nulBytes.Add(uint64(l.NUL))
		if l.Cut {
			t.cutLines.Add(1)
			t.cutBytes.Add(uint64(l.CutBytes))
		}
		if err := handle(*l); err != nil {
			return fmt.Errorf("tail: handle line at -:%d: %w", l.Offset, err)
		}
		return nil
	}
}

func (s *stdinReader) process(t *Tailer, chunk []byte, handle func(Line) error) error {
	err := s.sp.process(chunk, s.off, s.emitter(t, handle))
	t.afterRead()
	s.off += int64(len(chunk))
	t.bytes.Add(uint64(len(chunk)))
	s.free <- chunk[:cap(chunk)]
	return err
}

func (s *stdinReader) finish(t *Tailer, handle func(Line) error) error {
	err := s.sp.flush(s.off, s.emitter(t, handle))
	t.afterRead()
	return err
}
