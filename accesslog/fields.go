package accesslog

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"time"
	"unsafe"
)

// The Envoy and Kong decoders read a line in two steps. The first reads
// the JSON object and stores the value of each key they know by the
// key's field id (fieldVals), without interpreting it; only malformed
// JSON is an error there. The second turns the stored values into the
// Event, in a fixed order. The first step is a line template's loop
// (template.go) when the line is laid out like a recent one; else the
// structured path (objReader): scanObject's loop checks the cached key at
// each position with a few word comparisons and reads its value in the
// same loop when it is a string without escapes, a short integer or null;
// everything else goes through keyID and readValue, which read exactly
// what that loop would have read.

// maxFieldIDs bounds the field ids of one decoder (id 0 is for keys the
// decoder does not read).
const maxFieldIDs = 128

// Kinds of a stored value, ordered so that every kind from fvStr on has
// a text.
const (
	// fvAbsent: the key was not on the line.
	fvAbsent = iota
	// fvNull: null.
	fvNull
	// fvOther: an object or an array (skipped); its JSON text is the
	// line's bytes from start to te.
	fvOther
	// fvStr: a string with escapes, unescaped into the scratch buffer
	// from start to te.
	fvStr
	// fvStrAt: a string without escapes: the line's bytes from start
	// to te.
	fvStrAt
	// fvInt: an integer of at most 18 digits: n; its text is the
	// line's bytes from start to te.
	fvInt
	// fvNum: another number: the line's bytes from start to te.
	fvNum
	// fvBool: true or false: the line's bytes from start to te.
	fvBool
)

// fieldVal is the value of one key. The fast paths store offsets
// rather than strings: no pointer, no write barrier.
type fieldVal struct {
	n         int64
	start, te int // the value's text (see the kinds)
	end       int // the offset past the value, for error messages
}

// fieldVals holds the values of one line by field id.
type fieldVals struct {
	line    []byte
	base    unsafe.Pointer // line's first byte
	scratch *[]byte        // the decoder's scratch buffer (fvStr)
	kind    [maxFieldIDs]uint8
	val     [maxFieldIDs]fieldVal
}

// reset forgets the previous line's values; line is the next one.
func (f *fieldVals) reset(line []byte, scratch *[]byte) {
	f.line = line
	f.scratch = scratch
	f.base = unsafe.Pointer(unsafe.SliceData(line))
	f.kind = [maxFieldIDs]uint8{}
}

// Where scanObject stopped.
const (
	// stopEnd: at the end of the object; the '}' was consumed.
	stopEnd = iota
	// stopMiss: before a key that is not the cached one at its position,
	// or before anything else scanObject does not expect (white space, a
	// missing comma, the end of the input): nothing of it was consumed.
	// Read the key with keyID.
	stopMiss
	// stopValue: after the key at position next-1, whose value
	// scanObject does not read (an object, an escaped string, a
	// fraction, true, ...): the scanner is at the value.
	stopValue
)

