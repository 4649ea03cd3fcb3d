//go:build unix

package tail

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const runChildEnv = "GATEWATCH_TAIL_RUN_CHILD"

func crashOptions(dir string) Options {
	return Options{
		Paths:              []string{filepath.Join(dir, "app.log*")},
		Checkpoint:         filepath.Join(dir, "ckpt.json"),
		PollInterval:       time.Millisecond,
		CheckpointInterval: 2 * time.Millisecond,
	}
}

// TestNothingLostAcrossKill runs the tailer in a child process (the test
// binary re-executed) that prints the number of every line it handled,
// kills it with SIGKILL at random moments while a writer appends and
// rotates, and finally reads the rest from the checkpoint: every line must
// have been handled by some run, and no run handles a line twice.
func TestNothingLostAcrossKill(t *testing.T) {
	if dir := os.Getenv(runChildEnv); dir != "" {
		tl, err := New(crashOptions(dir))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		_ = tl.Run(context.Background(), func(l Line) error {
			_, err := fmt.Fprintf(os.Stdout, "%s\n", l.Bytes[len("line "):])
			return err
		})
		os.Exit(4)
	}

	const n, every = 30_000, 2_000
	dir := t.TempDir()
	x := filepath.Join(dir, "app.log")
	w := &logWriter{t: t, path: x}
	w.open()
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		defer w.f.Close()
		for i, rotation := 0, 0; i < n; {
			w.write(i)
			i++
			if i%every == 0 {
				rotation++
				if err := shift(x, rotation-1); err != nil {
					panic(err)
				}
				_ = w.f.Close()
				w.open()
			}
			if i%100 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()

	rng := rand.New(rand.NewPCG(9, 10))
	var runs [][]int
	for round := 0; round < 4; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestNothingLostAcrossKill$")
		cmd.Env = append(os.Environ(), runChildEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		read := make(chan []int)
		go func() {
			var got []int
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				k, err := strconv.Atoi(sc.Text())
				if err == nil {
					got = append(got, k)
				}
			}
			read <- got
		}()
		time.Sleep(time.Duration(20+rng.IntN(60)) * time.Millisecond)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		got := <-read
		_ = cmd.Wait()
		runs = append(runs, got)
	}
	<-writerDone

	// The last run, in process, from the checkpoint the last child left.
	opts := crashOptions(dir)
	opts.OneShot = true
	tl, err := New(opts)
	require.NoError(t, err)
	var last []int
	require.NoError(t, tl.Run(t.Context(), func(l Line) error {
		last = append(last, lineNumber(t, l.Bytes))
		return nil
	}))
	runs = append(runs, last)

	seen := make([]int, n)
	replayed := 0
	for i, run := range runs {
		inRun := map[int]bool{}
		for _, k := range run {
			require.False(t, inRun[k], "run %d handled line %d twice", i, k)
			inRun[k] = true
			if seen[k] > 0 {
				replayed++
			}
			seen[k]++
		}
		t.Logf("run %d handled %d lines", i, len(run))
	}
	for k, c := range seen {
		require.NotZero(t, c, "line %d was never handled", k)
	}
	t.Logf("%d lines handled again after a kill (handled after the last checkpoint write)", replayed)
}
