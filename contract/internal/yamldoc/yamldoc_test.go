package yamldoc

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/gatewatch/gatewatch/contract"
)

func parse(t *testing.T, src string) *yaml.Node {
	t.Helper()
	d := &Doc{File: "t.yaml"}
	root, err := d.Parse([]byte(src))
	require.NoError(t, err)
	return root
}

func TestParseBOMAndTabs(t *testing.T) {
	for name, data := range map[string]string{
		"utf-8 byte order mark": "\xef\xbb\xbf_format_version: \"3.0\"\nservices: [{name: a, url: \"http://a\", routes: [{name: r, paths: [/r]}]}]\n",
		"json with tabs":        "{\n\t\"_format_version\": \"3.0\",\n\t\"services\": [{\"name\": \"a\", \"url\": \"http://a\", \"routes\": [{\"name\": \"r\", \"paths\": [\"/r\"]}]}]\n}\n",
	} {
		t.Run(name, func(t *testing.T) {
			root := parse(t, data)
			require.Equal(t, []string{"_format_version", "services"}, Keys(root))
			r := Get(Get(Get(root, "services").Content[0], "routes").Content[0], "name")
			require.Equal(t, "r", r.Value)
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"syntax error with a line", "a: [1\nb: 2\n", "t.yaml:1: invalid YAML: did not find expected ',' or ']'"},
		{"tab indentation", "a:\n\tb: 1\n", "t.yaml:2: invalid YAML: found character that cannot start any token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &Doc{File: "t.yaml"}
			root, err := d.Parse([]byte(tc.src))
			require.Nil(t, root)
			var ce *contract.Error
			require.ErrorAs(t, err, &ce)
			require.EqualError(t, err, tc.want)
		})
	}
	d := &Doc{File: "t.yaml"}
	root, err := d.Parse([]byte("# only a comment\n"))
	require.NoError(t, err)
	require.Nil(t, root)
}

func TestGetMergeAndAliases(t *testing.T) {
	root := parse(t, `
base: &base {a: 1, b: 2}
more: &more {c: 3}
m:
  <<: [*base, *more]
  b: 20
  b: 21
loop: &loop {<<: *loop, x: 1}
alias: *base
`)
	m := Get(root, "m")
	require.Equal(t, "1", Get(m, "a").Value)
	require.Equal(t, "21", Get(m, "b").Value, "the last of a repeated key, not the merged one")
	require.Equal(t, "3", Get(m, "c").Value)
	require.Nil(t, Get(m, "d"))
	require.Equal(t, contract.Position{Line: 7, Column: 3}, Pos(GetKey(m, "b")))
	require.Equal(t, []string{"b", "b"}, Keys(m))
	require.Nil(t, Get(Get(root, "loop"), "y"), "a merge that refers to itself ends")
	require.Equal(t, "2", Get(Get(root, "alias"), "b").Value)
	require.Nil(t, Get(Get(root, "m"), ""))
	require.Nil(t, Get(nil, "a"))
}

func TestResolveAliasDepth(t *testing.T) {
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: "v"}
	for range MaxAliasDepth {
		n = &yaml.Node{Kind: yaml.AliasNode, Alias: n}
	}
	require.Equal(t, "v", Resolve(n).Value)
	require.Nil(t, Resolve(&yaml.Node{Kind: yaml.AliasNode, Alias: n}))
}

func TestDescribe(t *testing.T) {
	root := parse(t, `{m: {}, l: [], n: null, s: x, b: true, i: 3, f: 1.5, t: !custom v}`)
	for k, want := range map[string]string{
		"m": "a mapping", "l": "a list", "n": "null", "s": `the string "x"`,
		"b": "the boolean true", "i": "the number 3", "f": "the number 1.5", "t": `"v"`, "missing": "nothing",
	} {
		require.Equal(t, want, Describe(Get(root, k)), k)
	}
}

