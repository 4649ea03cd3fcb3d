// Package estest is a strict in-process stand-in for the parts of
// Elasticsearch the shipper talks to: the _bulk API, index templates, ILM
// policies, aliases and data streams. It parses NDJSON the way
// Elasticsearch does, rejects what Elasticsearch rejects with the same
// error shapes, enforces create conflicts per concrete index, and injects
// faults (429s, 5xx, per-item failures, timeouts, connection resets, slow
// answers) for the shipper's fault and crash tests.
//
// It is a test double, not a search engine: it stores documents by index
// and id and answers the few read calls tests need (_count, GET _alias).
package estest

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Version is the Elasticsearch version the server claims to be.
const Version = "8.19.0"

// Faults are the failures the server injects. Rates are probabilities in
// [0,1]; counts say how many of the next requests are affected (-1 means
// every request until changed).
type Faults struct {
	// RequestStatus answers RequestCount whole _bulk requests with this
	// status (429, 500, 503, 413, ...) and an Elasticsearch error body,
	// without storing anything.
	RequestStatus int
	RequestCount  int
	// Item429, Item500 and Item400 answer each item with that status with
	// the given probability, without storing it. Item400 is a
	// document_parsing_exception, as a mapping conflict gives.
	Item429 float64
	Item500 float64
	Item400 float64
	// Delay is added before every _bulk answer.
	Delay time.Duration
	// Hang makes HangCount _bulk requests never answer (until the client
	// gives up). With AfterStore the documents are stored first, so the
	// client cannot know they were.
	HangCount int
	// ResetCount _bulk requests have their connection closed without an
	// answer. With AfterStore the documents are stored first.
	ResetCount int
	AfterStore bool
	// Down refuses every request by closing the connection at once,
	// bootstrap calls included (Elasticsearch is unreachable).
	Down bool
}

// Server is the test server. Create it with New; it is safe for
// concurrent use.
type Server struct {
	URL string

	srv *httptest.Server

	mu        sync.Mutex
	faults    Faults
	rnd       *rand.Rand
	keep      bool
	indices   map[string]*index
	templates map[string]*Template
	policies  map[string]json.RawMessage
	streams   map[string]*dataStream
	aliases   map[string][]string
	seq       int64
	stats     Stats
	auth      string
}

// Stats counts what the server saw.
type Stats struct {
	BulkRequests int // _bulk requests that reached the parser
	Items        int // items answered
	Created      int // documents stored
	Conflicts    int // 409 answers
	Injected     int // injected failures of any kind
}

// Template is a stored composable index template.
type Template struct {
	IndexPatterns []string       `json:"index_patterns"`
	Priority      int            `json:"priority"`
	DataStream    *struct{}      `json:"data_stream,omitempty"`
	ComposedOf    []string       `json:"composed_of,omitempty"`
	Meta          map[string]any `json:"_meta,omitempty"`
	Template      templateBody   `json:"template"`
	Version       int            `json:"version,omitempty"`
	AllowAutoCrea *bool          `json:"allow_auto_create,omitempty"`
}

type templateBody struct {
	Settings map[string]any            `json:"settings,omitempty"`
	Mappings *mappings                 `json:"mappings,omitempty"`
	Aliases  map[string]map[string]any `json:"aliases,omitempty"`
}

type mappings struct {
	Dynamic          any                 `json:"dynamic,omitempty"`
	DynamicTemplates []map[string]any    `json:"dynamic_templates,omitempty"`
	Properties       map[string]property `json:"properties"`
}

type property struct {
	Type       string              `json:"type,omitempty"`
	Properties map[string]property `json:"properties,omitempty"`
	Fields     map[string]property `json:"fields,omitempty"`
	IgnoreAbv  int                 `json:"ignore_above,omitempty"`
}

type index struct {
	name       string
	docs       map[string][]byte
	types      map[string]string // flattened field path -> type
	dataStream string
	settings   map[string]any
}

type dataStream struct {
	name       string
	generation int
	backing    []string
	template   string
}

// New starts a server on a loopback port. Close it with Close.
func New() *Server {
	s := newServer()
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL
	return s
}

// NewTLS starts a server with TLS on a loopback port; CertificatePEM
// gives its certificate for the client's CA file.
func NewTLS() *Server {
	s := newServer()
	s.srv = httptest.NewTLSServer(s)
	s.URL = s.srv.URL
	return s
}

