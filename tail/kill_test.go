//go:build unix

package tail

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const childEnv = "GATEWATCH_TAIL_CHECKPOINT_CHILD"

// checkpointGeneration is checkpoint number i as the child writes it: the
// entry count and every value depend on i, so a torn or mixed file is
// detected.
func checkpointGeneration(i int) Checkpoint {
	c := Checkpoint{}
	for k := 0; k < 1+i%40; k++ {
		c.Files = append(c.Files, CheckpointEntry{
			Path:   fmt.Sprintf("/var/log/gw/%s-%d.log", strings.Repeat("p", i%17), k),
			File:   FileID{Dev: uint64(i), Ino: uint64(k), Fingerprint: uint64(i)<<20 | uint64(k)},
			Offset: int64(i),
			Size:   int64(i) + int64(k),
		})
	}
	return c
}

// TestCheckpointSurvivesKill re-executes the test binary as a child that
// writes checkpoints in a loop, kills it with SIGKILL at random moments and
// checks that what is on disk is always one whole generation.
func TestCheckpointSurvivesKill(t *testing.T) {
	if path := os.Getenv(childEnv); path != "" {
		for i := 1; ; i++ {
			if err := WriteCheckpoint(path, checkpointGeneration(i)); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(3)
			}
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.json")
	rng := rand.New(rand.NewPCG(7, 8))
	for round := 0; round < 5; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCheckpointSurvivesKill$")
		cmd.Env = append(os.Environ(), childEnv+"="+path)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		// Wait for the child to have written at least once, then kill it
		// at a random moment.
		deadline := time.Now().Add(stepTimeout)
		for {
			if _, err := os.Stat(path); err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		time.Sleep(time.Duration(5+rng.IntN(40)) * time.Millisecond)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		err := cmd.Wait()
		require.Error(t, err)
		require.Contains(t, err.Error(), "killed", "child stderr: %s", stderr.String())

		c, exists, err := LoadCheckpoint(path)
		require.NoError(t, err, "round %d", round)
		require.True(t, exists)
		require.NotEmpty(t, c.Files)
		i := int(c.Files[0].Offset)
		require.ElementsMatch(t, checkpointGeneration(i).Files, c.Files, "round %d: generation %d is whole", round, i)
		t.Logf("round %d: killed after generation %d", round, i)
	}
	// A killed writer may leave its temporary file; New removes it.
	require.NoError(t, os.WriteFile(path+tmpSuffix+"4711", []byte("{\"vers"), 0o600))
	_, err := New(Options{Paths: []string{"x"}, Checkpoint: path})
	require.NoError(t, err)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "only the checkpoint file remains")
}
