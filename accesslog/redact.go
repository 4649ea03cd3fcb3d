package accesslog

import (
	"bytes"
	"slices"
	"strings"
	"unsafe"

	"github.com/gatewatch/gatewatch/internal/jsonstr"
)

// Redacted replaces the value of every sensitive header, cookie and query
// parameter.
const Redacted = "REDACTED"

// DefaultRedactNames are the header, cookie and query parameter names
// redacted when the configuration names no others.
var DefaultRedactNames = []string{
	"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key",
	"apikey", "api_key", "token", "access_token", "password", "secret",
}

// Redactor removes credentials from Events and raw lines before they
// leave the pod. Names are compared without regard to case. Its API is
// two calls: RedactFields for an Event's decoded fields and
// AppendRedactedJSONString for the line itself; how they go fast (the
// decoder's line layout, the values found plain) stays inside the
// package. A Redactor keeps scratch buffers: it is not safe for
// concurrent use.
type Redactor struct {
	names   [][]byte // lower case, longest first
	anchors []anchor // how the names are looked for in a line
	// anchorOf[c] is 1 + the index of the anchor on byte c (either
	// case), escapeByte for the bytes a JSON string must escape (none is
	// a name's), 0 for the others.
	anchorOf [256]uint8
	// layouts remembers whether the literal pieces of the two most
	// recent line layouts hold a name (see scanLayout).
	layouts    [2]layoutNames
	layoutLast int
	out        []byte
	spans      []span
	// fromSecret are the extra fields (WithExtra) taken from a sensitive
	// place: redacted whatever their own name.
	fromSecret map[string]bool
	msg        messageEscaper // the literal pieces of recent layouts, escaped
	escape     valueSet       // the values of the line being appended that need escaping
}

type layoutNames struct {
	id        uint64
	holdsName bool
	pieces    int // bytes in the literal pieces
}

// maxValueBytes is the most value bytes scanLayout reads one at a time;
// a line with more (a Kong line with its headers, say) is scanned whole,
// where the vectorised passes cost less.
const maxValueBytes = 384

// anchor is one byte (in both cases) that a group of names contains: a
// line is searched for it with bytes.IndexByte, and only around its
// occurrences for the names. Each name is anchored on its rarest byte, so
// most lines are ruled out by a few vectorised scans.
type anchor struct {
	lower, upper byte
	names        []anchored
}

type anchored struct {
	name []byte
	off  int // offset of the anchor byte in name
}

type span struct {
	start, end int
	at         int  // where the name was found: orders spans that start together
	quote      bool // the replacement is a whole JSON value: "REDACTED"
}

// byteRarity ranks the bytes a name can hold from rarest to most common in
// access logs (roughly English letter frequency; digits, '-' and '_' are
// common in ids and JSON keys).
const byteRarity = "zqjxkvbwyfgpmucdlhrsniotae_0123456789-"

// NewRedactor returns a Redactor for names (headers, cookies and query
// parameters; case-insensitive). extra are the extra fields of the logs
// (WithExtra: field name → path): a field whose path passes through a
// sensitive name (request.headers.authorization) is redacted by its
// origin, whatever its own name.
func NewRedactor(names []string, extra ...map[string]string) *Redactor {
	r := &Redactor{}
	seen := map[string]bool{}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		r.names = append(r.names, []byte(n))
	}
	slices.SortFunc(r.names, func(a, b []byte) int { return len(b) - len(a) })
	for _, n := range r.names {
		// Only whole words (letters, digits, '-', '_') shorter than 64
		// bytes can match.
		if len(n) >= 64 || slices.ContainsFunc(n, func(c byte) bool { return !nameByte[c] }) {
			continue
		}
		// The rarest byte, or a fairly rare one that another name is
		// already anchored on: every anchor costs a scan of the line.
		off := 0
		for k, c := range n {
			if strings.IndexByte(byteRarity, c) < strings.IndexByte(byteRarity, n[off]) {
				off = k
			}
		}
		for k, c := range n {
			if strings.IndexByte(byteRarity[:10], c) >= 0 && slices.ContainsFunc(r.anchors, func(a anchor) bool { return a.lower == c }) {
				off = k
				break
			}
		}
		c := n[off]
		i := slices.IndexFunc(r.anchors, func(a anchor) bool { return a.lower == c })
		if i < 0 {
			up := c
			if c >= 'a' && c <= 'z' {
				up = c - ('a' - 'A')
			}
			r.anchors = append(r.anchors, anchor{lower: c, upper: up})
			i = len(r.anchors) - 1
		}
		r.anchors[i].names = append(r.anchors[i].names, anchored{name: n, off: off})
	}
	if len(r.anchors) >= escapeByte {
		r.anchors = nil // cannot happen: anchors are distinct name bytes
	}
	for c := range r.anchorOf {
		if c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			r.anchorOf[c] = escapeByte
		}
	}
	for i, a := range r.anchors {
		r.anchorOf[a.lower], r.anchorOf[a.upper] = uint8(i+1), uint8(i+1)
	}
	for _, fields := range extra {
		for name, path := range fields {
			if r.sensitivePath(path) {
				if r.fromSecret == nil {
					r.fromSecret = map[string]bool{}
				}
				r.fromSecret[name] = true
			}
		}
	}
	return r
}

