package accesslog

import (
	"math/bits"
	"sync/atomic"
	"unsafe"
)

// Line templates: the fastest path of the Envoy and Kong decoders.
//
// A gateway writes every line with the same keys, in the same order and
// nesting; only the values change. A template is such a layout, learned
// from a line the structured path (scanObject, keyID, the typed readers)
// read: the exact bytes between one value and the next (keys, colons,
// commas, brackets, white space), each value's field id, and how the
// structured path read the value. scanTemplate then reads a line as
// "these bytes, a value, these bytes, a value, ..., these final bytes":
// the bytes are compared eight at a time, the values read as scanObject
// reads them. For Kong this removes the per-object work (one call per
// nested object, one per key that is not the cached one) that is most of
// a Kong line's cost.
//
// A line that matches a template is read exactly as the structured path
// reads it: the bytes outside the values are those of a line the
// structured path accepted, so the keys, their nesting and the field ids
// are the same, and each value is read by the same rules (a value the
// template path cannot read, or whose kind differs from the learned one
// where that matters, is a miss). On a miss the line is read again by the
// structured path, which also learns its template. Two templates are
// kept, the most recently used first, so that lines alternating between
// two layouts (Kong's consumer object, present only when the request was
// authenticated) stay on this path.

// Sizes of a template; maxTmplEntries fits a ValueSet.
const (
	maxTmplEntries = 96
	tmplBytes      = 2048
)

// Kinds of a template entry: how the structured path read the value.
const (
	// teValue: a string, number, null or boolean, stored by field id.
	teValue = iota
	// teSkipAny: the value of a key the decoder does not read, skipped.
	teSkipAny
	// teSkipNested: an object or array where the decoder reads a
	// scalar: skipped, stored as fvOther.
	teSkipNested
	// teSkipScalar: not an object (or array, see not) where the decoder
	// descends into one: skipped.
	teSkipScalar
)

// tmplEntry is one value of a template: the bytes before it (lit, whose
// id is the value's field id) and how to read it.
type tmplEntry struct {
	lit  keyEntry
	kind uint8
	not  byte // teSkipScalar: the byte the value must not start with
}

// template is one learned line layout.
type template struct {
	ok    bool
	n     int // entries
	e     [maxTmplEntries]tmplEntry
	final keyEntry // the bytes after the last value, to the line's end
	// finalWord is the last 8 bytes of a line with this layout, masked by
	// finalMask to the final bytes (when there are at most 8 of them).
	finalWord, finalMask uint64
	gen                  uint64 // tmplGen when learned: names the literal bytes
	text                 [tmplBytes + 8]byte
}

// tmplRec records, while the structured path reads a line, where each
// value starts and ends.
type tmplRec struct {
	ok bool
	n  int
	e  [maxTmplEntries]recEntry
}

type recEntry struct {
	start, end int
	id, kind   uint8
	not        byte
}

func (r *tmplRec) reset() { r.ok, r.n = true, 0 }

// add records a value at line[start:end].
func (r *tmplRec) add(start, end, id int, kind uint8, not byte) {
	if r.n >= maxTmplEntries {
		r.ok = false
		return
	}
	r.e[r.n] = recEntry{start: start, end: end, id: uint8(id), kind: kind, not: not}
	r.n++
}

// templates are a decoder's two most recent line layouts.
type templates struct {
	t   [2]template
	cur int // t[cur] is the most recently used
	cp  int // leading entries t[0] and t[1] have in common
	rec tmplRec
	// matched is the template of the last line read (by scan, or learned
	// from it), nil when none describes it; at[k] is where that line's
	// entry k (its bytes before the value) starts, at[matched.n] where
	// its final bytes start.
	matched *template
	at      [maxTmplEntries + 1]int32
}