// CertificatePEM returns the server's TLS certificate in PEM form (nil
// without TLS).
func (s *Server) CertificatePEM() []byte {
	c := s.srv.Certificate()
	if c == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// RequireAuth makes every request without this exact Authorization
// header fail with 401, as a secured cluster does.
func (s *Server) RequireAuth(header string) {
	s.mu.Lock()
	s.auth = header
	s.mu.Unlock()
}

func newServer() *Server {
	return &Server{
		rnd:       rand.New(rand.NewPCG(1, 2)),
		keep:      true,
		indices:   map[string]*index{},
		templates: map[string]*Template{},
		policies:  map[string]json.RawMessage{},
		streams:   map[string]*dataStream{},
		aliases:   map[string][]string{},
	}
}

// NewListener serves on l (for a server that keeps its address across a
// restart, or runs in a child process).
func NewListener(l net.Listener) *Server {
	s := newServer()
	s.srv = httptest.NewUnstartedServer(s)
	s.srv.Listener.Close()
	s.srv.Listener = l
	s.srv.Start()
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.CloseClientConnections(); s.srv.Close() }

// SetFaults replaces the injected faults.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
}

// KeepSources says whether document sources are kept (default true);
// benchmarks turn it off so memory holds only ids.
func (s *Server) KeepSources(keep bool) {
	s.mu.Lock()
	s.keep = keep
	s.mu.Unlock()
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	down := s.faults.Down
	s.mu.Unlock()
	if down {
		reset(w)
		return
	}
	s.mu.Lock()
	auth := s.auth
	s.mu.Unlock()
	if auth != "" && r.Header.Get("Authorization") != auth {
		drain(r)
		w.Header().Set("WWW-Authenticate", `ApiKey, Basic realm="security" charset="UTF-8"`)
		writeError(w, 401, "security_exception", "missing authentication credentials for REST request ["+r.URL.Path+"]")
		return
	}
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	p := strings.Trim(r.URL.Path, "/")
	parts := strings.Split(p, "/")
	switch {
	case p == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		writeJSON(w, 200, map[string]any{
			"name": "estest", "cluster_name": "estest", "cluster_uuid": "estest-0000",
			"version": map[string]any{
				"number": Version, "build_flavor": "default", "lucene_version": "9.12.0",
				"minimum_wire_compatibility_version":  "7.17.0",
				"minimum_index_compatibility_version": "7.0.0",
			},
			"tagline": "You Know, for Search",
		})
	case parts[len(parts)-1] == "_bulk" && len(parts) <= 2:
		target := ""
		if len(parts) == 2 {
			target = parts[0]
		}
		s.bulk(w, r, target)
	case len(parts) == 2 && parts[0] == "_index_template":
		s.indexTemplate(w, r, parts[1])
	case len(parts) == 2 && parts[0] == "_component_template" && r.Method == http.MethodPut:
		drain(r)
		writeJSON(w, 200, map[string]any{"acknowledged": true})
	case len(parts) == 3 && parts[0] == "_ilm" && parts[1] == "policy":
		s.ilmPolicy(w, r, parts[2])
	case len(parts) == 2 && parts[0] == "_data_stream" && r.Method == http.MethodPut:
		s.mu.Lock()
		err := s.createStream(parts[1])
		s.mu.Unlock()
		if err != nil {
			writeError(w, 400, "resource_already_exists_exception", err.Error())
			return
		}
		writeJSON(w, 200, map[string]any{"acknowledged": true})
	case len(parts) == 2 && parts[1] == "_rollover" && r.Method == http.MethodPost:
		drain(r)
		old, nw, err := s.Rollover(parts[0])
		if err != nil {
			writeError(w, 400, "illegal_argument_exception", err.Error())
			return
		}
		writeJSON(w, 200, map[string]any{"acknowledged": true, "old_index": old, "new_index": nw, "rolled_over": true})
	case len(parts) == 2 && parts[1] == "_count":
		writeJSON(w, 200, map[string]any{"count": s.Count(parts[0])})
	case len(parts) == 2 && parts[1] == "_refresh":
		writeJSON(w, 200, map[string]any{"_shards": map[string]int{"total": 1, "successful": 1, "failed": 0}})
	case len(parts) == 2 && parts[0] == "_alias" && r.Method == http.MethodGet:
		s.mu.Lock()
		idx := slices.Clone(s.aliases[parts[1]])
		s.mu.Unlock()
		if len(idx) == 0 {
			writeJSON(w, 404, map[string]any{"error": "alias [" + parts[1] + "] missing", "status": 404})
			return
		}
		out := map[string]any{}
		for _, i := range idx {
			out[i] = map[string]any{"aliases": map[string]any{parts[1]: map[string]any{}}}
		}
		writeJSON(w, 200, out)
	default:
		drain(r)
		writeError(w, 400, "illegal_argument_exception", fmt.Sprintf("request [%s] contains unrecognized path or method [%s]", r.URL.Path, r.Method))
	}
}

