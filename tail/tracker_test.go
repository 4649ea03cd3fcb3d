package tail

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTracker(t *testing.T) {
	type ack struct{ off, end int64 }
	cases := []struct {
		name string
		acks []ack
		want int64
	}{
		{name: "in order", acks: []ack{{0, 5}, {5, 9}}, want: 9},
		{name: "gap holds", acks: []ack{{0, 5}, {9, 12}}, want: 5},
		{name: "gap closes", acks: []ack{{9, 12}, {5, 9}, {0, 5}}, want: 12},
		{name: "duplicate ack", acks: []ack{{0, 5}, {0, 5}, {5, 7}}, want: 7},
		{name: "nothing from zero", acks: []ack{{5, 9}}, want: 0},
	}
	for _, tc := range cases {
		var tr tracker
		for _, a := range tc.acks {
			tr.ack(a.off, a.end)
		}
		require.Equal(t, tc.want, tr.mark, tc.name)
	}
}

func TestTrackerRandomOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := 0; round < 50; round++ {
		// Lines of random length; acknowledge in a random order and check
		// the mark after every ack against the contiguous prefix.
		n := 1 + rng.IntN(100)
		offs := make([]int64, n+1)
		for i := 1; i <= n; i++ {
			offs[i] = offs[i-1] + 1 + int64(rng.IntN(50))
		}
		order := rng.Perm(n)
		acked := make([]bool, n)
		var tr tracker
		for _, i := range order {
			tr.ack(offs[i], offs[i+1])
			acked[i] = true
			prefix := 0
			for prefix < n && acked[prefix] {
				prefix++
			}
			require.Equal(t, offs[prefix], tr.mark)
		}
		require.Empty(t, tr.pending)
	}
}
