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
	// The key order of each object the decoder reads.
	keys                                      keyCache
	kRequest, kHeaders, kResponse, kLatencies keyCache
	kTries, kRoute, kService, kConsumer       keyCache
}

// The keys KongDecoder reads in each object, and their ids.
var (
	kongKeys         = []string{"request", "response", "latencies", "started_at", "client_ip", "route", "service", "consumer", "tries"}
	kongRequestKeys  = []string{"method", "uri", "size", "id", "headers"}
	kongHeaderKeys   = []string{"host", "user-agent", "x-request-id"}
	kongResponseKeys = []string{"status", "size"}
	kongLatencyKeys  = []string{"request", "proxy", "kong"}
	kongTryKeys      = []string{"ip", "port"}
	// names(): the preferred name, then the fallback.
	kongRouteKeys    = []string{"name", "id"}
	kongConsumerKeys = []string{"username", "custom_id"}
)

const (
	kkRequest = 1 + iota
	kkResponse
	kkLatencies
	kkStartedAt
	kkClientIP
	kkRoute
	kkService
	kkConsumer
	kkTries
)

// NewKong returns a decoder for Kong's log-plugin JSON.
func NewKong() *KongDecoder { return &KongDecoder{} }

type kongState struct {
	haveMethod, haveURI, haveStatus bool
	requestID, xRequestID           string
	routeName, routeID              string
	serviceName, serviceID          string
	username, customID              string
	tryIP, tryPort                  string
}