func (s *Server) indexTemplate(w http.ResponseWriter, r *http.Request, name string) {
	switch r.Method {
	case http.MethodPut, http.MethodPost:
		b, _ := io.ReadAll(r.Body)
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		var t Template
		if err := dec.Decode(&t); err != nil {
			writeError(w, 400, "x_content_parse_exception", "[index_template] failed to parse: "+err.Error())
			return
		}
		if len(t.IndexPatterns) == 0 {
			writeError(w, 400, "action_request_validation_exception", "Validation Failed: 1: index patterns are missing;")
			return
		}
		s.mu.Lock()
		for n, o := range s.templates {
			if n != name && o.Priority == t.Priority && overlap(o.IndexPatterns, t.IndexPatterns) {
				s.mu.Unlock()
				writeError(w, 400, "illegal_argument_exception", fmt.Sprintf("index template [%s] has index patterns %v matching patterns from existing templates [%s] with patterns (%s => %v) that have the same priority [%d]", name, t.IndexPatterns, n, n, o.IndexPatterns, t.Priority))
				return
			}
		}
		s.templates[name] = &t
		s.mu.Unlock()
		writeJSON(w, 200, map[string]any{"acknowledged": true})
	case http.MethodGet:
		s.mu.Lock()
		t, ok := s.templates[name]
		s.mu.Unlock()
		if !ok {
			writeError(w, 404, "resource_not_found_exception", "index template matching ["+name+"] not found")
			return
		}
		writeJSON(w, 200, map[string]any{"index_templates": []any{map[string]any{"name": name, "index_template": t}}})
	default:
		writeError(w, 405, "illegal_argument_exception", "method not allowed")
	}
}

func (s *Server) ilmPolicy(w http.ResponseWriter, r *http.Request, name string) {
	switch r.Method {
	case http.MethodPut:
		b, _ := io.ReadAll(r.Body)
		var p struct {
			Policy *struct {
				Phases map[string]struct {
					MinAge  string                     `json:"min_age"`
					Actions map[string]json.RawMessage `json:"actions"`
				} `json:"phases"`
				Meta map[string]any `json:"_meta"`
			} `json:"policy"`
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil || p.Policy == nil {
			writeError(w, 400, "x_content_parse_exception", fmt.Sprintf("[put_lifecycle_request] failed to parse: %v", err))
			return
		}
		for ph, v := range p.Policy.Phases {
			if !slices.Contains([]string{"hot", "warm", "cold", "frozen", "delete"}, ph) {
				writeError(w, 400, "illegal_argument_exception", "Timeseries lifecycle does not support phase ["+ph+"]")
				return
			}
			if v.MinAge != "" {
				if _, err := parseESDuration(v.MinAge); err != nil {
					writeError(w, 400, "illegal_argument_exception", "failed to parse setting [min_age] with value ["+v.MinAge+"] as a time value")
					return
				}
			}
		}
		s.mu.Lock()
		s.policies[name] = b
		s.mu.Unlock()
		writeJSON(w, 200, map[string]any{"acknowledged": true})
	case http.MethodGet:
		s.mu.Lock()
		b, ok := s.policies[name]
		s.mu.Unlock()
		if !ok {
			writeError(w, 404, "resource_not_found_exception", "Lifecycle policy not found: "+name)
			return
		}
		writeJSON(w, 200, map[string]json.RawMessage{name: b})
	default:
		writeError(w, 405, "illegal_argument_exception", "method not allowed")
	}
}

// Policy returns a stored ILM policy body.
func (s *Server) Policy(name string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.policies[name]
	return b, ok
}

// TemplateNamed returns a stored index template.
func (s *Server) TemplateNamed(name string) (*Template, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.templates[name]
	return t, ok
}

func parseESDuration(v string) (time.Duration, error) {
	i := strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' })
	if i <= 0 {
		return 0, fmt.Errorf("bad time value %q", v)
	}
	n, _ := strconv.Atoi(v[:i])
	unit := map[string]time.Duration{"d": 24 * time.Hour, "h": time.Hour, "m": time.Minute, "s": time.Second, "ms": time.Millisecond}[v[i:]]
	if unit == 0 {
		return 0, fmt.Errorf("bad time unit %q", v)
	}
	return time.Duration(n) * unit, nil
}

func overlap(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y || match(x, y) || match(y, x) {
				return true
			}
		}
	}
	return false
}

