package tail

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// checkpointVersion is the checkpoint format version written. Version 1
// (before FileID.Key) is read too: an entry without "key" gets the Key its
// file would get if first read now (CheckpointEntry.File.Key 0).
const checkpointVersion = 2

// Checkpoint is the content of a checkpoint file: per file, where reading
// resumes.
type Checkpoint struct {
	Files []CheckpointEntry
}

// CheckpointEntry is one file in a Checkpoint.
type CheckpointEntry struct {
	// Path is where the file was last seen (informational; files are
	// matched by Dev, Ino, Fingerprint and Check).
	Path string
	// File identifies the file.
	File FileID
	// Offset is the end of the contiguously acknowledged prefix: reading
	// resumes here.
	Offset int64
	// Size is the file's size when last seen; Size-Offset bytes are lost
	// if the file is gone at the next start.
	Size int64
	// Check covers the last bytes read (the end of the last line read, at
	// or after Offset): a file is only continued if it still holds them.
	// Zero when nothing was read.
	Check Check
}

// Check is a hash of Length bytes of a file at Offset: 64-bit FNV-1a over
// Offset as 8 big-endian bytes followed by the bytes.
type Check struct {
	Offset int64
	Length int
	Hash   uint64
}

// maxCheckLength bounds Check.Length in a checkpoint file.
const maxCheckLength = 4096

type checkpointJSON struct {
	Version *int        `json:"version"`
	Files   []entryJSON `json:"files"`
}

type entryJSON struct {
	Path        string `json:"path"`
	Dev         uint64 `json:"dev"`
	Ino         uint64 `json:"ino"`
	Fingerprint string `json:"fingerprint"`
	Key         string `json:"key"`
	Offset      *int64 `json:"offset"`
	Size        int64  `json:"size"`
	CheckOffset int64  `json:"check_offset"`
	CheckLength int    `json:"check_length"`
	CheckHash   string `json:"check_hash"`
}

// Marshal encodes c as the checkpoint file format: JSON, one file per line,
// sorted by fingerprint, then key.
func (c Checkpoint) Marshal() []byte {
	files := slices.Clone(c.Files)
	slices.SortFunc(files, func(a, b CheckpointEntry) int {
		return cmp.Or(cmp.Compare(a.File.Fingerprint, b.File.Fingerprint),
			cmp.Compare(a.File.Key, b.File.Key), strings.Compare(a.Path, b.Path))
	})
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\"version\":%d,\"files\":[", checkpointVersion)
	for i, e := range files {
		if i > 0 {
			b.WriteByte(',')
		}
		p, _ := json.Marshal(e.Path) // a string always marshals
		fmt.Fprintf(&b, "\n{\"path\":%s,\"dev\":%d,\"ino\":%d,\"fingerprint\":\"%016x\"", p, e.File.Dev, e.File.Ino, e.File.Fingerprint)
		if e.File.Key != 0 {
			fmt.Fprintf(&b, ",\"key\":\"%016x\"", e.File.Key)
		}
		fmt.Fprintf(&b, ",\"offset\":%d,\"size\":%d", e.Offset, e.Size)
		if e.Check != (Check{}) {
			fmt.Fprintf(&b, ",\"check_offset\":%d,\"check_length\":%d,\"check_hash\":\"%016x\"", e.Check.Offset, e.Check.Length, e.Check.Hash)
		}
		b.WriteByte('}')
	}
	b.WriteString("\n]}\n")
	return b.Bytes()
}

