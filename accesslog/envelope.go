package accesslog

import (
	"bytes"
	"time"
)

// DefaultMaxLineSize bounds a line reassembled from partial pieces by the
// envelope decoders.
const DefaultMaxLineSize = 1 << 20

// joiner reassembles the pieces of one stream's split lines.
type joiner struct {
	buf     []byte
	tooLong bool
	used    bool // buf was handed out by the previous Decode
}

// release makes buf reusable once the Event that pointed into it is gone.
func (j *joiner) release() {
	if j.used {
		j.buf = j.buf[:0]
		j.used = false
	}
}

// add takes one piece; it returns the whole line when final, ErrPartial
// otherwise, or, for the final piece of an over-long line, its first max
// bytes with a partial_too_long DecodeError (as a cut line keeps its first
// max_line_bytes).
func (j *joiner) add(piece []byte, final bool, max int) ([]byte, error) {
	if j.tooLong || len(j.buf)+len(piece) > max {
		if !j.tooLong {
			j.buf = append(j.buf, piece[:max-len(j.buf)]...)
			j.tooLong = true
		}
		if !final {
			return nil, ErrPartial
		}
		j.tooLong = false
		j.used = true // emptied by release at the next line
		return j.buf, decodeErr(ReasonPartialTooLong, "a line split into partial pieces is longer than %d bytes; its first %d bytes are kept", max, max)
	}
	if !final {
		j.buf = append(j.buf, piece...)
		return nil, ErrPartial
	}
	if len(j.buf) == 0 {
		return piece, nil
	}
	j.buf = append(j.buf, piece...)
	j.used = true
	return j.buf, nil
}

// CRIDecoder unwraps the CRI container-log format that kubelet writes to
// /var/log/pods/<ns>_<pod>_<uid>/<container>/<n>.log:
//
//	2024-05-02T10:11:12.345678901Z stdout F <line>
//
// A line the runtime split has the tag P on every piece but the last (F);
// the pieces of each stream are joined, up to a maximum size, and the
// whole line goes to the inner decoder. A P piece returns ErrPartial (not
// a decode error): the caller reads on. The Event's Raw is the inner line;
// its Time is the inner format's own time, or the CRI time when the inner
// line has none or only a zone-less whole-second stamp (KrakenD's gin
// line). A malformed envelope gives reason "envelope"; a joined
// line over the limit gives "partial_too_long".
type CRIDecoder struct {
	inner Decoder
	max   int
	parts [2]joiner // stdout, stderr
}

// NewCRI returns a CRI envelope decoder around inner.
func NewCRI(inner Decoder) *CRIDecoder {
	return &CRIDecoder{inner: inner, max: DefaultMaxLineSize}
}

// SetMaxLineSize sets the largest line (in bytes) that partial pieces are
// joined into; n <= 0 restores DefaultMaxLineSize.
func (d *CRIDecoder) SetMaxLineSize(n int) {
	if n <= 0 {
		n = DefaultMaxLineSize
	}
	d.max = n
}

// Decode implements Decoder.
func (d *CRIDecoder) Decode(line []byte, e *Event) error {
	d.parts[0].release()
	d.parts[1].release()
	line = bytes.TrimSuffix(line, []byte("\r"))
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return d.fail(line, e, "no space after the timestamp")
	}
	t, ok := parseRFC3339(bstr(line[:sp]), time.UTC)
	if !ok {
		return d.fail(line, e, "bad timestamp")
	}
	rest := line[sp+1:]
	var idx int
	switch {
	case bytes.HasPrefix(rest, []byte("stdout ")):
		rest = rest[len("stdout "):]
	case bytes.HasPrefix(rest, []byte("stderr ")):
		rest, idx = rest[len("stderr "):], 1
	default:
		return d.fail(line, e, "stream is not stdout or stderr")
	}
	tag := rest
	var content []byte
	if sp := bytes.IndexByte(rest, ' '); sp >= 0 {
		tag, content = rest[:sp], rest[sp+1:]
	}
	if c := bytes.IndexByte(tag, ':'); c >= 0 {
		tag = tag[:c]
	}
	var final bool
	switch string(tag) {
	case "F":
		final = true
	case "P":
	default:
		return d.fail(line, e, "tag is not F or P")
	}
	full, err := d.parts[idx].add(content, final, d.max)
	if err != nil {
		e.Reset()
		e.Raw = line
		if full != nil {
			e.Raw = full // the joined line's first max bytes
		}
		return err
	}
	if err := d.inner.Decode(full, e); err != nil {
		return err
	}
	if e.Time.IsZero() || zoneless(d.inner) {
		e.Time = t
	}
	return nil
}

