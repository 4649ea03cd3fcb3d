package accesslog

import "unsafe"

// Layout is how a JSON line is laid out, as the Envoy and Kong decoders
// read it with a line template: Len()+1 literal pieces (the keys, colons,
// commas and braces, the same bytes for every line with the same ID)
// alternating with Len() values:
//
//	Literal(0) Value(0) Literal(1) Value(1) ... Value(Len()-1) Literal(Len())
//
// Together they are the whole line. A consumer that transforms lines
// byte by byte (the shipper, which escapes each line into a JSON string)
// can transform the literal pieces once per ID and only the values per
// line.
//
// A Layout points into its decoder's state: it is valid until the
// decoder's next Decode. The zero Layout describes no line.
type Layout struct {
	ts   *templates
	line []byte
}

// layout returns the Layout of line, just read by scan or learned from
// by learn; the zero Layout when no template describes it.
func (ts *templates) layout(line []byte) Layout {
	if ts.matched == nil {
		return Layout{}
	}
	return Layout{ts: ts, line: line}
}

// Of reports whether l describes line: the same bytes in memory, which
// must not have changed since they were decoded.
func (l *Layout) Of(line []byte) bool {
	return l.ts != nil && l.ts.matched != nil && len(l.line) == len(line) && len(line) > 0 &&
		unsafe.SliceData(l.line) == unsafe.SliceData(line)
}

// ID identifies the literal pieces: two Layouts with the same ID have the
// same Len and the same Literal bytes. It is 0 for the zero Layout.
func (l *Layout) ID() uint64 {
	if l.ts == nil || l.ts.matched == nil {
		return 0
	}
	return l.ts.matched.gen
}

// Len is the number of values.
func (l *Layout) Len() int {
	if l.ts == nil || l.ts.matched == nil {
		return 0
	}
	return l.ts.matched.n
}

// Literal returns literal piece k, 0 <= k <= Len(): the bytes before
// value k, or after the last value for k == Len().
func (l *Layout) Literal(k int) []byte {
	t := l.ts.matched
	e := &t.final
	if k < t.n {
		e = &t.e[k].lit
	}
	return t.text[e.start : int(e.start)+int(e.n) : int(e.start)+int(e.n)]
}

// Pieces returns where each literal piece starts in the line: piece k is
// line[Pieces()[k]:][:len(Literal(k))] and value k runs from its end to
// Pieces()[k+1]. The slice has Len()+1 entries and must not be changed.
func (l *Layout) Pieces() []int32 {
	return l.ts.at[:l.ts.matched.n+1]
}

// Value returns value k, 0 <= k < Len(), as it is in the line: a JSON
// string with its quotes, a number, literal, object or array.
func (l *Layout) Value(k int) []byte {
	t := l.ts.matched
	start := int(l.ts.at[k]) + int(t.e[k].lit.n)
	return l.line[start:l.ts.at[k+1]]
}
