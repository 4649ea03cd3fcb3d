package probe

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/contract/loader"
)

// corpus is shared/corpus beside the repository; GATEWATCH_CORPUS
// overrides it (a worktree elsewhere).
var corpus = "../../shared/corpus"

func init() {
	if d := os.Getenv("GATEWATCH_CORPUS"); d != "" {
		corpus = d
	}
}

var validCheck = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// TestCorpus derives the checks of every real contract in the shared
// corpus with a base URL, and checks each name and URL, and the generated
// modules with blackbox_exporter --config.check where it is installed.
func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpus, "*", "*"))
	if len(files) == 0 {
		t.Skipf("no corpus at %s: the corpus test needs shared/corpus beside the repository (or GATEWATCH_CORPUS)", corpus)
	}
	_, bbErr := os.Stat(blackboxBin)
	cfg := loadConfig(t, "probe: {base_url: 'https://gw.example.com/api'}\n")
	derived := 0
	for _, f := range files {
		c, err := loader.Load(f, "auto", loader.Options{})
		if err != nil {
			continue // templates that need their folders: the loader's tests cover them
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			targets, notes := Targets(c, cfg)
			require.Empty(t, notes)
			seen := map[string]bool{}
			for _, tg := range targets {
				require.Regexp(t, validCheck, tg.Name)
				require.False(t, seen[tg.Name], "duplicate check %s", tg.Name)
				seen[tg.Name] = true
				u, err := url.Parse(tg.URL)
				require.NoError(t, err)
				require.Equal(t, "gw.example.com", u.Host)
				require.Regexp(t, `^/api/`, u.Path)
			}
			derived += len(targets)
			s := New(targets, Options{Gateway: c.Name})
			b, err := s.BlackboxYAML()
			require.NoError(t, err)
			_, err = s.ProbesYAML()
			require.NoError(t, err)
			if bbErr == nil {
				p := filepath.Join(t.TempDir(), BlackboxFile)
				require.NoError(t, os.WriteFile(p, b, 0o644))
				out, err := exec.Command(blackboxBin, "--config.file="+p, "--config.check").CombinedOutput()
				require.NoError(t, err, "%s", out)
			}
		})
	}
	require.Positive(t, derived, "the corpus offers checks")
}
