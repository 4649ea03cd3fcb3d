package accesslog

// LayoutOf opens the decoder's layout of e to the external tests: its id
// (0 when the decoder read the line without a template), whether it
// describes line, and its literal pieces and values in order.
func LayoutOf(e *Event, line []byte) (id uint64, describes bool, literals, values [][]byte) {
	l := &e.layout
	if l.id() == 0 {
		return 0, false, nil, nil
	}
	for k := range l.values() {
		literals = append(literals, l.literal(k))
		values = append(values, l.value(k))
	}
	literals = append(literals, l.literal(l.values()))
	return l.id(), l.of(e.Raw) && l.of(line), literals, values
}