// zonelessDecoder is implemented by decoders whose last decoded line had a
// time of day without a zone and with whole seconds only (KrakenD's gin
// line, which gin stamps when the response is written): the envelope's
// own time, written at the same moment by the runtime, is then better.
type zonelessDecoder interface {
	lastTimeZoneless() bool
}

func zoneless(d Decoder) bool {
	z, ok := d.(zonelessDecoder)
	return ok && z.lastTimeZoneless()
}

func (d *CRIDecoder) fail(line []byte, e *Event, why string) error {
	e.Reset()
	e.Raw = line
	return &DecodeError{Reason: ReasonEnvelope, Msg: "cri: " + why + ", expected \"<RFC3339 time> stdout|stderr F|P <line>\""}
}

// DockerDecoder unwraps Docker's json-file log driver lines:
//
//	{"log":"<line>\n","stream":"stdout","time":"2024-05-02T10:11:12.345678901Z"}
//
// Docker splits lines longer than 16 KiB into pieces whose log value does
// not end in "\n"; they are joined (per stream, up to a maximum size)
// and ErrPartial is returned for all but the last. The inner line is
// unescaped into the decoder's buffer; the Event's Raw is the inner line.
type DockerDecoder struct {
	inner   Decoder
	max     int
	parts   [2]joiner
	scratch []byte
	s       jsonScanner
}

// NewDocker returns a Docker json-file envelope decoder around inner.
func NewDocker(inner Decoder) *DockerDecoder {
	return &DockerDecoder{inner: inner, max: DefaultMaxLineSize}
}

// SetMaxLineSize sets the largest line (in bytes) that partial pieces are
// joined into; n <= 0 restores DefaultMaxLineSize.
func (d *DockerDecoder) SetMaxLineSize(n int) {
	if n <= 0 {
		n = DefaultMaxLineSize
	}
	d.max = n
}

// Decode implements Decoder.
func (d *DockerDecoder) Decode(line []byte, e *Event) error {
	d.parts[0].release()
	d.parts[1].release()
	d.scratch = d.scratch[:0]
	s := &d.s
	s.reset(line, &d.scratch)
	fail := func(err error) error {
		e.Reset()
		e.Raw = line
		if de, ok := IsDecodeError(err); ok {
			return &DecodeError{Reason: ReasonEnvelope, Msg: "docker: " + de.Msg}
		}
		return err
	}
	if err := s.beginObject(); err != nil {
		return fail(err)
	}
	var (
		log, ts, stream string
		haveLog         bool
	)
	for first := true; ; first = false {
		key, more, err := s.nextKey(first)
		if err != nil {
			return fail(err)
		}
		if !more {
			break
		}
		switch key {
		case "log":
			log, haveLog, err = s.strVal()
		case "time":
			ts, _, err = s.strVal()
		case "stream":
			stream, _, err = s.strVal()
		default:
			err = s.skip()
		}
		if err != nil {
			return fail(err)
		}
	}
	if err := s.end(); err != nil {
		return fail(err)
	}
	if !haveLog {
		return fail(&DecodeError{Msg: "no \"log\" key"})
	}
	idx := 0
	if stream == "stderr" {
		idx = 1
	}
	content := unsafeBytes(log)
	final := bytes.HasSuffix(content, []byte("\n"))
	if final {
		content = bytes.TrimSuffix(content[:len(content)-1], []byte("\r"))
	}
	full, err := d.parts[idx].add(content, final, d.max)
	if err != nil {
		e.Reset()
		e.Raw = line
		if full != nil {
			e.Raw = full // the joined line's first max bytes
		}
		return err
	}
	if err := d.inner.Decode(full, e); err != nil {
		return err
	}
	if (e.Time.IsZero() || zoneless(d.inner)) && ts != "" {
		if t, ok := parseRFC3339(ts, time.UTC); ok {
			e.Time = t
		}
	}
	return nil
}