// Decode implements Decoder.
func (d *KongDecoder) Decode(line []byte, e *Event) error {
	e.Reset()
	e.Raw = line
	d.scratch = d.scratch[:0]
	s := &d.s
	s.reset(line, &d.scratch)
	if s.peek() == kindArray {
		return decodeErr(ReasonNotAccessLog, "kong: a JSON array (an http-log batch), expected one object per line")
	}
	if err := s.beginObject(); err != nil {
		return err
	}
	var st kongState
	for i, first := 0, true; ; i, first = i+1, false {
		key, more, err := s.keyID(&d.keys, i, first, kongKeys)
		if err != nil {
			return err
		}
		if !more {
			break
		}
		switch key {
		case kkRequest:
			err = d.request(e, &st)
		case kkResponse:
			err = d.response(e, &st)
		case kkLatencies:
			err = d.latencies(e)
		case kkStartedAt:
			var n int64
			var ok bool
			n, ok, err = s.intVal()
			if err == nil && ok && n > 0 {
				e.Time = time.UnixMilli(n).UTC()
			}
		case kkClientIP:
			var v string
			v, _, err = s.strVal()
			e.Client = hostOnly(v)
		case kkRoute:
			err = d.names(&d.kRoute, &st.routeName, &st.routeID, kongRouteKeys)
		case kkService:
			err = d.names(&d.kService, &st.serviceName, &st.serviceID, kongRouteKeys)
		case kkConsumer:
			err = d.names(&d.kConsumer, &st.username, &st.customID, kongConsumerKeys)
		case kkTries:
			err = d.tries(&st)
		default:
			err = s.skip()
		}
		if err != nil {
			return err
		}
	}
	if err := s.end(); err != nil {
		return err
	}
	switch {
	case !st.haveMethod:
		return missing("kong", "request.method")
	case !st.haveURI:
		return missing("kong", "request.uri")
	case !st.haveStatus:
		return missing("kong", "response.status")
	}
	e.RequestID = firstNonEmpty(st.requestID, st.xRequestID)
	e.Route = firstNonEmpty(st.routeName, st.routeID)
	e.Service = firstNonEmpty(st.serviceName, st.serviceID)
	e.Consumer = firstNonEmpty(st.username, st.customID)
	if st.tryIP != "" {
		if st.tryPort == "" {
			e.UpstreamHost = st.tryIP
		} else {
			out := d.scratch
			base := len(out)
			out = append(out, st.tryIP...)
			out = append(out, ':')
			out = append(out, st.tryPort...)
			d.scratch = out
			e.UpstreamHost = bstr(out[base:])
		}
	}
	return nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (d *KongDecoder) request(e *Event, st *kongState) error {
	s := &d.s
	if !s.enterObject() {
		return s.skip()
	}
	for i, first := 0, true; ; i, first = i+1, false {
		key, more, err := s.keyID(&d.kRequest, i, first, kongRequestKeys)
		if err != nil || !more {
			return err
		}
		switch key {
		case 1: // method
			var v string
			v, st.haveMethod, err = s.strVal()
			e.Method = upperMethod(v, &d.scratch)
		case 2: // uri
			var v string
			v, st.haveURI, err = s.strVal()
			e.setURI(v)
		case 3: // size
			var n int64
			var ok bool
			n, ok, err = s.intVal()
			if ok {
				e.BytesIn = n
			}
		case 4: // id
			st.requestID, _, err = s.strVal()
		case 5: // headers
			err = d.headers(e, st)
		default:
			err = s.skip()
		}
		if err != nil {
			return err
		}
	}
}

func (d *KongDecoder) headers(e *Event, st *kongState) error {
	s := &d.s
	if !s.enterObject() {
		return s.skip()
	}
	for i, first := 0, true; ; i, first = i+1, false {
		key, more, err := s.keyID(&d.kHeaders, i, first, kongHeaderKeys)
		if err != nil || !more {
			return err
		}
		// Kong lower-cases header names in serialize().
		switch key {
		case 1: // host
			e.Host, _, err = s.firstStrVal()
		case 2: // user-agent
			e.UserAgent, _, err = s.firstStrVal()
		case 3: // x-request-id
			st.xRequestID, _, err = s.firstStrVal()
		default:
			err = s.skip()
		}
		if err != nil {
			return err
		}
	}
}

func (d *KongDecoder) response(e *Event, st *kongState) error {
	s := &d.s
	if !s.enterObject() {
		return s.skip()
	}
	for i, first := 0, true; ; i, first = i+1, false {
		key, more, err := s.keyID(&d.kResponse, i, first, kongResponseKeys)
		if err != nil || !more {
			return err
		}
		switch key {
		case 1: // status
			var n int64
			var ok bool
			n, ok, err = s.intVal()
			if err != nil {
				return statusErr("kong", err)
			}
			if ok {
				if !validStatus(n) {
					return decodeErr(ReasonBadStatus, "kong: response.status %d out of range", n)
				}
				e.Status, st.haveStatus = int(n), true
			}
		case 2: // size
			var n int64
			var ok bool
			n, ok, err = s.intVal()
			if ok {
				e.BytesOut = n
			}
		default:
			err = s.skip()
		}
		if err != nil {
			return err
		}
	}
}

func (d *KongDecoder) latencies(e *Event) error {
	s := &d.s
	if !s.enterObject() {
		return s.skip()
	}
	for i, first := 0, true; ; i, first = i+1, false {
		key, more, err := s.keyID(&d.kLatencies, i, first, kongLatencyKeys)
		if err != nil || !more {
			return err
		}
		switch key {
		case 1: // request
			e.Duration, _, err = s.msVal()
		case 2: // proxy
			e.Upstream, _, err = s.msVal()
		case 3: // kong
			e.Overhead, _, err = s.msVal()
		default:
			err = s.skip()
		}
		if err != nil {
			if de, ok := IsDecodeError(err); ok && de.Reason == ReasonBadField && key > 0 {
				return &DecodeError{Reason: ReasonBadDuration, Msg: "kong: latencies." + kongLatencyKeys[key-1] + ": " + de.Msg}
			}
			return err
		}
	}
}

// names reads two string members of an object (route, service,
// consumer): keys[0] into a and keys[1] into b.
func (d *KongDecoder) names(kc *keyCache, a, b *string, keys []string) error {
	s := &d.s
	if !s.enterObject() {
		return s.skip()
	}
	for i, first := 0, true; ; i, first = i+1, false {
		key, more, err := s.keyID(kc, i, first, keys)
		if err != nil || !more {
			return err
		}
		switch key {
		case 1:
			*a, _, err = s.strVal()
		case 2:
			*b, _, err = s.strVal()
		default:
			err = s.skip()
		}
		if err != nil {
			return err
		}
	}
}

// tries keeps the ip and port of the last try: the one that produced the
// response.
func (d *KongDecoder) tries(st *kongState) error {
	s := &d.s
	if s.peek() != kindArray {
		return s.skip()
	}
	if err := s.beginArray(); err != nil {
		return err
	}
	for first := true; ; first = false {
		more, err := s.nextElem(first)
		if err != nil || !more {
			return err
		}
		if !s.enterObject() {
			if err := s.skip(); err != nil {
				return err
			}
			continue
		}
		st.tryIP, st.tryPort = "", ""
		for i, f := 0, true; ; i, f = i+1, false {
			key, more, err := s.keyID(&d.kTries, i, f, kongTryKeys)
			if err != nil {
				return err
			}
			if !more {
				break
			}
			switch key {
			case 1: // ip
				st.tryIP, _, err = s.strVal()
			case 2: // port
				st.tryPort, _, err = s.strVal()
			default:
				err = s.skip()
			}
			if err != nil {
				return err
			}
		}
	}
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
