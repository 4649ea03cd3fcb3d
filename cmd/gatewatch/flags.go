package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/gatewatch/gatewatch/contract"
)

// outputDir registers --output-dir on cmd, and the deprecated -o/--output
// that named the folder before -o meant the output format everywhere. The
// returned function gives the folder, warning on stderr when -o was used.
func outputDir(cmd *kingpin.CmdClause) func() string {
	var dir, old string
	cmd.Flag("output-dir", "Folder to write the files to (created if missing).").Default(".").StringVar(&dir)
	cmd.Flag("output", "Deprecated: use --output-dir.").Short('o').Hidden().StringVar(&old)
	return func() string {
		if old == "" {
			return dir
		}
		fmt.Fprintf(stderr, "gatewatch: warning: -o/--output as a folder is deprecated and will mean the output format, as in the other commands; use --output-dir %s\n", old)
		return old
	}
}

// durationValue is a kingpin flag value holding a duration; a bad value is
// reported with the flag's name and the form expected.
type durationValue struct {
	name string
	d    *time.Duration
}

// durationFlag registers the duration flag name on cmd with a default
// ("": none, *d stays as it is unless the flag is given).
func durationFlag(cmd *kingpin.CmdClause, name, help, def string, d *time.Duration) {
	f := cmd.Flag(name, help)
	if def != "" {
		f = f.Default(def)
	}
	f.SetValue(&durationValue{name: name, d: d})
}

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < 0 {
		return fmt.Errorf("--%s: %q is not a duration: expected a number and a unit, such as 1.5s, 500ms, 2m or 1h30m", v.name, s)
	}
	*v.d = d
	return nil
}

func (v *durationValue) String() string {
	if v.d == nil {
		return ""
	}
	return contract.FormatDuration(*v.d)
}
