package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract/loader"
	"github.com/gatewatch/gatewatch/rules"
)

// repoRoot is the repository, seen from this package's folder.
const repoRoot = "../.."

// composeProfiles are the profiles of docker-compose.yml; make
// compose-files writes deploy/compose/generated/<profile>/ for each.
var composeProfiles = []string{"krakend", "kong", "envoy"}

type composeFile struct {
	Services map[string]struct {
		Profiles []string `yaml:"profiles"`
		Volumes  []string `yaml:"volumes"`
		Command  []string `yaml:"command"`
	} `yaml:"services"`
}

// composeConfig runs docker-compose config for profile in the repository
// and returns the resolved file (bind mounts with absolute host paths).
func composeConfig(t *testing.T, profile string) *composeFile {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command("docker-compose", "--profile", profile, "config", "-q")
	cmd.Dir, cmd.Stderr = repoRoot, &errb
	require.NoError(t, cmd.Run(), "docker-compose --profile %s config -q: %s", profile, errb.String())
	cmd = exec.Command("docker-compose", "--profile", profile, "config")
	cmd.Dir, cmd.Stdout, cmd.Stderr = repoRoot, &out, &errb
	require.NoError(t, cmd.Run(), "docker-compose --profile %s config: %s", profile, errb.String())
	var f composeFile
	require.NoError(t, yaml.Unmarshal(out.Bytes(), &f))
	return &f
}

// TestComposeStack checks docker-compose.yml with Debian's docker-compose
// for each profile: the configuration is valid, every file or folder the
// profile's services mount exists, and everything under
// deploy/compose/generated/ is byte for byte what `make compose-files`
// writes (gatewatch generate all with the profile's gatewatch.yaml) — no
// stale or missing file. The shared prometheus.yml passes promtool with
// the profile's rules and scrapes with honor_labels and the gateway label
// the rules select; alertmanager.yml, shared by the profiles, is the same
// for each and passes amtool.
func TestComposeStack(t *testing.T) {
	if _, err := exec.LookPath("docker-compose"); err != nil {
		t.Skip("docker-compose is not installed (Debian package docker-compose); the compose stack is not checked")
	}
	root, err := filepath.Abs(repoRoot)
	require.NoError(t, err)
	generated := filepath.Join(root, "deploy", "compose", "generated")
	var alertmanager []byte
	for _, p := range composeProfiles {
		t.Run(p, func(t *testing.T) {
			f := composeConfig(t, p)
			n := 0
			for name, s := range f.Services {
				if len(s.Profiles) > 0 && !slices.Contains(s.Profiles, p) {
					continue
				}
				n++
				for _, v := range s.Volumes {
					src, _, _ := strings.Cut(v, ":")
					if !filepath.IsAbs(src) {
						continue // a named volume
					}
					_, err := os.Stat(src)
					require.NoError(t, err, "service %s mounts %s, which does not exist; run make compose-files", name, src)
					if rel, err := filepath.Rel(generated, src); err == nil && !strings.HasPrefix(rel, "..") {
						require.True(t, strings.HasPrefix(rel, p+string(filepath.Separator)) || rel == p || strings.HasPrefix(rel, composeProfiles[0]+string(filepath.Separator)),
							"service %s of profile %s mounts %s, generated for another profile", name, p, src)
					}
				}
			}
			require.Greater(t, n, 5, "profile %s starts too few services", p)

			// What make compose-files writes, compared with the tree.
			cfgFile := filepath.Join(repoRoot, "deploy", "compose", p, "gatewatch.yaml")
			out := t.TempDir()
			code, _, errOut := gw(t, "generate", "all", "-c", cfgFile, "--output-dir", out)
			require.Equal(t, 0, code, errOut)
			want := readTree(t, out)
			got := readTree(t, filepath.Join(generated, p))
			require.Equal(t, keys(want), keys(got), "deploy/compose/generated/%s has other files than make compose-files writes; run make compose-files", p)
			for name, b := range want {
				require.Equal(t, string(b), string(got[name]), "deploy/compose/generated/%s/%s is stale; run make compose-files", p, name)
			}

			// prometheus.yml scrapes the sidecar as the rules expect.
			cfg, err := config.LoadFile(cfgFile)
			require.NoError(t, err)
			c, err := loader.Load(cfg.Contract.Path, cfg.Contract.Format, loader.Options{})
			require.NoError(t, err)
			checkComposePrometheus(t, filepath.Join(root, "deploy", "compose", "prometheus", "prometheus.yml"),
				filepath.Join(out, rulesFile), rules.GatewayName(c, cfg), cfg.Alerting.Job)

			am := want[alertmanagerFile]
			if alertmanager == nil {
				alertmanager = am
				if _, err := exec.LookPath("amtool"); err == nil {
					b, err := exec.Command("amtool", "check-config", filepath.Join(out, alertmanagerFile)).CombinedOutput()
					require.NoError(t, err, "amtool check-config: %s", b)
				}
			}
			require.Equal(t, string(alertmanager), string(am), "the profiles share one alertmanager.yml (docker-compose.yml mounts krakend's); their alerting sections must agree")

			// The prober's configuration (the probe section comes with
			// `gatewatch probe`).
			_, err = config.LoadFile(filepath.Join(repoRoot, "deploy", "compose", p, "gatewatch-probe.yaml"))
			if err != nil && strings.Contains(err.Error(), `unknown key "probe" in the top level`) {
				t.Logf("gatewatch-probe.yaml not checked: this build's gatewatch.yaml has no probe section yet (%v)", err)
			} else {
				require.NoError(t, err)
			}
		})
	}
}