func match(pattern, name string) bool {
	ok, _ := path.Match(pattern, name)
	return ok
}

// bulk handles POST /_bulk and POST /<target>/_bulk.
func (s *Server) bulk(w http.ResponseWriter, r *http.Request, target string) {
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		drain(r)
		writeError(w, 405, "illegal_argument_exception", "Incorrect HTTP method for uri [/_bulk] and method ["+r.Method+"], allowed: [POST, PUT]")
		return
	}
	ct := r.Header.Get("Content-Type")
	if !supportedContentType(ct) {
		drain(r)
		writeJSON(w, 406, map[string]any{"error": "Content-Type header [" + ct + "] is not supported", "status": 406})
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	s.mu.Lock()
	f := &s.faults
	if f.Delay > 0 {
		d := f.Delay
		s.stats.Injected++
		s.mu.Unlock()
		time.Sleep(d)
		s.mu.Lock()
	}
	if f.RequestStatus != 0 && f.RequestCount != 0 {
		st := f.RequestStatus
		if f.RequestCount > 0 {
			f.RequestCount--
		}
		s.stats.Injected++
		s.mu.Unlock()
		typ := map[int]string{429: "es_rejected_execution_exception", 413: "content_too_long_exception", 503: "unavailable_shards_exception"}[st]
		if typ == "" {
			typ = "internal_server_error"
		}
		writeError(w, st, typ, "injected fault")
		return
	}
	hang, rst := f.HangCount != 0, f.ResetCount != 0
	if hang && f.HangCount > 0 {
		f.HangCount--
	}
	if !hang && rst && f.ResetCount > 0 {
		f.ResetCount--
	}
	if hang || rst {
		s.stats.Injected++
	}
	if (hang || rst) && !f.AfterStore {
		s.mu.Unlock()
		if hang {
			<-r.Context().Done()
			return
		}
		reset(w)
		return
	}
	resp, status, perr := s.process(body, target)
	s.mu.Unlock()
	if hang {
		<-r.Context().Done()
		return
	}
	if rst {
		reset(w)
		return
	}
	if perr != nil {
		writeRaw(w, status, perr)
		return
	}
	writeRaw(w, 200, resp)
}

func supportedContentType(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	switch strings.TrimSpace(strings.ToLower(mt)) {
	case "application/x-ndjson", "application/json",
		"application/vnd.elasticsearch+x-ndjson", "application/vnd.elasticsearch+json":
		return true
	}
	return false
}

var knownMeta = map[string]bool{
	"_index": true, "_id": true, "routing": true, "pipeline": true, "require_alias": true,
	"if_seq_no": true, "if_primary_term": true, "dynamic_templates": true, "version": true,
	"version_type": true, "require_data_stream": true, "retry_on_conflict": true, "_source": true,
	"list_executed_pipelines": true,
}

type action struct {
	op    string
	index string
	id    string
	src   []byte
}

