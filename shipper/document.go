package shipper

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/gatewatch/gatewatch/accesslog"
)

// Identity is what every document of one shipper says about where it
// comes from.
type Identity struct {
	// Gateway is the gateway's name, Kind its product (krakend, kong,
	// envoy), Track the deployment track, Hash the contract's hash and
	// Version the deployed version.
	Gateway, Kind, Track, Hash, Version string
}

// Builder turns Events into Elasticsearch documents with ECS field names.
// It appends to caller buffers and allocates nothing per document.
type Builder struct {
	static []byte // the constant "gatewatch" fields, JSON-encoded
}

// NewBuilder returns a Builder for documents of id.
func NewBuilder(id Identity) *Builder {
	var s []byte
	s = appendField(s, "gateway", id.Gateway)
	s = appendField(s, "kind", id.Kind)
	s = appendField(s, "track", id.Track)
	s = appendField(s, "contract_hash", id.Hash)
	s = appendField(s, "version", id.Version)
	return &Builder{static: s}
}

func appendField(dst []byte, k, v string) []byte {
	if v == "" {
		return dst
	}
	dst = append(dst, ',', '"')
	dst = append(dst, k...)
	dst = append(dst, '"', ':')
	return appendString(dst, v)
}

func appendInt(dst []byte, k string, v int64) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, k...)
	dst = append(dst, '"', ':')
	return strconv.AppendInt(dst, v, 10)
}

// Source is where a line was read: the file's path and the line's byte
// offset in it.
type Source struct {
	Path   string
	Offset int64
}

// Append appends the JSON document of ev, matched to endpoint (the
// contract endpoint's name, or contract.Unmatched), to dst. ev.Raw must
// already be redacted. ev.Time must not be zero.
func (b *Builder) Append(dst []byte, ev *accesslog.Event, endpoint string, src Source) []byte {
	return b.appendDoc(dst, ev, endpoint, src, nil)
}

// appendDoc is Append, redacting ev.Raw with r (when not nil) while it is
// escaped into dst.
func (b *Builder) appendDoc(dst []byte, ev *accesslog.Event, endpoint string, src Source, r *accesslog.Redactor) []byte {
	dst = append(dst, `{"@timestamp":"`...)
	dst = appendTimestamp(dst, ev.Time)
	dst = append(dst, '"')

	// http.*
	dst = append(dst, `,"http":{"request":{"method":`...)
	dst = appendString(dst, ev.Method)
	if ev.RequestID != "" {
		dst = appendField(dst, "id", ev.RequestID)
	}
	if ev.BytesIn >= 0 {
		dst = appendInt(dst, "bytes", ev.BytesIn)
	}
	dst = append(dst, `},"response":{"status_code":`...)
	dst = strconv.AppendInt(dst, int64(ev.Status), 10)
	if ev.BytesOut >= 0 {
		dst = appendInt(dst, "bytes", ev.BytesOut)
	}
	dst = append(dst, "}}"...)

	// url.*
	dst = append(dst, `,"url":{"path":`...)
	dst = appendString(dst, ev.Path)
	dst = appendField(dst, "query", ev.Query)
	dst = appendField(dst, "domain", ev.Host)
	dst = append(dst, '}')

	// event.*
	dst = append(dst, `,"event":{"kind":"event","category":["web"],"dataset":"gatewatch.access"`...)
	if ev.Duration >= 0 {
		dst = appendInt(dst, "duration", int64(ev.Duration))
	}
	dst = append(dst, '}')

	// client, source, destination, user_agent
	if ev.Client != "" {
		if _, err := netip.ParseAddr(ev.Client); err == nil {
			dst = append(dst, `,"client":{"ip":`...)
			dst = appendString(dst, ev.Client)
			dst = append(dst, `},"source":{"ip":`...)
			dst = appendString(dst, ev.Client)
			dst = append(dst, '}')
		} else {
			dst = append(dst, `,"client":{"address":`...)
			dst = appendString(dst, ev.Client)
			dst = append(dst, '}')
		}
	}
	if ev.UpstreamHost != "" {
		dst = append(dst, `,"destination":{"address":`...)
		dst = appendString(dst, ev.UpstreamHost)
		dst = append(dst, '}')
	}
	if ev.UserAgent != "" {
		dst = append(dst, `,"user_agent":{"original":`...)
		dst = appendString(dst, ev.UserAgent)
		dst = append(dst, '}')
	}
	if len(ev.Fields) > 0 {
		dst = append(dst, `,"labels":{`...)
		first := true
		for k, v := range ev.Fields {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendString(dst, strings.ReplaceAll(k, ".", "_"))
			dst = append(dst, ':')
			dst = appendString(dst, v)
		}
		dst = append(dst, '}')
	}

	// gatewatch.*: the contract's view of the request.
	dst = append(dst, `,"gatewatch":{"endpoint":`...)
	dst = appendString(dst, endpoint)
	dst = append(dst, b.static...)
	dst = appendField(dst, "route", ev.Route)
	dst = appendField(dst, "service", ev.Service)
	dst = appendField(dst, "consumer", ev.Consumer)
	dst = appendField(dst, "response_flags", ev.Flags)
	if ev.Upstream >= 0 {
		dst = appendInt(dst, "upstream_duration", int64(ev.Upstream))
	}
	if ev.Overhead >= 0 {
		dst = appendInt(dst, "overhead_duration", int64(ev.Overhead))
	}
	dst = append(dst, '}')

	dst = appendLog(dst, src)
	dst = append(dst, `,"message":`...)
	dst = appendMessage(dst, ev.Raw, r)
	return append(dst, '}')
}

