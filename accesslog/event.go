// Package accesslog turns gateway access-log lines into Events: one decoder
// per gateway format (KrakenD, Kong, Envoy), a generic decoder driven by a
// field mapping, and the container runtime's log envelope around any of
// them.
package accesslog

import "time"

// Event is one request as the gateway logged it. Decoders fill it in place
// so that the hot path allocates nothing: string fields may point into the
// decoder's buffers and stay valid only until the next Decode call. Call
// Clone to keep an Event longer.
type Event struct {
	// Time the request started (or was logged, where the format only has
	// that); zero when the line has no time.
	Time time.Time
	// Method is the HTTP method in upper case.
	Method string
	// Path is the request path without the query string, as received.
	Path string
	// Query is the raw query string without the leading '?'.
	Query string
	// Host is the Host header / :authority, when logged.
	Host string
	// Status is the HTTP status code sent to the client; 0 when the
	// gateway logged none (a reset before any response).
	Status int
	// Duration is the total time the gateway took; -1 when unknown.
	Duration time.Duration
	// Upstream is the time spent waiting for the backend; -1 when unknown.
	Upstream time.Duration
	// Overhead is the gateway's own share of Duration; -1 when unknown.
	Overhead time.Duration
	// BytesIn and BytesOut are the request and response sizes; -1 when
	// unknown.
	BytesIn  int64
	BytesOut int64
	// Client is the client address (IP, without port).
	Client       string
	UserAgent    string
	RequestID    string
	UpstreamHost string
	// Route and Service are the gateway's own names for the route and the
	// upstream service, when it logs them (Kong, Envoy).
	Route   string
	Service string
	// Consumer is the authenticated consumer (Kong), when logged.
	Consumer string
	// Flags are gateway-specific response flags (Envoy "UF,URX").
	Flags string
	// Fields holds extra fields a mapping asked for by name (for
	// allow-listed extra labels); nil when none were configured.
	Fields map[string]string
	// Raw is the whole line as read, without the trailing newline.
	Raw []byte
	// layout describes Raw when the decoder read it with a line template
	// (Envoy and Kong JSON); the zero lineLayout otherwise. It is valid until
	// the decoder's next Decode.
	layout lineLayout
}

// Reset clears e for reuse, keeping its Fields map.
func (e *Event) Reset() {
	f := e.Fields
	if len(f) > 0 {
		clear(f)
	}
	*e = Event{Duration: -1, Upstream: -1, Overhead: -1, BytesIn: -1, BytesOut: -1, Fields: f}
}

// Clone returns a copy of e that owns all its memory.
func (e *Event) Clone() Event {
	c := *e
	c.Method = clone(e.Method)
	c.Path = clone(e.Path)
	c.Query = clone(e.Query)
	c.Host = clone(e.Host)
	c.Client = clone(e.Client)
	c.UserAgent = clone(e.UserAgent)
	c.RequestID = clone(e.RequestID)
	c.UpstreamHost = clone(e.UpstreamHost)
	c.Route = clone(e.Route)
	c.Service = clone(e.Service)
	c.Consumer = clone(e.Consumer)
	c.Flags = clone(e.Flags)
	if e.Fields != nil {
		c.Fields = make(map[string]string, len(e.Fields))
		for k, v := range e.Fields {
			c.Fields[clone(k)] = clone(v)
		}
	}
	c.Raw = append([]byte(nil), e.Raw...)
	c.layout = lineLayout{} // it points into the decoder
	return c
}

func clone(s string) string {
	if s == "" {
		return ""
	}
	return string(append([]byte(nil), s...))
}

// Decoder decodes one line (without its newline) into e. It returns an
// error of type *DecodeError for a line it cannot read; e is then
// undefined except for Raw.
type Decoder interface {
	Decode(line []byte, e *Event) error
}

// DecodeError says why a line could not be decoded. Reason is a short,
// bounded word used as a metric label ("json", "missing_field",
// "bad_status", "too_long", ...).
type DecodeError struct {
	Reason string
	Msg    string
}

func (e *DecodeError) Error() string { return e.Reason + ": " + e.Msg }