// process parses and applies a bulk body; s.mu is held. It returns the
// response body, or a status and error body for a request-level failure.
func (s *Server) process(body []byte, target string) ([]byte, int, []byte) {
	s.stats.BulkRequests++
	if len(body) == 0 {
		return nil, 400, errorBody("action_request_validation_exception", "Validation Failed: 1: no requests added;")
	}
	if body[len(body)-1] != '\n' {
		return nil, 400, errorBody("illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]")
	}
	var acts []action
	line := 0
	for rest := body; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		meta := rest[:i]
		rest = rest[i+1:]
		line++
		a, err := parseAction(meta, line)
		if err != nil {
			return nil, 400, errorBody("illegal_argument_exception", err.Error())
		}
		if a.index == "" {
			a.index = target
		}
		if a.index == "" {
			return nil, 400, errorBody("action_request_validation_exception", "Validation Failed: 1: index is missing;")
		}
		if a.op != "delete" {
			if len(rest) == 0 {
				return nil, 400, errorBody("illegal_argument_exception", fmt.Sprintf("The bulk request must be terminated by a newline [\\n]; action/metadata line [%d] has no source line", line))
			}
			j := bytes.IndexByte(rest, '\n')
			a.src = rest[:j]
			rest = rest[j+1:]
			line++
		}
		acts = append(acts, a)
	}
	var out bytes.Buffer
	out.WriteString(`{"took":1,"errors":`)
	items := make([][]byte, 0, len(acts))
	errs := false
	for _, a := range acts {
		it, failed := s.apply(a)
		errs = errs || failed
		items = append(items, it)
	}
	out.WriteString(strconv.FormatBool(errs))
	out.WriteString(`,"items":[`)
	for i, it := range items {
		if i > 0 {
			out.WriteByte(',')
		}
		out.Write(it)
	}
	out.WriteString("]}")
	return out.Bytes(), 200, nil
}

func parseAction(meta []byte, line int) (action, error) {
	var a action
	trim := bytes.TrimSpace(meta)
	if len(trim) == 0 || trim[0] != '{' {
		tok := "null"
		if len(trim) > 0 {
			tok = "VALUE_STRING"
		}
		return a, fmt.Errorf("Malformed action/metadata line [%d], expected START_OBJECT or END_OBJECT but found [%s]", line, tok)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(trim, &m); err != nil {
		return a, fmt.Errorf("Malformed action/metadata line [%d], expected a simple value for field [_index] but found [%v]", line, err)
	}
	if len(m) != 1 {
		return a, fmt.Errorf("Malformed action/metadata line [%d], expected one action but found [%d]", line, len(m))
	}
	for op, v := range m {
		switch op {
		case "create", "index", "update", "delete":
		default:
			return a, fmt.Errorf("Malformed action/metadata line [%d], expected field [create], [delete], [index] or [update] but found [%s]", line, op)
		}
		a.op = op
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(v, &fields); err != nil || fields == nil {
			return a, fmt.Errorf("Malformed action/metadata line [%d], expected START_OBJECT but found [VALUE_STRING]", line)
		}
		for k, fv := range fields {
			if !knownMeta[k] {
				return a, fmt.Errorf("Action/metadata line [%d] contains an unknown parameter [%s]", line, k)
			}
			if k == "_index" || k == "_id" {
				var str string
				if err := json.Unmarshal(fv, &str); err != nil {
					return a, fmt.Errorf("Malformed action/metadata line [%d], expected a simple value for field [%s] but found [START_OBJECT]", line, k)
				}
				if k == "_index" {
					a.index = str
				} else {
					a.id = str
				}
			}
		}
	}
	if a.id != "" && len(a.id) > 512 {
		return a, fmt.Errorf("id [%s...] is too long, must be no longer than 512 bytes", a.id[:16])
	}
	return a, nil
}

// apply runs one action and returns its response item.
func (s *Server) apply(a action) ([]byte, bool) {
	s.stats.Items++
	f := &s.faults
	switch {
	case f.Item429 > 0 && s.rnd.Float64() < f.Item429:
		s.stats.Injected++
		return itemError(a, a.index, 429, "es_rejected_execution_exception", "rejected execution of coordinating operation [injected]"), true
	case f.Item500 > 0 && s.rnd.Float64() < f.Item500:
		s.stats.Injected++
		return itemError(a, a.index, 500, "internal_server_error", "injected fault"), true
	case f.Item400 > 0 && s.rnd.Float64() < f.Item400:
		s.stats.Injected++
		return itemError(a, a.index, 400, "document_parsing_exception", "[1:2] failed to parse field [http.response.status_code] of type [long] in document with id '"+a.id+"'. Preview of field's value: 'injected'"), true
	}
	idx, errItem := s.writeIndex(a)
	if errItem != nil {
		return errItem, true
	}
	if a.op == "delete" {
		if _, ok := idx.docs[a.id]; !ok {
			return item(a, idx.name, 404, "not_found", 0), false
		}
		delete(idx.docs, a.id)
		return item(a, idx.name, 200, "deleted", 0), false
	}
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(a.src))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil || doc == nil || dec.More() {
		return itemError(a, idx.name, 400, "document_parsing_exception", fmt.Sprintf("[1:1] failed to parse: %v", err)), true
	}
	if a.op == "update" {
		return itemError(a, idx.name, 400, "illegal_argument_exception", "update is not supported by estest"), true
	}
	if idx.dataStream != "" {
		if _, ok := doc["@timestamp"]; !ok {
			return itemError(a, idx.name, 400, "document_parsing_exception", "[1:1] failed to parse: data stream timestamp field [@timestamp] is missing"), true
		}
	}
	if msg := idx.check(doc, a.id); msg != "" {
		return itemError(a, idx.name, 400, "document_parsing_exception", msg), true
	}
	if a.id == "" {
		s.seq++
		a.id = fmt.Sprintf("auto-%d", s.seq)
	}
	if _, ok := idx.docs[a.id]; ok {
		if a.op == "create" {
			s.stats.Conflicts++
			return itemErrorIn(a, idx.name, 409, "version_conflict_engine_exception", "["+a.id+"]: version conflict, document already exists (current version [1])"), true
		}
		s.store(idx, a)
		return item(a, idx.name, 200, "updated", 2), false
	}
	s.store(idx, a)
	s.stats.Created++
	return item(a, idx.name, 201, "created", 1), false
}

