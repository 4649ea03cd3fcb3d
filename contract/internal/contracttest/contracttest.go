// Package contracttest holds what the tests of the contract loaders share:
// a one-line summary of an endpoint for tables of expected endpoints,
// reading test files and the shared corpus of real gateway files, fuzz
// seeds, the corpus benchmark and checks of how a loader's contracts match.
// It is for tests only.
package contracttest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/contract"
)

// LoadFunc is a loader's Load: it reads data, read from path, into a
// contract.
type LoadFunc func(path string, data []byte) (*contract.Contract, error)

// Summary renders the fields of an endpoint a test checks as one line, so
// tables of expected endpoints stay readable.
func Summary(e contract.Endpoint) string {
	var b strings.Builder
	m := "ANY"
	if len(e.Methods) > 0 {
		m = strings.Join(e.Methods, ",")
	}
	fmt.Fprintf(&b, "%s %s %s %s", e.Name, m, e.Match, e.Path)
	if len(e.Paths) > 0 {
		fmt.Fprintf(&b, " paths=%s", strings.Join(e.Paths, "|"))
	}
	if e.Regex != "" {
		fmt.Fprintf(&b, " re=%s", e.Regex)
	}
	if len(e.Params) > 0 {
		fmt.Fprintf(&b, " params=%s", strings.Join(e.Params, ","))
	}
	if len(e.Hosts) > 0 {
		fmt.Fprintf(&b, " hosts=%s", strings.Join(e.Hosts, ","))
	}
	for _, h := range e.Headers {
		fmt.Fprintf(&b, " header=%s", h.Name)
		switch {
		case h.Value != "":
			fmt.Fprintf(&b, "=%s", h.Value)
		case h.Prefix != "":
			fmt.Fprintf(&b, "^=%s", h.Prefix)
		case h.Regex != "":
			fmt.Fprintf(&b, "~%s", h.Regex)
		case h.Present:
			b.WriteString("?")
		}
		if h.Invert {
			b.WriteString("!")
		}
	}
	if e.Priority != 0 {
		fmt.Fprintf(&b, " prio=%d", e.Priority)
	}
	for _, be := range e.Backends {
		fmt.Fprintf(&b, " be=%s[%s]", be.Name, strings.Join(be.Hosts, ","))
		if be.URL != "" {
			fmt.Fprintf(&b, "(%s)", be.URL)
		}
	}
	if e.DirectResponse != 0 {
		fmt.Fprintf(&b, " direct=%d", e.DirectResponse)
	}
	fmt.Fprintf(&b, " timeout=%s retries=%d", e.Timeout, e.Retries)
	if rl := e.RateLimit; rl != nil {
		fmt.Fprintf(&b, " rl=%g/%s", rl.Requests, rl.Period)
		if rl.PerClient {
			b.WriteString("/client")
		}
	}
	if e.Auth.Required || len(e.Auth.Kinds) > 0 {
		req := "optional"
		if e.Auth.Required {
			req = "required"
		}
		fmt.Fprintf(&b, " auth=%s:%s", req, strings.Join(e.Auth.Kinds, ","))
	}
	if !e.Public {
		b.WriteString(" internal")
	}
	if len(e.Tags) > 0 {
		fmt.Fprintf(&b, " tags=%s", strings.Join(e.Tags, ","))
	}
	if e.Listener != "" {
		fmt.Fprintf(&b, " listener=%s", e.Listener)
	}
	if e.Service != "" {
		fmt.Fprintf(&b, " svc=%s", e.Service)
	}
	return b.String()
}

// Summaries is the Summary of each endpoint of c, in order.
func Summaries(c *contract.Contract) []string {
	out := make([]string, 0, len(c.Endpoints))
	for _, e := range c.Endpoints {
		out = append(out, Summary(e))
	}
	return out
}

// Notes renders each note of c as "line:column path: text", in order; nil
// when c has none.
func Notes(c *contract.Contract) []string {
	var notes []string
	for _, n := range c.Notes {
		notes = append(notes, n.Pos.String()+" "+n.Path+": "+n.Text)
	}
	return notes
}

// CorpusFiles lists the files of the corpus folder dir. It skips the test
// when dir does not exist (the corpus is checked out beside the
// repository) and fails it when dir holds no file.
func CorpusFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		tb.Skipf("corpus %s not found; the corpus tests need the shared gateway corpus checked out beside the repository", dir)
	}
	require.NoError(tb, err)
	var files []string
	for _, e := range entries {
		if !e.IsDir() {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	require.NotEmpty(tb, files)
	return files
}

// AddSeeds adds every file of the folders dirs to f's seed corpus. A folder
// that cannot be read adds nothing.
func AddSeeds(f *testing.F, dirs ...string) {
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if data, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
				f.Add(data)
			}
		}
	}
}

// Loader is one gateway's loader as its tests see it.
type Loader struct {
	// Gateway is the Kind the loader's contracts carry.
	Gateway contract.Kind
	// Load and Detect are the loader's own.
	Load   LoadFunc
	Detect func(data []byte) bool
	// NotMine is the error Load wraps for a file of another kind.
	NotMine error
}

// Good is what a loader must make of a good file of its testdata folder.
type Good struct {
	// File is the name of the file in testdata.
	File string
	// Name is the contract's name; "" means File.
	Name string
	// Want is the Summary of each endpoint, Notes each note as
	// "line:column path: text".
	Want, Notes []string
	// Defaults are the contract's defaults.
	Defaults contract.Defaults
}