// scanObject reads the keys of the current object from position i on, as
// long as each is the cached one at its position, and their values when
// they are strings without escapes, integers of at most 18 digits or
// null, into f. It returns the position of the next key and why it
// stopped. It has no calls on its path: the per-key cost is a few word
// comparisons, and eight bytes of a string per step.
func (s *jsonScanner) scanObject(kc *keyCache, i int, f *fieldVals) (next, stop int) {
	buf, pos := s.buf, s.pos
	for ; i < kc.n && i < maxCachedKeys; i++ {
		p := pos
		if p >= len(buf) {
			break
		}
		if c := buf[p]; c == '}' {
			s.pos = p + 1
			return i, stopEnd
		} else if i > 0 {
			if c != ',' {
				break
			}
			p++
		}
		e := &kc.e[i]
		if p+max(8, int(e.n)) > len(buf) {
			break
		}
		// keyCache.matches, inlined (the loop stays free of calls).
		if (load64(buf, p)&e.hmask^e.head)|(load64(buf, p+int(e.moff))&e.mmask^e.mid)|(load64(buf, p+int(e.toff))&e.tmask^e.tail) != 0 {
			break
		}
		if e.n > 24 {
			long := true
			for j := 16; j < int(e.toff); j += 8 {
				if load64(buf, p+j) != load64(kc.text[:], int(e.start)+j) {
					long = false
					break
				}
			}
			if !long {
				break
			}
		}
		p += int(e.n)
		if p >= len(buf) {
			break // keyID reads the key again, then readValue reports the end
		}
		pos = p
		id := e.id % maxFieldIDs
		v := &f.val[id]
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
				base := len(*sc)
				if !littleEndian || j+8 > len(buf) || cap(*sc)-base < len(buf)-p+8 {
					s.pos = p
					return i + 1, stopValue
				}
				dst := unsafe.Pointer(unsafe.SliceData(*sc))
				// Before the first backslash, 8 bytes at a time: the
				// loads end before j+8 <= len(buf), the stores within
				// the room checked.
				for k := p + 1; k < j; k += 8 {
					*(*uint64)(unsafe.Add(dst, base+k-p-1)) = load64(buf, k)
				}
				w := base + j - p - 1
				for {
					// buf[j] is a backslash, and j+8 <= len(buf).
					if c := buf[j+1]; c == '/' || c == '\\' || c == '"' {
						*(*byte)(unsafe.Add(dst, w)) = c
						w++
						j += 2
					} else {
						s.pos = p
						return i + 1, stopValue
					}
					for {
						if j+8 > len(buf) {
							s.pos = p
							return i + 1, stopValue
						}
						x := load64(buf, j)
						*(*uint64)(unsafe.Add(dst, w)) = x
						if m := swarQuoteOrBackslash(x); m != 0 {
							k := bits.TrailingZeros64(m) >> 3
							j += k
							w += k
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
				v.start, v.te = base, w
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
			if j == digits || (j < len(buf) && numChar[buf[j]]) {
				s.pos = p
				return i + 1, stopValue // a fraction, an exponent, a long number
			}
			if c == '-' {
				n = -n
			}
			v.start, v.te = p, j
			v.n = n
			pos = j
			f.kind[id] = fvInt
		case c == 'n' && p+4 <= len(buf) && *(*[4]byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(buf)), p)) == [4]byte{'n', 'u', 'l', 'l'}:
			pos = p + 4
			f.kind[id] = fvNull
		default:
			s.pos = p
			return i + 1, stopValue
		}
		v.end = pos
		if r := s.rec; r != nil {
			kind := uint8(teValue)
			if id == 0 {
				kind = teSkipAny
			}
			r.add(p, pos, int(id), kind, 0)
		}
	}
	s.pos = pos
	if pos < len(buf) && buf[pos] == '}' {
		s.pos = pos + 1
		return i, stopEnd
	}
	return i, stopMiss
}

// unescapeSimple unescapes, into the scratch buffer, a string from start
// whose first backslash is at j, when its escapes are all \/, \\ or \"
// (lua-cjson, Kong's encoder, writes every '/' as \/). It returns the
// string and the offset past its closing quote. ok is false, and nothing
// is consumed, for anything else (other escapes, a string that ends
// within 8 bytes of the input's end, a scratch buffer too small), which
// the scanner's str then reads. The decoders give the scratch buffer
// room for the whole line up front, so that it does not grow here.
func (s *jsonScanner) unescapeSimple(start, j int) (v string, end int, ok bool) {
	buf := s.buf
	out := *s.scratch
	base := len(out)
	if !littleEndian || j >= len(buf) || cap(out)-base < len(buf)-start+8 {
		return "", 0, false
	}
	out = out[:cap(out)]
	w := base + copy(out[base:], buf[start:j])
	dst := unsafe.Pointer(unsafe.SliceData(out))
	i := j
	for {
		// buf[i] is a backslash.
		if i+1 >= len(buf) {
			return "", 0, false
		}
		c := buf[i+1]
		if c != '/' && c != '\\' && c != '"' {
			return "", 0, false
		}
		out[w] = c
		w++
		i += 2
		// Copy up to the next quote or backslash, 8 bytes at a time:
		// w+8 <= cap(out) since w-base <= i-start and i+8 <= len(buf).
		for {
			if i+8 > len(buf) {
				return "", 0, false
			}
			x := load64(buf, i)
			*(*uint64)(unsafe.Add(dst, w)) = x
			if m := swarQuoteOrBackslash(x); m != 0 {
				k := bits.TrailingZeros64(m) >> 3
				i += k
				w += k
				break
			}
			i += 8
			w += 8
		}
		if buf[i] == '"' {
			*s.scratch = out[:w]
			return bstr(out[base:w]), i + 1, true
		}
	}
}

