package accesslog

import (
	"strings"
	"time"
)

// EnvoyDecoder reads Envoy's JSON access log (an access logger with
// log_format.json_format) that uses the common keys:
//
//	start_time, method, path (with query), response_code,
//	response_flags, bytes_received, bytes_sent, duration (ms),
//	upstream_service_time (ms; number, string or null),
//	x_forwarded_for, user_agent, request_id, authority, upstream_host,
//	upstream_cluster (Service), route_name (Route),
//	downstream_remote_address.
//
// Other keys (protocol, response_code_details, ...) are skipped. Numbers
// may also be strings (older Envoy rendered every value as a string);
// null, "" and "-" mean missing. Client is downstream_remote_address
// without its port (Envoy already applied its XFF trust settings to it),
// else the first x_forwarded_for entry. Overhead is duration minus
// upstream_service_time when both are known. Required: method, path and
// response_code.
type EnvoyDecoder struct {
	loc     *time.Location
	scratch []byte
	s       jsonScanner
	keys    keyCache
	obj     objReader
	tmpl    templates
	vals    fieldVals
	times   timeCache
}

// envoyKeys are the keys EnvoyDecoder reads; their field ids (1 + index)
// are the ek constants.
var envoyKeys = [...]string{
	"start_time", "method", "path", "response_code", "response_flags",
	"bytes_received", "bytes_sent", "duration", "upstream_service_time",
	"x_forwarded_for", "downstream_remote_address", "user_agent",
	"request_id", "authority", "upstream_host", "upstream_cluster",
	"route_name",
}

// Ids of envoyKeys.
const (
	ekUnknown = iota
	ekStartTime
	ekMethod
	ekPath
	ekResponseCode
	ekResponseFlags
	ekBytesReceived
	ekBytesSent
	ekDuration
	ekUpstreamServiceTime
	ekXForwardedFor
	ekDownstreamRemoteAddress
	ekUserAgent
	ekRequestID
	ekAuthority
	ekUpstreamHost
	ekUpstreamCluster
	ekRouteName
)

// NewEnvoy returns a decoder for Envoy's JSON access log; loc (nil means
// UTC) applies to start times without a zone.
func NewEnvoy(loc *time.Location) *EnvoyDecoder {
	if loc == nil {
		loc = time.UTC
	}
	d := &EnvoyDecoder{loc: loc, keys: newKeyCache(0, envoyKeys[:]...)}
	d.obj.nextID = ekRouteName + 1
	return d
}

// Decode implements Decoder.
func (d *EnvoyDecoder) Decode(line []byte, e *Event) error {
	// No e.Reset: a line decoded without error has every field of e
	// written below (after an error e is undefined but for Raw).
	e.Raw = line
	e.layout = lineLayout{}
	d.scratch = growScratch(d.scratch, len(line))
	s := &d.s
	s.reset(line, &d.scratch)
	f := &d.vals
	f.reset(line, &d.scratch)
	if !d.tmpl.scan(s, f) {
		// The structured path, which learns the line's template.
		f.reset(line, &d.scratch)
		d.scratch = d.scratch[:0]
		s.reset(line, &d.scratch)
		d.tmpl.rec.reset()
		s.rec = &d.tmpl.rec
		if err := s.beginObject(); err != nil {
			return err
		}
		if err := d.obj.object(s, f, &d.keys); err != nil {
			return err
		}
		if err := s.end(); err != nil {
			return err
		}
		s.rec = nil
		d.tmpl.learn(line)
	}
	e.layout = d.tmpl.layout(line)
	e.Time = time.Time{}
	if v, ok := f.str(ekStartTime); ok && v != "" && v != "-" {
		t, tok := parseRFC3339Cached(v, d.loc, &d.times)
		if !tok {
			return decodeErr(ReasonBadTime, "envoy: bad start_time %s", shape(v))
		}
		e.Time = t
	}
	v, ok := f.str(ekMethod)
	e.Method = upperMethod(v, &d.scratch)
	haveMethod := ok && e.Method != ""
	v, ok = f.str(ekPath)
	havePath := ok && v != "" && v != "-"
	e.setURI(v)
	var err error
	n, haveStatus := f.intFast(ekResponseCode)
	if !haveStatus {
		if n, haveStatus, err = f.intSlow(ekResponseCode); err != nil {
			return statusErr("envoy", err)
		}
	}
	if haveStatus {
		if !validStatus(n) {
			return decodeErr(ReasonBadStatus, "envoy: response_code %d out of range", n)
		}
		e.Status = int(n)
	}
	if e.BytesIn, ok = f.intFast(ekBytesReceived); !ok || e.BytesIn < 0 {
		if e.BytesIn, err = d.count(ekBytesReceived); err != nil {
			return err
		}
	}
	if e.BytesOut, ok = f.intFast(ekBytesSent); !ok || e.BytesOut < 0 {
		if e.BytesOut, err = d.count(ekBytesSent); err != nil {
			return err
		}
	}
	if e.Duration, ok = f.msFast(ekDuration); !ok {
		if e.Duration, _, err = f.msSlow(ekDuration); err != nil {
			return durErr("envoy", "duration", err)
		}
	}
	if e.Upstream, ok = f.msFast(ekUpstreamServiceTime); !ok {
		if e.Upstream, _, err = f.msSlow(ekUpstreamServiceTime); err != nil {
			return durErr("envoy", "upstream_service_time", err)
		}
	}
	switch {
	case !haveMethod:
		return missing("envoy", "method")
	case !havePath:
		return missing("envoy", "path")
	case !haveStatus:
		return missing("envoy", "response_code")
	}
	e.Flags = dash(f.text(ekResponseFlags))
	e.UserAgent = dash(f.text(ekUserAgent))
	e.RequestID = dash(f.text(ekRequestID))
	e.Host = dash(f.text(ekAuthority))
	e.UpstreamHost = dash(f.text(ekUpstreamHost))
	e.Service = dash(f.text(ekUpstreamCluster))
	e.Route = dash(f.text(ekRouteName))
	e.Client = hostOnly(f.text(ekDownstreamRemoteAddress))
	if e.Client == "" {
		e.Client = firstXFF(f.text(ekXForwardedFor))
	}
	e.Consumer = ""
	e.Overhead = -1
	setOverhead(e)
	if len(d.obj.extra) > 0 {
		d.obj.fillExtra(f, e)
	} else if len(e.Fields) > 0 {
		clear(e.Fields)
	}
	return nil
}

