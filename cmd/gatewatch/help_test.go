package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/kingpin/v2"
	"github.com/stretchr/testify/require"
)

// allCommands lists every command and subcommand of the command line.
func allCommands(cmds []*kingpin.CmdModel) []*kingpin.CmdModel {
	var out []*kingpin.CmdModel
	for _, c := range cmds {
		out = append(out, c)
		out = append(out, allCommands(c.Commands)...)
	}
	return out
}

func hasFlag(c *kingpin.CmdModel, name string) bool {
	for _, f := range c.Flags {
		if f.Name == name {
			return true
		}
	}
	return false
}

// TestHelpRunsNothing walks every command: --help and -h print its help,
// write no file and exit 0, also after flags that would make the command
// write files (generate all -c gatewatch.yaml --help used to write them).
func TestHelpRunsNothing(t *testing.T) {
	cfg, err := filepath.Abs("../../examples/gatewatch.yaml")
	require.NoError(t, err)
	contractFile, err := filepath.Abs("../../examples/krakend.json")
	require.NoError(t, err)
	cmds := allCommands(newApp().Model().Commands)
	require.Greater(t, len(cmds), 10, "the walk found too few commands")
	for _, c := range cmds {
		words := strings.Fields(c.FullCommand)
		for _, help := range []string{"--help", "-h"} {
			variants := [][]string{append(append([]string{}, words...), help)}
			if hasFlag(c, "config") && hasFlag(c, "contract") {
				variants = append(variants, append(append([]string{}, words...), "-c", cfg, "--contract", contractFile, help))
			}
			for _, args := range variants {
				t.Run(strings.Join(args, " "), func(t *testing.T) {
					dir := t.TempDir()
					t.Chdir(dir)
					code, out, errOut := gw(t, args...)
					require.Equal(t, 0, code, errOut)
					require.Contains(t, out, "usage: gatewatch "+strings.Join(words, " "))
					entries, err := os.ReadDir(dir)
					require.NoError(t, err)
					require.Empty(t, entries, "--help wrote files")
				})
			}
		}
	}
}