// scan reads the line in s with the templates into f. When it returns
// false neither template matched; f and the scratch buffer may hold
// values of a partial match, and the caller starts over with the
// structured path.
func (ts *templates) scan(s *jsonScanner, f *fieldVals) bool {
	ts.matched = nil
	t := &ts.t[ts.cur]
	if !t.ok {
		return false
	}
	k, pos, ok := s.scanTemplate(t, 0, 0, f, &ts.at)
	if ok {
		ts.matched = t
		return true
	}
	other := &ts.t[ts.cur^1]
	if !other.ok {
		return false
	}
	if k > ts.cp {
		// The templates part before the miss: start over.
		f.reset(f.line, f.scratch)
		*s.scratch = (*s.scratch)[:0]
		k, pos = 0, 0
	}
	// Entries before k are the same in both templates, and so are their
	// offsets in at.
	if _, _, ok = s.scanTemplate(other, k, pos, f, &ts.at); ok {
		ts.cur ^= 1
		ts.matched = other
	}
	return ok
}

// learn makes the layout the structured path recorded for line the most
// recently used template, replacing the older one.
func (ts *templates) learn(line []byte) {
	ts.matched = nil
	r := &ts.rec
	if !r.ok {
		return
	}
	t := &ts.t[ts.cur^1]
	if !t.learn(r, line) {
		return
	}
	ts.cur ^= 1
	ts.matched = t
	prev := 0
	for k := 0; k < r.n; k++ {
		ts.at[k] = int32(prev)
		prev = r.e[k].end
	}
	ts.at[r.n] = int32(prev)
	a, b := &ts.t[0], &ts.t[1]
	ts.cp = 0
	if !a.ok || !b.ok {
		return
	}
	for ts.cp < a.n && ts.cp < b.n {
		ea, eb := &a.e[ts.cp], &b.e[ts.cp]
		if ea.kind != eb.kind || ea.not != eb.not || ea.lit.id != eb.lit.id || ea.lit.n != eb.lit.n ||
			string(a.text[ea.lit.start:ea.lit.start+ea.lit.n]) != string(b.text[eb.lit.start:eb.lit.start+eb.lit.n]) {
			break
		}
		ts.cp++
	}
}

// learn builds t from the values r recorded in line; false when the
// layout does not fit.
func (t *template) learn(r *tmplRec, line []byte) bool {
	t.ok = false
	off, prev := 0, 0
	for k := 0; k < r.n; k++ {
		re := &r.e[k]
		n := re.start - prev
		if n < 0 || n > 255 || off+n > tmplBytes || re.end < re.start || re.end > len(line) {
			return false
		}
		copy(t.text[off:], line[prev:re.start])
		t.e[k] = tmplEntry{lit: newLitEntry(t.text[:], off, n), kind: re.kind, not: re.not}
		t.e[k].lit.id = re.id
		off += n
		prev = re.end
	}
	n := len(line) - prev
	if n <= 0 || n > 255 || off+n > tmplBytes {
		return false
	}
	copy(t.text[off:], line[prev:])
	t.final = newLitEntry(t.text[:], off, n)
	t.finalMask = 0
	if n <= 8 && len(line) >= 8 {
		t.finalMask = ^uint64(0)
		if littleEndian {
			t.finalMask <<= 8 * (8 - n)
		} else {
			t.finalMask >>= 8 * (8 - n)
		}
		t.finalWord = load64(line, len(line)-8) & t.finalMask
	}
	t.n = r.n
	t.ok = true
	t.gen = tmplGen.Add(1)
	return true
}

// tmplGen numbers the templates learned (by all decoders), so that a
// A lineLayout's id names one set of literal bytes.
var tmplGen atomic.Uint64

// litAt reports whether buf[pos:] starts with the bytes of e (in text),
// where the word comparisons cannot be used.
func litAt(buf []byte, pos int, e *keyEntry, text []byte) bool {
	n := int(e.n)
	return pos+n <= len(buf) && string(buf[pos:pos+n]) == string(text[e.start:int(e.start)+n])
}