// ParseCheckpoint decodes a checkpoint file's content. Errors give the
// line and column where possible; the caller adds the file name.
func ParseCheckpoint(data []byte) (Checkpoint, error) {
	var c Checkpoint
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var raw checkpointJSON
	if err := dec.Decode(&raw); err != nil {
		return c, jsonError(data, dec, err)
	}
	if dec.More() {
		off := dec.InputOffset()
		return c, fmt.Errorf("%s: unexpected data after the checkpoint object", position(data, off))
	}
	if raw.Version == nil {
		return c, fmt.Errorf("missing \"version\" (expected %d)", checkpointVersion)
	}
	if *raw.Version != checkpointVersion && *raw.Version != 1 {
		return c, fmt.Errorf("unsupported version %d (expected 1 or %d)", *raw.Version, checkpointVersion)
	}
	seen := make(map[uint64]int, len(raw.Files))
	for i, e := range raw.Files {
		where := fmt.Sprintf("files[%d]", i)
		if e.Path == "" {
			return c, fmt.Errorf("%s: missing \"path\"", where)
		}
		if len(e.Fingerprint) != 16 {
			return c, fmt.Errorf("%s (%s): \"fingerprint\" must be 16 hex digits, got %q", where, e.Path, e.Fingerprint)
		}
		fp, err := strconv.ParseUint(e.Fingerprint, 16, 64)
		if err != nil {
			return c, fmt.Errorf("%s (%s): \"fingerprint\" must be 16 hex digits, got %q", where, e.Path, e.Fingerprint)
		}
		if e.Offset == nil {
			return c, fmt.Errorf("%s (%s): missing \"offset\"", where, e.Path)
		}
		if *e.Offset < 0 || e.Size < 0 {
			return c, fmt.Errorf("%s (%s): \"offset\" and \"size\" must not be negative", where, e.Path)
		}
		var key uint64 // 0: derived by New (version 1, or written without one)
		if e.Key != "" {
			if key, err = strconv.ParseUint(e.Key, 16, 64); err != nil || len(e.Key) != 16 || key == 0 {
				return c, fmt.Errorf("%s (%s): \"key\" must be 16 hex digits, not all zero, got %q", where, e.Path, e.Key)
			}
		}
		var check Check
		if e.CheckOffset != 0 || e.CheckLength != 0 || e.CheckHash != "" {
			h, err := strconv.ParseUint(e.CheckHash, 16, 64)
			if err != nil || len(e.CheckHash) != 16 {
				return c, fmt.Errorf("%s (%s): \"check_hash\" must be 16 hex digits, got %q", where, e.Path, e.CheckHash)
			}
			if e.CheckOffset < 0 || e.CheckLength <= 0 || e.CheckLength > maxCheckLength {
				return c, fmt.Errorf("%s (%s): \"check_offset\" must not be negative and \"check_length\" must be in 1..%d", where, e.Path, maxCheckLength)
			}
			check = Check{Offset: e.CheckOffset, Length: e.CheckLength, Hash: h}
		}
		if key == 0 { // one entry per fingerprint
			if j, dup := seen[fp]; dup {
				return c, fmt.Errorf("%s (%s): fingerprint %s already used by files[%d]", where, e.Path, e.Fingerprint, j)
			}
			seen[fp] = i
		} else {
			if j, dup := seen[key]; dup {
				return c, fmt.Errorf("%s (%s): key %s already used by files[%d]", where, e.Path, e.Key, j)
			}
			seen[key] = i
		}
		c.Files = append(c.Files, CheckpointEntry{
			Path:   e.Path,
			File:   FileID{Dev: e.Dev, Ino: e.Ino, Fingerprint: fp, Key: key},
			Offset: *e.Offset,
			Size:   e.Size,
			Check:  check,
		})
	}
	return c, nil
}

func jsonError(data []byte, dec *json.Decoder, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		// Offset is just past the offending byte.
		return fmt.Errorf("%s: %s", position(data, syn.Offset-1), syn.Error())
	case errors.As(err, &typ):
		return fmt.Errorf("%s: field %q: expected %s, got JSON %s", position(data, typ.Offset), typ.Field, typ.Type, typ.Value)
	case errors.Is(err, io.EOF):
		return errors.New("empty file (expected a JSON object)")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errTruncated{size: len(data)}
	}
	return fmt.Errorf("%s: %w", position(data, dec.InputOffset()), err)
}

// errTruncated is a checkpoint that ends inside its JSON object.
type errTruncated struct{ size int }

func (e errTruncated) Error() string {
	return fmt.Sprintf("it ends after %d bytes, inside the JSON object", e.size)
}

// position renders byte offset off of data as "line L column C" (1-based).
func position(data []byte, off int64) string {
	off = max(0, min(off, int64(len(data))))
	line := 1 + bytes.Count(data[:off], []byte{'\n'})
	col := off - int64(bytes.LastIndexByte(data[:off], '\n'))
	return fmt.Sprintf("line %d column %d", line, col)
}

// LoadCheckpoint reads the checkpoint file at path. A missing file gives
// an empty Checkpoint and exists == false; a file that cannot be parsed
// gives an error naming the file and the place.
func LoadCheckpoint(path string) (c Checkpoint, exists bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("read checkpoint: %w", err)
	}
	c, err = ParseCheckpoint(data)
	if errors.As(err, new(errTruncated)) {
		return c, true, fmt.Errorf("checkpoint file %s is truncated: %w. Checkpoints are written whole (a temporary file renamed over this one), so something else cut it short (a full disk, a copy). Nothing is read until it is fixed: delete it to start over, and files are then read as on a first run (sidecar.start)", path, err)
	}
	if err != nil {
		return c, true, fmt.Errorf("checkpoint file %s is corrupt: %w (delete it to start over: files are then read as on a first run)", path, err)
	}
	return c, true, nil
}

// WriteCheckpoint writes c to path atomically: a temporary file in the same
// directory is written and fsynced, renamed over path, and the directory is
// fsynced. A crash at any moment leaves either the old or the new content.
func WriteCheckpoint(path string, c Checkpoint) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, base+tmpSuffix+"*")
	if err != nil {
		return fmt.Errorf("write checkpoint %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		_ = f.Close()
		_ = os.Remove(tmp)
		return fmt.Errorf("write checkpoint %s: %w", path, err)
	}
	if _, err := f.Write(c.Marshal()); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write checkpoint %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("write checkpoint %s: open directory: %w", path, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("write checkpoint %s: fsync directory: %w", path, err)
	}
	return nil
}

const tmpSuffix = ".tmp-"

// removeStaleTemps removes temporary files a killed process left behind.
func removeStaleTemps(path string) {
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), globEscape(filepath.Base(path))+tmpSuffix+"*"))
	for _, m := range matches {
		_ = os.Remove(m)
	}
}

func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