// AppendUndecoded appends the document of a line that could not be
// decoded: the raw (redacted) message with the decoder's reason, stamped
// with at, for the dead-letter index.
func (b *Builder) AppendUndecoded(dst []byte, raw []byte, reason string, at time.Time, src Source) []byte {
	return b.appendUndecoded(dst, raw, reason, at, src, nil)
}

// appendUndecoded is AppendUndecoded, redacting raw with r (when not nil)
// while it is escaped into dst.
func (b *Builder) appendUndecoded(dst []byte, raw []byte, reason string, at time.Time, src Source, r *accesslog.Redactor) []byte {
	dst = append(dst, `{"@timestamp":"`...)
	dst = appendTimestamp(dst, at)
	dst = append(dst, `","event":{"kind":"pipeline_error","dataset":"gatewatch.access"},"error":{"type":"decode","message":`...)
	dst = appendString(dst, reason)
	dst = append(dst, `},"gatewatch":{"endpoint":""`...)
	dst = append(dst, b.static...)
	dst = append(dst, '}')
	dst = appendLog(dst, src)
	dst = append(dst, `,"message":`...)
	dst = appendMessage(dst, raw, r)
	return append(dst, '}')
}

// timestampLayout is the layout of @timestamp: UTC with nanoseconds.
const timestampLayout = "2006-01-02T15:04:05.000000000Z"

// appendTimestamp appends t in UTC as timestampLayout does, without
// interpreting the layout for every document; years outside 0–9999 take
// time's own formatting.
func appendTimestamp(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, timestampLayout)
	}
	hour, minute, sec := t.Clock()
	ns := t.Nanosecond()
	var b [len(timestampLayout)]byte
	put := func(at, v, digits int) {
		for k := at + digits - 1; k >= at; k-- {
			b[k] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, year, 4)
	b[4] = '-'
	put(5, int(month), 2)
	b[7] = '-'
	put(8, day, 2)
	b[10] = 'T'
	put(11, hour, 2)
	b[13] = ':'
	put(14, minute, 2)
	b[16] = ':'
	put(17, sec, 2)
	b[19] = '.'
	put(20, ns, 9)
	b[29] = 'Z'
	return append(dst, b[:]...)
}

func appendLog(dst []byte, src Source) []byte {
	dst = append(dst, `,"log":{"file":{"path":`...)
	dst = appendString(dst, src.Path)
	dst = append(dst, `},"offset":`...)
	dst = strconv.AppendInt(dst, src.Offset, 10)
	return append(dst, '}')
}

