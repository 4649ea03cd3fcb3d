package accesslog

import "time"

// KongDecoder reads Kong's log-plugin JSON (file-log, http-log, tcp-log,
// udp-log, syslog: all emit kong.log.serialize()), one object per line.
// Fields read:
//
//	request.method, request.uri (path + query), request.size,
//	request.headers.host, request.headers["user-agent"], request.id
//	(falling back to request.headers["x-request-id"]),
//	response.status, response.size,
//	latencies.request (Duration), latencies.proxy (Upstream),
//	latencies.kong (Overhead) — milliseconds, -1 means none,
//	started_at (epoch milliseconds), client_ip,
//	route.name (falling back to route.id), service.name (falling back to
//	service.id), consumer.username (falling back to consumer.custom_id),
//	tries[last].ip:port (UpstreamHost).
//
// Required: request.method, request.uri and response.status. A JSON array
// (http-log's batch body) is not a line: it gives "not_access_log"; use
// SplitJSONArray to decode a batch element by element.
type KongDecoder struct {
	scratch []byte
	s       jsonScanner
	vals    fieldVals
	// The key order of each object the decoder reads.
	keys                                      keyCache
	kRequest, kHeaders, kResponse, kLatencies keyCache
	kTries, kRoute, kService, kConsumer       keyCache
	obj                                       objReader
	tmpl                                      templates
}

// Field ids of the keys KongDecoder reads, in all its objects.
const (
	// The top-level object.
	kfRequest = 1 + iota
	kfResponse
	kfLatencies
	kfStartedAt
	kfClientIP
	kfRoute
	kfService
	kfConsumer
	kfTries
	// request
	kfMethod
	kfURI
	kfRequestSize
	kfRequestID
	kfHeaders
	// request.headers (Kong lower-cases header names in serialize())
	kfHost
	kfUserAgent
	kfXRequestID
	// response
	kfStatus
	kfResponseSize
	// latencies
	kfLatRequest
	kfLatProxy
	kfLatKong
	// tries[]
	kfTryIP
	kfTryPort
	// route, service, consumer: the preferred name, then the fallback
	kfRouteName
	kfRouteID
	kfServiceName
	kfServiceID
	kfUsername
	kfCustomID
)

// NewKong returns a decoder for Kong's log-plugin JSON.
func NewKong() *KongDecoder {
	d := &KongDecoder{
		keys:       newKeyCache(0, "request", "response", "latencies", "started_at", "client_ip", "route", "service", "consumer", "tries"),
		kRequest:   newKeyCache(kfMethod-1, "method", "uri", "size", "id", "headers"),
		kHeaders:   newKeyCache(kfHost-1, "host", "user-agent", "x-request-id"),
		kResponse:  newKeyCache(kfStatus-1, "status", "size"),
		kLatencies: newKeyCache(kfLatRequest-1, "request", "proxy", "kong"),
		kTries:     newKeyCache(kfTryIP-1, "ip", "port"),
		kRoute:     newKeyCache(kfRouteName-1, "name", "id"),
		kService:   newKeyCache(kfServiceName-1, "name", "id"),
		kConsumer:  newKeyCache(kfUsername-1, "username", "custom_id"),
	}
	r := &d.obj
	for id, kc := range map[int]*keyCache{
		kfRequest: &d.kRequest, kfHeaders: &d.kHeaders, kfResponse: &d.kResponse, kfLatencies: &d.kLatencies,
		kfRoute: &d.kRoute, kfService: &d.kService, kfConsumer: &d.kConsumer,
	} {
		r.mode[id], r.child[id] = omObject, kc
	}
	r.mode[kfTries], r.child[kfTries] = omElems, &d.kTries
	r.elemClear = []int{kfTryIP, kfTryPort}
	r.mode[kfHost], r.mode[kfUserAgent], r.mode[kfXRequestID] = omFirstStr, omFirstStr, omFirstStr
	r.firstStrIn = &d.kHeaders
	r.nextID = kfCustomID + 1
	return d
}