// Testdata loads the file testdata/file with Load. A file that cannot be
// read fails the test; Load's error is returned.
func (l Loader) Testdata(tb testing.TB, file string) (*contract.Contract, error) {
	tb.Helper()
	path := filepath.Join("testdata", file)
	data, err := os.ReadFile(path)
	require.NoError(tb, err)
	return l.Load(path, data)
}

// CheckGood loads testdata/tc.File and checks the contract against tc: its
// endpoints, notes, name, gateway, source, hash and defaults, and that
// Detect takes the file.
func (l Loader) CheckGood(t *testing.T, tc Good) {
	t.Helper()
	c, err := l.Testdata(t, tc.File)
	require.NoError(t, err)
	require.Equal(t, tc.Want, Summaries(c))
	require.Equal(t, tc.Notes, Notes(c))
	name := tc.Name
	if name == "" { // the file's name without its extension
		name = strings.TrimSuffix(tc.File, filepath.Ext(tc.File))
	}
	require.Equal(t, name, c.Name)
	require.Equal(t, l.Gateway, c.Gateway)
	require.Equal(t, filepath.Join("testdata", tc.File), c.Source)
	data, err := os.ReadFile(filepath.Join("testdata", tc.File))
	require.NoError(t, err)
	require.Equal(t, contract.HashSource(data), c.Hash)
	require.Equal(t, tc.Defaults, c.Defaults)
	require.True(t, l.Detect(data))
}

// CheckBad checks that Load refuses testdata/file with exactly the error
// want, a *contract.Error naming the file, that wraps NotMine just when
// notMine is set, and that Detect takes the file just when detected is set.
func (l Loader) CheckBad(t *testing.T, file, want string, notMine, detected bool) {
	t.Helper()
	c, err := l.Testdata(t, file)
	require.Nil(t, c)
	require.EqualError(t, err, want)
	var ce *contract.Error
	require.ErrorAs(t, err, &ce)
	require.Equal(t, filepath.Join("testdata", file), ce.File)
	require.Equal(t, notMine, errors.Is(err, l.NotMine))
	data, err := os.ReadFile(filepath.Join("testdata", file))
	require.NoError(t, err)
	require.Equal(t, detected, l.Detect(data))
}

// CheckRefuses checks that no file of the corpus folder dir, another
// gateway's, is taken by Detect, and that Load refuses each with an error
// wrapping NotMine that says what the file looks like.
func (l Loader) CheckRefuses(t *testing.T, dir, looksLike string) {
	t.Helper()
	for _, path := range CorpusFiles(t, dir) {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		require.False(t, l.Detect(data), path)
		_, err = l.Load(path, data)
		require.ErrorIs(t, err, l.NotMine)
		require.ErrorContains(t, err, looksLike)
	}
}

// Fuzz runs Detect and Load on data, a fuzz input, and checks that a
// refusal is a *contract.Error naming the file and that a contract carries
// Gateway and names every endpoint. It returns the contract, or nil when
// Load refused data.
func (l Loader) Fuzz(t *testing.T, data []byte) *contract.Contract {
	t.Helper()
	l.Detect(data)
	c, err := l.Load("fuzz.yaml", data)
	if err != nil {
		var ce *contract.Error
		require.ErrorAs(t, err, &ce)
		require.Equal(t, "fuzz.yaml", ce.File)
		return nil
	}
	require.Equal(t, l.Gateway, c.Gateway)
	for _, e := range c.Endpoints {
		require.NotEmpty(t, e.Name)
	}
	return c
}

// EachCorpusFile reads every file of the corpus folder dir, each in a
// subtest named after it, checks that Detect takes it and Load reads it,
// and hands the contract and the file's data to check.
func (l Loader) EachCorpusFile(t *testing.T, dir string, check func(t *testing.T, c *contract.Contract, data []byte)) {
	t.Helper()
	for _, path := range CorpusFiles(t, dir) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			require.True(t, l.Detect(data), "Detect does not take the corpus file")
			c, err := l.Load(path, data)
			require.NoError(t, err)
			check(t, c, data)
		})
	}
}

// Benchmark measures Load reading every file of the corpus folder dir once
// per iteration.
func (l Loader) Benchmark(b *testing.B, dir string) {
	var files [][]byte
	for _, path := range CorpusFiles(b, dir) {
		data, err := os.ReadFile(path)
		require.NoError(b, err)
		files = append(files, data)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, data := range files {
			if _, err := l.Load("bench.yaml", data); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// Match is one request and the endpoint the shared matcher must pick for
// it in C: its name, or "" for none. Host and Header are what the log
// carries ("" and nil: nothing).
type Match struct {
	C            *contract.Contract
	Method, Path string
	Host         string
	Header       map[string]string
	Want         string
}

// CheckMatches checks each case with contract.NewMatcher.
func CheckMatches(t *testing.T, cases []Match) {
	t.Helper()
	for _, tc := range cases {
		r := contract.Request{Method: tc.Method, Path: tc.Path, Host: tc.Host}
		if tc.Header != nil {
			r.Header = func(name string) (string, bool) { v, ok := tc.Header[name]; return v, ok }
		}
		m := contract.NewMatcher(tc.C)
		got := ""
		if e := m.Endpoint(m.MatchRequest(r)); e != nil {
			got = e.Name
		}
		require.Equal(t, tc.Want, got, "%s %s %s %v", tc.Method, tc.Host, tc.Path, tc.Header)
	}
}