// growScratch gives the scratch buffer room for n bytes of unescaped
// strings (see unescapeSimple).
func growScratch(scratch []byte, n int) []byte {
	if cap(scratch) < n+8 {
		// Headroom for the next, longer lines, but not half of a huge one.
		return make([]byte, 0, n+min(n/2, 64<<10)+64)
	}
	return scratch[:0]
}

// readValue reads the value of the key with field id into f, as scanObject
// would have; a key the decoder does not read is skipped.
func (s *jsonScanner) readValue(id int, f *fieldVals) error {
	if id == 0 {
		s.ws()
		start := s.pos
		err := s.skip()
		if r := s.rec; r != nil && err == nil {
			r.add(start, s.pos, 0, teSkipAny, 0)
		}
		return err
	}
	var kind uint8
	var v string
	var n int64
	var err error
	c := s.peek()
	start := s.pos
	switch c {
	case kindString:
		kind = fvStrAt
		v, err = s.str()
	case kindNumber:
		var ok bool
		if n, ok = s.fastInt(); ok {
			kind = fvInt
		} else {
			kind = fvNum
			_, err = s.number()
		}
	case kindNull:
		kind = fvNull
		err = s.literal("null")
	case kindTrue:
		kind = fvBool
		err = s.literal("true")
	case kindFalse:
		kind = fvBool
		err = s.literal("false")
	default:
		kind = fvOther
		err = s.skip() // an object or array; else the error
	}
	if err != nil {
		return err
	}
	if r := s.rec; r != nil {
		tk := uint8(teValue)
		if kind == fvOther {
			tk = teSkipNested
		}
		r.add(start, s.pos, id, tk, 0)
	}
	if kind == fvStrAt {
		f.setStr(id, v, s.pos)
		return nil
	}
	te := start
	if kind >= fvInt || kind == fvOther {
		te = s.pos
	}
	f.kind[id%maxFieldIDs] = kind
	f.val[id%maxFieldIDs] = fieldVal{n: n, start: start, te: te, end: s.pos}
	return nil
}

// setStr stores v, a string read by the scanner's str (which aliases
// the line or the scratch buffer), as the value of field id ending at
// end.
func (f *fieldVals) setStr(id int, v string, end int) {
	kind := uint8(fvStrAt)
	p := uintptr(unsafe.Pointer(unsafe.StringData(v)))
	start := int(p - uintptr(f.base))
	if v == "" {
		start = 0
	} else if p < uintptr(f.base) || p >= uintptr(f.base)+uintptr(len(f.line)) {
		kind = fvStr
		start = int(p - uintptr(unsafe.Pointer(unsafe.SliceData(*f.scratch))))
	}
	f.kind[id%maxFieldIDs] = kind
	f.val[id%maxFieldIDs] = fieldVal{start: start, te: start + len(v), end: end}
}

// str returns field id as strVal reads a value: strings, numbers and
// booleans as their text; ok is false for null, objects, arrays and an
// absent key.
func (f *fieldVals) str(id int) (v string, ok bool) {
	k, fv := f.kind[id%maxFieldIDs], &f.val[id%maxFieldIDs]
	if k < fvStr || fv.te == fv.start {
		return "", k >= fvStr
	}
	b := f.base
	if k == fvStr {
		b = unsafe.Pointer(unsafe.SliceData(*f.scratch))
	}
	return unsafe.String((*byte)(unsafe.Add(b, fv.start)), fv.te-fv.start), true
}

