package tail

// tracker records acknowledged [off, end) ranges of one file and keeps the
// end of the contiguously acknowledged prefix (mark). Ranges acknowledged
// ahead of mark wait in pending, keyed by their start, until the gap before
// them closes; their number is bounded by the lines a consumer holds in
// flight.
type tracker struct {
	mark    int64
	pending map[int64]int64
}

func (t *tracker) ack(off, end int64) {
	switch {
	case end <= t.mark:
		return // already covered (a duplicate acknowledgement)
	case off <= t.mark:
		t.mark = end
	default:
		if t.pending == nil {
			t.pending = make(map[int64]int64)
		}
		if e, ok := t.pending[off]; !ok || e < end {
			t.pending[off] = end
		}
		return
	}
	for len(t.pending) > 0 {
		e, ok := t.pending[t.mark]
		if !ok {
			break
		}
		delete(t.pending, t.mark)
		t.mark = e
	}
}

// reset starts the tracker over at off, dropping pending ranges.
func (t *tracker) reset(off int64) {
	t.mark = off
	clear(t.pending)
}
