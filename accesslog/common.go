package accesslog

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Reasons of a DecodeError. They are bounded so that they can be used as a
// metric label.
const (
	// ReasonJSON: the line is not a well-formed JSON object.
	ReasonJSON = "json"
	// ReasonNotAccessLog: the line is well-formed but not an access-log
	// line (a KrakenD application log line, a gin error line, a Kong
	// or Envoy line in a file configured for another format, ...).
	ReasonNotAccessLog = "not_access_log"
	// ReasonMissingField: a field the format requires is absent or null.
	ReasonMissingField = "missing_field"
	// ReasonBadStatus: the status code is not a number in 0..999.
	ReasonBadStatus = "bad_status"
	// ReasonBadDuration: a latency or duration cannot be read.
	ReasonBadDuration = "bad_duration"
	// ReasonBadTime: the timestamp cannot be read.
	ReasonBadTime = "bad_time"
	// ReasonBadField: another field has the wrong shape (a bad quoted
	// path, a byte count that is not a number, ...).
	ReasonBadField = "bad_field"
	// ReasonEnvelope: the CRI or Docker envelope around the line is
	// malformed.
	ReasonEnvelope = "envelope"
	// ReasonPartialTooLong: a line split into partial pieces by the
	// container runtime grew beyond the maximum line size.
	ReasonPartialTooLong = "partial_too_long"
	// ReasonTooLong: a single line is longer than the maximum line size.
	ReasonTooLong = "too_long"
)

// ErrPartial is returned by the container-log envelope decoders for a
// piece of a line that the runtime split: the caller should go on reading;
// the event comes with the last piece. It is not a *DecodeError.
var ErrPartial = errors.New("accesslog: partial line, continued on the next line")

// ErrOtherLog is returned for a line a format recognises as part of
// another log written to the same stream — KrakenD's own application log
// ("[KRAKEND] ... ▶ INFO ..."), gin's "[GIN-debug]" and "Error #01:"
// lines, KrakenD's "Parsing configuration file" banner — rather than a
// broken access-log line. It is not a *DecodeError: callers count such
// lines as skipped (SkippedOtherLog), not as errors.
var ErrOtherLog = errors.New("accesslog: a line of another log in the same stream, not an access-log line")

// SkippedOtherLog is the reason of a line skipped for ErrOtherLog.
const SkippedOtherLog = "other_log"

// otherLogPrefixes start the lines of KrakenD's and gin's own logs.
var otherLogPrefixes = [][]byte{[]byte("[KRAKEND]"), []byte("[GIN-debug]"), []byte("Error #"), []byte("Parsing configuration file")}

// isOtherLog reports whether b (without colours and leading blanks) is a
// line of KrakenD's or gin's own logs.
func isOtherLog(b []byte) bool {
	for _, p := range otherLogPrefixes {
		if bytes.HasPrefix(b, p) {
			return true
		}
	}
	return false
}

// IsDecodeError reports whether err is a *DecodeError and returns it.
func IsDecodeError(err error) (*DecodeError, bool) {
	if err == nil {
		return nil, false
	}
	if de, ok := err.(*DecodeError); ok {
		return de, true
	}
	var de *DecodeError
	ok := errors.As(err, &de)
	return de, ok
}

func decodeErr(reason, format string, args ...any) *DecodeError {
	return &DecodeError{Reason: reason, Msg: fmt.Sprintf(format, args...)}
}

func missing(format, field string) *DecodeError {
	return &DecodeError{Reason: ReasonMissingField, Msg: format + ": field " + field + " is missing"}
}

// setURI splits a request target at the first '?' into e.Path and e.Query.
func (e *Event) setURI(uri string) {
	if i := strings.IndexByte(uri, '?'); i >= 0 {
		e.Path, e.Query = uri[:i], uri[i+1:]
		return
	}
	e.Path, e.Query = uri, ""
}