// appendDeadLetter appends the create action and the document that carry
// a refused item into the dead-letter index: the raw line and
// Elasticsearch's error, under the same _id.
func appendDeadLetter(dst []byte, index string, raw []byte, it *item, at time.Time) []byte {
	dst = appendAction(dst, index, it.id())
	dst = append(dst, `{"@timestamp":"`...)
	dst = appendTimestamp(dst, at)
	dst = append(dst, `","event":{"kind":"pipeline_error","dataset":"gatewatch.access"},"error":{"type":`...)
	dst = appendString(dst, it.errType)
	dst = append(dst, `,"message":`...)
	dst = appendString(dst, it.why)
	dst = append(dst, `,"code":`...)
	dst = appendString(dst, strconv.Itoa(it.status))
	dst = append(dst, `},"gatewatch":{"target_index":`...)
	dst = appendString(dst, it.index)
	dst = append(dst, `},"message":`...)
	dst = appendBytes(dst, raw)
	return append(dst, "}\n"...)
}

// DocID returns the _id of the line at offset in the file with the given
// fingerprint: the same line always gets the same id, wherever and
// however often it is shipped.
func DocID(fingerprint uint64, offset int64) string {
	var b [maxIDLen]byte
	return string(appendDocID(b[:0], fingerprint, offset))
}

// maxIDLen bounds the length of a DocID: 16 hex digits, '-', and an
// int64 in decimal.
const maxIDLen = 40

// appendDocID appends the DocID of fingerprint and offset to dst.
func appendDocID(dst []byte, fingerprint uint64, offset int64) []byte {
	dst = strconv.AppendUint(dst, fingerprint, 16)
	dst = append(dst, '-')
	return strconv.AppendInt(dst, offset, 10)
}

// IndexNamer chooses the index of a document from its @timestamp: a
// prefix and the date formatted by a pattern (yyyy, MM, dd, HH in UTC).
type IndexNamer struct {
	prefix string
	layout string
	// last caches the name for one hour of time: every pattern is
	// constant within an hour.
	lastHour int64
	lastName string
}

// NewIndexNamer returns a namer for prefix and pattern, such as
// "logs-gateway" and "yyyy.MM.dd" (which give logs-gateway-2026.11.22).
func NewIndexNamer(prefix, pattern string) (*IndexNamer, error) {
	layout, err := DateLayout(pattern)
	if err != nil {
		return nil, err
	}
	return &IndexNamer{prefix: prefix + "-", layout: layout, lastHour: -1 << 62}, nil
}

// Name returns the index for a document stamped t.
func (n *IndexNamer) Name(t time.Time) string {
	h := t.Unix()
	if h < 0 {
		h -= 3599
	}
	h /= 3600
	if h == n.lastHour {
		return n.lastName
	}
	n.lastHour = h
	n.lastName = n.prefix + t.UTC().Format(n.layout)
	return n.lastName
}

// DateLayout converts a date pattern in the notation of Logstash and
// Beats index names (yyyy, MM, dd, HH and the separators . - _) into a Go
// time layout.
func DateLayout(pattern string) (string, error) {
	if pattern == "" {
		return "", fmt.Errorf("date pattern is empty; expected e.g. yyyy.MM.dd")
	}
	var b strings.Builder
	for p := pattern; p != ""; {
		switch {
		case strings.HasPrefix(p, "yyyy"):
			b.WriteString("2006")
			p = p[4:]
		case strings.HasPrefix(p, "MM"):
			b.WriteString("01")
			p = p[2:]
		case strings.HasPrefix(p, "dd"):
			b.WriteString("02")
			p = p[2:]
		case strings.HasPrefix(p, "HH"):
			b.WriteString("15")
			p = p[2:]
		case p[0] == '.' || p[0] == '-' || p[0] == '_':
			b.WriteByte(p[0])
			p = p[1:]
		default:
			return "", fmt.Errorf("date pattern %q: unexpected %q; expected yyyy, MM, dd, HH and the separators . - _", pattern, p)
		}
	}
	return b.String(), nil
}

