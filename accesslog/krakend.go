package accesslog

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// KrakenDDecoder reads the access log of KrakenD Community Edition: gin's
// default logger line, which KrakenD writes to stdout and which cannot be
// configured:
//
//	[GIN] 2024/05/02 - 10:11:12 | 200 |    3.127514ms |     203.0.113.9 | GET      "/v1/users/42?expand=true"
//
// Colours (when the logger wrote to a TTY) are removed first. The path is
// a Go-quoted string and is unquoted with strconv.Unquote semantics. The
// timestamp has no zone; it is read in the decoder's location. Text after
// the quoted path (an error message) is ignored. Lines that are not gin
// access-log lines give ErrOtherLog when they belong to KrakenD's or gin's
// own logs (KrakenD's "[KRAKEND] ..." application log, gin's "[GIN-debug]"
// lines, "Error #01: ..." lines that gin prints after the access line, the
// "Parsing configuration file" banner), else a *DecodeError with reason
// "not_access_log".
//
// Strings in the Event alias the line, or the decoder's scratch buffer when
// the line had colours or escapes; they are valid until the next Decode.
type KrakenDDecoder struct {
	loc     *time.Location
	scratch []byte
}

func (d *KrakenDDecoder) lastTimeZoneless() bool { return true }

// NewKrakenD returns a decoder for KrakenD CE's gin access-log line whose
// timestamps are read in loc (nil means UTC).
func NewKrakenD(loc *time.Location) *KrakenDDecoder {
	if loc == nil {
		loc = time.UTC
	}
	return &KrakenDDecoder{loc: loc}
}

const ginPrefix = "[GIN] "

// Decode implements Decoder.
func (d *KrakenDDecoder) Decode(line []byte, e *Event) error {
	e.Reset()
	e.Raw = line
	d.scratch = d.scratch[:0]
	b := bytes.TrimRight(line, "\r\n")
	if bytes.IndexByte(b, 0x1b) >= 0 {
		d.scratch = stripANSI(d.scratch, b)
		b = d.scratch
	}
	n := len(b)
	b = bytes.TrimLeft(b, " \t")
	lead := n - len(b)
	if !bytes.HasPrefix(b, []byte(ginPrefix)) {
		if isOtherLog(b) {
			return ErrOtherLog
		}
		return decodeErr(ReasonNotAccessLog, "krakend: not a gin access-log line (no %q prefix)", ginPrefix)
	}
	s := bstr(b[len(ginPrefix):])
	if len(s) < 21 {
		return decodeErr(ReasonBadTime, "krakend: line too short for a timestamp")
	}
	t, ok := parseGinTime(s[:21], d.loc)
	if !ok {
		return decodeErr(ReasonBadTime, "krakend: bad timestamp %s, expected 2006/01/02 - 15:04:05", shape(s[:21]))
	}
	e.Time = t
	s = s[21:]
	var field [3]string
	for i := range field {
		j := strings.IndexByte(s, '|')
		if j < 0 {
			return decodeErr(ReasonNotAccessLog, "krakend: expected 5 '|'-separated columns")
		}
		if i > 0 {
			field[i-1] = trimSpace(s[:j])
		} else if trimSpace(s[:j]) != "" {
			return decodeErr(ReasonNotAccessLog, "krakend: unexpected text after the timestamp")
		}
		s = s[j+1:]
	}
	j := strings.IndexByte(s, '|')
	if j < 0 {
		return decodeErr(ReasonNotAccessLog, "krakend: expected 5 '|'-separated columns")
	}
	field[2] = trimSpace(s[:j])
	s = s[j+1:]

	status, ok := parseInt(field[0])
	if !ok || !validStatus(status) {
		return decodeErr(ReasonBadStatus, "krakend: bad status %s", shape(field[0]))
	}
	e.Status = int(status)
	lat, ok := parseGoDuration(field[1])
	if !ok || lat < 0 {
		return decodeErr(ReasonBadDuration, "krakend: bad latency %s", shape(field[1]))
	}
	e.Duration = lat
	e.Client = hostOnly(field[2])

	s = trimLeft(s)
	k := strings.IndexByte(s, ' ')
	if k <= 0 {
		return decodeErr(ReasonMissingField, "krakend: field method is missing")
	}
	e.Method = upperMethod(s[:k], &d.scratch)
	s = trimLeft(s[k:])
	p, ok := unquoteGo(s, &d.scratch)
	if !ok {
		// The path is not echoed: its query may carry credentials.
		return decodeErr(ReasonBadField, "krakend: column %d: expected the path as a Go-quoted string", lead+len(b)-len(s)+1)
	}
	e.setURI(p)
	return nil
}

