package tail

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
)

// DefaultFingerprintBytes is the default cap on the bytes a fingerprint covers.
const DefaultFingerprintBytes = 1024

// FileID identifies a file. Dev and Ino are where the file is now (they
// change when a copy is made); Fingerprint is how it begins: the 64-bit
// FNV-1a hash of the file's first line, taken after any leading NUL bytes,
// through its newline, capped at Options.FingerprintBytes bytes (the start
// offset of that line is hashed too). A file whose first line is not
// complete yet (and shorter than the cap) has no fingerprint and is not read
// until it has one.
//
// Key names one content of one file as one reader read it: a hash of
// Options.Identity, the device, inode and fingerprint the file had when it
// was first read, and the Key of the content it replaced when it was
// truncated and rewritten. It is recorded in the checkpoint and follows the
// content through renames and copytruncate copies, so Key together with
// Line.Offset is stable across restarts, yet differs between two files with
// the same first line, two readers of different Identity, and the contents
// before and after a truncation: use it, not Fingerprint, to derive ids of
// lines.
type FileID struct {
	Dev, Ino    uint64
	Fingerprint uint64
	Key         uint64
}

// String formats id as dev:ino:fingerprint:key (hashes in hex).
func (id FileID) String() string {
	return fmt.Sprintf("%d:%d:%016x:%016x", id.Dev, id.Ino, id.Fingerprint, id.Key)
}

// fileKey is the Key of a content first read from dev and ino, with first
// line fingerprint fp, replacing the content with Key prev (0: none).
func fileKey(identity string, dev, ino, fp, prev uint64) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(identity))
	var b [33]byte // a separator, then four numbers
	for i, v := range [4]uint64{dev, ino, fp, prev} {
		binary.BigEndian.PutUint64(b[1+8*i:], v)
	}
	_, _ = h.Write(b[:])
	if k := h.Sum64(); k != 0 {
		return k
	}
	return 1 // 0 means "no key" (standard input, version 1 checkpoints)
}

// checkBytes is how many bytes before the end of the last line read are
// remembered (hashed) to tell a file's continuation from other content.
const checkBytes = 64

// fpRange is the byte range a fingerprint covers.
type fpRange struct{ start, end int64 }

// fingerprint computes the fingerprint of the file behind f of the given
// size, using buf (len(buf) >= n) as scratch. ok is false when the first line
// is not complete yet and force is false; with force, whatever exists is
// hashed (for a file that is finished for good).
func fingerprint(f io.ReaderAt, size int64, n int, buf []byte, force bool) (fp uint64, r fpRange, ok bool, err error) {
	// Find the first non-NUL byte.
	var s int64
	for {
		if s >= size {
			return 0, r, false, nil
		}
		m, err := f.ReadAt(buf[:min(int64(len(buf)), size-s)], s)
		if m == 0 && err != nil {
			if err == io.EOF {
				return 0, r, false, nil
			}
			return 0, r, false, err
		}
		i := 0
		for i < m && buf[i] == 0 {
			i++
		}
		s += int64(i)
		if i < m {
			break
		}
	}
	want := min(int64(n), size-s)
	m, err := f.ReadAt(buf[:want], s)
	if err != nil && err != io.EOF {
		return 0, r, false, err
	}
	b := buf[:m]
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i+1]
	} else if len(b) < n && !force {
		return 0, r, false, nil
	}
	return hashPrefix(s, b), fpRange{s, s + int64(len(b))}, true, nil
}

func hashPrefix(start int64, b []byte) uint64 {
	h := fnv.New64a()
	var o [8]byte
	binary.BigEndian.PutUint64(o[:], uint64(start))
	_, _ = h.Write(o[:])
	_, _ = h.Write(b)
	return h.Sum64()
}

// verify reports whether the bytes in r still hash to fp.
func verify(f io.ReaderAt, r fpRange, fp uint64, buf []byte) (bool, error) {
	n := r.end - r.start
	if n > int64(len(buf)) {
		return false, fmt.Errorf("fingerprint range %d bytes exceeds buffer", n)
	}
	m, err := f.ReadAt(buf[:n], r.start)
	if int64(m) < n {
		if err == io.EOF || err == nil {
			return false, nil
		}
		return false, err
	}
	return hashPrefix(r.start, buf[:n]) == fp, nil
}