func TestTypedReads(t *testing.T) {
	root := parse(t, `
s: text
n: 1_000.5
i: 42
big: 4294967296
frac: 2.5
yes: on
no: "No"
ph: ${VAR}
null: ~
list: [a, 1, true]
badlist: [a, [b]]
map: {a: 1}
`)
	d := &Doc{File: "t.yaml"}
	errAt := func(err error) string {
		var ce *contract.Error
		require.True(t, errors.As(err, &ce), "%v", err)
		return err.Error()
	}

	s, err := d.Str(Get(root, "s"), "s")
	require.NoError(t, err)
	require.Equal(t, "text", s)
	_, err = d.Str(Get(root, "map"), "map")
	require.Equal(t, "t.yaml:13:6: map: expected a string, got a mapping", errAt(err))

	v, ok, err := d.Number(Get(root, "n"), "n")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, 1000.5, v)
	_, _, err = d.Number(Get(root, "s"), "s")
	require.Equal(t, `t.yaml:2:4: s: expected a number, got the string "text"`, errAt(err))

	i, ok, err := d.Integer(Get(root, "i"), "i")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, 42, i)
	for _, k := range []string{"big", "frac"} {
		_, _, err = d.Integer(Get(root, k), k)
		require.ErrorContains(t, err, k+": expected a whole number")
	}

	for k, want := range map[string]bool{"yes": true, "no": false} {
		b, ok, err := d.Boolean(Get(root, k), k)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, want, b, k)
	}
	_, _, err = d.Boolean(Get(root, "i"), "i")
	require.Equal(t, "t.yaml:4:4: i: expected true or false, got the number 42", errAt(err))

	for _, k := range []string{"ph", "null", "absent"} {
		_, ok, err := d.Number(Get(root, k), k)
		require.NoError(t, err)
		require.False(t, ok, k)
		_, ok, err = d.Boolean(Get(root, k), k)
		require.NoError(t, err)
		require.False(t, ok, k)
	}

	ss, err := d.Strs(Get(root, "list"), "list")
	require.NoError(t, err)
	require.Equal(t, []string{"a", "1", "true"}, ss)
	_, err = d.Strs(Get(root, "badlist"), "badlist")
	require.Equal(t, "t.yaml:12:14: badlist[1]: expected a string, got a list", errAt(err))
	_, err = d.List(Get(root, "map"), "map")
	require.Equal(t, "t.yaml:13:6: map: expected a list, got a mapping", errAt(err))
	_, err = d.Mapping(Get(root, "list"), Field("x", "list"))
	require.Equal(t, "t.yaml:11:7: x.list: expected a mapping, got a list", errAt(err))
	m, err := d.Mapping(Get(root, "null"), "null")
	require.NoError(t, err)
	require.Nil(t, m)
}

func TestPaths(t *testing.T) {
	require.Equal(t, "a", Field("", "a"))
	require.Equal(t, "a.b", Field("a", "b"))
	require.Equal(t, "a.b[3]", Index(Field("a", "b"), 3))
	require.True(t, Placeholder(`${{ env "DECK_X" }}`))
	require.False(t, Placeholder("$x"))
}

func TestRedactHeader(t *testing.T) {
	for _, tc := range []struct {
		in      contract.HeaderMatch
		want    contract.HeaderMatch
		redacts bool
	}{
		{contract.HeaderMatch{Name: "Authorization", Value: "Bearer s3cr3t"}, contract.HeaderMatch{Name: "Authorization", Present: true}, true},
		{contract.HeaderMatch{Name: "x-api-key", Regex: "k-.*"}, contract.HeaderMatch{Name: "x-api-key", Present: true}, true},
		{contract.HeaderMatch{Name: "Cookie", Present: true}, contract.HeaderMatch{Name: "Cookie", Present: true}, false},
		{contract.HeaderMatch{Name: "x-tenant", Value: "a"}, contract.HeaderMatch{Name: "x-tenant", Value: "a"}, false},
	} {
		hm := tc.in
		require.Equal(t, tc.redacts, RedactHeader(&hm), tc.in.Name)
		require.Equal(t, tc.want, hm)
	}
}

func TestProblemsAndNotes(t *testing.T) {
	root := parse(t, "a: 1\nb: 2\nc: 3\n")
	d := &Doc{File: "t.yaml"}
	require.NoError(t, d.Err())
	d.Fail(d.Errorf(Get(root, "c"), "c", "third"))
	require.Equal(t, "t.yaml:3:4: c: third", d.Err().Error())
	d.Fail(d.Errorf(Get(root, "a"), "a", "first"))
	d.Fail(d.Errorf(GetKey(root, "b"), "b", "second"))
	require.Equal(t, "t.yaml:1:4: a: first\nt.yaml:2:1: b: second\nt.yaml:3:4: c: third", d.Err().Error())
	for i := range 2 * MaxErrors {
		d.Fail(fmt.Errorf("plain %d", i))
	}
	require.Len(t, d.errs, MaxErrors)

	d.Note(Get(root, "b"), "b", "kept %d", 2)
	require.Equal(t, []contract.Note{{Pos: contract.Position{Line: 2, Column: 4}, Path: "b", Text: "kept 2"}}, d.Notes)
}