// escapeByte marks in Redactor.anchorOf the bytes a JSON string must
// escape.
const escapeByte = 255

// valueSet is a set of a lineLayout's values, by index.
type valueSet [2]uint64

var _ [128 - maxTmplEntries]struct{} // a template's values fit a valueSet

// has reports whether value k is in the set.
func (s *valueSet) has(k int) bool { return s[uint(k)>>6&1]>>(uint(k)&63)&1 != 0 }

func (s *valueSet) add(k int) { s[uint(k)>>6&1] |= 1 << (uint(k) & 63) }

func (s *valueSet) addAll() {
	for i := range s {
		s[i] = ^uint64(0)
	}
}

// redact redacts ev in place: its fields (RedactFields) and ev.Raw (see
// redactLine). ev.Raw then points into the Redactor's buffer, valid until
// the next call.
func (r *Redactor) redact(ev *Event) {
	r.RedactFields(ev)
	ev.Raw = r.redactLine(ev.Raw)
}

// RedactFields replaces by REDACTED every credential in ev's decoded
// fields, in place: the values of sensitive query parameters in ev.Query
// (names compared percent-decoded, after '&' or ';'), and the extra
// fields whose name (or last dotted segment) is sensitive or whose path
// passes through a sensitive name (request.headers.authorization). It
// leaves ev.Raw as read: the line leaves the pod only through
// AppendRedactedJSONString.
func (r *Redactor) RedactFields(ev *Event) {
	if ev.Query != "" {
		ev.Query = r.redactQuery(ev.Query)
	}
	for k := range ev.Fields {
		name := k
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			name = name[i+1:]
		}
		if r.sensitive(name) || r.fromSecret[k] {
			ev.Fields[k] = Redacted
		}
	}
}

// sensitivePath reports whether an extra field's dotted path passes through
// a sensitive name (request.headers.authorization, request.querystring.token,
// request.headers.cookie): its value is a credential, or holds one.
func (r *Redactor) sensitivePath(path string) bool {
	for seg := range strings.SplitSeq(path, ".") {
		if r.sensitiveParam(seg) {
			return true
		}
	}
	return false
}

// isName reports whether w is one of the names, ignoring case.
func (r *Redactor) isName(w []byte) bool {
	for _, n := range r.names {
		if len(n) != len(w) {
			continue
		}
		eq := true
		for k, c := range w {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != n[k] {
				eq = false
				break
			}
		}
		if eq {
			return true
		}
	}
	return false
}

func (r *Redactor) sensitive(name string) bool {
	return r.isName(unsafe.Slice(unsafe.StringData(name), len(name)))
}

// redactQuery replaces the values of sensitive parameters of a raw query
// string. Parameters are separated by '&' or ';' (as the line scan does);
// a name is compared after percent-decoding (to%6Ben is token).
func (r *Redactor) redactQuery(q string) string {
	found := false
	for part := range splitQuery(q) {
		if name, _, ok := strings.Cut(part, "="); ok && r.sensitiveParam(name) {
			found = true
			break
		}
	}
	if !found {
		return q // the common case: no copy
	}
	var b strings.Builder
	rest := q
	for part := range splitQuery(q) {
		rest = rest[len(part):]
		name, _, hasValue := strings.Cut(part, "=")
		if hasValue && r.sensitiveParam(name) {
			b.WriteString(name)
			b.WriteString("=" + Redacted)
		} else {
			b.WriteString(part)
		}
		if rest != "" { // the separator
			b.WriteByte(rest[0])
			rest = rest[1:]
		}
	}
	return b.String()
}