// Where tmplFast stopped.
const (
	tfEnd  = iota // after the last entry
	tfMiss        // the line does not match
	tfLit         // entry k's bytes are within 8 bytes of the line's end
	tfVal         // entry k's bytes matched; its value is for the slow step
)

// scanTemplate reads the line in s as t from entry k at offset pos, into
// f. It returns true when the whole line matched; else the entry and
// offset where it stopped (the entries before k were read and stored).
// tmplFast does the common work without calls; this loop does the rest.
func (s *jsonScanner) scanTemplate(t *template, k, pos int, f *fieldVals, at *[maxTmplEntries + 1]int32) (int, int, bool) {
	buf := s.buf
	for {
		var st int
		var p int
		k, pos, p, st = s.tmplFast(t, k, pos, f, at)
		switch st {
		case tfMiss:
			return k, pos, false
		case tfEnd:
			e := &t.final
			if pos+int(e.n) != len(buf) {
				return k, pos, false
			}
			if t.finalMask != 0 && len(buf) >= 8 {
				if load64(buf, len(buf)-8)&t.finalMask != t.finalWord {
					return k, pos, false
				}
			} else if !litAt(buf, pos, e, t.text[:]) {
				return k, pos, false
			}
			s.pos = len(buf)
			at[k] = int32(pos)
			return k, pos, true
		case tfLit:
			e := &t.e[k].lit
			if !litAt(buf, pos, e, t.text[:]) {
				return k, pos, false
			}
			p = pos + int(e.n)
		}
		// The value of entry k at p.
		te := &t.e[k]
		if p >= len(buf) {
			return k, pos, false
		}
		c := buf[p]
		s.pos = p
		id := int(te.lit.id)
		var err error
		switch te.kind {
		case teValue:
			if c == '{' || c == '[' {
				return k, pos, false
			}
			err = s.readValue(id, f)
		case teSkipNested:
			if c != '{' && c != '[' {
				return k, pos, false
			}
			err = s.readValue(id, f) // fvOther
		case teSkipScalar:
			if c == te.not {
				return k, pos, false
			}
			err = s.skip()
		default: // teSkipAny
			err = s.skip()
		}
		if err != nil {
			return k, pos, false
		}
		pos = s.pos
		k++
	}
}

