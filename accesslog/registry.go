package accesslog

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Formats lists the format names NewDecoder accepts (each may be prefixed
// with an envelope, "cri+" or "docker+").
var Formats = []string{"krakend", "krakend-json", "kong", "envoy", "envoy-text", "json", "auto"}

// ByteCounts reports whether lines of a NewDecoder format (with or without
// an envelope) can carry the request size and the response size. KrakenD's
// access logs have neither (CE's gin line, EE's JSON line); format json
// has those its mapping names; auto and the other formats may have both.
func ByteCounts(format string, m *Mapping) (in, out bool) {
	format, _ = strings.CutPrefix(format, "cri+")
	format, _ = strings.CutPrefix(format, "docker+")
	switch format {
	case "krakend", "krakend-json":
		return false, false
	case "json":
		if m == nil {
			return false, false
		}
		return m.BytesIn != "", m.BytesOut != ""
	}
	return true, true
}

// Option tunes a decoder built by NewDecoder.
type Option func(*options)

type options struct {
	loc     *time.Location
	maxLine int
	extra   map[string]string
}

// WithLocation sets the zone of timestamps that have none (KrakenD's gin
// line, which logs the container's local time). The default is UTC.
func WithLocation(loc *time.Location) Option {
	return func(o *options) { o.loc = loc }
}

// WithMaxLineSize bounds lines joined from partial pieces by the "cri+"
// and "docker+" envelopes (default DefaultMaxLineSize).
func WithMaxLineSize(n int) Option {
	return func(o *options) { o.maxLine = n }
}

// NewDecoder returns the decoder for a format name:
//
//	krakend       KrakenD CE access log (gin's text line)
//	krakend-json  KrakenD Enterprise JSON access log
//	kong          Kong log plugins (kong.log.serialize() JSON)
//	envoy         Envoy JSON access log with the common keys
//	envoy-text    Envoy's default text format
//	json          any JSON object per line, read through m
//	auto          detect per line among the built-in formats (see
//	              NewAuto); m, when given, decodes JSON lines that match
//	              none of them
//
// A prefix "cri+" (Kubernetes /var/log/pods files) or "docker+" (Docker's
// json-file driver) unwraps the container runtime's envelope first, for
// example "cri+krakend". m is required for "json" and ignored otherwise
// except by "auto". WithExtra (kong, envoy, krakend-json, auto) copies
// more fields into Event.Fields; other formats refuse it.
//
// The decoders allocate nothing per line once their buffers have grown.
// Strings in the Event they fill point into the line or into the
// decoder's buffers: they are valid until the next Decode call on the same
// decoder, and only while the caller leaves the line's bytes alone; use
// Event.Clone to keep an Event. A decoder is not safe for concurrent use.
func NewDecoder(format string, m *Mapping, opts ...Option) (Decoder, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.loc == nil {
		o.loc = time.UTC
	}
	if len(o.extra) > 0 {
		if err := ValidateExtra(o.extra); err != nil {
			return nil, fmt.Errorf("access-log format %s: %w", format, err)
		}
	}
	if inner, ok := strings.CutPrefix(format, "cri+"); ok {
		d, err := newDecoder(inner, m, o)
		if err != nil {
			return nil, err
		}
		c := NewCRI(d)
		c.SetMaxLineSize(o.maxLine)
		return c, nil
	}
	if inner, ok := strings.CutPrefix(format, "docker+"); ok {
		d, err := newDecoder(inner, m, o)
		if err != nil {
			return nil, err
		}
		c := NewDocker(d)
		c.SetMaxLineSize(o.maxLine)
		return c, nil
	}
	return newDecoder(format, m, o)
}

func newDecoder(format string, m *Mapping, o options) (Decoder, error) {
	d, err := newDecoderFormat(format, m, o)
	if err != nil || len(o.extra) == 0 {
		return d, err
	}
	var xerr error
	switch d := d.(type) {
	case *KongDecoder:
		xerr = d.SetExtra(o.extra)
	case *EnvoyDecoder:
		xerr = d.SetExtra(o.extra)
	case *KrakenDJSONDecoder:
		xerr = d.SetExtra(o.extra)
	case *AutoDecoder:
		xerr = errors.Join(d.kong.SetExtra(o.extra), d.envoy.SetExtra(o.extra), d.krakendJSON.SetExtra(o.extra))
	default:
		return nil, fmt.Errorf("access-log format %s cannot fill extra fields: they need a JSON format (%s; format json has mapping.extra)", format, strings.Join(ExtraFormats, ", "))
	}
	if xerr != nil {
		return nil, fmt.Errorf("access-log format %s: %w", format, xerr)
	}
	return d, nil
}

func newDecoderFormat(format string, m *Mapping, o options) (Decoder, error) {
	switch format {
	case "krakend":
		return NewKrakenD(o.loc), nil
	case "krakend-json":
		return NewKrakenDJSON(o.loc), nil
	case "kong":
		return NewKong(), nil
	case "envoy":
		return NewEnvoy(o.loc), nil
	case "envoy-text":
		return NewEnvoyText(o.loc), nil
	case "json":
		d, err := NewJSON(m, o.loc)
		if err != nil {
			return nil, fmt.Errorf("access-log format json: %w", err)
		}
		return d, nil
	case "auto":
		var fallback *JSONDecoder
		if m != nil {
			d, err := NewJSON(m, o.loc)
			if err != nil {
				return nil, fmt.Errorf("access-log format auto: %w", err)
			}
			fallback = d
		}
		return NewAuto(o.loc, fallback), nil
	}
	return nil, fmt.Errorf("unknown access-log format %q, expected one of %s (optionally prefixed with cri+ or docker+)", format, strings.Join(Formats, ", "))
}

// AutoDecoder detects the format of each line among the built-in ones and
// decodes it with that format's decoder. The rules, in order:
//
//   - A line starting with "[GIN] " (after blanks) is KrakenD CE's gin line.
//   - A line starting with "[" and a digit is Envoy's default text format.
//   - A line starting with "{" is JSON; its top-level keys are scanned in
//     order until one decides: response_code, response_flags, start_time
//     or upstream_service_time → Envoy; latencies, started_at, tries or
//     upstream_uri → Kong; status_code or latency → KrakenD Enterprise;
//     @timestamp or @version → a KrakenD logstash application log
//     ("not_access_log"). When no key decides, the fallback mapping (if
//     any) decodes the line, else "not_access_log".
//   - KrakenD's "[KRAKEND] ..." application lines, gin's "[GIN-debug]"
//     and "Error #" lines and the start-up banner give ErrOtherLog.
//   - Anything else is "not_access_log" (stack traces, other formats).
//
// Envelopes are not detected; use "cri+auto" or "docker+auto".
type AutoDecoder struct {
	krakend     *KrakenDDecoder
	krakendJSON *KrakenDJSONDecoder
	kong        *KongDecoder
	envoy       *EnvoyDecoder
	envoyText   *EnvoyTextDecoder
	fallback    *JSONDecoder
	scratch     []byte
	s           jsonScanner
	last        Decoder // the decoder of the last line
}

func (d *AutoDecoder) lastTimeZoneless() bool { return zoneless(d.last) }

// NewAuto returns a detecting decoder; loc applies to zone-less times and
// fallback (may be nil) decodes JSON lines of no built-in format.
func NewAuto(loc *time.Location, fallback *JSONDecoder) *AutoDecoder {
	return &AutoDecoder{
		krakend:     NewKrakenD(loc),
		krakendJSON: NewKrakenDJSON(loc),
		kong:        NewKong(),
		envoy:       NewEnvoy(loc),
		envoyText:   NewEnvoyText(loc),
		fallback:    fallback,
	}
}

// Detect returns the name of the format the line is in by the rules of
// AutoDecoder, or "" when it is none of them.
func (d *AutoDecoder) Detect(line []byte) string {
	dec := d.detect(line)
	if dec == nil {
		return ""
	}
	switch dec {
	case d.krakend:
		return "krakend"
	case d.krakendJSON:
		return "krakend-json"
	case d.kong:
		return "kong"
	case d.envoy:
		return "envoy"
	case d.envoyText:
		return "envoy-text"
	}
	return "json"
}

func (d *AutoDecoder) detect(line []byte) Decoder {
	b := bytes.TrimLeft(line, " \t")
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '[':
		if bytes.HasPrefix(b, []byte(ginPrefix)) {
			return d.krakend
		}
		if len(b) > 1 && b[1] >= '0' && b[1] <= '9' {
			return d.envoyText
		}
		return nil
	case '{':
	default:
		return nil
	}
	d.scratch = d.scratch[:0]
	s := &d.s
	s.reset(b, &d.scratch)
	if s.beginObject() != nil {
		return nil
	}
	for first := true; ; first = false {
		key, more, err := s.nextKey(first)
		if err != nil || !more {
			break
		}
		switch key {
		case "response_code", "response_flags", "start_time", "upstream_service_time":
			return d.envoy
		case "latencies", "started_at", "tries", "upstream_uri":
			return d.kong
		case "status_code", "latency":
			return d.krakendJSON
		case "@timestamp", "@version":
			return nil
		}
		if s.skip() != nil {
			break
		}
	}
	if d.fallback != nil {
		return d.fallback
	}
	return nil
}

// Decode implements Decoder.
func (d *AutoDecoder) Decode(line []byte, e *Event) error {
	dec := d.detect(line)
	d.last = dec
	if dec != nil {
		return dec.Decode(line, e)
	}
	e.Reset()
	e.Raw = line
	if isOtherLog(bytes.TrimLeft(stripANSI(d.scratch[:0], line), " \t")) {
		return ErrOtherLog
	}
	return decodeErr(ReasonNotAccessLog, "auto: the line is in none of the known access-log formats")
}