// splitQuery yields the parameters of q between '&' and ';' separators.
func splitQuery(q string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for {
			i := strings.IndexAny(q, "&;")
			if i < 0 {
				yield(q)
				return
			}
			if !yield(q[:i]) {
				return
			}
			q = q[i+1:]
		}
	}
}

// sensitiveParam reports whether a query parameter's raw name is
// sensitive, percent-decoded.
func (r *Redactor) sensitiveParam(name string) bool {
	if strings.IndexByte(name, '%') < 0 {
		return r.sensitive(name)
	}
	d, ok := percentDecode([]byte(name))
	return ok && r.isName(d)
}

// percentDecode decodes %XX escapes; ok is false for a malformed one.
func percentDecode(b []byte) ([]byte, bool) {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '%' {
			out = append(out, b[i])
			continue
		}
		if i+2 >= len(b) || unhex(b[i+1]) < 0 || unhex(b[i+2]) < 0 {
			return nil, false
		}
		out = append(out, byte(unhex(b[i+1])<<4|unhex(b[i+2])))
		i += 2
	}
	return out, true
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// scanPercent records the values of query parameters anywhere in line
// whose names are percent-encoded (?to%6Ben=…, &api%5Fkey=…): the anchor
// scan, which compares names byte for byte, cannot see them.
func (r *Redactor) scanPercent(line []byte) {
	for i := 0; i < len(line); {
		k := bytes.IndexByte(line[i:], '%')
		if k < 0 {
			return
		}
		p := i + k
		s := p
		for s > 0 && !hasUnicodeAmp(line, s) && (isNameByte(line[s-1]) || line[s-1] == '%') {
			s--
		}
		e := p
		for e < len(line) && (isNameByte(line[e]) || line[e] == '%') {
			e++
		}
		i = e + 1
		if s == 0 || !(line[s-1] == '?' || line[s-1] == '&' || line[s-1] == ';' || hasUnicodeAmp(line, s)) ||
			e >= len(line) || line[e] != '=' {
			continue
		}
		name, ok := percentDecode(line[s:e])
		if !ok || !r.isName(name) {
			continue
		}
		v := e + 1
		ve := v
		for ve < len(line) && !queryEnd(line[ve]) {
			ve++
		}
		if ve > v && string(line[v:ve]) != Redacted {
			r.spans = append(r.spans, span{start: v, end: ve, at: s})
		}
	}
}

// redactLine returns line with credentials replaced by REDACTED, wherever
// they appear:
//
//   - JSON members named like a sensitive header or parameter, at any depth
//     and also inside a JSON string that holds JSON ("authorization":"…",
//     "set-cookie":["…"], \"token\":\"…\");
//   - query parameters anywhere in the line (?token=…, &access_token=…,
//     \u0026token=…);
//   - header text (Authorization: Bearer …, Cookie: a=b; c=d).
//
// It returns line itself when nothing is sensitive, and otherwise a slice
// of the Redactor's buffer, valid until the next call.
func (r *Redactor) redactLine(line []byte) []byte {
	if !r.scan(line) {
		return line
	}
	r.out = r.appendRedacted(r.out[:0], line, nil)
	return r.out
}

// AppendRedactedJSONString appends line to dst as a JSON string, quotes
// included, with every credential redactLine finds replaced by REDACTED
// and the rest escaped as JSON requires (invalid UTF-8 as U+FFFD), in one
// pass over the line. ev, when not nil, is the Event just decoded from
// line (the same bytes, unchanged since; ev.Raw or the line the decoder
// was given): the decoder's layout of it then lets the work be done on
// its values only. The bytes appended are the same with or without ev.
func (r *Redactor) AppendRedactedJSONString(dst, line []byte, ev *Event) []byte {
	var l *lineLayout
	if len(line) > bigLine {
		// A long line takes the plain escaper: the layout's fast path
		// reserves room for the worst case (six bytes a byte: 360 MB for a
		// 60 MB line). One allocation sized for the line and some escapes
		// replaces append's 1.25x steps.
		if cap(dst)-len(dst) < len(line)+len(line)/8 {
			dst = slices.Grow(dst, len(line)+len(line)/8+64)
		}
	} else if ev != nil && ev.layout.of(line) {
		l = &ev.layout
	}
	dst = append(dst, '"')
	switch {
	case l == nil:
		dst = r.appendLine(dst, line, appendEscapedBytes)
	case r.scanLayout(line, l, &r.escape):
		dst = r.appendScanned(dst, line, appendEscapedBytes)
	default:
		dst = r.msg.append(dst, line, l, &r.escape)
	}
	return append(dst, '"')
}