func (s *Server) store(idx *index, a action) {
	var src []byte
	if s.keep {
		src = bytes.Clone(a.src)
	}
	idx.docs[a.id] = src
	s.seq++
}

// writeIndex resolves the target of a write, creating an index or data
// stream from a matching template when needed.
func (s *Server) writeIndex(a action) (*index, []byte) {
	name := a.index
	if ds, ok := s.streams[name]; ok {
		if a.op != "create" {
			return nil, itemError(a, name, 400, "illegal_argument_exception", "only write ops with an op_type of create are allowed in data streams")
		}
		return s.indices[ds.backing[len(ds.backing)-1]], nil
	}
	if members, ok := s.aliases[name]; ok {
		if len(members) != 1 {
			return nil, itemError(a, name, 400, "illegal_argument_exception", "no write index is defined for alias ["+name+"]. The write index may be explicitly disabled using is_write_index=false or the alias points to multiple indices without one being designated as a write index")
		}
		return s.indices[members[0]], nil
	}
	if idx, ok := s.indices[name]; ok {
		return idx, nil
	}
	if strings.HasPrefix(name, "_") || strings.HasPrefix(name, "-") || strings.ToLower(name) != name || strings.ContainsAny(name, ` "*\<|,>/?`) {
		return nil, itemError(a, name, 400, "invalid_index_name_exception", "Invalid index name ["+name+"], must be lowercase, must not start with '_', '-', and must not contain [ , \", *, \\, <, |, ,, >, /, ?]")
	}
	tn, t := s.templateFor(name)
	if t != nil && t.DataStream != nil {
		if a.op != "create" {
			return nil, itemError(a, name, 400, "illegal_argument_exception", "only write ops with an op_type of create are allowed in data streams")
		}
		_ = s.createStream(name)
		ds := s.streams[name]
		return s.indices[ds.backing[len(ds.backing)-1]], nil
	}
	idx := s.newIndex(name, tn, t)
	if t != nil {
		for al := range t.Template.Aliases {
			s.aliases[al] = append(s.aliases[al], name)
		}
	}
	return idx, nil
}

func (s *Server) templateFor(name string) (string, *Template) {
	var best *Template
	bestName := ""
	names := make([]string, 0, len(s.templates))
	for n := range s.templates {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := s.templates[n]
		for _, p := range t.IndexPatterns {
			if match(p, name) && (best == nil || t.Priority > best.Priority) {
				best, bestName = t, n
			}
		}
	}
	return bestName, best
}

func (s *Server) newIndex(name, _ string, t *Template) *index {
	idx := &index{name: name, docs: map[string][]byte{}, types: map[string]string{}}
	if t != nil {
		idx.settings = t.Template.Settings
		if t.Template.Mappings != nil {
			flattenMapping("", t.Template.Mappings.Properties, idx.types)
		}
	}
	s.indices[name] = idx
	return idx
}