// tmplFast is scanTemplate's loop: it compares the bytes of each entry
// and reads its value when it is a string (with no escapes but \/, \\
// and \"), a number, null or a boolean (also for teSkipAny entries, whose
// id is 0). It stops at the end of the
// entries, at a miss (k and pos: the entry and where its bytes should
// be), or where the slow step is needed (tfLit, tfVal: p is the value's
// offset).
func (s *jsonScanner) tmplFast(t *template, k, pos int, f *fieldVals, at *[maxTmplEntries + 1]int32) (_, _, p, st int) {
	buf := s.buf
	for ; k < t.n && k < maxTmplEntries; k++ {
		te := &t.e[k]
		e := &te.lit
		at[k] = int32(pos)
		if pos+max(8, int(e.n)) > len(buf) {
			return k, pos, 0, tfLit
		}
		if (load64(buf, pos)&e.hmask^e.head)|(load64(buf, pos+int(e.moff))&e.mmask^e.mid)|(load64(buf, pos+int(e.toff))&e.tmask^e.tail) != 0 {
			return k, pos, 0, tfMiss
		}
		if e.n > 24 {
			for j := 16; j < int(e.toff); j += 8 {
				if load64(buf, pos+j) != load64(t.text[:], int(e.start)+j) {
					return k, pos, 0, tfMiss
				}
			}
		}
		p := pos + int(e.n)
		// A skipped value (teSkipAny, id 0) is read like a stored one,
		// into the slot no one reads, when it is a scalar.
		if p >= len(buf) || te.kind > teSkipAny {
			return k, pos, p, tfVal
		}
		id := e.id % maxFieldIDs
		v := &f.val[id]
		base := unsafe.Pointer(unsafe.SliceData(buf))
		switch c := buf[p]; {
		case c == '"':
			j := p + 1
			if littleEndian {
				for ; j+8 <= len(buf); j += 8 {
					if m := swarQuoteOrBackslash(load64(buf, j)); m != 0 {
						j += bits.TrailingZeros64(m) >> 3
						goto quote
					}
				}
			}
			for ; j < len(buf) && buf[j] != '"' && buf[j] != '\\'; j++ {
			}
		quote:
			if j < len(buf) && buf[j] == '"' {
				v.start, v.te = p+1, j
				pos = j + 1
				f.kind[id] = fvStrAt
			} else {
				// unescapeSimple, inlined by hand (the loop stays free
				// of calls): \/, \\ and \" into the scratch buffer.
				sc := s.scratch
				sbase := len(*sc)
				if !littleEndian || j+8 > len(buf) || cap(*sc)-sbase < len(buf)-p+8 {
					return k, pos, p, tfVal
				}
				dst := unsafe.Pointer(unsafe.SliceData(*sc))
				// Before the first backslash, 8 bytes at a time: the
				// loads end before j+8 <= len(buf), the stores within
				// the room checked.
				for i := p + 1; i < j; i += 8 {
					*(*uint64)(unsafe.Add(dst, sbase+i-p-1)) = load64(buf, i)
				}
				w := sbase + j - p - 1
				for {
					// buf[j] is a backslash, and j+8 <= len(buf).
					if c := buf[j+1]; c == '/' || c == '\\' || c == '"' {
						*(*byte)(unsafe.Add(dst, w)) = c
						w++
						j += 2
					} else {
						return k, pos, p, tfVal
					}
					for {
						if j+8 > len(buf) {
							return k, pos, p, tfVal
						}
						x := load64(buf, j)
						*(*uint64)(unsafe.Add(dst, w)) = x
						if m := swarQuoteOrBackslash(x); m != 0 {
							i := bits.TrailingZeros64(m) >> 3
							j += i
							w += i
							break
						}
						j += 8
						w += 8
					}
					if buf[j] == '"' {
						break
					}
				}
				*sc = (*sc)[:w]
				v.start, v.te = sbase, w
				pos = j + 1
				f.kind[id] = fvStr
			}
		case c-'0' <= 9 || c == '-':
			j := p
			if c == '-' {
				j++
			}
			digits := j
			end := min(len(buf), digits+18)
			var n int64
			for ; j < end; j++ {
				d := buf[j] - '0'
				if d > 9 {
					break
				}
				n = n*10 + int64(d)
			}
			if j > digits && (j >= len(buf) || !numChar[buf[j]]) {
				if c == '-' {
					n = -n
				}
				v.n = n
				f.kind[id] = fvInt
			} else {
				// As number() reads it: the run of number bytes.
				for j = digits; j < len(buf) && numChar[buf[j]]; j++ {
				}
				if j == digits {
					return k, pos, 0, tfMiss
				}
				f.kind[id] = fvNum
			}
			v.start, v.te = p, j
			pos = j
		case c == 'n' && p+4 <= len(buf) && *(*[4]byte)(unsafe.Add(base, p)) == [4]byte{'n', 'u', 'l', 'l'}:
			pos = p + 4
			f.kind[id] = fvNull
		case c == 't' && p+4 <= len(buf) && *(*[4]byte)(unsafe.Add(base, p)) == [4]byte{'t', 'r', 'u', 'e'}:
			v.start, v.te = p, p+4
			pos = p + 4
			f.kind[id] = fvBool
		case c == 'f' && p+5 <= len(buf) && *(*[5]byte)(unsafe.Add(base, p)) == [5]byte{'f', 'a', 'l', 's', 'e'}:
			v.start, v.te = p, p+5
			pos = p + 5
			f.kind[id] = fvBool
		default:
			return k, pos, p, tfVal // an object or array: the slow step
		}
		v.end = pos
	}
	return k, pos, 0, tfEnd
}
