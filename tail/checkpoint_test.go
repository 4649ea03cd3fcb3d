package tail

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckpointRoundTrip(t *testing.T) {
	c := Checkpoint{Files: []CheckpointEntry{
		{Path: "/var/log/b.log", File: FileID{Dev: 2049, Ino: 77, Fingerprint: 0xfedcba9876543210, Key: 0x1234}, Offset: 10, Size: 20},
		{Path: "/var/log/b2.log", File: FileID{Dev: 2049, Ino: 78, Fingerprint: 0xfedcba9876543210, Key: 0x5678}, Offset: 10, Size: 20},
		{Path: "/var/log/a \"quoted\".log", File: FileID{Dev: 1, Ino: 2, Fingerprint: 3}, Offset: 0, Size: 0},
		{Path: "/var/log/c.log", File: FileID{Dev: 1, Ino: 3, Fingerprint: 4}, Offset: 100, Size: 120, Check: Check{Offset: 36, Length: 64, Hash: 0xabcdef}},
	}}
	got, err := ParseCheckpoint(c.Marshal())
	require.NoError(t, err)
	require.ElementsMatch(t, c.Files, got.Files)

	path := filepath.Join(t.TempDir(), "ckpt.json")
	require.NoError(t, WriteCheckpoint(path, c))
	loaded, exists, err := LoadCheckpoint(path)
	require.NoError(t, err)
	require.True(t, exists)
	require.ElementsMatch(t, c.Files, loaded.Files)
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file may be left behind")

	_, exists, err = LoadCheckpoint(filepath.Join(t.TempDir(), "missing.json"))
	require.NoError(t, err)
	require.False(t, exists)
}

func TestCheckpointErrors(t *testing.T) {
	const fp = `"0000000000000001"`
	cases := []struct{ name, data, want string }{
		{"empty", "", "empty file"},
		{"truncated", "{\"version\":1,\n\"files\":[", "inside the JSON object"},
		{"syntax", "{\"version\":1,\n\"files\":[}]}", "line 2 column 10"},
		{"wrong type", "{\"version\":1,\"files\":[{\"path\":\"x\",\"dev\":\"a\"}]}", `field "files.dev"`},
		{"unknown field", `{"version":1,"files":[],"extra":1}`, `unknown field "extra"`},
		{"no version", `{"files":[]}`, `missing "version"`},
		{"bad version", `{"version":3,"files":[]}`, "unsupported version 3"},
		{"bad key", `{"version":2,"files":[{"path":"x","fingerprint":` + fp + `,"key":"0000000000000000","offset":1}]}`, `"key" must be 16 hex digits, not all zero`},
		{"duplicate key", `{"version":2,"files":[{"path":"x","fingerprint":` + fp + `,"key":"00000000000000a1","offset":1},{"path":"y","fingerprint":"0000000000000002","key":"00000000000000a1","offset":1}]}`, "key 00000000000000a1 already used by files[0]"},
		{"no path", `{"version":1,"files":[{"fingerprint":` + fp + `,"offset":1}]}`, `files[0]: missing "path"`},
		{"bad fingerprint", `{"version":1,"files":[{"path":"x","fingerprint":"zz","offset":1}]}`, "16 hex digits"},
		{"no offset", `{"version":1,"files":[{"path":"x","fingerprint":` + fp + `}]}`, `missing "offset"`},
		{"negative", `{"version":1,"files":[{"path":"x","fingerprint":` + fp + `,"offset":-1}]}`, "must not be negative"},
		{"duplicate", `{"version":1,"files":[{"path":"x","fingerprint":` + fp + `,"offset":1},{"path":"y","fingerprint":` + fp + `,"offset":1}]}`, "already used by files[0]"},
		{"bad check hash", `{"version":1,"files":[{"path":"x","fingerprint":` + fp + `,"offset":1,"check_length":3}]}`, `"check_hash" must be 16 hex digits`},
		{"bad check length", `{"version":1,"files":[{"path":"x","fingerprint":` + fp + `,"offset":1,"check_length":0,"check_hash":` + fp + `}]}`, `"check_length" must be in 1..4096`},
		{"trailing data", `{"version":1,"files":[]} {}`, "unexpected data after"},
	}
	for _, tc := range cases {
		_, err := ParseCheckpoint([]byte(tc.data))
		require.ErrorContains(t, err, tc.want, tc.name)
	}

	path := filepath.Join(t.TempDir(), "ckpt.json")
	require.NoError(t, os.WriteFile(path, []byte("{\"version\":1,\n  \"files\": [oops]}"), 0o600))
	_, _, err := LoadCheckpoint(path)
	require.ErrorContains(t, err, "checkpoint file "+path+" is corrupt: line 2 column 13")
	_, err = New(Options{Paths: []string{"x"}, Checkpoint: path})
	require.ErrorContains(t, err, path)

	// A checkpoint cut short is named as such, with what happens next.
	good := Checkpoint{Files: []CheckpointEntry{{Path: "/var/log/a.log", Offset: 42, Size: 42}}}.Marshal()
	require.NoError(t, os.WriteFile(path, good[:len(good)/2], 0o600))
	_, _, err = LoadCheckpoint(path)
	require.ErrorContains(t, err, "checkpoint file "+path+" is truncated: it ends after "+strconv.Itoa(len(good)/2)+" bytes, inside the JSON object")
	require.ErrorContains(t, err, "delete it to start over")
}

func FuzzCheckpoint(f *testing.F) {
	f.Add([]byte(Checkpoint{Files: []CheckpointEntry{{Path: "/a", File: FileID{1, 2, 3, 4}, Offset: 4, Size: 5}}}.Marshal()))
	f.Add([]byte(`{"version":1,"files":[]}`))
	f.Add([]byte(Checkpoint{Files: []CheckpointEntry{{Path: "/b", File: FileID{1, 2, 3, 4}, Offset: 4, Check: Check{Offset: 1, Length: 3, Hash: 9}}}}.Marshal()))
	f.Add([]byte(`{"version":1,"files":[{"path":"x","fingerprint":"00000000000000zz","offset":1}]}`))
	f.Add([]byte(`{"version":1,"files":[{"path":"x","dev":1e99}]}`))
	f.Add([]byte("{\"version\":1,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCheckpoint(data)
		if err != nil {
			return
		}
		// What parses must survive a round trip unchanged.
		again, err := ParseCheckpoint(c.Marshal())
		require.NoError(t, err)
		require.ElementsMatch(t, c.Files, again.Files)
	})
}