// Decode implements Decoder.
func (d *KongDecoder) Decode(line []byte, e *Event) error {
	// No e.Reset: a line decoded without error has every field of e
	// written below (after an error e is undefined but for Raw).
	e.Raw = line
	e.layout = lineLayout{}
	d.scratch = growScratch(d.scratch, len(line))
	s := &d.s
	s.reset(line, &d.scratch)
	if s.peek() == kindArray {
		return decodeErr(ReasonNotAccessLog, "kong: a JSON array (an http-log batch), expected one object per line")
	}
	f := &d.vals
	f.reset(line, &d.scratch)
	if !d.tmpl.scan(s, f) {
		// The structured path, which learns the line's template.
		f.reset(line, &d.scratch)
		d.scratch = d.scratch[:0]
		s.reset(line, &d.scratch)
		d.tmpl.rec.reset()
		s.rec = &d.tmpl.rec
		d.obj.elems = 0
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

	v, haveMethod := f.str(kfMethod)
	e.Method = upperMethod(v, &d.scratch)
	v, haveURI := f.str(kfURI)
	e.setURI(v)
	var err error
	n, ok := f.intFast(kfRequestSize)
	if !ok {
		if n, ok, err = f.intSlow(kfRequestSize); err != nil {
			return err
		}
	}
	e.BytesIn = -1
	if ok {
		e.BytesIn = n
	}
	n, haveStatus := f.intFast(kfStatus)
	if !haveStatus {
		if n, haveStatus, err = f.intSlow(kfStatus); err != nil {
			return statusErr("kong", err)
		}
	}
	if haveStatus {
		if !validStatus(n) {
			return decodeErr(ReasonBadStatus, "kong: response.status %d out of range", n)
		}
		e.Status = int(n)
	}
	if n, ok = f.intFast(kfResponseSize); !ok {
		if n, ok, err = f.intSlow(kfResponseSize); err != nil {
			return err
		}
	}
	e.BytesOut = -1
	if ok {
		e.BytesOut = n
	}
	if e.Duration, ok = f.msFast(kfLatRequest); !ok {
		if e.Duration, _, err = f.msSlow(kfLatRequest); err != nil {
			return latencyErr("request", err)
		}
	}
	if e.Upstream, ok = f.msFast(kfLatProxy); !ok {
		if e.Upstream, _, err = f.msSlow(kfLatProxy); err != nil {
			return latencyErr("proxy", err)
		}
	}
	if e.Overhead, ok = f.msFast(kfLatKong); !ok {
		if e.Overhead, _, err = f.msSlow(kfLatKong); err != nil {
			return latencyErr("kong", err)
		}
	}
	if n, ok = f.intFast(kfStartedAt); !ok {
		if n, ok, err = f.intSlow(kfStartedAt); err != nil {
			return err
		}
	}
	e.Time = time.Time{}
	if ok && n > 0 {
		e.Time = time.UnixMilli(n).UTC()
	}
	switch {
	case !haveMethod:
		return missing("kong", "request.method")
	case !haveURI:
		return missing("kong", "request.uri")
	case !haveStatus:
		return missing("kong", "response.status")
	}
	e.Client = hostOnly(f.text(kfClientIP))
	e.Host = f.text(kfHost)
	e.UserAgent = f.text(kfUserAgent)
	e.RequestID = firstNonEmpty(f.text(kfRequestID), f.text(kfXRequestID))
	e.Route = firstNonEmpty(f.text(kfRouteName), f.text(kfRouteID))
	e.Service = firstNonEmpty(f.text(kfServiceName), f.text(kfServiceID))
	e.Consumer = firstNonEmpty(f.text(kfUsername), f.text(kfCustomID))
	e.Flags, e.UpstreamHost = "", ""
	if ip := f.text(kfTryIP); ip != "" {
		if port := f.text(kfTryPort); port == "" {
			e.UpstreamHost = ip
		} else {
			out := d.scratch
			base := len(out)
			out = append(out, ip...)
			out = append(out, ':')
			out = append(out, port...)
			d.scratch = out
			e.UpstreamHost = bstr(out[base:])
		}
	}
	if len(d.obj.extra) > 0 {
		d.obj.fillExtra(f, e)
	} else if len(e.Fields) > 0 {
		clear(e.Fields)
	}
	return nil
}

func latencyErr(key string, err error) error {
	if de, ok := IsDecodeError(err); ok && de.Reason == ReasonBadField {
		return &DecodeError{Reason: ReasonBadDuration, Msg: "kong: latencies." + key + ": " + de.Msg}
	}
	return err
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// SplitJSONArray appends to dst the raw bytes of each element of a JSON
// array (Kong http-log's batch body, sent when max_batch_size > 1), so
// that each can be given to a Decoder. The elements alias body.
func SplitJSONArray(body []byte, dst [][]byte) ([][]byte, error) {
	var scratch []byte
	s := jsonScanner{}
	s.reset(body, &scratch)
	if err := s.beginArray(); err != nil {
		return dst, err
	}
	for first := true; ; first = false {
		more, err := s.nextElem(first)
		if err != nil {
			return dst, err
		}
		if !more {
			break
		}
		s.ws()
		start := s.pos
		if err := s.skip(); err != nil {
			return dst, err
		}
		dst = append(dst, body[start:s.pos])
	}
	if err := s.end(); err != nil {
		return dst, err
	}
	return dst, nil
}