// createStream creates data stream name from its template; s.mu is held.
func (s *Server) createStream(name string) error {
	if _, ok := s.streams[name]; ok {
		return fmt.Errorf("data_stream [%s] already exists", name)
	}
	tn, t := s.templateFor(name)
	if t == nil || t.DataStream == nil {
		return fmt.Errorf("no matching index template with a data stream found for [%s]", name)
	}
	ds := &dataStream{name: name, template: tn}
	s.streams[name] = ds
	s.rollover(ds, t)
	return nil
}

func (s *Server) rollover(ds *dataStream, t *Template) string {
	ds.generation++
	bn := fmt.Sprintf(".ds-%s-%s-%06d", ds.name, time.Now().UTC().Format("2006.01.02"), ds.generation)
	idx := s.newIndex(bn, ds.template, t)
	idx.dataStream = ds.name
	ds.backing = append(ds.backing, bn)
	return bn
}

// Rollover rolls data stream name over to a new backing index, as ILM or
// POST /<stream>/_rollover does, and returns the old and new write indices.
func (s *Server) Rollover(name string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ds, ok := s.streams[name]
	if !ok {
		return "", "", fmt.Errorf("rollover target [%s] does not exist", name)
	}
	old := ds.backing[len(ds.backing)-1]
	t := s.templates[ds.template]
	return old, s.rollover(ds, t), nil
}

func flattenMapping(prefix string, props map[string]property, out map[string]string) {
	for k, p := range props {
		full := k
		if prefix != "" {
			full = prefix + "." + k
		}
		if len(p.Properties) > 0 || p.Type == "object" || p.Type == "" {
			out[full] = "object"
			flattenMapping(full, p.Properties, out)
			continue
		}
		out[full] = p.Type
	}
}

// check validates doc against the index's mapping (explicit, then
// dynamic: the first value of a field fixes its type), as Elasticsearch
// does, and returns a document_parsing_exception reason or "".
func (idx *index) check(doc map[string]any, id string) string {
	return idx.checkObject("", doc, id)
}

func (idx *index) checkObject(prefix string, obj map[string]any, id string) string {
	for k, v := range obj {
		full := k
		if prefix != "" {
			full = prefix + "." + k
		}
		typ, mapped := idx.types[full]
		if m, ok := v.(map[string]any); ok {
			if mapped && typ != "object" && typ != "flattened" {
				return fmt.Sprintf("[1:2] failed to parse field [%s] of type [%s] in document with id '%s'. Preview of field's value: '{...}'", full, typ, id)
			}
			if typ == "flattened" {
				continue
			}
			if !mapped {
				idx.types[full] = "object"
			}
			if msg := idx.checkObject(full, m, id); msg != "" {
				return msg
			}
			continue
		}
		if mapped && typ == "object" {
			return fmt.Sprintf("object mapping for [%s] tried to parse field [%s] as object, but found a concrete value", full, k)
		}
		if v == nil {
			continue
		}
		if !mapped {
			idx.types[full] = dynamicType(v)
			continue
		}
		if !valueFits(typ, v) {
			return fmt.Sprintf("[1:2] failed to parse field [%s] of type [%s] in document with id '%s'. Preview of field's value: '%v'", full, typ, id, v)
		}
	}
	return ""
}

func dynamicType(v any) string {
	switch x := v.(type) {
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return "long"
		}
		return "float"
	case bool:
		return "boolean"
	case string:
		if _, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return "date"
		}
		return "text"
	}
	return "text"
}

func valueFits(typ string, v any) bool {
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			if !valueFits(typ, e) {
				return false
			}
		}
		return true
	}
	switch typ {
	case "long", "integer", "short", "byte":
		switch x := v.(type) {
		case json.Number:
			_, err := strconv.ParseInt(string(x), 10, 64)
			return err == nil
		case string:
			_, err := strconv.ParseInt(x, 10, 64)
			return err == nil
		}
		return false
	case "float", "double", "half_float", "scaled_float":
		switch x := v.(type) {
		case json.Number:
			return true
		case string:
			_, err := strconv.ParseFloat(x, 64)
			return err == nil
		}
		return false
	case "ip":
		x, ok := v.(string)
		if !ok {
			return false
		}
		_, err := netip.ParseAddr(x)
		return err == nil
	case "date", "date_nanos":
		switch x := v.(type) {
		case json.Number:
			_, err := x.Int64()
			return err == nil
		case string:
			_, err := time.Parse(time.RFC3339Nano, x)
			return err == nil
		}
		return false
	case "boolean":
		switch x := v.(type) {
		case bool:
			return true
		case string:
			return x == "true" || x == "false"
		}
		return false
	case "text", "keyword", "match_only_text", "wildcard", "constant_keyword":
		switch v.(type) {
		case string, json.Number, bool:
			return true
		}
		return false
	}
	return true
}

