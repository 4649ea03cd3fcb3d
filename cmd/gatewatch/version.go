package main

import (
	"fmt"
	"io"
	"runtime"

	"github.com/alecthomas/kingpin/v2"
)

// Build information, set with -ldflags -X at build time (see the Makefile).
var (
	version   = "dev"
	revision  = "unknown"
	branch    = "unknown"
	buildUser = "unknown"
	buildDate = "unknown"
)

func init() {
	register(func(app *kingpin.Application) {
		app.Version(versionText())
		app.VersionFlag.Help("Print the version of gatewatch and exit.")
		app.Command("version", "Print the version, revision, branch, build user and date, and the Go version gatewatch was built with.").Action(func(*kingpin.ParseContext) error {
			_, err := io.WriteString(stdout, versionText())
			return err
		})
	})
}

// versionText is the version report, laid out as promtool's and
// Prometheus's --version.
func versionText() string {
	return fmt.Sprintf("gatewatch, version %s (branch: %s, revision: %s)\n  build user:       %s\n  build date:       %s\n  go version:       %s\n  platform:         %s/%s\n",
		version, branch, revision, buildUser, buildDate, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
