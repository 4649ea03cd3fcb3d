package shipper

import (
	"fmt"
	"hash/crc32"
	"math/bits"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/gatewatch/gatewatch/accesslog"
	"github.com/gatewatch/gatewatch/internal/jsonstr"
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
// It appends to caller buffers and allocates nothing per document. It
// keeps what consecutive documents share (the second of @timestamp, the
// file's path): it is not safe for concurrent use.
type Builder struct {
	static []byte // the constant "gatewatch" fields, JSON-encoded
	stamp  stampCache
	// plain escapes the message of Append and AppendUndecoded, whose
	// callers redacted it: a Redactor with no names.
	plain *accesslog.Redactor
	// logPath is the JSON of log.file.path for path, up to the offset.
	path    string
	logPath []byte
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
	return appendDecimal(dst, v)
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
	return b.appendDoc(dst, ev, endpoint, src, b.plainRedactor())
}

// plainRedactor returns the Redactor with no names that escapes the
// messages of Append and AppendUndecoded.
func (b *Builder) plainRedactor() *accesslog.Redactor {
	if b.plain == nil {
		b.plain = accesslog.NewRedactor(nil)
	}
	return b.plain
}

// appendDoc is Append, redacting ev.Raw with r while it is escaped into
// dst (r.AppendRedactedJSONString).
func (b *Builder) appendDoc(dst []byte, ev *accesslog.Event, endpoint string, src Source, r *accesslog.Redactor) []byte {
	dst = append(dst, `{"@timestamp":"`...)
	dst = b.stamp.append(dst, ev.Time)
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
	dst = appendDecimal(dst, int64(ev.Status))
	if ev.BytesOut >= 0 {
		dst = appendInt(dst, "bytes", ev.BytesOut)
	}
	dst = append(dst, "}}"...)

	// url.*
	dst = append(dst, `,"url":{"path":`...)
	dst = appendString(dst, ev.Path)
	dst = appendField(dst, "query", truncateUTF8(ev.Query, maxQueryBytes))
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
		if isIP(ev.Client) {
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

	dst = b.appendLog(dst, src)
	dst = append(dst, `,"message":`...)
	dst = r.AppendRedactedJSONString(dst, ev.Raw, ev)
	return append(dst, '}')
}

// AppendUndecoded appends the document of a line that could not be
// decoded: the raw (redacted) message with the decoder's reason, stamped
// with at, for the dead-letter index.
func (b *Builder) AppendUndecoded(dst []byte, raw []byte, reason string, at time.Time, src Source) []byte {
	return b.appendUndecoded(dst, raw, reason, at, src, b.plainRedactor())
}

// appendUndecoded is AppendUndecoded, redacting raw with r while it is
// escaped into dst.
func (b *Builder) appendUndecoded(dst []byte, raw []byte, reason string, at time.Time, src Source, r *accesslog.Redactor) []byte {
	dst = append(dst, `{"@timestamp":"`...)
	dst = b.stamp.append(dst, at)
	dst = append(dst, `","event":{"kind":"pipeline_error","dataset":"gatewatch.access"},"error":{"type":"decode","message":`...)
	dst = appendString(dst, reason)
	dst = append(dst, `},"gatewatch":{"endpoint":""`...)
	dst = append(dst, b.static...)
	dst = append(dst, '}')
	dst = b.appendLog(dst, src)
	dst = append(dst, `,"message":`...)
	dst = r.AppendRedactedJSONString(dst, raw, nil)
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

// appendLog appends the log.* fields of src, the file's path escaped once
// for all its lines.
func (b *Builder) appendLog(dst []byte, src Source) []byte {
	if src.Path != b.path || b.logPath == nil {
		b.path = src.Path
		b.logPath = append(b.logPath[:0], `,"log":{"file":{"path":`...)
		b.logPath = appendString(b.logPath, src.Path)
		b.logPath = append(b.logPath, `},"offset":`...)
	}
	dst = append(dst, b.logPath...)
	dst = appendDecimal(dst, src.Offset)
	return append(dst, '}')
}

// appendDecimal appends v in decimal, as strconv.AppendInt(dst, v, 10)
// does, writing the digits of a non-negative v straight into dst, two at
// a time.
func appendDecimal(dst []byte, v int64) []byte {
	if v < 10 {
		if v < 0 {
			return strconv.AppendInt(dst, v, 10)
		}
		return append(dst, byte('0'+v))
	}
	u := uint64(v)
	// Digits: about log10 from the bit length, less one below that power.
	nd := bits.Len64(u) * 1233 >> 12
	if u >= pow10[nd] {
		nd++
	}
	n := len(dst)
	dst = slices.Grow(dst, nd)[:n+nd]
	b := dst[n:]
	k := len(b)
	for u >= 100 {
		q := u / 100
		r := (u - q*100) * 2
		k -= 2
		b[k], b[k+1] = digitPairs[r], digitPairs[r+1]
		u = q
	}
	if u >= 10 {
		b[1], b[0] = digitPairs[u*2+1], digitPairs[u*2]
	} else {
		b[0] = byte('0' + u)
	}
	return dst
}

// pow10 holds the powers of ten that fit in a uint64.
var pow10 = func() (t [20]uint64) {
	t[0] = 1
	for i := 1; i < len(t); i++ {
		t[i] = t[i-1] * 10
	}
	return t
}()

// digitPairs holds "00" to "99".
const digitPairs = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// stampCache formats @timestamp, keeping the text of the last second:
// consecutive lines of a log are mostly within the same second.
type stampCache struct {
	sec  int64
	ok   bool     // text holds the second sec
	text [20]byte // "2006-01-02T15:04:05."
}

// append appends t as appendTimestamp does.
func (c *stampCache) append(dst []byte, t time.Time) []byte {
	sec := t.Unix()
	if !c.ok || sec != c.sec {
		var b [len(timestampLayout) + 8]byte
		f := appendTimestamp(b[:0], time.Unix(sec, 0))
		if len(f) != len(timestampLayout) { // a year outside 0–9999
			c.ok = false
			return appendTimestamp(dst, t)
		}
		c.sec, c.ok = sec, true
		copy(c.text[:], f)
	}
	var b [len(timestampLayout)]byte
	copy(b[:], c.text[:])
	ns := t.Nanosecond()
	for k := len(b) - 2; k >= len(c.text); k-- {
		b[k] = byte('0' + ns%10)
		ns /= 10
	}
	b[len(b)-1] = 'Z'
	return append(dst, b[:]...)
}

// isIP reports whether s is an IP address, as netip.ParseAddr accepts
// it. A dotted-quad IPv4 address, the common case, is recognised here;
// anything else is left to netip.
func isIP(s string) bool {
	if len(s) < 7 || len(s) > 15 {
		return validAddr(s)
	}
	parts, digits, v := 0, 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9' && !(digits > 0 && v == 0) && v*10+int(c-'0') <= 255:
			v = v*10 + int(c-'0')
			digits++
		case c == '.' && digits > 0:
			parts++
			digits, v = 0, 0
		default:
			return validAddr(s)
		}
	}
	return parts == 3 && digits > 0 || validAddr(s)
}

func validAddr(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
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

// DocID returns the _id of line, read at offset in the file with the
// given key (tail.FileID.Key): the key in hex, the offset in decimal and
// the line's CRC-32C in hex, joined by '-'. The same bytes read again at
// the same place always get the same id; two files (or two contents of
// one file) get different keys, so their lines never share an id. The
// checksum keeps lines apart where no checkpoint recorded a file's key: a
// file truncated and rewritten while no checkpoint survived gets its first
// content's key again, and only byte-identical lines at identical offsets
// (taken for already stored) still share an id.
func DocID(key uint64, offset int64, line []byte) string {
	var b [maxIDLen]byte
	return string(appendDocID(b[:0], key, offset, line))
}

// maxIDLen bounds the length of a DocID: 16 hex digits, '-', an int64 in
// decimal, '-' and 8 hex digits.
const maxIDLen = 48

// appendDocID appends the DocID of line at offset of the file with key.
func appendDocID(dst []byte, key uint64, offset int64, line []byte) []byte {
	dst = strconv.AppendUint(dst, key, 16)
	dst = append(dst, '-')
	dst = strconv.AppendInt(dst, offset, 10)
	dst = append(dst, '-')
	return appendLineSum(dst, line)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendLineSum appends the CRC-32C of line in hex.
func appendLineSum(dst []byte, line []byte) []byte {
	return strconv.AppendUint(dst, uint64(crc32.Checksum(line, castagnoli)), 16)
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

// appendEscaped appends s escaped as the contents of a JSON string.
func appendEscaped(dst []byte, s string) []byte { return jsonstr.Append(dst, s) }

func appendBytes(dst []byte, b []byte) []byte {
	return appendString(dst, unsafeString(b))
}

// maxQueryBytes caps url.query: its keyword mapping indexes 1,024 bytes at
// most, and the whole line is in message; a 60 MB query string is not
// copied twice into the document.
const maxQueryBytes = 8 << 10

// truncateUTF8 returns s cut to at most n bytes, at a rune boundary.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// unsafeString views b as a string without copying; b must not change
// while the string is used.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
