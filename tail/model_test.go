//go:build unix

package tail

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRandomRotationsAndRestarts applies random sequences of appends,
// rotations of every kind, deletions of drained files, half-written lines
// and restarts from the checkpoint, stepping the tailer by hand, and checks
// that every line arrives exactly once.
func TestRandomRotationsAndRestarts(t *testing.T) {
	for seed := uint64(1); seed <= 25; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			dir := t.TempDir()
			x := filepath.Join(dir, "app.log")
			opts := Options{Paths: []string{x + "*"}, Checkpoint: filepath.Join(dir, "ckpt.json"), RotateGrace: -1}
			next := 0        // next line number
			partial := false // x ends in a half-written line
			rotated := 0     // number of x.N files
			var all []Line
			var ops []string
			h := startTail(t, opts)
			finishPartial := func() {
				if partial {
					appendRaw(t, x, fmt.Sprintf("%06d\n", next))
					next++
					partial = false
				}
			}
			for i := 0; i < 60; i++ {
				switch op := rng.IntN(10); {
				case op < 4:
					finishPartial()
					k := 1 + rng.IntN(4)
					appendLines(t, x, next, next+k-1)
					next += k
					if rng.IntN(3) == 0 {
						appendRaw(t, x, "line ")
						partial = true
					}
					ops = append(ops, fmt.Sprintf("append %d", k))
				case op == 4:
					if _, err := os.Stat(x); err != nil {
						continue
					}
					require.NoError(t, shift(x, rotated))
					rotated++
					if partial && rng.IntN(2) == 0 {
						h.step() // the tailer sees the rename with the line half written
					}
					if partial { // the writer finishes its line in the renamed file
						appendRaw(t, x+".1", fmt.Sprintf("%06d\n", next))
						next++
						partial = false
					}
					ops = append(ops, "rename")
				case op == 5:
					finishPartial()
					if _, err := os.Stat(x); err != nil {
						continue
					}
					require.NoError(t, shiftRotated(x, rotated))
					copyFile(t, x, x+".1")
					require.NoError(t, os.Truncate(x, 0))
					rotated++
					ops = append(ops, "copytruncate")
				case op == 6 && rotated > 0:
					h.step() // drained before logrotate deletes the oldest
					require.NoError(t, os.Remove(fmt.Sprintf("%s.%d", x, rotated)))
					rotated--
					ops = append(ops, "delete oldest")
				case op == 7:
					require.NoError(t, h.stop())
					all = append(all, h.got()...)
					h = startTail(t, opts)
					ops = append(ops, "restart")
				default:
					h.step()
					ops = append(ops, "step")
				}
			}
			finishPartial()
			h.step()
			h.step()
			require.NoError(t, h.stop())
			all = append(all, h.got()...)
			t.Logf("ops: %v", ops)
			requireExactlyOnce(t, all, next)
		})
	}
}
