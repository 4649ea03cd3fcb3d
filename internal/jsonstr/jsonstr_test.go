package jsonstr

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzAppendEscapedMatchesReference holds Append (eight bytes at a
// time, the tail read from the string's last eight bytes) to the
// byte-by-byte reference, at every length and with destinations of every
// spare capacity, so that the growing paths are taken too.
func FuzzAppendEscapedMatchesReference(f *testing.F) {
	for _, s := range []string{"", "a", "GET", "1234567", "12345678", "123456789", `"`, `\`, "\x00", "\x7f", "é", "\xff",
		`{"start_time":"2026-11-22T05:04:57.123Z","method":"GET","path":"/v1/users/42?page=3"}`,
		"1234567\"", "\"1234567", "123456\xe2\x80\xa8", "ab\u2029cd", "tail\x01\x02\x03\x04\x05\x06\x07", "12345678\xf0\x9f\x98",
		strings.Repeat(`\"`, 40), strings.Repeat("\xe2\x82\xac", 20)} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, s string, spare uint8) {
		want := AppendReference([]byte("p"), s)
		dst := append(make([]byte, 0, 1+int(spare)), 'p')
		require.Equal(t, string(want), string(Append(dst, s)), "%q", s)
		for k := 0; k <= len(s) && k < 24; k++ { // every tail length, short strings
			require.Equal(t, string(AppendReference(nil, s[k:])), string(Append(nil, s[k:])), "%q", s[k:])
		}
	})
}
