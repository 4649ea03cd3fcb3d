package accesslog

import (
	"encoding/binary"
	"slices"
	"unsafe"

	"github.com/gatewatch/gatewatch/internal/jsonstr"
)

// messageEscaper escapes raw lines into the JSON string of "message".
//
// A JSON log line has a quote every few bytes, most of them in its keys,
// which are the same on every line. When the decoder read the line with a
// line template (lineLayout), the literal pieces between the values
// are escaped once per layout and copied; only the values are escaped per
// line, and most of them need no escape at all.
type messageEscaper struct {
	slots [2]escapedLayout // the two most recent layouts: the decoders keep two templates
	last  int              // the slot used last
}

// escapedLayout is a layout's literal pieces, escaped: piece k is
// text[pieces[k].off:pieces[k+1].off], and pieces[k].raw bytes long in
// the line. text has a word of spare capacity so that pieces can be
// copied eight bytes at a time.
type escapedLayout struct {
	id     uint64
	text   []byte
	pieces []piece // values()+2: the last one only marks the end of text
}

type piece struct{ off, raw int32 }

// append appends raw escaped as the contents of a JSON string; l, when it
// describes raw, tells its literal pieces from its values, and the values
// not in escape (Redactor.scanLayout) need no escaping.
func (m *messageEscaper) append(dst, raw []byte, l *lineLayout, escape *valueSet) []byte {
	if !l.of(raw) {
		return jsonstr.Append(dst, bstr(raw))
	}
	id := l.id()
	if m.slots[m.last].id != id {
		m.last ^= 1
		if m.slots[m.last].id != id {
			m.slots[m.last].learn(l)
		}
	}
	el := &m.slots[m.last]
	at := l.pieces()
	n := len(at) - 1
	if !el.fits(at, len(raw)) {
		return jsonstr.Append(dst, bstr(raw)) // cannot happen: see fits
	}
	// Room for the pieces, every value escaped at worst (six bytes for
	// one), and the bytes past the end that eight-byte stores write.
	need := len(el.text) + 6*len(raw) + 16
	if cap(dst)-len(dst) < need {
		dst = slices.Grow(dst, need)
	}
	if escape[0]&escape[1] == ^uint64(0) {
		escape = nil // every value is looked at
	}
	tp := unsafe.Pointer(unsafe.SliceData(el.text))
	pp := unsafe.Pointer(unsafe.SliceData(el.pieces))
	ap := unsafe.Pointer(unsafe.SliceData(at))
	rp := unsafe.Pointer(unsafe.SliceData(raw))
	for k := 0; ; {
		buf := dst[:cap(dst)]
		var w int
		k, w = layoutRun(unsafe.Pointer(unsafe.SliceData(buf)), len(dst), tp, pp, ap, rp, k, n, escape)
		if k > n {
			return buf[:w]
		}
		// Value k needs escapes.
		vs, ve := int(at[k])+int(el.pieces[k].raw), int(at[k+1])
		dst = jsonstr.Append(buf[:w], bstr(raw[vs:ve]))
		if cap(dst)-len(dst) < need {
			dst = slices.Grow(dst, need)
		}
		k++
	}
}

// fits reports whether the layout's pieces in a line (at, from
// lineLayout.pieces) match el and lie within the line's n bytes, in
// order, so that layoutRun reads nothing outside them. Lines of one
// layout id always do; this keeps a broken layout from reading memory
// that is not the line's.
func (el *escapedLayout) fits(at []int32, n int) bool {
	if len(at) == 0 || len(el.pieces) != len(at)+1 || cap(el.text)-len(el.text) < 8 {
		return false
	}
	end := 0
	for k, a := range at {
		if int(a) < end {
			return false
		}
		end = int(a) + int(el.pieces[k].raw)
	}
	return end == n
}