// count reads a byte count; unknown is -1. (Plain counts are read with
// intFast before.)
func (d *EnvoyDecoder) count(id int) (int64, error) {
	n, ok, err := d.vals.intSlow(id)
	if err != nil {
		if de, isDE := IsDecodeError(err); isDE && de.Reason == ReasonBadField {
			return -1, &DecodeError{Reason: ReasonBadField, Msg: "envoy: " + de.Msg}
		}
		return -1, err
	}
	if !ok || n < 0 {
		return -1, nil
	}
	return n, nil
}

func durErr(format, key string, err error) error {
	if de, ok := IsDecodeError(err); ok && de.Reason == ReasonBadField {
		return &DecodeError{Reason: ReasonBadDuration, Msg: format + ": " + key + ": " + de.Msg}
	}
	return err
}

// setOverhead derives the gateway's own time when the format has no
// field for it.
func setOverhead(e *Event) {
	if e.Overhead < 0 && e.Duration >= 0 && e.Upstream >= 0 && e.Duration >= e.Upstream {
		e.Overhead = e.Duration - e.Upstream
	}
}

// EnvoyTextDecoder reads Envoy's default text access-log format:
//
//	[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"
//
// "-" means missing. Envoy does not escape quotes inside the quoted
// values, so a quoted value ends at the next `" "` (or the last quote of
// the line for the final one). Trailing quoted values may be absent.
// Client is the first X-Forwarded-For entry (the default format has no
// downstream address).
type EnvoyTextDecoder struct {
	loc     *time.Location
	scratch []byte
}

// NewEnvoyText returns a decoder for Envoy's default text access log; loc
// (nil means UTC) applies to start times without a zone.
func NewEnvoyText(loc *time.Location) *EnvoyTextDecoder {
	if loc == nil {
		loc = time.UTC
	}
	return &EnvoyTextDecoder{loc: loc}
}

