package tail

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAfterRead: AfterRead follows every read, after its lines, so a
// handler that batches has published every line when Run returns, the
// unterminated last line included.
func TestAfterRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	var b strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&b, "line %04d with some padding to make it longer\n", i)
	}
	b.WriteString("unterminated")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))

	var handled, published, calls int
	tl, err := New(Options{
		Paths: []string{path}, Start: FromBeginning, OneShot: true, ReadBufferBytes: 4096,
		AfterRead: func() { published = handled; calls++ },
	})
	require.NoError(t, err)
	require.NoError(t, tl.Run(context.Background(), func(Line) error { handled++; return nil }))
	require.Equal(t, 1001, handled)
	require.Equal(t, handled, published, "every line handled before the last AfterRead")
	require.GreaterOrEqual(t, calls, b.Len()/4096, "called after each read")
}