// raw returns field id for Event.Fields: as str, and objects and arrays
// as their JSON text.
func (f *fieldVals) raw(id int) (string, bool) {
	if f.kind[id%maxFieldIDs] == fvOther {
		fv := &f.val[id%maxFieldIDs]
		return bstr(f.line[fv.start:fv.te]), true
	}
	return f.str(id)
}

// text is str without ok.
func (f *fieldVals) text(id int) string {
	v, _ := f.str(id)
	return v
}

// numText is the text of field id as a number, as the scanner's numText
// reads it: a number's, or a string's trimmed; ok is false for anything
// else, "" and "-".
func (f *fieldVals) numText(id int) (string, bool) {
	t, _ := f.str(id)
	switch f.kind[id%maxFieldIDs] {
	case fvNum, fvInt:
		return t, true
	case fvStr, fvStrAt:
		t = trimSpace(t)
		return t, t != "" && t != "-"
	}
	return "", false
}

func (f *fieldVals) badNumber(id int, t string) error {
	return &DecodeError{Reason: ReasonBadField, Msg: fmt.Sprintf("offset %d: bad number %s", f.val[id%maxFieldIDs].end, shape(t))}
}

// intFast and intSlow return field id as intVal reads a value: an
// integer (a fraction truncated), from a number or a string. intFast
// answers for plain integers (ok false otherwise), intSlow for every
// value; the decoders call intSlow only when intFast is not ok (one
// function would not fit Go's inlining budget).
func (f *fieldVals) intFast(id int) (int64, bool) {
	return f.val[id%maxFieldIDs].n, f.kind[id%maxFieldIDs] == fvInt
}

func (f *fieldVals) intSlow(id int) (int64, bool, error) {
	t, ok := f.numText(id)
	if !ok {
		return 0, false, nil
	}
	if n, isInt := parseInt(t); isInt {
		return n, true, nil
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || v > math.MaxInt64 || v < math.MinInt64 {
		return 0, false, f.badNumber(id, t)
	}
	return int64(v), true, nil
}

// msFast and msSlow return field id as msVal reads a value:
// milliseconds (integer or fractional, number or string) as a Duration;
// negative values mean unknown. msFast answers for non-negative integers
// that fit (ok false otherwise), msSlow for every value.
func (f *fieldVals) msFast(id int) (time.Duration, bool) {
	n := f.val[id%maxFieldIDs].n
	return time.Duration(n) * time.Millisecond, f.kind[id%maxFieldIDs] == fvInt && uint64(n) <= math.MaxInt64/uint64(time.Millisecond)
}

func (f *fieldVals) msSlow(id int) (time.Duration, bool, error) {
	switch f.kind[id%maxFieldIDs] {
	case fvInt:
		if f.val[id%maxFieldIDs].n < 0 {
			return -1, false, nil
		}
	case fvStr, fvStrAt:
		// Up to 9 digits (Envoy's upstream_service_time header) without
		// the float path: they are exact either way.
		if t, _ := f.str(id); len(t) > 0 && len(t) <= 9 {
			var n int64
			for i := 0; i < len(t); i++ {
				d := t[i] - '0'
				if d > 9 {
					n = -1
					break
				}
				n = n*10 + int64(d)
			}
			if n >= 0 {
				return time.Duration(n) * time.Millisecond, true, nil
			}
		}
	}
	t, ok := f.numText(id)
	if !ok {
		return -1, false, nil
	}
	var v float64
	if n, isInt := parseInt(t); isInt {
		v = float64(n)
	} else {
		var err error
		v, err = strconv.ParseFloat(t, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return -1, false, f.badNumber(id, t)
		}
	}
	if v < 0 {
		return -1, false, nil
	}
	return floatDur(v, float64(time.Millisecond)), true, nil
}
