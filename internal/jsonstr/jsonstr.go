// Package jsonstr escapes text into JSON strings: the one escaper of the
// shipper's documents and of the access-log lines they carry.
package jsonstr

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"unicode/utf8"
	"unsafe"
)

// Append appends s escaped as the contents of a JSON string (without its
// quotes), replacing invalid UTF-8 with U+FFFD and escaping U+2028 and
// U+2029.
//
// A log line put in "message" is itself JSON, with a quote every few
// bytes, and most other fields need no escaping at all, so the work is
// split for both: plain words are copied first (a field without escapes
// ends there, with its last eight bytes); escapeRun then takes eight bytes
// at a time and escapes quotes and backslashes without leaving its loop;
// bytes that need another escape (control bytes, invalid UTF-8,
// U+2028/2029), growing the buffer and the last bytes that do not fill a
// word are handled here. Strings shorter than eight bytes go byte by byte.
func Append(dst []byte, s string) []byte {
	src := unsafe.Slice(unsafe.StringData(s), len(s))
	n := len(dst)
	buf := dst[:cap(dst)]
	if len(buf)-n < len(src)+48 { // 48: a short string escaped whole
		buf = growMore(buf, n, len(src)+32)
	}
	i := 0
	if len(src) >= 8 {
		// Most fields need no escaping at all: whole words are copied
		// while they are plain, then the last eight bytes.
		for ; i+8 <= len(src); i += 8 {
			x := binary.LittleEndian.Uint64(src[i : i+8 : i+8])
			if m, _ := Escapes8(x); m != 0 {
				break
			}
			binary.LittleEndian.PutUint64(buf[n+i:n+i+8:n+i+8], x)
		}
		if i+8 > len(src) {
			last := len(src) - 8
			x := binary.LittleEndian.Uint64(src[last:len(src):len(src)])
			if m, _ := Escapes8(x); m == 0 {
				binary.LittleEndian.PutUint64(buf[n+last:n+last+8:n+last+8], x)
				return buf[:n+len(src)]
			}
		}
		n += i
		for i+8 <= len(src) {
			n, i = escapeRun(buf, n, src, i)
			if len(buf)-n < 48 { // room for a run, or the tail escaped whole
				buf = growMore(buf, n, len(src)-i+48)
				continue
			}
			if i+8 <= len(src) {
				n, i = escapeByte(buf, n, src, i)
			}
		}
		// Fewer than eight bytes are left: byte by byte.
	}
	for i < len(src) {
		if c := src[i]; jsonPlain[c] {
			buf[n] = c
			n++
			i++
			continue
		}
		n, i = escapeByte(buf, n, src, i)
	}
	return buf[:n]
}

// escapeRun escapes src[i:] into buf from n, eight bytes at a time, and
// returns where it stopped: when fewer than eight bytes are left, before
// a byte that needs an escape other than a backslash, or when buf has
// less than 32 bytes of room left.
//
// Each step reads eight bytes and stores them all; the quotes and
// backslashes among them are escaped in place, each shifting the rest of
// the word one byte along. There is no call in the loop, so that its
// variables stay in registers.
func escapeRun(buf []byte, n int, src []byte, i int) (int, int) {
	// Reads are within src[i:i+8] and writes within buf[n:n+32], both
	// checked by the loop's condition: the slices are reduced to their base
	// pointers so that the loop's state fits in registers.
	sp, dp := unsafe.Pointer(unsafe.SliceData(src)), unsafe.Pointer(unsafe.SliceData(buf))
	last, room := len(src)-8, len(buf)-32
	for i <= last && n <= room {
		w := (*[32]byte)(unsafe.Add(dp, n))
		x := binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(sp, i))[:])
		binary.LittleEndian.PutUint64(w[:8], x)
		m, qb := Escapes8(x)
		if m == 0 {
			n += 8
			i += 8
			continue
		}
		// Escape the quotes and backslashes before the first other byte
		// that needs escaping, or in the whole word.
		stop := 8
		other := m &^ qb
		if other != 0 {
			stop = bits.TrailingZeros64(other) >> 3
			qb &= 1<<((8*stop)&63) - 1
		}
		d := 0 // escapes so far: byte k of the word is now at w[k+d]
		for qb != 0 {
			// A backslash goes where the quote (or backslash) at k is,
			// and the word from k on moves one byte along.
			k := bits.TrailingZeros64(qb) >> 3
			w[(k+d)&15] = '\\'
			binary.LittleEndian.PutUint64(w[(k+d+1)&15:], x>>((8*k)&63))
			d++
			qb &= qb - 1
		}
		n += stop + d
		i += stop
		if other != 0 {
			return n, i
		}
	}
	return n, i
}

