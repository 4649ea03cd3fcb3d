package tail

import (
	"context"
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

func (s *stdinReader) process(t *Tailer, chunk []byte, handle func(Line) error) error {
	d := t.delivery(nil, handle)
	err := s.sp.process(chunk, s.off, d.emit)
	t.afterRead()
	s.off += int64(len(chunk))
	d.publish(uint64(len(chunk)))
	s.free <- chunk[:cap(chunk)]
	return err
}

func (s *stdinReader) finish(t *Tailer, handle func(Line) error) error {
	d := t.delivery(nil, handle)
	err := s.sp.flush(s.off, d.emit)
	t.afterRead()
	d.publish(0)
	return err
}
