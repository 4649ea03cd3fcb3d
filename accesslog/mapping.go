package accesslog

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Mapping says where a generic JSON access log keeps each Event field.
// Every field is a dotted path into the JSON object ("request.method",
// "status"); an empty path means the log does not have that field. The
// config package embeds it (YAML keys in snake_case).
type Mapping struct {
	// Time ... Flags are the dotted JSON paths of the Event fields of the
	// same name (Query, when set, overrides the query split from Path).
	Time         string `yaml:"time,omitempty"`
	Method       string `yaml:"method,omitempty"`
	Path         string `yaml:"path,omitempty"`
	Query        string `yaml:"query,omitempty"`
	Host         string `yaml:"host,omitempty"`
	Status       string `yaml:"status,omitempty"`
	Duration     string `yaml:"duration,omitempty"`
	Upstream     string `yaml:"upstream,omitempty"`
	BytesIn      string `yaml:"bytes_in,omitempty"`
	BytesOut     string `yaml:"bytes_out,omitempty"`
	Client       string `yaml:"client,omitempty"`
	UserAgent    string `yaml:"user_agent,omitempty"`
	RequestID    string `yaml:"request_id,omitempty"`
	UpstreamHost string `yaml:"upstream_host,omitempty"`
	Route        string `yaml:"route,omitempty"`
	Service      string `yaml:"service,omitempty"`
	Consumer     string `yaml:"consumer,omitempty"`
	Flags        string `yaml:"flags,omitempty"`

	// TimeFormat is how Time is written: "rfc3339" (the default), "unix"
	// (seconds, may be fractional), "unix_ms", "unix_us", "unix_ns", or a
	// Go reference-time layout such as "02/Jan/2006:15:04:05 -0700".
	TimeFormat string `yaml:"time_format,omitempty"`
	// DurationUnit is the unit of the numbers in Duration and Upstream:
	// "s", "ms", "us" or "ns" (numbers may be fractional), or "duration"
	// for Go duration strings ("3.1ms"). Required when either is mapped.
	DurationUnit string `yaml:"duration_unit,omitempty"`
	// Extra copies more fields into Event.Fields: name → JSON path.
	Extra map[string]string `yaml:"extra,omitempty"`
}

// Field ids of the generic decoder, in Mapping order.
const (
	mTime = iota
	mMethod
	mPath
	mQuery
	mHost
	mStatus
	mDuration
	mUpstream
	mBytesIn
	mBytesOut
	mClient
	mUserAgent
	mRequestID
	mUpstreamHost
	mRoute
	mService
	mConsumer
	mFlags
	mExtra // first Extra field; Extra fields follow in name order
)

func (m *Mapping) paths() [mExtra]struct{ name, path string } {
	return [mExtra]struct{ name, path string }{
		{"time", m.Time}, {"method", m.Method}, {"path", m.Path}, {"query", m.Query},
		{"host", m.Host}, {"status", m.Status}, {"duration", m.Duration}, {"upstream", m.Upstream},
		{"bytes_in", m.BytesIn}, {"bytes_out", m.BytesOut}, {"client", m.Client},
		{"user_agent", m.UserAgent}, {"request_id", m.RequestID}, {"upstream_host", m.UpstreamHost},
		{"route", m.Route}, {"service", m.Service}, {"consumer", m.Consumer}, {"flags", m.Flags},
	}
}