// layoutRun appends the line at rp to buf (at bp, w bytes written; room
// reserved by the caller) from piece k on: each piece's escaped text from
// tp, then the value after it when it needs no escape. It stops at the
// end, returning n+1, or before a value that needs escaping, returning
// its index. pp and ap are the pieces of the escaped layout and their
// offsets in the line (see fits). Values not in escape are copied without
// looking at them (escape nil: none is). There is no call in its loop, so that its state stays
// in registers.
func layoutRun(bp unsafe.Pointer, w int, tp, pp, ap, rp unsafe.Pointer, k, n int, escape *valueSet) (int, int) {
	for ; k <= n; k++ {
		// Piece k, eight bytes at a time: the loads stay within text's
		// spare word, the stores within the room reserved.
		p := (*[2]piece)(unsafe.Add(pp, 8*k))
		a, e := int(p[0].off), int(p[1].off)
		for i := a; i < e; i += 8 {
			*(*[8]byte)(unsafe.Add(bp, w+i-a)) = *(*[8]byte)(unsafe.Add(tp, i))
		}
		w += e - a
		if k == n {
			break
		}
		// Value k is line[i:j].
		o := (*[2]int32)(unsafe.Add(ap, 4*k))
		i, j := int(o[0])+int(p[0].raw), int(o[1])
		w0 := w
		quoted := j-i >= 2 && *(*byte)(unsafe.Add(rp, i)) == '"' && *(*byte)(unsafe.Add(rp, j-1)) == '"'
		if quoted {
			// A string: its quotes, escaped, around its contents.
			*(*[2]byte)(unsafe.Add(bp, w)) = [2]byte{'\\', '"'}
			w += 2
			i++
			j--
		}
		if escape != nil && !escape.has(k) {
			// Copied as it is, eight bytes at a time.
			switch m := j - i; {
			case m >= 8:
				for ; i < j-8; i += 8 {
					*(*[8]byte)(unsafe.Add(bp, w)) = *(*[8]byte)(unsafe.Add(rp, i))
					w += 8
				}
				*(*[8]byte)(unsafe.Add(bp, w+j-8-i)) = *(*[8]byte)(unsafe.Add(rp, j-8))
				w += j - i
			case m > 0 && j >= 8:
				x := binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(rp, j-8))[:]) >> (8 * (8 - m) & 63)
				binary.LittleEndian.PutUint64((*[8]byte)(unsafe.Add(bp, w))[:], x)
				w += m
			default:
				for ; i < j; i++ {
					*(*byte)(unsafe.Add(bp, w)) = *(*byte)(unsafe.Add(rp, i))
					w++
				}
			}
			if quoted {
				*(*[2]byte)(unsafe.Add(bp, w)) = [2]byte{'\\', '"'}
				w += 2
			}
			continue
		}
		switch m := j - i; {
		case m >= 8:
			for ; i < j-8; i += 8 {
				x := binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(rp, i))[:])
				if e, _ := jsonstr.Escapes8(x); e != 0 {
					return k, w0
				}
				binary.LittleEndian.PutUint64((*[8]byte)(unsafe.Add(bp, w))[:], x)
				w += 8
			}
			// The last eight bytes, overlapping those before.
			x := binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(rp, j-8))[:])
			if e, _ := jsonstr.Escapes8(x); e != 0 {
				return k, w0
			}
			binary.LittleEndian.PutUint64((*[8]byte)(unsafe.Add(bp, w+j-8-i))[:], x)
			w += j - i
		case m > 0 && j >= 8:
			// The eight bytes that end at j, shifted so that line[i:j] is
			// at the bottom; the zeros shifted in are not checked.
			x := binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(rp, j-8))[:]) >> (8 * (8 - m) & 63)
			if e, _ := jsonstr.Escapes8(x); e&(1<<(8*m&63)-1) != 0 {
				return k, w0
			}
			binary.LittleEndian.PutUint64((*[8]byte)(unsafe.Add(bp, w))[:], x)
			w += m
		case m > 0:
			return k, w0 // near the line's start: the slow path
		}
		if quoted {
			*(*[2]byte)(unsafe.Add(bp, w)) = [2]byte{'\\', '"'}
			w += 2
		}
	}
	return n + 1, w
}

// learn escapes the literal pieces of l.
func (el *escapedLayout) learn(l *lineLayout) {
	n := l.values()
	el.text, el.pieces = el.text[:0], el.pieces[:0]
	for k := range n + 1 {
		lit := l.literal(k)
		el.pieces = append(el.pieces, piece{off: int32(len(el.text)), raw: int32(len(lit))})
		el.text = jsonstr.Append(el.text, bstr(lit))
	}
	el.pieces = append(el.pieces, piece{off: int32(len(el.text))})
	el.text = slices.Grow(el.text, 8)
	el.id = l.id()
}