func checkComposePrometheus(t *testing.T, path, rulesPath, gateway, job string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var pc struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			HonorLabels   bool   `yaml:"honor_labels"`
			StaticConfigs []struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	require.NoError(t, yaml.Unmarshal(b, &pc))
	found := false
	for _, sc := range pc.ScrapeConfigs {
		if sc.JobName != job {
			continue
		}
		found = true
		require.True(t, sc.HonorLabels, "job %s needs honor_labels: true", job)
		for _, st := range sc.StaticConfigs {
			require.Equal(t, gateway, st.Labels["gateway"], "job %s must set the target label gateway to %q", job, gateway)
		}
	}
	require.True(t, found, "prometheus.yml has no job %q, which the sidecar alerts select", job)
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Log("promtool is not installed; prometheus.yml is not checked by it")
		return
	}
	require.Len(t, pc.RuleFiles, 1)
	tmp := filepath.Join(t.TempDir(), "prometheus.yml")
	require.NoError(t, os.WriteFile(tmp, bytes.Replace(b, []byte(pc.RuleFiles[0]), []byte(rulesPath), 1), 0o644))
	res, err := exec.Command(promtool, "check", "config", tmp).CombinedOutput()
	require.NoError(t, err, "promtool check config: %s", res)
}

// readTree returns every file under dir by its slash path.
func readTree(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		m[filepath.ToSlash(rel)] = b
		return nil
	}))
	return m
}

func keys(m map[string][]byte) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// TestKrakenDEntrypoint runs deploy/compose/krakend/entrypoint.sh with a
// stand-in krakend on PATH: every line KrakenD writes to stdout reaches
// both the access-log file and stdout, and KrakenD's exit status is the
// entrypoint's.
func TestKrakenDEntrypoint(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to run the entrypoint with")
	}
	dir := t.TempDir()
	fake := "#!/bin/sh\n" +
		`[ "$1 $2 $3" = "run -c /cfg/krakend.json" ] || { echo "bad args: $*" >&2; exit 9; }` + "\n" +
		`echo '[GIN] 2026/12/04 - 10:11:12 | 200 |    3.1ms |     203.0.113.9 | GET      "/v1/catalog/products"'` + "\n" +
		"echo 'error line' >&2\nexit 3\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "krakend"), []byte(fake), 0o755))
	log := filepath.Join(dir, "access.log")
	cmd := exec.Command(sh, filepath.Join(repoRoot, "deploy", "compose", "krakend", "entrypoint.sh"))
	cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "ACCESS_LOG="+log, "KRAKEND_CONFIG=/cfg/krakend.json")
	out, err := cmd.Output()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, 3, ee.ExitCode(), "KrakenD's exit status")
	want := "[GIN] 2026/12/04 - 10:11:12 | 200 |    3.1ms |     203.0.113.9 | GET      \"/v1/catalog/products\"\nerror line\n"
	// Output returns once tee, which holds stdout, has ended.
	require.Equal(t, want, string(out), "stdout carries the lines")
	b, err := os.ReadFile(log)
	require.NoError(t, err)
	require.Equal(t, want, string(b), "the access log carries the lines")
}

// TestDockerfile checks what the image promises without a Docker engine:
// a static build (CGO_ENABLED=0) with the Go release go.mod names, and a
// last (default) stage on a distroless non-root base that runs gatewatch
// as a non-root user.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	require.NoError(t, err)
	mod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	require.NoError(t, err)
	var goVersion string
	for _, l := range strings.Split(string(mod), "\n") {
		if v, ok := strings.CutPrefix(l, "go "); ok {
			parts := strings.Split(v, ".")
			goVersion = parts[0] + "." + parts[1]
		}
	}
	require.NotEmpty(t, goVersion)
	var stages [][]string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "FROM ") {
			stages = append(stages, nil)
		}
		if len(stages) > 0 && l != "" && !strings.HasPrefix(l, "#") {
			stages[len(stages)-1] = append(stages[len(stages)-1], l)
		}
	}
	require.GreaterOrEqual(t, len(stages), 2)
	require.Equal(t, "FROM golang:"+goVersion+" AS build", stages[0][0])
	require.Contains(t, stages[0], "ENV CGO_ENABLED=0")
	last := stages[len(stages)-1]
	require.Equal(t, "FROM gcr.io/distroless/static:nonroot AS gatewatch", last[0])
	require.Contains(t, last, "USER 65532:65532")
	require.Contains(t, last, `ENTRYPOINT ["/gatewatch"]`)
	for _, s := range stages[1:] {
		require.True(t, slices.ContainsFunc(s, func(l string) bool { return strings.HasPrefix(l, "USER 65532") }), "stage %q runs as root", s[0])
	}
}