// upperMethod returns m in upper case; it copies into scratch only when m
// has a lower-case letter. "-" (a missing value) becomes "".
func upperMethod(m string, scratch *[]byte) string {
	if m == "-" {
		return ""
	}
	lower := false
	for i := 0; i < len(m); i++ {
		if c := m[i]; c >= 'a' && c <= 'z' {
			lower = true
			break
		}
	}
	if !lower {
		return m
	}
	out := *scratch
	base := len(out)
	for i := 0; i < len(m); i++ {
		c := m[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		out = append(out, c)
	}
	*scratch = out
	return bstr(out[base:])
}

// hostOnly strips a port and IPv6 brackets from an address:
// "203.0.113.9:5123" → "203.0.113.9", "[2001:db8::1]:443" → "2001:db8::1",
// "2001:db8::1" stays. "-" becomes "".
func hostOnly(a string) string {
	a = trimSpace(a)
	if a == "-" {
		return ""
	}
	if len(a) > 0 && a[0] == '[' {
		if i := strings.IndexByte(a, ']'); i > 0 {
			return a[1:i]
		}
		return a
	}
	i := strings.IndexByte(a, ':')
	if i < 0 {
		return a
	}
	if strings.IndexByte(a[i+1:], ':') >= 0 {
		return a // bare IPv6
	}
	return a[:i]
}

// firstXFF returns the first (client-most) entry of an X-Forwarded-For
// value, without a port.
func firstXFF(v string) string {
	if i := strings.IndexByte(v, ','); i >= 0 {
		v = v[:i]
	}
	return hostOnly(v)
}

// dash turns Envoy's "-" placeholder into "".
func dash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

func validStatus(n int64) bool { return n >= 0 && n <= 999 }

// parseRFC3339 parses an RFC 3339 timestamp ("2024-05-02T10:11:12.345Z",
// "2024-05-02T12:11:12.345678901+02:00"; a space instead of 'T' and a
// missing zone, read in loc, are accepted) without allocating. The result
// is in UTC when the text has a zone.
func parseRFC3339(s string, loc *time.Location) (time.Time, bool) {
	return parseRFC3339Cached(s, loc, nil)
}

// timeCache remembers the date and time to the second of the last
// timestamp parseRFC3339Cached read: the lines of a busy log share their
// second, and only the fraction and zone differ.
type timeCache struct {
	ok     bool
	prefix [19]byte // "2024-05-02T10:11:12"
	fields [6]int   // year, month, day, hour, minute, second
	unix   int64    // the prefix read as UTC, in Unix seconds
	// The whole last timestamp and its time, read in lastLoc: lines of a
	// busy log often share their millisecond too.
	last    [32]byte
	lastLen int
	lastLoc *time.Location
	lastT   time.Time
}

// samePrefix reports whether s (at least 19 bytes) starts with c.prefix:
// three word comparisons instead of a call to memequal.
func (c *timeCache) samePrefix(s string) bool {
	b := unsafeBytes(s)
	return load64(b, 0) == load64(c.prefix[:], 0) && load64(b, 8) == load64(c.prefix[:], 8) &&
		load64(b, 11) == load64(c.prefix[:], 11)
}

// parseRFC3339Cached is parseRFC3339 that reuses (and updates) c when the
// timestamp's first 19 bytes are those of the previous one; c may be nil.
func parseRFC3339Cached(s string, loc *time.Location, c *timeCache) (time.Time, bool) {
	if c == nil {
		return parseRFC3339Prefix(s, loc, nil)
	}
	n := len(s)
	if n == c.lastLen && loc == c.lastLoc && c.sameLast(s) {
		return c.lastT, true
	}
	t, ok := parseRFC3339Prefix(s, loc, c)
	c.lastLen = 0
	if ok && n >= 16 && n <= len(c.last) {
		// Four overlapping words cover the 16 to 32 bytes (no memmove).
		b := unsafeBytes(s)
		store64(c.last[:], 0, load64(b, 0))
		store64(c.last[:], 8, load64(b, 8))
		store64(c.last[:], n-16, load64(b, n-16))
		store64(c.last[:], n-8, load64(b, n-8))
		c.lastLen, c.lastLoc, c.lastT = n, loc, t
	}
	return t, ok
}

// sameLast reports whether s, as long as the last timestamp (16 to 32
// bytes), is the same text: four overlapping word comparisons.
func (c *timeCache) sameLast(s string) bool {
	n := c.lastLen
	if n == 0 {
		return false
	}
	b := unsafeBytes(s)
	return load64(b, 0) == load64(c.last[:], 0) && load64(b, 8) == load64(c.last[:], 8) &&
		load64(b, n-16) == load64(c.last[:], n-16) && load64(b, n-8) == load64(c.last[:], n-8)
}

// parseRFC3339Prefix is parseRFC3339Cached with c's date and second only.
func parseRFC3339Prefix(s string, loc *time.Location, c *timeCache) (time.Time, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	var f [6]int
	var unix int64
	if c != nil && c.ok && c.samePrefix(s) {
		f, unix = c.fields, c.unix
	} else {
		var ok [6]bool
		f[0], ok[0] = atoiN(s[0:4])
		f[1], ok[1] = atoiN(s[5:7])
		f[2], ok[2] = atoiN(s[8:10])
		f[3], ok[3] = atoiN(s[11:13])
		f[4], ok[4] = atoiN(s[14:16])
		f[5], ok[5] = atoiN(s[17:19])
		if !(ok[0] && ok[1] && ok[2] && ok[3] && ok[4] && ok[5]) || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 60 {
			return time.Time{}, false
		}
		unix = time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], 0, time.UTC).Unix()
		if c != nil {
			c.ok = true
			copy(c.prefix[:], s[:19])
			c.fields, c.unix = f, unix
		}
	}
	rest := s[19:]
	nsec := 0
	if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
		i := 1
		scale := 100000000
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			if scale > 0 {
				nsec += int(rest[i]-'0') * scale
				scale /= 10
			}
			i++
		}
		if i == 1 {
			return time.Time{}, false
		}
		rest = rest[i:]
	}
	switch {
	case rest == "":
		if loc == nil {
			loc = time.UTC
		}
		return time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], nsec, loc), true
	case rest == "Z" || rest == "z":
		return time.Unix(unix, int64(nsec)).UTC(), true
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':',
		len(rest) == 5 && (rest[0] == '+' || rest[0] == '-'):
		hh, ok1 := atoiN(rest[1:3])
		mm, ok2 := atoiN(rest[len(rest)-2:])
		if !ok1 || !ok2 || hh > 23 || mm > 59 {
			return time.Time{}, false
		}
		off := int64(hh*60+mm) * 60
		if rest[0] == '-' {
			off = -off
		}
		return time.Unix(unix-off, int64(nsec)).UTC(), true
	}
	return time.Time{}, false
}

// atoiN parses a short run of decimal digits.
func atoiN(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// parseGinTime parses gin's "2006/01/02 - 15:04:05" in loc.
func parseGinTime(s string, loc *time.Location) (time.Time, bool) {
	if len(s) != 21 || s[4] != '/' || s[7] != '/' || s[10:13] != " - " || s[15] != ':' || s[18] != ':' {
		return time.Time{}, false
	}
	year, ok1 := atoiN(s[0:4])
	month, ok2 := atoiN(s[5:7])
	day, ok3 := atoiN(s[8:10])
	hour, ok4 := atoiN(s[13:15])
	minute, ok5 := atoiN(s[16:18])
	sec, ok6 := atoiN(s[19:21])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, loc), true
}

// parseGoDuration parses a Go duration string ("3.127514ms", "671ns",
// "4.529µs", "1m2s", "0.003s"). time.ParseDuration does not allocate when
// it succeeds.
func parseGoDuration(s string) (time.Duration, bool) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, false
	}
	return d, true
}