// bigLine is the line length from which AppendRedactedJSONString leaves
// the layout aside and sizes dst once.
const bigLine = 64 << 10

// appendEscapedBytes appends b escaped as the contents of a JSON string,
// in the shape appendLine takes.
func appendEscapedBytes(dst, b []byte) []byte { return jsonstr.Append(dst, bstr(b)) }

// appendLine appends line, redacted as redactLine does, to dst in one
// pass: the text between redactions and the replacements go through
// appendText (for example a JSON string escaper), with no intermediate
// copy of the line. appendText nil appends the bytes as they are.
func (r *Redactor) appendLine(dst, line []byte, appendText func(dst, text []byte) []byte) []byte {
	if appendText == nil {
		appendText = func(dst, text []byte) []byte { return append(dst, text...) }
	}
	if !r.scan(line) {
		return appendText(dst, line)
	}
	return r.appendRedacted(dst, line, appendText)
}

// appendScanned is appendLine for the line scan or scanLayout just found
// sensitive values in (the same bytes, unchanged since).
func (r *Redactor) appendScanned(dst, line []byte, appendText func(dst, text []byte) []byte) []byte {
	if appendText == nil {
		appendText = func(dst, text []byte) []byte { return append(dst, text...) }
	}
	return r.appendRedacted(dst, line, appendText)
}

var (
	redactedText   = []byte(Redacted)
	redactedQuoted = []byte(`"` + Redacted + `"`)
)

// appendRedacted appends line with the spans found by scan replaced.
func (r *Redactor) appendRedacted(dst, line []byte, appendText func(dst, text []byte) []byte) []byte {
	last := 0
	for _, s := range r.spans {
		if s.start < last { // overlaps an earlier redaction
			continue
		}
		repl := redactedText
		if s.quote {
			repl = redactedQuoted
		}
		if appendText == nil {
			dst = append(dst, line[last:s.start]...)
			dst = append(dst, repl...)
		} else {
			dst = appendText(dst, line[last:s.start])
			dst = appendText(dst, repl)
		}
		last = s.end
	}
	if appendText == nil {
		return append(dst, line[last:]...)
	}
	return appendText(dst, line[last:])
}

// scan records in r.spans, in order, the values of line to redact, and
// reports whether there are any.
//
// Names only count as whole words (a word being a run of letters, digits,
// '-' and '_'; or such a run after a JSON-escaped '&', \u0026). Rather
// than looking at every word, scan looks for each name's anchor byte with
// bytes.IndexByte and compares the name around it: a line without any
// anchor byte costs a few vectorised passes.
func (r *Redactor) scan(line []byte) bool {
	r.spans = r.spans[:0]
	if len(line) == 0 {
		return false
	}
	for ai := range r.anchors {
		a := &r.anchors[ai]
		r.scanByte(line, a, a.lower)
		if a.upper != a.lower {
			r.scanByte(line, a, a.upper)
		}
	}
	r.scanPercent(line)
	return r.sortSpans()
}

// sortSpans puts the spans found in order and reports whether there are
// any.
func (r *Redactor) sortSpans() bool {
	if len(r.spans) == 0 {
		return false
	}
	if len(r.spans) > 1 {
		slices.SortFunc(r.spans, func(a, b span) int {
			if a.start != b.start {
				return a.start - b.start
			}
			return a.at - b.at
		})
	}
	return true
}