func trimLeft(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}

// shape describes a value in a decode error without quoting it: decode
// errors reach the sidecar's log and the dead letters' error.message, and a
// value in the wrong place may be a credential. The raw line (redacted) is
// in the dead letter's message for whoever needs the value itself.
func shape(s string) string {
	if s == "" {
		return "(an empty value)"
	}
	kind := "numeric"
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			kind = "text"
			break
		}
	}
	return fmt.Sprintf("(a %d-byte %s value)", len(s), kind)
}

// stripANSI appends b to dst without ANSI escape sequences (CSI
// "ESC [ ... final" and two-byte "ESC x").
func stripANSI(dst, b []byte) []byte {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != 0x1b {
			dst = append(dst, c)
			continue
		}
		if i+1 < len(b) && b[i+1] == '[' {
			j := i + 2
			for j < len(b) && (b[j] < 0x40 || b[j] > 0x7e) {
				j++
			}
			i = j // the final byte is skipped by the loop
			continue
		}
		i++ // ESC and the next byte
	}
	return dst
}

// unquoteGo reads a Go-quoted string at the start of s (as written by
// fmt's %#v / strconv.Quote, or a back-quoted raw string) and ignores
// whatever follows it. Without escapes (or, in a raw string, carriage
// returns) the result aliases s; otherwise it is unescaped into scratch
// with strconv.Unquote's rules.
func unquoteGo(s string, scratch *[]byte) (string, bool) {
	if len(s) == 0 {
		return "", false
	}
	if s[0] == '`' {
		j := strings.IndexByte(s[1:], '`')
		if j < 0 {
			return "", false
		}
		raw := s[1 : 1+j]
		if strings.IndexByte(raw, '\r') < 0 {
			return raw, true
		}
		// Carriage returns inside a raw string are discarded (the Go
		// specification, and strconv.Unquote).
		out := *scratch
		base := len(out)
		for i := range len(raw) {
			if raw[i] != '\r' {
				out = append(out, raw[i])
			}
		}
		*scratch = out
		return bstr(out[base:]), true
	}
	if s[0] != '"' {
		return "", false
	}
	escaped := false
	end := -1
	b := unsafeBytes(s)
	for i := 1; i < len(b); {
		j := indexQuoteOrBackslash(b[i:])
		if j < 0 {
			break
		}
		i += j
		if b[i] == '"' {
			end = i
			break
		}
		escaped = true
		i += 2 // the backslash and the character it escapes
	}
	if end < 0 {
		return "", false
	}
	body := s[1:end]
	if !escaped {
		return body, true
	}
	out := *scratch
	base := len(out)
	for len(body) > 0 {
		r, multibyte, tail, err := strconv.UnquoteChar(body, '"')
		if err != nil {
			*scratch = out
			return "", false
		}
		body = tail
		if r < utf8.RuneSelf || !multibyte {
			out = append(out, byte(r))
		} else {
			out = utf8.AppendRune(out, r)
		}
	}
	*scratch = out
	return bstr(out[base:]), true
}

// KrakenDJSONDecoder reads KrakenD Enterprise's JSON access log
// (telemetry/logging "access_log_format": "json"):
//
//	{"prefix":"[KRAKEND]","time":"2024-05-02T10:11:12Z","status_code":200,"latency":"0.003s","client_ip":"203.0.113.9","method":"GET","path":"/v1/users/42?expand=true"}
//
// latency is a Go duration string. time is read as RFC 3339 (zone-less
// times in the decoder's location) or gin's "2006/01/02 - 15:04:05".
// Optional keys host, query, uri and user_agent are read when present.
// Required: status_code, method and path (or uri).
type KrakenDJSONDecoder struct {
	loc     *time.Location
	scratch []byte
	s       jsonScanner
	// Extra fields (SetExtra): their paths as a tree, names, and the
	// values of the line.
	xroot  *mnode
	xnames []string
	xvals  []string
	xhave  []bool
}

// NewKrakenDJSON returns a decoder for KrakenD Enterprise's JSON access
// log; loc (nil means UTC) applies to timestamps without a zone.
func NewKrakenDJSON(loc *time.Location) *KrakenDJSONDecoder {
	if loc == nil {
		loc = time.UTC
	}
	return &KrakenDJSONDecoder{loc: loc}
}

