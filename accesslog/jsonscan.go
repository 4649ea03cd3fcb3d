package accesslog

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// jsonScanner is a small pull scanner over one JSON object. It reads the
// input once, hands out keys and values without copying, and unescapes a
// string into a reusable scratch buffer only when the string has escapes.
// It allocates nothing on success once the scratch buffer has grown to its
// working size.
//
// It is deliberately lenient where leniency costs nothing (invalid UTF-8
// inside strings is passed through, control characters inside strings are
// accepted) and strict about structure: unbalanced brackets, missing
// colons or commas, bad literals and trailing data are errors.
type jsonScanner struct {
	buf     []byte
	pos     int
	scratch *[]byte
	// rec, when set, records where the values of known keys are (see
	// templates).
	rec *tmplRec
}

// Value kinds returned by peek.
const (
	kindEnd    = 0
	kindString = '"'
	kindObject = '{'
	kindArray  = '['
	kindNull   = 'n'
	kindTrue   = 't'
	kindFalse  = 'f'
	kindNumber = '0'
)

func (s *jsonScanner) reset(buf []byte, scratch *[]byte) {
	s.buf = buf
	s.pos = 0
	s.scratch = scratch
	s.rec = nil
}

func (s *jsonScanner) errf(format string, args ...any) error {
	return &DecodeError{Reason: ReasonJSON, Msg: fmt.Sprintf("offset %d: ", s.pos) + fmt.Sprintf(format, args...)}
}

