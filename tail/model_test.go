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
// and restarts from the checkpoint, stepping the tailer by hand.
//
// Metrics mode (lines acknowledged when handled): every line arrives exactly
// once. Shipper mode (acknowledged by hand, a random part of the lines in
// random order): after a restart no line of the contiguously acknowledged
// prefix of its file comes again, no run delivers a line twice, and in the
// end every line has come.
func TestRandomRotationsAndRestarts(t *testing.T) {
	for _, shipper := range []bool{false, true} {
		for seed := uint64(1); seed <= 20; seed++ {
			t.Run(fmt.Sprintf("shipper=%v/%d", shipper, seed), func(t *testing.T) {
				randomRotations(t, seed, shipper)
			})
		}
	}
}

func randomRotations(t *testing.T, seed uint64, shipper bool) {
	rng := rand.New(rand.NewPCG(seed, 99))
	dir := t.TempDir()
	x := filepath.Join(dir, "app.log")
	opts := Options{Paths: []string{x + "*"}, Checkpoint: filepath.Join(dir, "ckpt.json"), RotateGrace: -1, ManualAck: shipper}

	acked := map[uint64]map[int64]int64{} // fingerprint → offset → end, acknowledged
	mark := func(fp uint64) int64 {       // the contiguously acknowledged prefix
		var m int64
		for {
			e, ok := acked[fp][m]
			if !ok {
				return m
			}
			m = e
		}
	}
	var runs [][]Line
	var ops []string
	h := startTail(t, opts)
	nAcked := 0 // lines of h.got() considered for acknowledgement
	ackSome := func() {
		got := h.got()
		todo := got[nAcked:]
		nAcked = len(got)
		for _, i := range rng.Perm(len(todo)) {
			if rng.IntN(4) == 0 {
				continue // never acknowledged in this run
			}
			l := todo[i]
			h.tl.Ack(l.File, l.Offset, l.End)
			if acked[l.File.Fingerprint] == nil {
				acked[l.File.Fingerprint] = map[int64]int64{}
			}
			acked[l.File.Fingerprint][l.Offset] = l.End
		}
	}
	restart := func() {
		if shipper {
			ackSome()
		}
		require.NoError(t, h.stop())
		runs = append(runs, h.got())
		marks := map[uint64]int64{}
		for fp, m := range acked {
			marks[fp] = mark(fp)
			// Acknowledgements past a gap are not kept across a restart:
			// those lines come again.
			for off := range m {
				if off >= marks[fp] {
					delete(m, off)
				}
			}
		}
		h = startTail(t, opts)
		nAcked = 0
		ops = append(ops, "restart")
		if !shipper {
			return
		}
		resumed := map[uint64]int64{} // fingerprint → first offset delivered
		for _, l := range h.got() {
			fp := l.File.Fingerprint
			require.GreaterOrEqual(t, l.Offset, marks[fp], "line %s came again after its acknowledgement", l.Bytes)
			if _, ok := resumed[fp]; !ok {
				resumed[fp] = l.Offset
			}
		}
		// Whatever was delivered but not contiguously acknowledged comes
		// again, from the first unacknowledged line on.
		for _, l := range runs[len(runs)-1] {
			fp := l.File.Fingerprint
			if l.Offset >= marks[fp] {
				off, ok := resumed[fp]
				require.True(t, ok, "line %s, not acknowledged, did not come again", l.Bytes)
				require.Equal(t, marks[fp], off, "file %x resumed at the wrong offset", fp)
			}
		}
	}

	next := 0        // next line number
	partial := false // x ends in a half-written line
	rotated := 0     // number of x.N files
	defer func() {
		if t.Failed() {
			t.Logf("ops: %v", ops)
		}
	}()
	finishPartial := func() {
		if partial {
			appendRaw(t, x, fmt.Sprintf("%06d\n", next))
			next++
			partial = false
		}
	}
	for i := 0; i < 60; i++ {
		switch op := rng.IntN(11); {
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
		case op == 6 && rotated > 0 && !shipper:
			// (A shipper may still need a rotated file after a restart:
			// logrotate deleting it is the loss documented for lagging
			// readers, not tested here.)
			h.step() // drained before logrotate deletes the oldest
			require.NoError(t, os.Remove(fmt.Sprintf("%s.%d", x, rotated)))
			rotated--
			ops = append(ops, "delete oldest")
		case op == 7:
			restart()
		case op == 8 && shipper:
			ackSome()
			ops = append(ops, "ack some")
		default:
			h.step()
			ops = append(ops, "step")
		}
	}
	finishPartial()
	h.step()
	h.step()
	require.NoError(t, h.stop())
	runs = append(runs, h.got())

	if !shipper {
		var all []Line
		for _, r := range runs {
			all = append(all, r...)
		}
		requireExactlyOnce(t, all, next)
		return
	}
	seen := make([]bool, next)
	for i, r := range runs {
		inRun := map[int]bool{}
		for _, l := range r {
			k := lineNumber(t, l.Bytes)
			require.False(t, inRun[k], "run %d delivered line %d twice", i, k)
			inRun[k] = true
			seen[k] = true
		}
	}
	for k, ok := range seen {
		require.True(t, ok, "line %d never delivered", k)
	}
}