// scanLayout is scan for a line whose layout l may know (see lineLayout):
// it finds exactly what scan finds, looking only at the line's values when
// the layout's literal pieces, the same on every line, hold no name.
//
// A name counts only as a whole word, and the bytes around a value are
// JSON punctuation or space, never part of a word: a name in a line is
// either in a literal piece or within a value. Which layouts hold a
// name is worked out once per layout; then each value is read one byte at
// a time through a table of the anchor bytes, instead of a vectorised
// pass over the whole line per anchor byte and case.
//
// The same table marks the bytes a JSON string must escape, so that one
// pass over the values also tells which of them hold one: scanLayout puts
// them in escape (a quote or backslash inside a string, a control byte, a
// byte outside ASCII; any value that is not a string and holds a quote,
// such as an object). When it looked at the whole line instead, every
// value is put in escape.
func (r *Redactor) scanLayout(line []byte, l *lineLayout, escape *valueSet) bool {
	*escape = valueSet{}
	if !l.of(line) {
		escape.addAll()
		return r.scan(line)
	}
	if info := r.layoutInfo(l); info.holdsName || len(line)-info.pieces > maxValueBytes {
		escape.addAll()
		return r.scan(line)
	}
	r.spans = r.spans[:0]
	at := l.pieces()
	t := l.ts.matched
	for k := 0; k < t.n && k+1 < len(at); k++ {
		vs, ve := int(at[k])+int(t.e[k].lit.n), int(at[k+1])
		if vs < 0 || vs > ve || ve > len(line) {
			escape.addAll()
			return r.scan(line) // cannot happen: the decoder read these values
		}
		if ve-vs >= 2 && line[vs] == '"' && line[ve-1] == '"' {
			vs, ve = vs+1, ve-1 // a string's own quotes are not looked at
		}
		for i, c := range line[vs:ve] {
			if a := r.anchorOf[c]; a != 0 {
				if a == escapeByte {
					escape.add(k)
					continue
				}
				r.matchAround(line, &r.anchors[a-1], vs+i)
			}
		}
	}
	r.scanPercent(line)
	return r.sortSpans()
}

// layoutHoldsName reports whether a name occurs anywhere in l's literal
// pieces (even as part of a word: it only decides which scan to use).
func (r *Redactor) layoutHoldsName(l *lineLayout) bool { return r.layoutInfo(l).holdsName }

// layoutInfo returns what r knows of l's literal pieces, working it out
// the first time.
func (r *Redactor) layoutInfo(l *lineLayout) *layoutNames {
	id := l.id()
	if r.layouts[r.layoutLast].id == id {
		return &r.layouts[r.layoutLast]
	}
	if r.layouts[r.layoutLast^1].id == id {
		r.layoutLast ^= 1
		return &r.layouts[r.layoutLast]
	}
	info := layoutNames{id: id}
	for k := 0; k <= l.values(); k++ {
		lit := l.literal(k)
		info.pieces += len(lit)
		for h, c := range lit {
			if a := r.anchorOf[c]; a != 0 && a != escapeByte && !info.holdsName && r.nameAt(lit, &r.anchors[a-1], h) {
				info.holdsName = true
			}
		}
	}
	r.layoutLast ^= 1
	r.layouts[r.layoutLast] = info
	return &r.layouts[r.layoutLast]
}

// nameAt reports whether one of a's names is in b around its anchor byte
// at b[h].
func (r *Redactor) nameAt(b []byte, a *anchor, h int) bool {
	for _, n := range a.names {
		p := h - n.off
		if p >= 0 && p+len(n.name) <= len(b) && equalFold(b[p:p+len(n.name)], n.name) {
			return true
		}
	}
	return false
}

// matchAround matches the names of a around the anchor byte at line[h].
func (r *Redactor) matchAround(line []byte, a *anchor, h int) {
	for _, n := range a.names {
		p := h - n.off
		if p >= 0 && p+len(n.name) <= len(line) && equalFold(line[p:p+len(n.name)], n.name) {
			r.match(line, p, p+len(n.name))
		}
	}
}

// scanByte matches the names of a around every occurrence of c in line.
func (r *Redactor) scanByte(line []byte, a *anchor, c byte) {
	for i := 0; i < len(line); {
		k := bytes.IndexByte(line[i:], c)
		if k < 0 {
			return
		}
		h := i + k
		// matchAround, inlined by hand: a call per occurrence costs 1.5%
		// of a Kong line's shipping.
		for _, n := range a.names {
			p := h - n.off
			if p >= 0 && p+len(n.name) <= len(line) && equalFold(line[p:p+len(n.name)], n.name) {
				r.match(line, p, p+len(n.name))
			}
		}
		i = h + 1
	}
}

// equalFold reports whether w equals the lower-case name n, ignoring the
// case of ASCII letters.
func equalFold(w, n []byte) bool {
	for k, c := range w {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != n[k] {
			return false
		}
	}
	return true
}

