package accesslog

import "unsafe"

// lineLayout is how a JSON line is laid out, as the Envoy and Kong decoders
// read it with a line template: values()+1 literal pieces (the keys, colons,
// commas and braces, the same bytes for every line with the same id)
// alternating with values() values:
//
//	literal(0) value(0) literal(1) value(1) ... value(values()-1) literal(values())
//
// Together they are the whole line. A consumer that transforms lines
// byte by byte (messageEscaper, which escapes each line into a JSON
// string) can transform the literal pieces once per id and only the
// values per line. It stays inside the package: the shipper reaches it
// through Redactor.AppendRedactedJSON.
//
// A lineLayout points into its decoder's state: it is valid until the
// decoder's next Decode. The zero lineLayout describes no line.
type lineLayout struct {
	ts   *templates
	line []byte
}

// layout returns the lineLayout of line, just read by scan or learned from
// by learn; the zero lineLayout when no template describes it.
func (ts *templates) layout(line []byte) lineLayout {
	if ts.matched == nil {
		return lineLayout{}
	}
	return lineLayout{ts: ts, line: line}
}

// of reports whether l describes line: the same bytes in memory, which
// must not have changed since they were decoded.
func (l *lineLayout) of(line []byte) bool {
	return l.ts != nil && l.ts.matched != nil && len(l.line) == len(line) && len(line) > 0 &&
		unsafe.SliceData(l.line) == unsafe.SliceData(line)
}

// id identifies the literal pieces: two lineLayouts with the same id have the
// same values() and the same literal bytes. It is 0 for the zero lineLayout.
func (l *lineLayout) id() uint64 {
	if l.ts == nil || l.ts.matched == nil {
		return 0
	}
	return l.ts.matched.gen
}

// values is the number of values.
func (l *lineLayout) values() int {
	if l.ts == nil || l.ts.matched == nil {
		return 0
	}
	return l.ts.matched.n
}

// literal returns literal piece k, 0 <= k <= values(): the bytes before
// value k, or after the last value for k == values().
func (l *lineLayout) literal(k int) []byte {
	t := l.ts.matched
	e := &t.final
	if k < t.n {
		e = &t.e[k].lit
	}
	return t.text[e.start : int(e.start)+int(e.n) : int(e.start)+int(e.n)]
}

// pieces returns where each literal piece starts in the line: piece k is
// line[pieces()[k]:][:len(literal(k))] and value k runs from its end to
// pieces()[k+1]. The slice has values()+1 entries and must not be changed.
func (l *lineLayout) pieces() []int32 {
	return l.ts.at[:l.ts.matched.n+1]
}

// value returns value k, 0 <= k < values(), as it is in the line: a JSON
// string with its quotes, a number, literal, object or array.
func (l *lineLayout) value(k int) []byte {
	t := l.ts.matched
	start := int(l.ts.at[k]) + int(t.e[k].lit.n)
	return l.line[start:l.ts.at[k+1]]
}