// growMore grows buf (of which n bytes are written) for an escaped
// string of about more bytes: room for them, an escape every eight, and
// the 32 bytes Append may write at a time.
//
//go:noinline
func growMore(buf []byte, n, more int) []byte {
	more += more/8 + 32
	return slices.Grow(buf[:n], more)[:n+more]
}

// escapeByte writes the escaped form of the byte or UTF-8 sequence at
// src[i], which is not plain, at buf[n] (which has room for at least six
// bytes) and returns the positions after it.
func escapeByte(buf []byte, n int, src []byte, i int) (int, int) {
	c := src[i]
	if c < utf8.RuneSelf {
		switch c {
		case '"', '\\':
			buf[n], buf[n+1] = '\\', c
			n += 2
		case '\n':
			buf[n], buf[n+1] = '\\', 'n'
			n += 2
		case '\r':
			buf[n], buf[n+1] = '\\', 'r'
			n += 2
		case '\t':
			buf[n], buf[n+1] = '\\', 't'
			n += 2
		default:
			n += copy(buf[n:], []byte{'\\', 'u', '0', '0', hex[c>>4], hex[c&0xf]})
		}
		return n, i + 1
	}
	r, size := utf8.DecodeRune(src[i:])
	switch {
	case r == utf8.RuneError && size == 1:
		n += copy(buf[n:], `\ufffd`)
	case r == '\u2028' || r == '\u2029':
		n += copy(buf[n:], []byte{'\\', 'u', '2', '0', '2', hex[r&0xf]})
	default:
		n += copy(buf[n:], src[i:i+size])
	}
	return n, i + size
}

// jsonPlain marks the bytes copied into a JSON string as they are.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// Escapes8 flags (with the high bit of the byte) the bytes of x that need
// escaping in a JSON string: all of them in m (control bytes, '"', '\\'
// and bytes outside ASCII) and the quotes and backslashes in qb. Every
// flag is exact: no borrow crosses bytes, since each sum stays below
// 0x100.
func Escapes8(x uint64) (m, qb uint64) {
	const lo7, hi = 0x7f7f7f7f7f7f7f7f, 0x8080808080808080
	l := x & lo7
	q := (l ^ 0x2222222222222222) + lo7 // high bit clear: the byte is '"' or '"'|0x80
	b := (l ^ 0x5c5c5c5c5c5c5c5c) + lo7 // high bit clear: '\\' or '\\'|0x80
	ctl := l + 0x6060606060606060       // high bit clear: below 0x20 or 0x80
	m = (^(q & b & ctl) | x) & hi
	qb = ^(q&b | x) & hi
	return m, qb
}

const hex = "0123456789abcdef"

// AppendReference is the straightforward byte-by-byte form of Append,
// written for reading rather than speed. The fast paths (Append here,
// the line-template escaper in accesslog) are fuzzed against it and must
// write exactly what it writes.
func AppendReference(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, `\n`...)
		case c == '\r':
			dst = append(dst, `\r`...)
		case c == '\t':
			dst = append(dst, `\t`...)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		case c < utf8.RuneSelf:
			dst = append(dst, c)
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && n == 1:
				dst = append(dst, `\ufffd`...)
			case r == '\u2028' || r == '\u2029':
				dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			default:
				dst = append(dst, s[i:i+n]...)
			}
			i += n
			continue
		}
		i++
	}
	return dst
}
