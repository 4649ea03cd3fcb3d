package tail

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

type gotLine struct {
	Text         string
	Offset, End  int64
	Cut          bool
	CutBytes     int64
	NUL          int
	Unterminated bool
}

func splitAll(t *testing.T, input string, max, chunk int, flush bool) []gotLine {
	t.Helper()
	s := splitter{max: max}
	var got []gotLine
	emit := func(l *Line) error {
		got = append(got, gotLine{string(l.Bytes), l.Offset, l.End, l.Cut, l.CutBytes, l.NUL, l.Unterminated})
		return nil
	}
	b := []byte(input)
	for off := 0; off < len(b); off += chunk {
		end := min(off+chunk, len(b))
		// A fresh copy per chunk: lines must not point into old chunks.
		require.NoError(t, s.process(slices.Clone(b[off:end]), int64(off), emit))
	}
	if flush {
		require.NoError(t, s.flush(int64(len(b)), emit))
	}
	return got
}

func TestSplitter(t *testing.T) {
	cases := []struct {
		name  string
		input string
		max   int
		flush bool
		want  []gotLine
	}{
		{name: "lines", input: "a\nbb\n", max: 10, want: []gotLine{{Text: "a", End: 2}, {Text: "bb", Offset: 2, End: 5}}},
		{name: "crlf", input: "a\r\nb\r\r\n", max: 10, want: []gotLine{{Text: "a", End: 3}, {Text: "b\r", Offset: 3, End: 7}}},
		{name: "empty lines", input: "\n\nx\n", max: 10, want: []gotLine{{End: 1}, {Offset: 1, End: 2}, {Text: "x", Offset: 2, End: 4}}},
		{name: "partial held", input: "a\nbc", max: 10, want: []gotLine{{Text: "a", End: 2}}},
		{name: "partial flushed", input: "a\nbc", max: 10, flush: true, want: []gotLine{{Text: "a", End: 2}, {Text: "bc", Offset: 2, End: 4, Unterminated: true}}},
		{name: "exactly max", input: "abcd\n", max: 4, want: []gotLine{{Text: "abcd", End: 5}}},
		{name: "cut", input: "abcdefgh\nxy\n", max: 4, want: []gotLine{
			{Text: "abcd", End: 9, Cut: true, CutBytes: 4}, {Text: "xy", Offset: 9, End: 12},
		}},
		{name: "cut unterminated", input: "abcdefgh", max: 4, flush: true, want: []gotLine{{Text: "abcd", End: 8, Cut: true, CutBytes: 4, Unterminated: true}}},
		{name: "nul run", input: "\x00\x00\x00hello\n\x00\n", max: 10, want: []gotLine{{Text: "hello", End: 9, NUL: 3}, {Offset: 9, End: 11, NUL: 1}}},
		{name: "nul inside line kept", input: "a\x00b\n", max: 10, want: []gotLine{{Text: "a\x00b", End: 4}}},
		{name: "trailing nuls not a line", input: "a\n\x00\x00", max: 10, flush: true, want: []gotLine{{Text: "a", End: 2}}},
	}
	for _, tc := range cases {
		for _, chunk := range []int{1, 2, 3, 7, 64} {
			got := splitAll(t, tc.input, tc.max, chunk, tc.flush)
			require.Equal(t, tc.want, got, "%s, chunk %d", tc.name, chunk)
		}
	}
}

func TestSplitterCoversEveryByte(t *testing.T) {
	// Random input: the delivered ranges must tile [0, len) exactly.
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab\r\n\x00\n")
	for i := 0; i < 200; i++ {
		b := make([]byte, rng.IntN(200))
		for j := range b {
			b[j] = alphabet[rng.IntN(len(alphabet))]
		}
		got := splitAll(t, string(b), 1+rng.IntN(8), 1+rng.IntN(20), true)
		var next int64
		for _, l := range got {
			require.Equal(t, next, l.Offset, "input %q", b)
			require.Greater(t, l.End, l.Offset)
			next = l.End
		}
		// Only a run of trailing NULs may stay uncovered.
		for _, c := range b[next:] {
			require.Equal(t, byte(0), c, "input %q: uncovered non-NUL byte", b)
		}
	}
}

// FuzzSplitter feeds arbitrary bytes in arbitrary chunks: the lines must tile
// the input, hold at most max bytes, and not depend on the chunking.
func FuzzSplitter(f *testing.F) {
	f.Add([]byte("a\nbb\r\n\x00\x00c\n"), uint8(3), uint8(2))
	f.Add([]byte("0123456789\nx"), uint8(4), uint8(1))
	f.Add([]byte("\n\n\x00\n\r\n"), uint8(1), uint8(5))
	f.Fuzz(func(t *testing.T, data []byte, maxLine, chunk uint8) {
		m := 1 + int(maxLine)
		whole := splitAll(t, string(data), m, len(data)+1, true)
		chunked := splitAll(t, string(data), m, 1+int(chunk), true)
		require.Equal(t, whole, chunked)
		var next int64
		for _, l := range chunked {
			require.Equal(t, next, l.Offset)
			require.LessOrEqual(t, len(l.Text), m)
			next = l.End
		}
		for _, c := range data[next:] {
			require.Equal(t, byte(0), c)
		}
	})
}