// match looks at an occurrence of a name at line[i:j] and records the
// value to redact, if the occurrence is a key, parameter or header name.
func (r *Redactor) match(line []byte, i, j int) {
	prev := byte(0)
	if i > 0 {
		prev = line[i-1]
	}
	if isNameByte(prev) && !hasUnicodeAmp(line, i) {
		return // part of a longer word
	}
	if j < len(line) && isNameByte(line[j]) {
		return
	}
	switch {
	case prev == '"' && j < len(line) && line[j] == '"':
		// A JSON member name.
		r.jsonValue(line, j+1, false, i)
	case prev == '"' && i >= 2 && line[i-2] == '\\' && j+1 < len(line) && line[j] == '\\' && line[j+1] == '"':
		// A member name of JSON held in a JSON string: \"name\":\"value\".
		r.jsonValue(line, j+2, true, i)
	case (prev == '?' || prev == '&' || prev == ';' || hasUnicodeAmp(line, i)) && j < len(line) && line[j] == '=':
		k := j + 1
		e := k
		for e < len(line) && !queryEnd(line[e]) {
			e++
		}
		if e > k && string(line[k:e]) != Redacted {
			r.spans = append(r.spans, span{start: k, end: e, at: i})
		}
	default:
		// Header text: name, optional spaces, ':' and the value up to the
		// end of the (quoted) text.
		k := j
		for k < len(line) && line[k] == ' ' {
			k++
		}
		if k >= len(line) || line[k] != ':' {
			return
		}
		k++
		for k < len(line) && (line[k] == ' ' || line[k] == '\t') {
			k++
		}
		if k < len(line) && line[k] == '"' {
			return // a JSON member with a space before ':' is handled above
		}
		e := k
		for e < len(line) && line[e] != '"' && line[e] != '\\' && line[e] != '\n' && line[e] != '\r' {
			e++
		}
		if e > k && string(line[k:e]) != Redacted {
			r.spans = append(r.spans, span{start: k, end: e, at: i})
		}
	}
}

// jsonValue records the JSON value after a member name whose closing quote
// ends just before k: spaces, ':', spaces, then a string, number, literal,
// array or object. In escaped JSON (inside a string) quotes are \".
func (r *Redactor) jsonValue(line []byte, k int, escaped bool, at int) {
	for k < len(line) && (line[k] == ' ' || line[k] == '\t') {
		k++
	}
	if k >= len(line) || line[k] != ':' {
		return
	}
	k++
	for k < len(line) && (line[k] == ' ' || line[k] == '\t') {
		k++
	}
	if k >= len(line) {
		return
	}
	if escaped {
		if k+1 < len(line) && line[k] == '\\' && line[k+1] == '"' {
			s := k + 2
			e := bytes.Index(line[s:], []byte(`\"`))
			if e < 0 {
				return
			}
			if string(line[s:s+e]) != Redacted {
				r.spans = append(r.spans, span{start: s, end: s + e, at: at})
			}
		}
		return
	}
	switch c := line[k]; c {
	case '"':
		s := k + 1
		e := s
		for e < len(line) && line[e] != '"' {
			if line[e] == '\\' {
				e++
			}
			e++
		}
		if e > len(line) {
			e = len(line)
		}
		if string(line[s:e]) != Redacted {
			r.spans = append(r.spans, span{start: s, end: e, at: at})
		}
	case '[', '{':
		e := skipComposite(line, k)
		r.spans = append(r.spans, span{start: k, end: e, at: at, quote: true})
	default:
		e := k
		for e < len(line) && line[e] != ',' && line[e] != '}' && line[e] != ']' && line[e] != ' ' {
			e++
		}
		if e > k && string(line[k:e]) != "null" {
			r.spans = append(r.spans, span{start: k, end: e, at: at, quote: true})
		}
	}
}

// skipComposite returns the end of the array or object starting at
// line[k], or the end of the line when it is cut short.
func skipComposite(line []byte, k int) int {
	depth := 0
	for i := k; i < len(line); i++ {
		switch line[i] {
		case '"':
			for i++; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' {
					i++
				}
			}
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(line)
}

func hasUnicodeAmp(line []byte, i int) bool {
	return i >= 6 && (string(line[i-6:i]) == `\u0026` || string(line[i-6:i]) == `\U0026`)
}

func queryEnd(c byte) bool {
	switch c {
	case '&', '#', '"', '\'', ' ', '\\', '<', '>', '\t', '\n', '\r', ';':
		return true
	}
	return false
}

func isNameByte(c byte) bool { return nameByte[c] }

// nameByte marks the bytes of a word: letters, digits, '-' and '_'.
var nameByte = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
	}
	return t
}()