// Decode implements Decoder.
func (d *EnvoyTextDecoder) Decode(line []byte, e *Event) error {
	e.Reset()
	e.Raw = line
	d.scratch = d.scratch[:0]
	full := trimSpace(bstr(line))
	lead := len(bstr(line)) - len(trimLeft(bstr(line)))
	s := full
	if len(s) == 0 || s[0] != '[' {
		return decodeErr(ReasonNotAccessLog, "envoy-text: line does not start with \"[START_TIME]\"")
	}
	j := strings.IndexByte(s, ']')
	if j < 0 {
		return decodeErr(ReasonNotAccessLog, "envoy-text: no ']' after the start time")
	}
	ts := s[1:j]
	s = trimLeft(s[j+1:])
	if len(s) == 0 || s[0] != '"' {
		return decodeErr(ReasonNotAccessLog, "envoy-text: expected the quoted request line after the start time")
	}
	if ts != "-" {
		t, ok := parseRFC3339(ts, d.loc)
		if !ok {
			return decodeErr(ReasonBadTime, "envoy-text: bad start time %s", shape(ts))
		}
		e.Time = t
	}
	j = requestLineEnd(s[1:])
	if j < 0 {
		return decodeErr(ReasonNotAccessLog, "envoy-text: unterminated request line")
	}
	req := s[1 : 1+j]
	s = s[2+j:]
	// METHOD PATH PROTOCOL; the path cannot hold a space (it would be
	// percent-encoded) but be tolerant and split at the first and last.
	sp := strings.IndexByte(req, ' ')
	if sp < 0 {
		return decodeErr(ReasonMissingField, "envoy-text: the request line has no path")
	}
	e.Method = upperMethod(req[:sp], &d.scratch)
	rest := req[sp+1:]
	if k := strings.LastIndexByte(rest, ' '); k >= 0 {
		rest = rest[:k]
	}
	if e.Method == "" {
		return missing("envoy-text", "method")
	}
	if rest == "" || rest == "-" {
		return missing("envoy-text", "path")
	}
	e.setURI(rest)

	var tok [6]string
	for i := range tok {
		s = trimLeft(s)
		k := strings.IndexByte(s, ' ')
		if k < 0 {
			k = len(s)
		}
		tok[i] = s[:k]
		s = s[k:]
		if tok[i] == "" {
			return decodeErr(ReasonMissingField, "envoy-text: expected 6 values after the request line, found %d", i)
		}
	}
	status, ok := parseInt(tok[0])
	if !ok || !validStatus(status) {
		return decodeErr(ReasonBadStatus, "envoy-text: bad response code %s", shape(tok[0]))
	}
	e.Status = int(status)
	e.Flags = dash(tok[1])
	var err error
	if e.BytesIn, err = textCount("bytes received", tok[2]); err != nil {
		return err
	}
	if e.BytesOut, err = textCount("bytes sent", tok[3]); err != nil {
		return err
	}
	if e.Duration, err = textMS("duration", tok[4]); err != nil {
		return err
	}
	if e.Upstream, err = textMS("upstream service time", tok[5]); err != nil {
		return err
	}
	setOverhead(e)

	var q [5]string
	for i := range q {
		s = trimLeft(s)
		if s == "" {
			break
		}
		if s[0] != '"' {
			// Values are not echoed: headers may carry credentials.
			return decodeErr(ReasonBadField, "envoy-text: column %d: expected a quoted value", lead+len(full)-len(s)+1)
		}
		body := s[1:]
		k := strings.Index(body, `" "`)
		if i == len(q)-1 || k < 0 {
			k = strings.LastIndexByte(body, '"')
			if k < 0 {
				return decodeErr(ReasonBadField, "envoy-text: unterminated quoted value")
			}
		}
		q[i] = dash(body[:k])
		s = body[k+1:]
	}
	e.Client = firstXFF(q[0])
	e.UserAgent = q[1]
	e.RequestID = q[2]
	e.Host = q[3]
	e.UpstreamHost = q[4]
	return nil
}

// requestLineEnd finds the quote that closes the request line: the first
// one followed by a space and a digit (the response code), so that a raw
// quote inside the path does not end it early; else the first quote.
func requestLineEnd(s string) int {
	for i := 0; i+2 < len(s); i++ {
		if s[i] == '"' && s[i+1] == ' ' && s[i+2] >= '0' && s[i+2] <= '9' {
			return i
		}
	}
	return strings.IndexByte(s, '"')
}

func textCount(what, t string) (int64, error) {
	if t == "-" {
		return -1, nil
	}
	n, ok := parseInt(t)
	if !ok || n < 0 {
		return -1, decodeErr(ReasonBadField, "envoy-text: bad %s %s", what, shape(t))
	}
	return n, nil
}

func textMS(what, t string) (time.Duration, error) {
	if t == "-" {
		return -1, nil
	}
	n, ok := parseInt(t)
	if !ok || n < 0 || n > int64(time.Duration(1<<62)/time.Millisecond) {
		return -1, decodeErr(ReasonBadDuration, "envoy-text: bad %s %s", what, shape(t))
	}
	return time.Duration(n) * time.Millisecond, nil
}