func item(a action, idx string, status int, result string, version int) []byte {
	op := a.op
	b, _ := json.Marshal(map[string]any{op: map[string]any{
		"_index": idx, "_id": a.id, "_version": version, "result": result,
		"_shards": map[string]int{"total": 2, "successful": 1, "failed": 0},
		"_seq_no": 0, "_primary_term": 1, "status": status,
	}})
	return b
}

func itemError(a action, idx string, status int, typ, reason string) []byte {
	b, _ := json.Marshal(map[string]any{a.op: map[string]any{
		"_index": idx, "_id": a.id, "status": status,
		"error": map[string]any{"type": typ, "reason": reason},
	}})
	return b
}

func itemErrorIn(a action, idx string, status int, typ, reason string) []byte {
	b, _ := json.Marshal(map[string]any{a.op: map[string]any{
		"_index": idx, "_id": a.id, "status": status,
		"error": map[string]any{"type": typ, "reason": reason, "index_uuid": "estest", "shard": "0", "index": idx},
	}})
	return b
}

func errorBody(typ, reason string) []byte {
	status := 400
	b, _ := json.Marshal(map[string]any{
		"error": map[string]any{
			"root_cause": []any{map[string]any{"type": typ, "reason": reason}},
			"type":       typ, "reason": reason,
		},
		"status": status,
	})
	return b
}

func writeError(w http.ResponseWriter, status int, typ, reason string) {
	b, _ := json.Marshal(map[string]any{
		"error": map[string]any{
			"root_cause": []any{map[string]any{"type": typ, "reason": reason}},
			"type":       typ, "reason": reason,
		},
		"status": status,
	})
	writeRaw(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func drain(r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }

// reset closes the client connection without an answer.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	c, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // RST rather than FIN
	}
	_ = c.Close()
}

// resolve returns the concrete indices behind a name: an index, an alias,
// a data stream or a pattern with '*'.
func (s *Server) resolve(name string) []*index {
	var out []*index
	seen := map[string]bool{}
	add := func(n string) {
		if idx, ok := s.indices[n]; ok && !seen[n] {
			seen[n] = true
			out = append(out, idx)
		}
	}
	for _, n := range strings.Split(name, ",") {
		if ds, ok := s.streams[n]; ok {
			for _, b := range ds.backing {
				add(b)
			}
			continue
		}
		if m, ok := s.aliases[n]; ok {
			for _, b := range m {
				add(b)
			}
			continue
		}
		if strings.Contains(n, "*") {
			names := make([]string, 0, len(s.indices))
			for k := range s.indices {
				names = append(names, k)
			}
			sort.Strings(names)
			for _, k := range names {
				if match(n, k) {
					add(k)
				}
			}
			continue
		}
		add(n)
	}
	return out
}

// Count returns the number of documents behind name (index, alias, data
// stream or pattern).
func (s *Server) Count(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, idx := range s.resolve(name) {
		n += len(idx.docs)
	}
	return n
}

// IDs returns how many times each _id is stored behind name: more than
// once means the same document is in several indices (a duplicate as a
// reader sees it).
func (s *Server) IDs(name string) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := map[string]int{}
	for _, idx := range s.resolve(name) {
		for id := range idx.docs {
			ids[id]++
		}
	}
	return ids
}

// Doc is a stored document.
type Doc struct {
	Index  string
	ID     string
	Source []byte
}

// Docs returns the documents behind name, sorted by index and id.
func (s *Server) Docs(name string) []Doc {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Doc
	for _, idx := range s.resolve(name) {
		for id, src := range idx.docs {
			out = append(out, Doc{Index: idx.name, ID: id, Source: src})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Index != out[j].Index {
			return out[i].Index < out[j].Index
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Indices returns the names of all concrete indices.
func (s *Server) Indices() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n := range s.indices {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Aliases returns the indices of an alias.
func (s *Server) Aliases(name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(slices.Values(s.aliases[name]))
}

// DataStream returns the backing indices of a data stream.
func (s *Server) DataStream(name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ds, ok := s.streams[name]
	if !ok {
		return nil
	}
	return slices.Clone(ds.backing)
}