// FuzzParse checks that Parse never panics, that a failure is a
// *contract.Error naming the file, and that lookups on whatever it returns
// end.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"a: 1\n", "a: &a [*a]\n", "x: &x {<<: *x}\ny: {<<: [*x, *x]}\n", "[1, 2", "\xef\xbb\xbf{\"a\":\t1}", "a:\n\tb: c\n", "--- !!binary x\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := &Doc{File: "f.yaml"}
		root, err := d.Parse(data)
		if err != nil {
			var ce *contract.Error
			require.ErrorAs(t, err, &ce)
			require.Equal(t, "f.yaml", ce.File)
			return
		}
		for _, k := range Keys(root) {
			Get(root, k)
			Describe(Get(root, k))
		}
		Get(root, "missing")
	})
}

var errNotMine = errors.New("not mine")

func TestRootAndParseMapping(t *testing.T) {
	require.NotNil(t, Root([]byte("a: 1\n")))
	for _, src := range []string{"", "[1]\n", "a: [\n", "x"} {
		require.Nil(t, Root([]byte(src)), "%q", src)
	}
	for _, tc := range []struct {
		src, want string
		notMine   bool
	}{
		{"a: 1\n", "", false},
		{"b: 1\n", "", false},
		{"", "t.yaml: not mine: the file is empty", true},
		{"- a\n", "t.yaml:1:1: not mine: the top level is a list, expected a mapping with a", true},
		{"c: 1\nd: 2\n", "t.yaml:1:1: not mine: no a; its top-level keys are c, d", true},
		{"a: [\n", "t.yaml:1: invalid YAML: did not find expected node content", false},
	} {
		d := &Doc{File: "t.yaml"}
		root, err := d.ParseMapping([]byte(tc.src), errNotMine, GuessKeys, "a", "b")
		if tc.want == "" {
			require.NoError(t, err)
			require.Equal(t, yaml.MappingNode, root.Kind)
			continue
		}
		require.Nil(t, root)
		require.EqualError(t, err, tc.want)
		require.Equal(t, tc.notMine, errors.Is(err, errNotMine), tc.src)
	}
}

func TestEachAndName(t *testing.T) {
	root := parse(t, `
items:
  - {name: a}
  - {name: ""}
  - [x]
  - ~
  - {name: e}
notalist: {}
`)
	d := &Doc{File: "t.yaml"}
	var names []string
	d.Each(Get(root, "items"), "items", func(n *yaml.Node, p string) error {
		name, err := d.Name(n, p, "expected the item's name")
		if err == nil {
			names = append(names, p+"="+name)
		}
		return err
	})
	d.Each(Get(root, "notalist"), "notalist", func(*yaml.Node, string) error {
		t.Fatal("read called for an item of a mapping")
		return nil
	})
	require.Equal(t, []string{"items[0]=a", "items[4]=e"}, names)
	require.Equal(t, "t.yaml:4:5: items[1]: expected the item's name\n"+
		"t.yaml:5:5: items[2]: expected a mapping, got a list\n"+
		"t.yaml:6:5: items[3]: expected the item's name\n"+
		"t.yaml:8:11: notalist: expected a list, got a mapping", d.Err().Error())
}

func TestGuesses(t *testing.T) {
	for _, tc := range []struct {
		src, want string
		ok        bool
	}{
		{"apiVersion: v1\nkind: ConfigMap\ndata:\n  other: x\n  gw.yaml: |\n    marker: 1\n", "it looks like a Kubernetes ConfigMap; the Gw configuration is the text of data.gw.yaml, extract it into its own file", true},
		{"apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n", "it looks like a Kubernetes manifest (kind: ConfigMap)", true},
		{"apiVersion: v1\nkind: Service\n", "it looks like a Kubernetes manifest (kind: Service)", true},
		{"kind: Service\n", "", false},
	} {
		got, ok := GuessManifest(parse(t, tc.src), "marker", "Gw")
		require.Equal(t, tc.ok, ok, tc.src)
		require.Equal(t, tc.want, got, tc.src)
	}
	require.Equal(t, "its top-level keys are a, b, c, d, e, f, g, h, ...", GuessKeys(parse(t, "{a: 1, b: 1, c: 1, d: 1, e: 1, f: 1, g: 1, h: 1, i: 1}")))
	require.Equal(t, "its top-level keys are a", GuessKeys(parse(t, "a: 1")))
}