// Validate checks that the mapping can decode access logs: method, path
// and status are mapped, every path is well-formed, the time format and
// duration unit are known, and extra names are label-like.
func (m *Mapping) Validate() error {
	if m == nil {
		return errors.New("mapping: no mapping given (the json format needs one)")
	}
	var errs []error
	p := m.paths()
	for _, req := range []int{mMethod, mPath, mStatus} {
		if p[req].path == "" {
			errs = append(errs, fmt.Errorf("mapping: %s must be set (a dotted JSON path such as %q)", p[req].name, "request."+p[req].name))
		}
	}
	for _, f := range p {
		if f.path != "" {
			if err := checkPath(f.path); err != nil {
				errs = append(errs, fmt.Errorf("mapping: %s: %w", f.name, err))
			}
		}
	}
	switch m.TimeFormat {
	case "", "rfc3339", "unix", "unix_ms", "unix_us", "unix_ns":
	default:
		if !strings.Contains(m.TimeFormat, "2006") && !strings.Contains(m.TimeFormat, "06") {
			errs = append(errs, fmt.Errorf("mapping: time_format %q is neither rfc3339, unix, unix_ms, unix_us, unix_ns nor a Go time layout (with the year written 2006)", m.TimeFormat))
		}
	}
	switch m.DurationUnit {
	case "s", "ms", "us", "ns", "duration":
	case "":
		if m.Duration != "" || m.Upstream != "" {
			errs = append(errs, errors.New(`mapping: duration_unit must be set when duration or upstream is mapped ("s", "ms", "us", "ns" or "duration")`))
		}
	default:
		errs = append(errs, fmt.Errorf(`mapping: duration_unit %q is not one of "s", "ms", "us", "ns", "duration"`, m.DurationUnit))
	}
	for _, name := range sortedKeys(m.Extra) {
		if !labelName(name) {
			errs = append(errs, fmt.Errorf("mapping: extra field name %q must match [a-zA-Z_][a-zA-Z0-9_]*", name))
		}
		if err := checkPath(m.Extra[name]); err != nil {
			errs = append(errs, fmt.Errorf("mapping: extra %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

func checkPath(p string) error {
	if p == "" {
		return errors.New("empty JSON path")
	}
	for seg := range strings.SplitSeq(p, ".") {
		if seg == "" {
			return fmt.Errorf("JSON path %q has an empty segment", p)
		}
	}
	return nil
}

func labelName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return true
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// mnode is one level of the compiled mapping: the keys wanted at this
// level of the JSON object.
type mnode struct {
	// children are few per level: a linear search beats hashing the key.
	children []mchild
	targets  []int // field ids that take this node's value
}

type mchild struct {
	name string
	node *mnode
}

func (n *mnode) child(name string) *mnode {
	for i := range n.children {
		if n.children[i].name == name {
			return n.children[i].node
		}
	}
	return nil
}

// JSONDecoder reads any JSON-object-per-line access log through a
// Mapping. Values are taken as they are: strings, numbers (as written),
// booleans; a mapped path that holds an object or array yields its raw
// JSON text. Status, sizes and durations may be numbers or numeric
// strings. Client keeps the first entry of a comma-separated list and
// drops a port.
type JSONDecoder struct {
	m       Mapping
	loc     *time.Location
	root    *mnode
	extra   []string // Extra names by field id - mExtra
	vals    []string
	have    []bool
	scratch []byte
	s       jsonScanner
}

// NewJSON returns a generic JSON decoder for m; loc (nil means UTC)
// applies to times without a zone. m is validated.
func NewJSON(m *Mapping, loc *time.Location) (*JSONDecoder, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if loc == nil {
		loc = time.UTC
	}
	d := &JSONDecoder{m: *m, loc: loc, root: &mnode{}}
	p := m.paths()
	for id, f := range p {
		if f.path != "" {
			d.add(f.path, id)
		}
	}
	d.extra = sortedKeys(m.Extra)
	for i, name := range d.extra {
		d.add(m.Extra[name], mExtra+i)
	}
	n := mExtra + len(d.extra)
	d.vals = make([]string, n)
	d.have = make([]bool, n)
	return d, nil
}

func (d *JSONDecoder) add(path string, id int) {
	n := d.root
	for seg := range strings.SplitSeq(path, ".") {
		c := n.child(seg)
		if c == nil {
			c = &mnode{}
			n.children = append(n.children, mchild{name: seg, node: c})
		}
		n = c
	}
	n.targets = append(n.targets, id)
}

// Decode implements Decoder.
func (d *JSONDecoder) Decode(line []byte, e *Event) error {
	e.Reset()
	e.Raw = line
	d.scratch = d.scratch[:0]
	clear(d.have)
	s := &d.s
	s.reset(line, &d.scratch)
	if err := d.walk(d.root); err != nil {
		return err
	}
	if err := s.end(); err != nil {
		return err
	}
	return d.fill(e)
}

func (d *JSONDecoder) walk(n *mnode) error {
	s := &d.s
	if err := s.beginObject(); err != nil {
		return err
	}
	for first := true; ; first = false {
		key, more, err := s.nextKey(first)
		if err != nil || !more {
			return err
		}
		c := n.child(key)
		if c == nil {
			if err := s.skip(); err != nil {
				return err
			}
			continue
		}
		kind := s.peek()
		switch {
		case kind == kindObject && c.children != nil:
			if err := d.walk(c); err != nil {
				return err
			}
		case len(c.targets) > 0:
			var v string
			var ok bool
			if kind == kindObject || kind == kindArray {
				s.ws()
				start := s.pos
				if err := s.skip(); err != nil {
					return err
				}
				v, ok = bstr(s.buf[start:s.pos]), true
			} else if v, ok, err = s.strVal(); err != nil {
				return err
			}
			for _, id := range c.targets {
				d.vals[id], d.have[id] = v, ok
			}
		default:
			if err := s.skip(); err != nil {
				return err
			}
		}
	}
}

func (d *JSONDecoder) fill(e *Event) error {
	switch {
	case !d.have[mMethod]:
		return missing("json", d.m.Method)
	case !d.have[mPath]:
		return missing("json", d.m.Path)
	case !d.have[mStatus]:
		return missing("json", d.m.Status)
	}
	e.Method = upperMethod(d.vals[mMethod], &d.scratch)
	e.setURI(d.vals[mPath])
	if d.have[mQuery] {
		e.Query = strings.TrimPrefix(d.vals[mQuery], "?")
	}
	st, ok := parseInt(trimSpace(d.vals[mStatus]))
	if !ok || !validStatus(st) {
		return decodeErr(ReasonBadStatus, "json: bad status %s at %s", shape(d.vals[mStatus]), d.m.Status)
	}
	e.Status = int(st)
	if d.have[mTime] && d.vals[mTime] != "" {
		t, ok := d.parseTime(d.vals[mTime])
		if !ok {
			return decodeErr(ReasonBadTime, "json: bad time %s at %s (time_format %q)", shape(d.vals[mTime]), d.m.Time, d.m.TimeFormat)
		}
		e.Time = t
	}
	var err error
	if e.Duration, err = d.duration(mDuration); err != nil {
		return err
	}
	if e.Upstream, err = d.duration(mUpstream); err != nil {
		return err
	}
	if e.BytesIn, err = d.count(mBytesIn); err != nil {
		return err
	}
	if e.BytesOut, err = d.count(mBytesOut); err != nil {
		return err
	}
	setOverhead(e)
	e.Host = d.str(mHost)
	e.Client = firstXFF(d.str(mClient))
	e.UserAgent = d.str(mUserAgent)
	e.RequestID = d.str(mRequestID)
	e.UpstreamHost = d.str(mUpstreamHost)
	e.Route = d.str(mRoute)
	e.Service = d.str(mService)
	e.Consumer = d.str(mConsumer)
	e.Flags = d.str(mFlags)
	if len(d.extra) > 0 {
		if e.Fields == nil {
			e.Fields = make(map[string]string, len(d.extra))
		}
		for i, name := range d.extra {
			if d.have[mExtra+i] {
				e.Fields[name] = d.vals[mExtra+i]
			}
		}
	}
	return nil
}

func (d *JSONDecoder) str(id int) string {
	if !d.have[id] {
		return ""
	}
	return d.vals[id]
}

func (d *JSONDecoder) count(id int) (int64, error) {
	if !d.have[id] {
		return -1, nil
	}
	t := trimSpace(d.vals[id])
	if t == "" || t == "-" {
		return -1, nil
	}
	n, ok := parseInt(t)
	if !ok {
		f, err := strconv.ParseFloat(t, 64)
		if err != nil || f < 0 || f > math.MaxInt64 {
			return -1, decodeErr(ReasonBadField, "json: bad byte count %s", shape(t))
		}
		n = int64(f)
	}
	if n < 0 {
		return -1, nil
	}
	return n, nil
}

func (d *JSONDecoder) duration(id int) (time.Duration, error) {
	if !d.have[id] {
		return -1, nil
	}
	t := trimSpace(d.vals[id])
	if t == "" || t == "-" {
		return -1, nil
	}
	var unit float64
	switch d.m.DurationUnit {
	case "duration":
		v, ok := parseGoDuration(t)
		if !ok {
			return -1, decodeErr(ReasonBadDuration, "json: bad duration %s (duration_unit duration wants Go durations like 3.1ms)", shape(t))
		}
		if v < 0 {
			return -1, nil
		}
		return v, nil
	case "s":
		unit = float64(time.Second)
	case "ms":
		unit = float64(time.Millisecond)
	case "us":
		unit = float64(time.Microsecond)
	default:
		unit = 1
	}
	if n, ok := parseInt(t); ok {
		if n < 0 {
			return -1, nil
		}
		return floatDur(float64(n), unit), nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f != f {
		return -1, decodeErr(ReasonBadDuration, "json: bad duration %s (duration_unit %s)", shape(t), d.m.DurationUnit)
	}
	if f < 0 {
		return -1, nil
	}
	return floatDur(f, unit), nil
}

func (d *JSONDecoder) parseTime(v string) (time.Time, bool) {
	v = trimSpace(v)
	switch d.m.TimeFormat {
	case "", "rfc3339":
		return parseRFC3339(v, d.loc)
	case "unix", "unix_ms", "unix_us", "unix_ns":
		var per int64
		switch d.m.TimeFormat {
		case "unix":
			per = 1e9
		case "unix_ms":
			per = 1e6
		case "unix_us":
			per = 1e3
		default:
			per = 1
		}
		if n, ok := parseInt(v); ok {
			if n < 0 || n > math.MaxInt64/per {
				return time.Time{}, false
			}
			return time.Unix(0, n*per).UTC(), true
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f*float64(per) >= math.MaxInt64 {
			return time.Time{}, false
		}
		return time.Unix(0, int64(f*float64(per))).UTC(), true
	}
	t, err := time.ParseInLocation(d.m.TimeFormat, v, d.loc)
	return t, err == nil
}