// appendString appends s as a JSON string, escaping what JSON requires
// and replacing invalid UTF-8 with U+FFFD.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendEscaped(dst, s)
	return append(dst, '"')
}

// appendEscaped appends s escaped as the contents of a JSON string. It
// grows dst once for the common case and then writes into it directly:
// runs of plain ASCII, most of a log line, eight bytes at a time, and the
// bytes around escapes one at a time without a copy call per run (a JSON
// log line has a quote every few bytes).
func appendEscaped(dst []byte, s string) []byte {
	src := unsafe.Slice(unsafe.StringData(s), len(s))
	n := len(dst)
	buf := slices.Grow(dst, len(s)+len(s)/8+16)
	buf = buf[:cap(buf)]
	for i := 0; i < len(src); {
		if len(buf)-n < 16 { // room for 8 plain bytes or one escape
			buf = slices.Grow(buf[:n], len(src)-i+(len(src)-i)/4+16)
			buf = buf[:cap(buf)]
		}
		if i+8 <= len(src) {
			// Store all eight bytes and keep those before the first that
			// needs escaping (the mask's lowest flag is exact).
			x := binary.LittleEndian.Uint64(src[i : i+8 : i+8])
			binary.LittleEndian.PutUint64(buf[n:n+8:n+8], x)
			m := notPlain8(x)
			if m == 0 {
				n += 8
				i += 8
				continue
			}
			k := bits.TrailingZeros64(m) >> 3
			n += k
			i += k
			if c := src[i]; c == '"' || c == '\\' { // the common escape in a JSON line
				buf[n], buf[n+1] = '\\', c
				n += 2
				i++
				continue
			}
		}
		c := src[i]
		if jsonPlain[c] {
			buf[n] = c
			n++
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				buf[n], buf[n+1] = '\\', c
				n += 2
			case '\n':
				buf[n], buf[n+1] = '\\', 'n'
				n += 2
			case '\r':
				buf[n], buf[n+1] = '\\', 'r'
				n += 2
			case '\t':
				buf[n], buf[n+1] = '\\', 't'
				n += 2
			default:
				n += copy(buf[n:], []byte{'\\', 'u', '0', '0', hex[c>>4], hex[c&0xf]})
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(src[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			n += copy(buf[n:], `\ufffd`)
		case r == '\u2028' || r == '\u2029':
			n += copy(buf[n:], []byte{'\\', 'u', '2', '0', '2', hex[r&0xf]})
		default:
			n += copy(buf[n:], src[i:i+size])
		}
		i += size
	}
	return buf[:n]
}

// appendEscapedBytes is appendEscaped for a byte slice, in the shape
// accesslog.Redactor.AppendLine takes.
func appendEscapedBytes(dst, b []byte) []byte { return appendEscaped(dst, unsafeString(b)) }

// jsonPlain marks the bytes copied into a JSON string as they are.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// notPlain8 flags (with the high bit of the byte) the bytes of x, read
// little-endian, that need escaping in a JSON string: control bytes, '"',
// '\\' and bytes outside ASCII. The lowest flag is exact; flags above it
// may be false (a borrow), so callers use only the lowest.
func notPlain8(x uint64) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	ctl := (x - lo*0x20) & ^x & hi
	q := x ^ (lo * '"')
	bs := x ^ (lo * '\\')
	return ctl | ((q - lo) &^ q & hi) | ((bs - lo) &^ bs & hi) | (x & hi)
}

func appendBytes(dst []byte, b []byte) []byte {
	return appendString(dst, unsafeString(b))
}

// appendMessage appends the raw line as the JSON string of "message",
// redacted by r (nil: raw is already redacted) and escaped in one pass.
func appendMessage(dst, raw []byte, r *accesslog.Redactor) []byte {
	dst = append(dst, '"')
	if r == nil {
		dst = appendEscapedBytes(dst, raw)
	} else {
		dst = r.AppendLine(dst, raw, appendEscapedBytes)
	}
	return append(dst, '"')
}

const hex = "0123456789abcdef"

// unsafeString views b as a string without copying; b must not change
// while the string is used.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