func (s *jsonScanner) ws() {
	// Compact JSON: one comparison.
	if s.pos < len(s.buf) && s.buf[s.pos] > ' ' {
		return
	}
	for s.pos < len(s.buf) {
		switch s.buf[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the kind of the next value without consuming it.
func (s *jsonScanner) peek() byte {
	s.ws()
	if s.pos >= len(s.buf) {
		return kindEnd
	}
	c := s.buf[s.pos]
	switch c {
	case '"', '{', '[', 'n', 't', 'f':
		return c
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return kindNumber
	}
	return c
}

// beginObject consumes '{'.
func (s *jsonScanner) beginObject() error {
	s.ws()
	if s.pos >= len(s.buf) || s.buf[s.pos] != '{' {
		return s.errf("expected '{'")
	}
	s.pos++
	return nil
}

// nextKey reads the next key of the current object, and the colon after
// it. first must be true for the first call after beginObject. It returns
// ok=false (and consumes the '}') at the end of the object.
func (s *jsonScanner) nextKey(first bool) (key string, ok bool, err error) {
	// Fast path for compact JSON: [,]"key": with no escapes.
	buf, pos := s.buf, s.pos
	if !first && pos < len(buf) && buf[pos] == ',' {
		pos++
	}
	if (first || pos > s.pos) && pos < len(buf) && buf[pos] == '"' {
		start := pos + 1
		if i := indexQuoteOrBackslash(buf[start:]); i >= 0 {
			end := start + i
			if buf[end] == '"' && end+1 < len(buf) && buf[end+1] == ':' {
				s.pos = end + 2
				return bstr(buf[start:end]), true, nil
			}
		}
	}
	s.ws()
	if s.pos >= len(s.buf) {
		return "", false, s.errf("unexpected end of input in object")
	}
	c := s.buf[s.pos]
	if c == '}' {
		s.pos++
		return "", false, nil
	}
	if !first {
		if c != ',' {
			return "", false, s.errf("expected ',' or '}' after object value")
		}
		s.pos++
		s.ws()
		if s.pos >= len(s.buf) {
			return "", false, s.errf("unexpected end of input in object")
		}
		c = s.buf[s.pos]
	}
	if c != '"' {
		return "", false, s.errf("expected object key")
	}
	key, err = s.str()
	if err != nil {
		return "", false, err
	}
	s.ws()
	if s.pos >= len(s.buf) || s.buf[s.pos] != ':' {
		return "", false, s.errf("expected ':' after object key")
	}
	s.pos++
	return key, true, nil
}

// enterObject consumes '{' (after white space) and returns true when the
// next value is an object; else it consumes nothing but the white space.
// It is peek() == kindObject followed by beginObject in one step.
func (s *jsonScanner) enterObject() bool {
	if s.pos < len(s.buf) && s.buf[s.pos] == '{' {
		s.pos++
		return true
	}
	s.ws()
	if s.pos < len(s.buf) && s.buf[s.pos] == '{' {
		s.pos++
		return true
	}
	return false
}

// beginArray consumes '['.
func (s *jsonScanner) beginArray() error {
	s.ws()
	if s.pos >= len(s.buf) || s.buf[s.pos] != '[' {
		return s.errf("expected '['")
	}
	s.pos++
	return nil
}

// nextElem positions the scanner at the next array element. It returns
// false (and consumes the ']') at the end of the array.
func (s *jsonScanner) nextElem(first bool) (bool, error) {
	s.ws()
	if s.pos >= len(s.buf) {
		return false, s.errf("unexpected end of input in array")
	}
	c := s.buf[s.pos]
	if c == ']' {
		s.pos++
		return false, nil
	}
	if !first {
		if c != ',' {
			return false, s.errf("expected ',' or ']' after array element")
		}
		s.pos++
	}
	return true, nil
}

// end checks that only white space follows the top-level value.
func (s *jsonScanner) end() error {
	s.ws()
	if s.pos != len(s.buf) {
		return s.errf("unexpected data after the JSON object")
	}
	return nil
}

// str reads a string value; the scanner must be at its opening quote.
// Without escapes the result aliases the input.
func (s *jsonScanner) str() (string, error) {
	s.pos++ // opening quote
	start := s.pos
	rest := s.buf[start:]
	i := indexQuoteOrBackslash(rest)
	if i < 0 {
		s.pos = len(s.buf)
		return "", s.errf("unterminated string")
	}
	if rest[i] == '\\' {
		return s.strEscaped(start, start+i)
	}
	s.pos = start + i + 1
	return bstr(rest[:i]), nil
}

const (
	swarLo = 0x0101010101010101
	swarHi = 0x8080808080808080
)

// swarHas marks (high bit) the bytes of x equal to c; the lowest mark is
// exact, higher ones may be false positives.
func swarHas(x uint64, c byte) uint64 {
	y := x ^ (swarLo * uint64(c))
	return (y - swarLo) &^ y & swarHi
}

// swarQuoteOrBackslash marks (high bit) the bytes of x that are '"' or
// '\\'; the lowest mark is exact. It is swarHas(x, '"') |
// swarHas(x, '\\') with one operation less.
func swarQuoteOrBackslash(x uint64) uint64 {
	q := x ^ (swarLo * '"')
	b := x ^ (swarLo * '\\')
	return ((q-swarLo)&^q | (b-swarLo)&^b) & swarHi
}

// indexQuoteOrBackslash returns the index of the first '"' or '\\' in b,
// or -1, looking at eight bytes at a time (measured: faster than two
// vectorised IndexByte calls for the short strings of access logs).
func indexQuoteOrBackslash(b []byte) int {
	i := 0
	if littleEndian && len(b) >= 8 {
		p := unsafe.Pointer(unsafe.SliceData(b))
		for ; i <= len(b)-8; i += 8 {
			if m := swarQuoteOrBackslash(*(*uint64)(unsafe.Add(p, i))); m != 0 {
				return i + bits.TrailingZeros64(m)>>3
			}
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' {
			return i
		}
	}
	return -1
}

// strEscaped unescapes a string from start whose first backslash is at i
// into the scratch buffer.
func (s *jsonScanner) strEscaped(start, i int) (string, error) {
	if v, end, ok := s.unescapeSimple(start, i); ok {
		s.pos = end
		return v, nil
	}
	return s.strEscapedAny(start, i)
}

// strEscapedAny is strEscaped for any escapes.
func (s *jsonScanner) strEscapedAny(start, i int) (string, error) {
	out := *s.scratch
	base := len(out)
	out = append(out, s.buf[start:i]...)
	for i < len(s.buf) {
		c := s.buf[i]
		switch {
		case c == '"':
			s.pos = i + 1
			*s.scratch = out
			return bstr(out[base:]), nil
		case c != '\\':
			j := len(s.buf)
			if k := indexQuoteOrBackslash(s.buf[i:]); k >= 0 {
				j = i + k
			}
			out = append(out, s.buf[i:j]...)
			i = j
			continue
		}
		i++
		if i >= len(s.buf) {
			break
		}
		switch s.buf[i] {
		case '"', '\\', '/':
			out = append(out, s.buf[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(s.buf, i+1)
			if !ok {
				s.pos = i
				*s.scratch = out
				return "", s.errf("bad \\u escape in string")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+2 < len(s.buf) && s.buf[i+1] == '\\' && s.buf[i+2] == 'u' {
					if v, ok := hex4(s.buf, i+3); ok {
						r2 = v
					}
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			s.pos = i
			*s.scratch = out
			return "", s.errf("bad escape '\\%c' in string", s.buf[i])
		}
		i++
	}
	s.pos = len(s.buf)
	*s.scratch = out
	return "", s.errf("unterminated string")
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// number reads a number token and returns its text.
func (s *jsonScanner) number() (string, error) {
	start := s.pos
	i := s.pos
	if i < len(s.buf) && s.buf[i] == '-' {
		i++
	}
	digits := i
	for i < len(s.buf) && numChar[s.buf[i]] {
		i++
	}
	if i == digits {
		s.pos = i
		return "", s.errf("bad number")
	}
	s.pos = i
	return bstr(s.buf[start:i]), nil
}

func (s *jsonScanner) literal(lit string) error {
	if len(s.buf)-s.pos < len(lit) || bstr(s.buf[s.pos:s.pos+len(lit)]) != lit {
		return s.errf("bad literal, expected %q", lit)
	}
	s.pos += len(lit)
	return nil
}

// skip consumes one value of any kind, nested objects and arrays
// included, without recursion.
func (s *jsonScanner) skip() error {
	switch s.peek() {
	case kindString:
		_, err := s.skipString()
		return err
	case kindNumber:
		_, err := s.number()
		return err
	case kindNull:
		return s.literal("null")
	case kindTrue:
		return s.literal("true")
	case kindFalse:
		return s.literal("false")
	case kindObject, kindArray:
		return s.skipNested()
	case kindEnd:
		return s.errf("unexpected end of input, expected a value")
	}
	return s.errf("unexpected character %q, expected a value", s.buf[s.pos])
}

// skipString moves past a string without unescaping it: it looks for
// quotes only and checks that an even number of backslashes precedes one.
func (s *jsonScanner) skipString() (int, error) {
	i := s.pos + 1
	for i < len(s.buf) {
		j := indexQuote(s.buf[i:])
		if j < 0 {
			break
		}
		i += j
		n := 0
		for k := i - 1; k > s.pos && s.buf[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			s.pos = i + 1
			return i, nil
		}
		i++
	}
	s.pos = len(s.buf)
	return 0, s.errf("unterminated string")
}

// indexQuote returns the index of the first '"' in b, or -1.
func indexQuote(b []byte) int {
	i := 0
	if littleEndian && len(b) >= 8 {
		p := unsafe.Pointer(unsafe.SliceData(b))
		for ; i <= len(b)-8; i += 8 {
			if m := swarHas(*(*uint64)(unsafe.Add(p, i)), '"'); m != 0 {
				return i + bits.TrailingZeros64(m)>>3
			}
		}
	}
	for ; i < len(b); i++ {
		if b[i] == '"' {
			return i
		}
	}
	return -1
}

// maxDepth bounds the nesting of skipped values.
const maxDepth = 1024

// skipNested moves past an object or array. It checks bracket balance and
// strings; scalars inside are not validated one by one.
func (s *jsonScanner) skipNested() error {
	// The open brackets, one bit per level ('[' = 1), up to maxDepth.
	var stack [maxDepth / 64]uint64
	depth := 0
	buf, pos := s.buf, s.pos
	for {
		for pos < len(buf) && !structural[buf[pos]] {
			pos++
		}
		if pos >= len(buf) {
			break
		}
		c := buf[pos]
		switch c {
		case '"':
			s.pos = pos
			if _, err := s.skipString(); err != nil {
				return err
			}
			pos = s.pos
			continue
		case '{', '[':
			if depth >= maxDepth {
				s.pos = pos
				return s.errf("JSON nested deeper than %d levels", maxDepth)
			}
			if c == '[' {
				stack[depth/64] |= 1 << (depth % 64)
			} else {
				stack[depth/64] &^= 1 << (depth % 64)
			}
			depth++
		default: // '}', ']'
			if depth == 0 {
				s.pos = pos
				return s.errf("unbalanced %q", c)
			}
			isArray := stack[(depth-1)/64]&(1<<((depth-1)%64)) != 0
			if (c == ']') != isArray {
				s.pos = pos
				return s.errf("mismatched %q", c)
			}
			depth--
			if depth == 0 {
				s.pos = pos + 1
				return nil
			}
		}
		pos++
	}
	s.pos = pos
	return s.errf("unexpected end of input in nested value")
}

// numChar marks the bytes of a JSON number.
var numChar = [256]bool{
	'0': true, '1': true, '2': true, '3': true, '4': true, '5': true, '6': true, '7': true, '8': true, '9': true,
	'.': true, 'e': true, 'E': true, '+': true, '-': true,
}

// structural marks the bytes skipNested stops at.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

// Typed value readers. Each consumes exactly one value. ok is false when
// the value is null or of a kind that cannot carry the wanted type (an
// object where a string was expected is skipped, not an error).

// strVal reads a string; numbers and booleans are returned as their text.
func (s *jsonScanner) strVal() (v string, ok bool, err error) {
	if buf, pos := s.buf, s.pos; pos < len(buf) && buf[pos] == '"' {
		start := pos + 1
		if i := indexQuoteOrBackslash(buf[start:]); i >= 0 && buf[start+i] == '"' {
			s.pos = start + i + 1
			return bstr(buf[start : start+i]), true, nil
		}
		v, err = s.str()
		return v, err == nil, err
	}
	switch s.peek() {
	case kindString:
		v, err = s.str()
		return v, err == nil, err
	case kindNumber:
		v, err = s.number()
		return v, err == nil, err
	case kindTrue:
		return "true", true, s.literal("true")
	case kindFalse:
		return "false", true, s.literal("false")
	case kindNull:
		return "", false, s.literal("null")
	}
	return "", false, s.skip()
}

// firstStrVal reads a string, or the first string of an array of strings
// (Kong logs a repeated header as an array).
func (s *jsonScanner) firstStrVal() (v string, ok bool, err error) {
	if s.peek() != kindArray {
		return s.strVal()
	}
	if err := s.beginArray(); err != nil {
		return "", false, err
	}
	for first := true; ; first = false {
		more, err := s.nextElem(first)
		if err != nil {
			return "", false, err
		}
		if !more {
			return v, ok, nil
		}
		if ok {
			if err := s.skip(); err != nil {
				return "", false, err
			}
			continue
		}
		if v, ok, err = s.strVal(); err != nil {
			return "", false, err
		}
	}
}

// floatVal reads a number, or a string holding a number. Empty strings,
// "-" and null give ok=false.
func (s *jsonScanner) floatVal() (v float64, ok bool, err error) {
	t, ok, err := s.numText()
	if !ok || err != nil {
		return 0, false, err
	}
	if n, isInt := parseInt(t); isInt {
		return float64(n), true, nil
	}
	f, perr := strconv.ParseFloat(t, 64)
	if perr != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, &DecodeError{Reason: ReasonBadField, Msg: fmt.Sprintf("offset %d: bad number %s", s.pos, shape(t))}
	}
	return f, true, nil
}

// intVal reads an integer; a fractional number is truncated.
func (s *jsonScanner) intVal() (v int64, ok bool, err error) {
	if n, ok := s.fastInt(); ok {
		return n, true, nil
	}
	t, ok, err := s.numText()
	if !ok || err != nil {
		return 0, false, err
	}
	if n, isInt := parseInt(t); isInt {
		return n, true, nil
	}
	f, perr := strconv.ParseFloat(t, 64)
	if perr != nil || math.IsNaN(f) || f > math.MaxInt64 || f < math.MinInt64 {
		return 0, false, &DecodeError{Reason: ReasonBadField, Msg: fmt.Sprintf("offset %d: bad number %s", s.pos, shape(t))}
	}
	return int64(f), true, nil
}

// fastInt reads a plain JSON integer of at most 18 digits (the common
// case) in one pass. It consumes nothing and returns false for anything
// else, which the general path then handles.
func (s *jsonScanner) fastInt() (int64, bool) {
	buf, i := s.buf, s.pos
	if i >= len(buf) {
		return 0, false
	}
	neg := buf[i] == '-'
	if neg {
		i++
	}
	start := i
	end := min(len(buf), start+18)
	var n int64
	for ; i < end; i++ {
		c := buf[i] - '0'
		if c > 9 {
			break
		}
		n = n*10 + int64(c)
	}
	if i == start || (i < len(buf) && numChar[buf[i]]) {
		return 0, false // not a number, or a fraction, exponent or long number
	}
	s.pos = i
	if neg {
		n = -n
	}
	return n, true
}

// numText reads a number or a string and returns its trimmed text; ok is
// false for null, "", "-" and for non-scalar values (skipped).
func (s *jsonScanner) numText() (string, bool, error) {
	var t string
	var err error
	switch s.peek() {
	case kindNumber:
		t, err = s.number()
	case kindString:
		t, err = s.str()
		t = trimSpace(t)
	default:
		_, _, err = s.strVal()
		return "", false, err
	}
	if err != nil || t == "" || t == "-" {
		return "", false, err
	}
	return t, true, nil
}

// msVal reads milliseconds (integer or fractional, number or string) as a
// Duration. Negative values (Kong's -1) mean unknown.
func (s *jsonScanner) msVal() (time.Duration, bool, error) {
	if n, ok := s.fastInt(); ok {
		if n < 0 {
			return -1, false, nil
		}
		if n <= math.MaxInt64/int64(time.Millisecond) {
			return time.Duration(n) * time.Millisecond, true, nil
		}
	}
	f, ok, err := s.floatVal()
	if !ok || err != nil || f < 0 {
		return -1, false, err
	}
	return floatDur(f, float64(time.Millisecond)), true, nil
}

func floatDur(f, unit float64) time.Duration {
	v := math.Round(f * unit)
	if v >= math.MaxInt64 || v != v {
		return math.MaxInt64
	}
	return time.Duration(v)
}

// parseInt parses an optionally signed decimal integer; isInt is false for
// anything else (fractions, exponents, overflow).
func parseInt(t string) (n int64, isInt bool) {
	neg := false
	i := 0
	if len(t) > 0 && (t[0] == '-' || t[0] == '+') {
		neg = t[0] == '-'
		i = 1
	}
	if i == len(t) || len(t)-i > 19 {
		return 0, false
	}
	var u uint64
	for ; i < len(t); i++ {
		c := t[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	n = int64(u)
	if neg {
		n = -n
	}
	return n, true
}

// bstr views b as a string without copying. The string is valid as long
// as b is not modified; decoders only hand such strings out in Events,
// which are documented to be valid until the next Decode.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// unsafeBytes views s as a read-only byte slice without copying.
func unsafeBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

// Sizes of a keyCache.
const (
	maxCachedKeys = 32
	keyCacheBytes = 512
)

// keyCache remembers the keys of one JSON object in the order the
// previous line had them, with their ids. A gateway writes its fields in
// the same order on every line, so the next key is almost always the
// cached one at the same position: field and keyID then check it with
// two word comparisons (more only for keys longer than 16 bytes) instead
// of scanning for the closing quote and comparing the key against every
// known name.
type keyCache struct {
	// names are the keys the decoder reads in this object, ids their
	// field ids; any other key has the id 0.
	names []string
	ids   []uint8
	n     int // entries learned, at most maxCachedKeys
	e     [maxCachedKeys]keyEntry
	// text holds the entries' `"key":` one after the other.
	text [keyCacheBytes]byte
}

// keyEntry is one cached key: `"key":` as in compact JSON, n bytes long
// at text[start:]. A key matches when the words of the input at offsets
// 0, moff and toff, masked by hmask, mmask and tmask, equal head, mid and
// tail: the first 8 bytes (masked when the key is shorter), the 8 bytes
// from 8 when it is longer than 16 (else nothing: mmask 0), and the last
// 8 (or the head again for a key shorter than 8). Keys longer than 24
// bytes compare their other middle words too. Words are in native byte
// order, as load64 reads them.
type keyEntry struct {
	head, hmask uint64
	mid, mmask  uint64
	tail, tmask uint64
	n, start    uint16
	moff, toff  uint8
	id          uint8
}

// load64 reads the 8 bytes at b[i:] as a native-order word; the caller
// guarantees i+8 <= len(b).
func load64(b []byte, i int) uint64 {
	if !littleEndian {
		return binary.NativeEndian.Uint64(b[i : i+8])
	}
	return *(*uint64)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i))
}

// store64 writes x at b[i:] as load64 reads it; the caller guarantees
// i+8 <= len(b).
func store64(b []byte, i int, x uint64) {
	if !littleEndian {
		binary.NativeEndian.PutUint64(b[i:i+8], x)
		return
	}
	*(*uint64)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i)) = x
}

// matches reports whether buf[pos:] starts with the entry's `"key":`;
// the caller guarantees pos+max(8, e.n) <= len(buf).
func (kc *keyCache) matches(e *keyEntry, buf []byte, pos int) bool {
	d := (load64(buf, pos)&e.hmask ^ e.head) | (load64(buf, pos+int(e.moff))&e.mmask ^ e.mid) | (load64(buf, pos+int(e.toff))&e.tmask ^ e.tail)
	return d == 0 && (e.n <= 24 || kc.matchLong(e, buf, pos))
}

// matchLong compares the words from 16 to the tail of a key longer than
// 24 bytes.
func (kc *keyCache) matchLong(e *keyEntry, buf []byte, pos int) bool {
	for j := 16; j < int(e.toff); j += 8 {
		if load64(buf, pos+j) != load64(kc.text[:], int(e.start)+j) {
			return false
		}
	}
	return true
}

// newKeyCache returns a cache for an object whose keys names have the
// field ids base+1, base+2, ...
func newKeyCache(base int, names ...string) keyCache {
	var kc keyCache
	for i, name := range names {
		kc.add(name, base+i+1)
	}
	return kc
}

// add makes the cache read key name as field id.
func (kc *keyCache) add(name string, id int) {
	if id <= 0 || id >= maxFieldIDs {
		panic("accesslog: field id out of range")
	}
	kc.names = append(kc.names, name)
	kc.ids = append(kc.ids, uint8(id))
}

// id returns the field id of key name, 0 when the cache does not read it.
func (kc *keyCache) id(name string) int {
	for j, k := range kc.names {
		if name == k {
			return int(kc.ids[j])
		}
	}
	return 0
}

// newLitEntry returns the entry matching text[start:start+n] (n at most
// 263 bytes; text must have 8 bytes of room after it).
func newLitEntry(text []byte, start, n int) keyEntry {
	end := start + n
	var w [8]byte
	copy(w[:], text[start:end])
	e := keyEntry{n: uint16(n), start: uint16(start), hmask: ^uint64(0), tmask: ^uint64(0)}
	if n > 16 {
		e.moff, e.mmask = 8, ^uint64(0)
		e.mid = load64(text, start+8)
	}
	e.head = load64(w[:], 0)
	if n < 8 {
		var m [8]byte
		for j := range n {
			m[j] = 0xff
		}
		e.hmask = load64(m[:], 0)
		e.head &= e.hmask
		e.tail, e.tmask = e.head, e.hmask
	} else {
		e.toff = uint8(n - 8)
		e.tail = load64(text, end-8)
	}
	return e
}

// keyID reads the i-th key (from 0) of the current object and the colon
// after it, as nextKey does, and returns its field id (see keyCache.names),
// 0 for a key not in names. more is false (and the '}' consumed) at the
// end of the object. It accepts exactly what nextKey accepts.
func (s *jsonScanner) keyID(kc *keyCache, i int, first bool) (id int, more bool, err error) {
	buf, pos := s.buf, s.pos
	if pos < len(buf) && buf[pos] == '}' {
		s.pos++ // as nextKey: the end of the object
		return 0, false, nil
	}
	if uint(i) < uint(kc.n) && uint(i) < maxCachedKeys {
		if !first {
			if pos >= len(buf) || buf[pos] != ',' {
				return s.keyIDSlow(kc, i, first)
			}
			pos++
		}
		// A cached key holds no '"' or '\\', so `"key":` is read by
		// nextKey as key.
		e := &kc.e[i]
		if pos+max(8, int(e.n)) <= len(buf) && kc.matches(e, buf, pos) {
			s.pos = pos + int(e.n)
			return int(e.id), true, nil
		}
	}
	return s.keyIDSlow(kc, i, first)
}

// keyIDSlow is keyID without the cache: it reads the key with nextKey
// and learns it.
func (s *jsonScanner) keyIDSlow(kc *keyCache, i int, first bool) (id int, more bool, err error) {
	key, more, err := s.nextKey(first)
	if err != nil || !more {
		return 0, more, err
	}
	id = kc.id(key)
	kc.learn(i, key, id)
	return id, true, nil
}

// learn records that the i-th key of the object is key, with id. A
// different key at i forgets the entries from i on.
func (kc *keyCache) learn(i int, key string, id int) {
	if i > kc.n || i >= maxCachedKeys || id >= maxFieldIDs {
		return
	}
	kc.n = i
	start := 0
	if i > 0 {
		start = int(kc.e[i-1].start) + int(kc.e[i-1].n)
	}
	n := len(key) + 3
	end := start + n
	// end+8: room for a full word at every entry's start (match reads
	// middle words from text).
	if end+8 > len(kc.text) || n > 255 || indexQuoteOrBackslash(unsafeBytes(key)) >= 0 {
		return
	}
	kc.text[start] = '"'
	copy(kc.text[start+1:], key)
	kc.text[end-2] = '"'
	kc.text[end-1] = ':'
	e := newLitEntry(kc.text[:], start, n)
	e.id = uint8(id)
	kc.e[i] = e
	kc.n = i + 1
}