// Decode implements Decoder.
func (d *KrakenDJSONDecoder) Decode(line []byte, e *Event) error {
	e.Reset()
	e.Raw = line
	d.scratch = d.scratch[:0]
	s := &d.s
	s.reset(line, &d.scratch)
	clear(d.xhave)
	if err := s.beginObject(); err != nil {
		return err
	}
	var (
		haveStatus, havePath bool
		path, uri, query     string
		haveQuery            bool
	)
	for first := true; ; first = false {
		key, more, err := s.nextKey(first)
		if err != nil {
			return err
		}
		if !more {
			break
		}
		if d.xroot != nil {
			if c := d.xroot.child(key); c != nil {
				done, err := d.extraValue(c)
				if err != nil {
					return err
				}
				if done {
					continue
				}
			}
		}
		switch key {
		case "time":
			v, ok, err := s.strVal()
			if err != nil {
				return err
			}
			if ok && v != "" {
				t, ok := parseAnyTime(v, d.loc)
				if !ok {
					return decodeErr(ReasonBadTime, "krakend-json: bad time %s", shape(v))
				}
				e.Time = t
			}
		case "status_code":
			n, ok, err := s.intVal()
			if err != nil {
				return statusErr("krakend-json", err)
			}
			if ok {
				if !validStatus(n) {
					return decodeErr(ReasonBadStatus, "krakend-json: status_code %d out of range", n)
				}
				e.Status, haveStatus = int(n), true
			}
		case "latency":
			v, ok, err := s.strVal()
			if err != nil {
				return err
			}
			if ok && v != "" {
				dur, ok := parseGoDuration(v)
				if !ok || dur < 0 {
					return decodeErr(ReasonBadDuration, "krakend-json: bad latency %s", shape(v))
				}
				e.Duration = dur
			}
		case "client_ip":
			v, _, err := s.strVal()
			if err != nil {
				return err
			}
			e.Client = hostOnly(v)
		case "method":
			v, _, err := s.strVal()
			if err != nil {
				return err
			}
			e.Method = upperMethod(v, &d.scratch)
		case "path":
			v, ok, err := s.strVal()
			if err != nil {
				return err
			}
			path, havePath = v, ok || havePath
		case "uri":
			v, _, err := s.strVal()
			if err != nil {
				return err
			}
			uri = v
		case "query":
			v, ok, err := s.strVal()
			if err != nil {
				return err
			}
			query, haveQuery = v, ok
		case "host":
			v, _, err := s.strVal()
			if err != nil {
				return err
			}
			e.Host = v
		case "user_agent":
			v, _, err := s.strVal()
			if err != nil {
				return err
			}
			e.UserAgent = v
		default:
			if err := s.skip(); err != nil {
				return err
			}
		}
	}
	if err := s.end(); err != nil {
		return err
	}
	switch {
	case havePath:
		e.setURI(path)
	case uri != "":
		e.setURI(uri)
	default:
		return missing("krakend-json", "path")
	}
	if haveQuery {
		e.Query = strings.TrimPrefix(query, "?")
	}
	if !haveStatus {
		return missing("krakend-json", "status_code")
	}
	if e.Method == "" {
		return missing("krakend-json", "method")
	}
	if d.xroot != nil {
		d.fillExtra(e)
	}
	return nil
}

// statusErr turns a JSON error while reading a status into bad_status
// unless it is a structural error.
func statusErr(format string, err error) error {
	if de, ok := IsDecodeError(err); ok && de.Reason == ReasonBadField {
		return decodeErr(ReasonBadStatus, "%s: %s", format, de.Msg)
	}
	return err
}

// timeLayouts are tried, after RFC 3339 and gin's layout, for times in
// KrakenD Enterprise's JSON log; this path allocates and is only reached
// for unusual layouts.
var timeLayouts = []string{
	"2006/01/02 15:04:05",
	"02/Jan/2006:15:04:05 -0700",
	time.RFC1123Z,
	time.RFC1123,
	time.UnixDate,
}

func parseAnyTime(v string, loc *time.Location) (time.Time, bool) {
	if t, ok := parseRFC3339(v, loc); ok {
		return t, true
	}
	if t, ok := parseGinTime(v, loc); ok {
		return t, true
	}
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, v, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
