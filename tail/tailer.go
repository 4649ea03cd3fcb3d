package tail

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for zero Options fields.
const (
	DefaultMaxLineBytes       = 1 << 20
	DefaultPollInterval       = 250 * time.Millisecond
	DefaultCheckpointInterval = 5 * time.Second
	DefaultRotateGrace        = 5 * time.Second
	DefaultForgetAfter        = time.Hour
	DefaultReadBufferBytes    = 64 << 10
)

// DefaultExclude are the base-name patterns excluded when Options.Exclude is
// nil: compressed rotated files are not text.
var DefaultExclude = []string{"*.gz", "*.bz2", "*.xz", "*.zst", "*.zip", "*.lz4"}

// Start selects where reading begins.
type Start int

const (
	// FromCheckpoint resumes every file the checkpoint knows where the
	// checkpoint says; other files start as Options.StartUnknown says.
	// Without a checkpoint file (or Options.Checkpoint == "") every file
	// starts as StartUnknown says.
	FromCheckpoint Start = iota
	// FromBeginning reads files present at start-up from their first byte.
	FromBeginning
	// FromEnd skips what files present at start-up already contain.
	FromEnd
)

// String returns the name of s.
func (s Start) String() string {
	switch s {
	case FromCheckpoint:
		return "checkpoint"
	case FromBeginning:
		return "beginning"
	case FromEnd:
		return "end"
	}
	return fmt.Sprintf("Start(%d)", int(s))
}

// Line is one line read from a file or standard input.
type Line struct {
	// Path is the name the file had when the line was read ("-" for
	// standard input).
	Path string
	// File identifies the file; zero for standard input.
	File FileID
	// Offset is the offset of the line's first byte in the file (leading
	// NUL bytes included, see NUL).
	Offset int64
	// End is the offset just past the line's newline: the next line starts
	// here. [Offset, End) is what Tailer.Ack takes.
	End int64
	// Bytes is the line without "\n" and without a "\r" before it. It is
	// valid until the handler returns; copy it to keep it.
	Bytes []byte
	// Cut reports that the line was longer than Options.MaxLineBytes: Bytes
	// holds its first MaxLineBytes bytes and CutBytes bytes were skipped.
	Cut      bool
	CutBytes int64
	// NUL is the number of NUL bytes skipped before the line (the hole a
	// writer without O_APPEND leaves after a copytruncate).
	NUL int
	// Unterminated reports a last line without a newline, delivered because
	// its file was finished for good (rotated away or deleted and idle,
	// standard input closed, or Options.OneShot).
	Unterminated bool
}

// Options configure a Tailer. Zero fields take the defaults named.
type Options struct {
	// Paths are files or glob patterns (filepath.Match syntax), re-scanned
	// every PollInterval for new files; "-" is standard input.
	Paths []string
	// Exclude are patterns matched against the base name of every match;
	// nil means DefaultExclude, an empty non-nil slice excludes nothing.
	Exclude []string
	// Start is where files present at start-up are read from.
	Start Start
	// StartUnknown is where, with Start == FromCheckpoint, a file present at
	// start-up without a checkpoint entry starts, when there is no
	// checkpoint file yet (the first run): FromBeginning (default) or
	// FromEnd. When a checkpoint file exists, files it does not know
	// appeared after it was written and are read from the beginning.
	StartUnknown Start
	// Checkpoint is the checkpoint file ("" = no checkpoint).
	Checkpoint string
	// Identity names this reader (a pod or host name) in the Key of every
	// file it reads first (see FileID), so that two readers' files never
	// share a Key. Keys already in the checkpoint keep theirs.
	Identity string
	// CheckpointInterval is how often the checkpoint is written (default
	// 5s); it is also written when Run returns.
	CheckpointInterval time.Duration
	// MaxLineBytes is the longest line delivered whole (default 1 MiB);
	// longer lines are cut (Line.Cut).
	MaxLineBytes int
	// FingerprintBytes caps the bytes a fingerprint covers (default 1024).
	FingerprintBytes int
	// PollInterval is the period of glob re-scans and end-of-file polls
	// (default 250ms); ignored when Waker is set.
	PollInterval time.Duration
	// RotateGrace is how long a file that left the patterns (renamed away
	// or deleted) is still read after it last grew, for writers that
	// reopen late (default 5s; negative: none).
	RotateGrace time.Duration
	// MaxHeldFiles and MaxHeldBytes bound what is held open while the
	// handler blocks (the shipper, while Elasticsearch is down): new files
	// found meanwhile are opened so that a rotation that deletes them
	// loses nothing, as long as these files and the rotated files still
	// being read are at most MaxHeldFiles (default 16) with at most
	// MaxHeldBytes (default 1 GiB) not yet read. Past the bound the oldest
	// such new file is let go unread: its lines and bytes are counted
	// (LostHeldLimit) and logged at WARN.
	MaxHeldFiles int
	MaxHeldBytes int64
	// ForgetAfter is how long the identity and offset of a file no longer
	// open is remembered (to continue it if it shows up again, e.g. as a
	// copytruncate copy; default 1h).
	ForgetAfter time.Duration
	// ManualAck: when false, a line is acknowledged when the handler
	// returns nil; when true, only Tailer.Ack acknowledges.
	ManualAck bool
	// OneShot reads every file once to its end, delivers unterminated last
	// lines, writes the checkpoint and returns.
	OneShot bool
	// HoldUnterminated keeps OneShot from delivering the unterminated last
	// line of a file the patterns still match (a live file, its last line
	// half written): the next run reads it whole. Lines of files that left
	// the patterns are delivered as OneShot says.
	HoldUnterminated bool
	// ReadBufferBytes is the size of the read buffer of each open file
	// (default 64 KiB, at least FingerprintBytes).
	ReadBufferBytes int
	// Waker paces polling (default NewTimedWaker(PollInterval)).
	Waker Waker
	// Now is the clock for grace periods and checkpoint intervals
	// (default time.Now).
	Now func() time.Time
	// Stdin is read for "-" (default os.Stdin).
	Stdin io.Reader
	// Logger receives rotations, truncations and errors (default: none).
	Logger *slog.Logger
	// AfterRead, when set, is called on Run's goroutine after the lines of
	// each read (up to ReadBufferBytes of a file, a chunk of standard
	// input, or the unterminated last line of a finished file) have been
	// handled: a handler that batches its work publishes it there.
	AfterRead func()
}

// Stats are counters since New and the state of every open file.
type Stats struct {
	// Lines and Bytes delivered / consumed.
	Lines, Bytes uint64
	// Truncations counts files found shorter than the read offset or with
	// a changed first line (copytruncate).
	Truncations uint64
	// Rotations counts new files found at a path that held another file.
	Rotations uint64
	// CutLines and CutBytes count lines longer than MaxLineBytes and the
	// bytes skipped from them.
	CutLines, CutBytes uint64
	// NULBytes counts NUL bytes skipped at line starts.
	NULBytes uint64
	// LostBytes estimates bytes never read: pending partial lines of
	// truncated files (a copy matched by the patterns may still deliver
	// them), the unread rest of files the checkpoint points at that are
	// gone (by the size recorded), remembered files forgotten before being
	// read to their last known size, files let go past MaxHeldFiles or
	// MaxHeldBytes. Lost has them by reason, one entry for every reason
	// of LostReasons, in that order.
	LostBytes uint64
	Lost      []LostCount
	// Duplicates counts files not read because a file with the same
	// fingerprint is being read (copies, or different files with an
	// identical first line).
	Duplicates uint64
	// Errors counts files abandoned after an I/O error; CheckpointErrors
	// failed checkpoint writes (retried at the next interval).
	Errors, CheckpointErrors uint64
	// CheckpointWritten is when the checkpoint was last written
	// successfully (zero: never, in this process); CheckpointFailing
	// reports that the last attempt failed, with CheckpointError.
	CheckpointWritten time.Time
	CheckpointFailing bool
	CheckpointError   string
	// Files are the open files.
	Files []FileStats
	// Patterns are the paths and glob patterns of Options.Paths (standard
	// input left out) with the regular files each matched at the last scan.
	Patterns []PatternStats
}

// PatternStats is what one path or glob pattern matched.
type PatternStats struct {
	Pattern string
	Files   int
}

// unmatchedWarnEvery is how often a pattern that still matches nothing is
// logged again.
const unmatchedWarnEvery = 5 * time.Minute

// FileStats is the state of one open file.
type FileStats struct {
	Path string
	File FileID
	// Size is the size at the last poll; Offset the read offset; Size -
	// Offset is the lag in bytes. Acked is the contiguously acknowledged
	// offset (what the checkpoint holds).
	Size, Offset, Acked int64
	// Rotated reports a file that left the patterns and is being drained.
	Rotated bool
}

// Tailer follows files. Create it with New and call Run once.
type Tailer struct {
	opts  Options
	waker Waker
	now   func() time.Time
	log   *slog.Logger
	// ckptAbs is the absolute checkpoint path, excluded from the patterns.
	ckptAbs string
	warned  map[string]bool // paths that could not be opened, logged once

	saveMu      sync.Mutex        // serialises SaveCheckpoint
	mu          sync.Mutex        // guards entries, readers' shared fields, readers slice
	entries     map[uint64]*entry // by key
	readers     []*reader
	ckptExisted bool

	c counters

	// busySince is when the current cycle started (unix nanos; 0 between
	// cycles): the watcher holds new files while a cycle takes long.
	busySince atomic.Int64
	held      []*heldFile // guarded by mu
	// vacated are the paths whose file left the patterns (renamed away or
	// deleted), with when: a new file there later is a rotation even when
	// it appears a poll after the old one left. Guarded by mu.
	vacated map[string]time.Time
	// matched is how many files each pattern matched at the last scan;
	// unmatchedWarned when a pattern matching nothing was last logged.
	// Guarded by mu.
	patterns        []string
	matched         []int
	unmatchedWarned []time.Time
	lostMu          sync.Mutex
	lostBy          map[string]LostCount

	ckptMu      sync.Mutex // guards the three below
	ckptWritten time.Time
	ckptErr     error
	ckptLogged  time.Time // when a failure was last logged
}

// counters are the Tailer's counts since New (see Stats), safe for
// concurrent use.
type counters struct {
	lines, bytes, truncations, rotations, cutLines, cutBytes, nulBytes, lost, dups atomic.Uint64
	errors, checkpointErrors                                                       atomic.Uint64
}

// snapshot returns the counts as Stats.
func (c *counters) snapshot() Stats {
	return Stats{
		Lines: c.lines.Load(), Bytes: c.bytes.Load(), Truncations: c.truncations.Load(),
		Rotations: c.rotations.Load(), CutLines: c.cutLines.Load(), CutBytes: c.cutBytes.Load(),
		NULBytes: c.nulBytes.Load(), LostBytes: c.lost.Load(), Duplicates: c.dups.Load(),
		Errors: c.errors.Load(), CheckpointErrors: c.checkpointErrors.Load(),
	}
}

// entry is what is known about one file identity.
type entry struct {
	key            uint64
	fp             uint64
	path           string
	dev, ino       uint64
	size           int64 // last known size
	readOff        int64 // end of the last line delivered
	tr             tracker
	check          fpRange // the last bytes of the last line read (up to checkBytes)
	checkHash      uint64
	owner          *reader // nil: no open file holds this identity
	detachedAt     time.Time
	fromCheckpoint bool
	lostCounted    bool
}

// reader is one open file.
type reader struct {
	f          *os.File
	path       string
	dev, ino   uint64
	id         *entry
	fpr        fpRange
	off        int64 // next byte to read
	size       int64
	sp         splitter
	buf        []byte
	initial    bool      // found by the first scan: the start policy applies
	seen       bool      // matched by the current scan
	orphaned   time.Time // when it left the patterns; zero while matched
	lastGrowth time.Time
	statSize   int64 // size seen by the watcher while Run's goroutine is busy
	waiting    bool  // its fingerprint is held by another reader
	done       bool
}

// New validates opts and loads the checkpoint.
func New(opts Options) (*Tailer, error) {
	if len(opts.Paths) == 0 {
		return nil, errors.New("tail: no paths given")
	}
	for _, p := range opts.Paths {
		if _, err := filepath.Match(p, ""); err != nil {
			return nil, fmt.Errorf("tail: bad pattern %q: %w", p, err)
		}
	}
	if opts.Exclude == nil {
		opts.Exclude = DefaultExclude
	}
	for _, p := range opts.Exclude {
		if _, err := filepath.Match(p, ""); err != nil {
			return nil, fmt.Errorf("tail: bad exclude pattern %q: %w", p, err)
		}
	}
	if opts.Start < FromCheckpoint || opts.Start > FromEnd {
		return nil, fmt.Errorf("tail: unknown start %d", opts.Start)
	}
	if opts.StartUnknown == FromCheckpoint {
		opts.StartUnknown = FromBeginning
	}
	if opts.StartUnknown != FromBeginning && opts.StartUnknown != FromEnd {
		return nil, fmt.Errorf("tail: StartUnknown must be FromBeginning or FromEnd, got %s", opts.StartUnknown)
	}
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = DefaultMaxLineBytes
	}
	if opts.FingerprintBytes <= 0 {
		opts.FingerprintBytes = DefaultFingerprintBytes
	}
	if opts.ReadBufferBytes <= 0 {
		opts.ReadBufferBytes = DefaultReadBufferBytes
	}
	opts.ReadBufferBytes = max(opts.ReadBufferBytes, opts.FingerprintBytes)
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = DefaultCheckpointInterval
	}
	if opts.RotateGrace == 0 {
		opts.RotateGrace = DefaultRotateGrace
	}
	if opts.MaxHeldFiles <= 0 {
		opts.MaxHeldFiles = DefaultMaxHeldFiles
	}
	if opts.MaxHeldBytes <= 0 {
		opts.MaxHeldBytes = DefaultMaxHeldBytes
	}
	if opts.ForgetAfter <= 0 {
		opts.ForgetAfter = DefaultForgetAfter
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Stdin == nil {
		opts.Stdin = os.Stdin
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	t := &Tailer{opts: opts, waker: opts.Waker, now: opts.Now, log: opts.Logger, entries: make(map[uint64]*entry), warned: make(map[string]bool), lostBy: make(map[string]LostCount), vacated: make(map[string]time.Time)}
	if t.waker == nil {
		t.waker = NewTimedWaker(opts.PollInterval)
	}
	if opts.Checkpoint != "" {
		c, exists, err := LoadCheckpoint(opts.Checkpoint)
		if err != nil {
			return nil, fmt.Errorf("tail: %w", err)
		}
		removeStaleTemps(opts.Checkpoint)
		if t.ckptAbs, err = filepath.Abs(opts.Checkpoint); err != nil {
			return nil, fmt.Errorf("tail: checkpoint path: %w", err)
		}
		t.ckptExisted = exists
		if opts.Start == FromCheckpoint {
			now := t.now()
			for _, e := range c.Files {
				key := e.File.Key
				if key == 0 { // a version 1 checkpoint
					key = fileKey(opts.Identity, e.File.Dev, e.File.Ino, e.File.Fingerprint, 0)
				}
				t.entries[key] = &entry{
					key: key, fp: e.File.Fingerprint, path: e.Path, dev: e.File.Dev, ino: e.File.Ino,
					size: e.Size, readOff: e.Offset, tr: tracker{mark: e.Offset},
					detachedAt: now, fromCheckpoint: true,
					check: fpRange{e.Check.Offset, e.Check.Offset + int64(e.Check.Length)}, checkHash: e.Check.Hash,
				}
			}
		}
	}
	return t, nil
}

// Ack acknowledges the line at [offset, end) of file. It may be called from
// any goroutine, in any order; the checkpoint advances over contiguously
// acknowledged lines only. Acknowledging standard input does nothing.
func (t *Tailer) Ack(file FileID, offset, end int64) {
	if file == (FileID{}) {
		return
	}
	t.mu.Lock()
	if e := t.entries[file.Key]; e != nil {
		e.tr.ack(offset, end)
	}
	t.mu.Unlock()
}

// Checkpoint returns the current checkpoint (what would be written now).
func (t *Tailer) Checkpoint() Checkpoint {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := Checkpoint{Files: make([]CheckpointEntry, 0, len(t.entries))}
	for _, e := range t.entries {
		c.Files = append(c.Files, CheckpointEntry{
			Path: e.path, File: FileID{Dev: e.dev, Ino: e.ino, Fingerprint: e.fp, Key: e.key},
			Offset: e.tr.mark, Size: e.size,
			Check: Check{Offset: e.check.start, Length: int(e.check.end - e.check.start), Hash: e.checkHash},
		})
	}
	return c
}

// SaveCheckpoint writes the checkpoint file now (a no-op without one).
// Run calls it every CheckpointInterval and when it returns; calls are
// serialised, so a later call never leaves an older checkpoint behind.
func (t *Tailer) SaveCheckpoint() error {
	if t.opts.Checkpoint == "" {
		return nil
	}
	t.saveMu.Lock()
	defer t.saveMu.Unlock()
	err := WriteCheckpoint(t.opts.Checkpoint, t.Checkpoint())
	t.ckptMu.Lock()
	defer t.ckptMu.Unlock()
	if err == nil {
		if t.ckptErr != nil {
			t.log.Info("Checkpoint written again", "checkpoint", t.opts.Checkpoint)
		}
		t.ckptWritten, t.ckptErr = time.Now(), nil
		return nil
	}
	t.c.checkpointErrors.Add(1)
	// Logged at the first failure, then at most once a minute.
	if t.ckptErr == nil || time.Since(t.ckptLogged) >= time.Minute {
		t.log.Error("Saving the checkpoint failed; after a restart, everything read since the last checkpoint is read again",
			"checkpoint", t.opts.Checkpoint, "err", err, "failures", t.c.checkpointErrors.Load())
		t.ckptLogged = time.Now()
	}
	t.ckptErr = err
	return err
}

// Stats returns the counters and the open files. Safe for concurrent use.
func (t *Tailer) Stats() Stats {
	s := t.c.snapshot()
	t.ckptMu.Lock()
	s.CheckpointWritten, s.CheckpointFailing = t.ckptWritten, t.ckptErr != nil
	if t.ckptErr != nil {
		s.CheckpointError = t.ckptErr.Error()
	}
	t.ckptMu.Unlock()
	t.lostMu.Lock()
	for _, r := range LostReasons {
		c := t.lostBy[r]
		c.Reason = r
		s.Lost = append(s.Lost, c)
	}
	t.lostMu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range t.readers {
		fs := FileStats{Path: r.path, File: FileID{Dev: r.dev, Ino: r.ino}, Size: max(r.size, r.statSize), Offset: r.off, Rotated: !r.orphaned.IsZero()}
		if r.id != nil {
			fs.File.Fingerprint, fs.File.Key = r.id.fp, r.id.key
			fs.Acked = r.id.tr.mark
		}
		s.Files = append(s.Files, fs)
	}
	for _, h := range t.held {
		s.Files = append(s.Files, FileStats{Path: h.path, File: FileID{Dev: h.di.dev, Ino: h.di.ino}, Size: h.fi.Size()})
	}
	for i, p := range t.patterns {
		s.Patterns = append(s.Patterns, PatternStats{Pattern: p, Files: t.matched[i]})
	}
	return s
}

// Run reads until ctx is cancelled (then it returns nil), the handler
// returns an error (returned, wrapped), standard input ends when it is the
// only path, or, with OneShot, everything has been read. handle is called
// from Run's goroutine only, one line at a time; a slow handler holds back
// reading, never loses lines. The checkpoint is written every
// CheckpointInterval and when Run returns.
func (t *Tailer) Run(ctx context.Context, handle func(Line) error) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		t.closeAll()
		if serr := t.SaveCheckpoint(); serr != nil && err == nil {
			err = fmt.Errorf("tail: %w", serr)
		}
	}()
	firstCycle := make(chan struct{})
	if t.opts.Checkpoint != "" && !t.opts.OneShot {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(t.opts.CheckpointInterval)
			defer tick.Stop()
			// After the first cycle (what the start policy chose is then
			// known), so that a checkpoint that cannot be written is
			// known before the first interval; failures are counted and
			// logged by SaveCheckpoint, and retried at the next tick and
			// at return.
			select {
			case <-ctx.Done():
				return
			case <-firstCycle:
				_ = t.SaveCheckpoint()
			}
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					_ = t.SaveCheckpoint()
				}
			}
		}()
	}

	var stdin *stdinReader
	patterns := make([]string, 0, len(t.opts.Paths))
	for _, p := range t.opts.Paths {
		if p == "-" {
			if stdin == nil {
				// Not waited for: a read from a terminal or pipe cannot be
				// interrupted; the goroutine ends at its next read.
				stdin = newStdinReader(ctx, t.opts.Stdin, t.opts.ReadBufferBytes, t.opts.MaxLineBytes)
			}
			continue
		}
		patterns = append(patterns, p)
	}
	var stdinC <-chan []byte
	if stdin != nil {
		stdinC = stdin.chunks
	}

	if len(patterns) > 0 && !t.opts.OneShot {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.watch(ctx, patterns)
		}()
	}
	first := true
	for {
		if len(patterns) > 0 {
			if err := t.cycle(ctx, patterns, first, handle); err != nil {
				return err
			}
			if first {
				t.countUnmatchedCheckpointEntries()
				close(firstCycle)
			}
			first = false
		}
		if t.opts.OneShot && stdinC == nil {
			if ctx.Err() != nil {
				return nil // interrupted: no unterminated lines are delivered
			}
			return t.finishAll(handle)
		}
		if len(patterns) == 0 && stdinC == nil {
			return nil
		}
		var wake <-chan struct{}
		if !t.opts.OneShot && len(patterns) > 0 {
			wake = t.waker.Wake()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case chunk, ok := <-stdinC:
			if !ok {
				if err := stdin.finish(t, handle); err != nil {
					return err
				}
				stdinC = nil
				if stdin.err != nil {
					return fmt.Errorf("tail: read standard input: %w", stdin.err)
				}
				continue
			}
			if err := stdin.process(t, chunk, handle); err != nil {
				return err
			}
		}
	}
}

// cycle re-scans the patterns and reads every open file to its end.
func (t *Tailer) cycle(ctx context.Context, patterns []string, initial bool, handle func(Line) error) error {
	t.busySince.Store(time.Now().UnixNano()) // real time: the watcher ticks in real time
	defer t.busySince.Store(0)
	t.scan(patterns, initial)
	t.mu.Lock()
	readers := slices.Clone(t.readers)
	t.mu.Unlock()
	for _, r := range readers {
		if ctx.Err() != nil {
			return nil
		}
		if err := t.poll(ctx, r, handle); err != nil {
			return err
		}
	}
	t.reap()
	return nil
}

type devIno struct{ dev, ino uint64 }

func (t *Tailer) excluded(path string) bool {
	base := filepath.Base(path)
	if t.ckptAbs != "" {
		// Never read our own checkpoint (or its temporary files) as a log.
		if abs, err := filepath.Abs(path); err == nil &&
			(abs == t.ckptAbs || strings.HasPrefix(abs, t.ckptAbs+tmpSuffix)) {
			return true
		}
	}
	for _, p := range t.opts.Exclude {
		if ok, _ := filepath.Match(p, base); ok {
			return true
		}
	}
	return false
}

// scan matches the patterns, opens new files and marks readers that left
// the patterns as orphaned.
func (t *Tailer) scan(patterns []string, initial bool) {
	now := t.now()
	matched := make([]int, len(patterns))
	cands := t.glob(patterns, matched)
	// Globbing and stat are done; the rest is quick (at most an open per
	// new file) and runs under the lock Ack and Stats take.
	t.mu.Lock()
	defer t.mu.Unlock()
	t.noteMatches(patterns, matched, now)
	byDI := make(map[devIno]*reader, len(t.readers))
	byPath := make(map[string]*reader, len(t.readers))
	for _, r := range t.readers {
		r.seen = false
		byDI[devIno{r.dev, r.ino}] = r
		if r.orphaned.IsZero() {
			byPath[r.path] = r
		}
	}
	held := make(map[devIno]*heldFile, len(t.held))
	for _, h := range t.held {
		held[h.di] = h
	}
	t.held = nil
	for _, c := range cands {
		p, fi := c.path, c.fi
		if r := byDI[statDevIno(fi)]; r != nil {
			if !r.seen {
				t.moved(r, p, now)
			}
			continue
		}
		if h := held[statDevIno(fi)]; h != nil {
			delete(held, h.di)
			t.countRotation(p, byPath)
			byDI[h.di] = t.newReader(h.f, p, h.di, fi.Size(), initial, now)
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			// Vanished between Glob and Open, or unreadable; retried next scan.
			if !os.IsNotExist(err) && !t.warned[p] {
				t.warned[p] = true
				t.log.Warn("Cannot open a matching file", "path", p, "err", err)
			}
			continue
		}
		delete(t.warned, p)
		fi, err = f.Stat()
		if err != nil {
			_ = f.Close()
			continue
		}
		di := statDevIno(fi)
		if r := byDI[di]; r != nil { // replaced between Stat and Open by a file we have
			_ = f.Close()
			if !r.seen {
				t.moved(r, p, now)
			}
			continue
		}
		t.countRotation(p, byPath)
		byDI[di] = t.newReader(f, p, di, fi.Size(), initial, now)
	}
	// Held files that left the patterns (renamed away or deleted) are read
	// as rotated files, oldest first.
	for _, h := range heldInOrder(held) {
		if byDI[h.di] != nil {
			_ = h.f.Close()
			continue
		}
		r := t.newReader(h.f, h.path, h.di, h.fi.Size(), false, now)
		r.seen = false
		byDI[h.di] = r
	}
	for _, r := range t.readers {
		if !r.seen && r.orphaned.IsZero() {
			r.orphaned = now
			t.vacated[r.path] = now
		}
	}
}

// noteMatches records what each pattern matched and logs, at the first scan
// and then every unmatchedWarnEvery, a pattern that matches no file: a
// reader that silently reads nothing is the worst kind. Called with t.mu
// held.
func (t *Tailer) noteMatches(patterns []string, matched []int, now time.Time) {
	if t.unmatchedWarned == nil {
		t.unmatchedWarned = make([]time.Time, len(patterns))
	}
	t.patterns, t.matched = patterns, matched
	for i, n := range matched {
		if n > 0 {
			if !t.unmatchedWarned[i].IsZero() {
				t.log.Info("Log pattern matches files again", "glob", patterns[i], "files", n)
			}
			t.unmatchedWarned[i] = time.Time{}
			continue
		}
		if w := t.unmatchedWarned[i]; w.IsZero() || now.Sub(w) >= unmatchedWarnEvery {
			t.log.Warn("Log pattern matches no file; nothing is read from it", "glob", patterns[i])
			t.unmatchedWarned[i] = now
		}
	}
}

// moved records that r was found at path p (its own or a new name, after
// a rename): a path it left is vacated. Called with t.mu held.
func (t *Tailer) moved(r *reader, p string, now time.Time) {
	if r.path != p && r.orphaned.IsZero() {
		t.vacated[r.path] = now
	}
	r.seen, r.path, r.orphaned = true, p, time.Time{}
}

// countRotation counts a new file at path p as a rotation when a reader
// holds p now (byPath) or held it until it left the patterns. Called with
// t.mu held.
func (t *Tailer) countRotation(p string, byPath map[string]*reader) {
	if _, ok := t.vacated[p]; ok || byPath[p] != nil {
		delete(t.vacated, p)
		t.c.rotations.Add(1)
		t.log.Info("File rotated", "path", p)
	}
}

// newReader adds a reader of f. Called with t.mu held.
func (t *Tailer) newReader(f *os.File, path string, di devIno, size int64, initial bool, now time.Time) *reader {
	r := &reader{
		f: f, path: path, dev: di.dev, ino: di.ino, size: size,
		buf: make([]byte, t.opts.ReadBufferBytes), initial: initial, seen: true, lastGrowth: now,
	}
	r.sp.max = t.opts.MaxLineBytes
	t.readers = append(t.readers, r)
	return r
}

// heldInOrder returns the held files of m, oldest first.
func heldInOrder(m map[devIno]*heldFile) []*heldFile {
	out := make([]*heldFile, 0, len(m))
	for _, h := range m {
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b *heldFile) int {
		if c := a.fi.ModTime().Compare(b.fi.ModTime()); c != 0 {
			return c
		}
		return cmpString(a.path, b.path)
	})
	return out
}

// identify computes r's fingerprint and attaches it to an entry, deciding
// where reading starts. Called with t.mu held.
//
// The entry is, in this order: the entry of r's own device and inode whose
// last bytes read are still there (a restart, a rename); an entry no open
// file holds whose last bytes read are in r (a copy, e.g. copytruncate's);
// else a new entry. While another open file has the same fingerprint and
// the same first bytes, r is taken for a copy of it and waits; a file that
// only shares its first line is read at the same time, under its own Key.
func (t *Tailer) identify(r *reader, force bool) error {
	fp, fpr, ok, err := fingerprint(r.f, r.size, t.opts.FingerprintBytes, r.buf, force)
	if err != nil {
		return err
	}
	if !ok {
		r.initial = false // nothing complete existed at start-up: read it all once it has a line
		return nil
	}
	var own, copied []*entry
	for _, e := range t.entries {
		if e.fp != fp {
			continue
		}
		if e.owner != nil && e.owner != r {
			alike, err := t.copyOf(r, e, fpr.end)
			if err != nil {
				return err
			}
			if alike {
				if !r.waiting {
					r.waiting = true
					t.c.dups.Add(1)
					t.log.Debug("File begins as a file being read; not read while that one is", "path", r.path, "other", e.owner.path)
				}
				return nil
			}
			continue
		}
		if e.dev == r.dev && e.ino == r.ino {
			own = append(own, e)
		} else {
			copied = append(copied, e)
		}
	}
	r.waiting = false
	// The bytes last read before the offset must still be there:
	// otherwise this is other content with an identical first line.
	holds := func(e *entry) (bool, error) {
		if e.check.end > e.check.start && e.check.end <= r.size {
			return verify(r.f, e.check, e.checkHash, r.buf)
		}
		return true, nil
	}
	var e *entry
	var prev uint64 // the key of the content this inode held before
	for _, c := range own {
		okc, err := holds(c)
		if err != nil {
			return err
		}
		if okc && r.size >= c.readOff {
			e = c
			break
		}
		// Same inode, other content or shorter than our offset: new
		// content with an identical first line.
		t.countLost(c)
		c.dev, c.ino = 0, 0 // a copy may still continue it
		prev = c.key
		t.log.Info("File has the first line of its earlier content but other content; reading it as a new file", "path", r.path)
	}
	var start int64
	if e != nil {
		start = e.readOff
	} else {
		// The copy holding the most recent bytes: the longest read.
		slices.SortFunc(copied, func(a, b *entry) int { return cmp.Compare(b.readOff, a.readOff) })
		for _, c := range copied {
			okc, err := holds(c)
			if err != nil {
				return err
			}
			if okc && (len(own) == 0 || c.check.end <= r.size) {
				e = c
				break
			}
		}
		switch {
		case e == nil:
			e = &entry{fp: fp, key: fileKey(t.opts.Identity, r.dev, r.ino, fp, prev)}
			for t.entries[e.key] != nil { // a hash collision
				e.key++
			}
			t.entries[e.key] = e
			start = t.startOffset(r)
			e.readOff = start
			e.tr.reset(start)
		case r.size >= e.readOff:
			start = e.readOff
		default:
			// A copy shorter than what was read of the original: the rest
			// was delivered from the original.
			start = r.size
		}
	}
	if e.check.end > r.size {
		// Bytes read past the resume point are not in this file (a copy
		// made before they were written): nothing to check against yet.
		e.check = fpRange{}
	}
	e.owner = r
	e.path, e.dev, e.ino, e.size = r.path, r.dev, r.ino, r.size
	e.fromCheckpoint = false
	r.id, r.fpr, r.off = e, fpr, start
	r.sp.reset(start)
	return nil
}

// sameStartBytes is how much of two files with the same first line is
// compared to tell a copy from another file.
const sameStartBytes = 4096

// copyOf reports whether r may be a copy of the file that holds entry e
// open: they hold the same bytes from from up to sameStartBytes or the end
// of the shorter one. Files that only share their first line (the banner
// of two gateway pods, a header) differ within a few lines. While the open
// file may have changed since it was last read (truncated, perhaps
// rewritten: a copytruncate whose truncation is not noticed yet), r is
// taken for a copy: it waits until the truncation is noticed.
func (t *Tailer) copyOf(r *reader, e *entry, from int64) (bool, error) {
	o := e.owner
	fi, err := o.f.Stat()
	if err != nil || fi.Size() < o.off {
		return true, nil
	}
	if ok, err := verify(o.f, o.fpr, e.fp, r.buf); err != nil || !ok {
		return true, nil
	}
	if e.check.end > e.check.start {
		if ok, err := verify(o.f, e.check, e.checkHash, r.buf); err != nil || !ok {
			return true, nil
		}
	}
	return sameStart(r, o, min(fi.Size(), o.size), from)
}

// sameStart reports whether r and o hold the same bytes from from up to
// sameStartBytes or the end of the shorter one (o's size taken as osize).
func sameStart(r, o *reader, osize, from int64) (bool, error) {
	n := min(r.size, osize, sameStartBytes) - from
	if n <= 0 {
		return true, nil
	}
	var a, b [sameStartBytes]byte
	if _, err := r.f.ReadAt(a[:n], from); err != nil && err != io.EOF {
		return false, err
	}
	if _, err := o.f.ReadAt(b[:n], from); err != nil && err != io.EOF {
		return false, err
	}
	return a == b, nil
}

// startOffset is where a file without an entry starts.
func (t *Tailer) startOffset(r *reader) int64 {
	if !r.initial {
		return 0
	}
	s := t.opts.Start
	if s == FromCheckpoint {
		if t.ckptExisted {
			return 0
		}
		s = t.opts.StartUnknown
	}
	if s != FromEnd || r.size == 0 {
		return 0
	}
	// Start after the last newline in the last buffer of the file, so that
	// a line being written is delivered whole.
	n := min(int64(len(r.buf)), r.size)
	m, err := r.f.ReadAt(r.buf[:n], r.size-n)
	if m < int(n) && err != nil {
		return r.size
	}
	for i := n - 1; i >= 0; i-- {
		if r.buf[i] == '\n' {
			return r.size - n + i + 1
		}
	}
	return r.size
}

func (t *Tailer) countLost(e *entry) {
	if !e.lostCounted && e.size > e.tr.mark && e.owner == nil {
		if n := e.size - max(e.tr.mark, e.readOff); n > 0 {
			t.addLost(LostUnread, 0, uint64(n))
			t.log.Warn("File gone before it was read to its end", "path", e.path, "bytes", n)
		}
	}
	e.lostCounted = true
}

// countUnmatchedCheckpointEntries counts the unread rest of files the
// checkpoint points at that the first scan did not find.
func (t *Tailer) countUnmatchedCheckpointEntries() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range t.entries {
		if e.fromCheckpoint {
			t.countLost(e)
		}
	}
}

// poll reads r to its end, checks it for truncation and finishes it when it
// left the patterns and is idle.
func (t *Tailer) poll(ctx context.Context, r *reader, handle func(Line) error) error {
	fi, err := r.f.Stat()
	if err != nil {
		return t.abandon(r, fmt.Errorf("stat %s: %w", r.path, err))
	}
	now := t.now()
	t.mu.Lock()
	r.size = fi.Size()
	if r.id != nil {
		if err := t.checkTruncated(r); err != nil {
			t.mu.Unlock()
			return t.abandon(r, err)
		}
		if r.id != nil {
			r.id.size = r.size
		}
	}
	if r.id == nil {
		if err := t.identify(r, t.orphanIdle(r, now) && !r.waiting); err != nil {
			t.mu.Unlock()
			return t.abandon(r, fmt.Errorf("fingerprint %s: %w", r.path, err))
		}
	}
	t.mu.Unlock()
	if r.id != nil {
		grew, err := t.read(ctx, r, handle)
		if err != nil {
			return err
		}
		if grew {
			r.lastGrowth = now
		}
	}
	if ctx.Err() == nil && t.orphanIdle(r, now) {
		return t.finish(r, handle)
	}
	return nil
}

// orphanIdle reports whether r left the patterns and has not grown for
// RotateGrace: it is finished for good.
func (t *Tailer) orphanIdle(r *reader, now time.Time) bool {
	return !r.orphaned.IsZero() && (t.opts.RotateGrace < 0 || now.Sub(maxTime(r.orphaned, r.lastGrowth)) >= t.opts.RotateGrace)
}

// checkTruncated restarts r at offset 0 when its file is shorter than the
// read offset or its first line changed. Called with t.mu held.
func (t *Tailer) checkTruncated(r *reader) error {
	truncated := r.size < r.off
	if !truncated {
		same, err := verify(r.f, r.fpr, r.id.fp, r.buf)
		if err == nil && same && r.id.check.end > r.id.check.start {
			same, err = verify(r.f, r.id.check, r.id.checkHash, r.buf)
		}
		if err != nil {
			return fmt.Errorf("verify fingerprint of %s: %w", r.path, err)
		}
		truncated = !same
	}
	if !truncated {
		return nil
	}
	t.c.truncations.Add(1)
	t.log.Info("File truncated, reading it from the start", "path", r.path, "offset", r.off, "size", r.size)
	if r.sp.partial() {
		t.addLost(LostUnread, 0, uint64(r.off-r.sp.lineStart))
	}
	t.detach(r)
	r.off, r.initial = 0, false
	r.sp.reset(0)
	return nil
}

// detach releases r's identity, remembering where delivery stopped. Called
// with t.mu held.
func (t *Tailer) detach(r *reader) {
	if r.id == nil {
		return
	}
	r.id.readOff = r.sp.lineStart
	r.id.owner = nil
	r.id.detachedAt = t.now()
	r.id = nil
}

// read reads r from its offset to the end of the file.
func (t *Tailer) read(ctx context.Context, r *reader, handle func(Line) error) (grew bool, err error) {
	e := r.id
	d := t.delivery(r, handle)
	emit := d.emit
	for {
		if ctx.Err() != nil {
			return grew, nil
		}
		n, rerr := r.f.ReadAt(r.buf, r.off)
		if n > 0 {
			grew = true
			base := r.off
			perr := r.sp.process(r.buf[:n], base, emit)
			t.afterRead()
			lastEnd := d.lastEnd
			t.mu.Lock()
			if lastEnd > base {
				s := max(lastEnd-checkBytes, base)
				e.check = fpRange{s, lastEnd}
				e.checkHash = hashPrefix(s, r.buf[s-base:lastEnd-base])
			}
			if perr == nil {
				r.off += int64(n)
			} else if lastEnd >= 0 {
				r.off = lastEnd // the rest is read again, if ever
			}
			if lastEnd >= 0 {
				e.readOff = lastEnd
				if !t.opts.ManualAck {
					e.tr.ack(e.tr.mark, lastEnd)
				}
			}
			t.mu.Unlock()
			d.publish(uint64(n))
			if perr != nil {
				return grew, perr
			}
		}
		if rerr == io.EOF || n < len(r.buf) {
			return grew, nil
		}
		if rerr != nil {
			return grew, t.abandon(r, fmt.Errorf("read %s: %w", r.path, rerr))
		}
	}
}

// lineDelivery is the one path from a file's splitter to the handler: it
// names each line's file, hands it over and counts it; the counts reach
// the Tailer's counters at publish, once per read.
type lineDelivery struct {
	t       *Tailer
	path    string
	file    FileID
	handle  func(Line) error
	lastEnd int64 // End of the last line handled; -1: none yet

	lines, cutLines, cutBytes, nuls uint64
}

// delivery returns the delivery of r's lines (nil r: standard input).
func (t *Tailer) delivery(r *reader, handle func(Line) error) *lineDelivery {
	d := &lineDelivery{t: t, path: "-", handle: handle, lastEnd: -1}
	if r != nil {
		d.path, d.file = r.path, FileID{Dev: r.dev, Ino: r.ino, Fingerprint: r.id.fp, Key: r.id.key}
	}
	return d
}

func (d *lineDelivery) emit(l *Line) error {
	l.Path, l.File = d.path, d.file
	d.lines++
	if l.Cut {
		d.cutLines++
		d.cutBytes += uint64(l.CutBytes)
	}
	d.nuls += uint64(l.NUL)
	if err := d.handle(*l); err != nil {
		return fmt.Errorf("tail: handle line at %s:%d: %w", d.path, l.Offset, err)
	}
	d.lastEnd = l.End
	return nil
}

// publish adds the counts since the last publish, and n bytes read, to
// the Tailer's counters.
func (d *lineDelivery) publish(n uint64) {
	t := d.t
	t.c.bytes.Add(n)
	t.c.lines.Add(d.lines)
	t.c.cutLines.Add(d.cutLines)
	t.c.cutBytes.Add(d.cutBytes)
	t.c.nulBytes.Add(d.nuls)
	d.lines, d.cutLines, d.cutBytes, d.nuls = 0, 0, 0, 0
}

func (t *Tailer) afterRead() {
	if t.opts.AfterRead != nil {
		t.opts.AfterRead()
	}
}

// finish delivers r's last unterminated line and closes it.
func (t *Tailer) finish(r *reader, handle func(Line) error) error {
	if r.done {
		return nil
	}
	if r.id != nil && r.sp.partial() && !(t.opts.HoldUnterminated && r.orphaned.IsZero()) {
		l0 := r.sp.lineStart
		d := t.delivery(r, handle)
		err := r.sp.flush(r.off, d.emit)
		t.afterRead()
		d.publish(0)
		end := d.lastEnd
		if err != nil {
			r.sp.lineStart = l0
			return err
		}
		t.mu.Lock()
		r.id.readOff = end
		if !t.opts.ManualAck {
			r.id.tr.ack(l0, end)
		}
		t.mu.Unlock()
	}
	t.mu.Lock()
	t.detach(r)
	r.done = true
	t.mu.Unlock()
	_ = r.f.Close()
	return nil
}

// abandon closes r after an I/O error; the error is not fatal to Run (the
// file is opened again by the next scan if it still matches).
func (t *Tailer) abandon(r *reader, err error) error {
	t.c.errors.Add(1)
	t.log.Error("Giving up on a file after an I/O error", "path", r.path, "err", err)
	t.mu.Lock()
	if r.id != nil {
		r.id.readOff = r.sp.lineStart
	}
	t.detach(r)
	r.done = true
	t.mu.Unlock()
	_ = r.f.Close()
	return nil
}

// reap drops finished readers and forgets old detached identities.
func (t *Tailer) reap() {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.readers = slices.DeleteFunc(t.readers, func(r *reader) bool { return r.done })
	for p, at := range t.vacated {
		if now.Sub(at) >= t.opts.ForgetAfter {
			delete(t.vacated, p)
		}
	}
	for key, e := range t.entries {
		if e.owner == nil && now.Sub(e.detachedAt) >= t.opts.ForgetAfter {
			t.countLost(e)
			delete(t.entries, key)
		}
	}
}

// finishAll finishes every open file (OneShot).
func (t *Tailer) finishAll(handle func(Line) error) error {
	t.mu.Lock()
	readers := slices.Clone(t.readers)
	t.mu.Unlock()
	for _, r := range readers {
		// A file that waited for its fingerprint (a copy) may take it over
		// now that the files before it are finished.
		if r.id == nil && !r.done {
			t.mu.Lock()
			err := t.identify(r, true)
			t.mu.Unlock()
			if err != nil {
				_ = t.abandon(r, err)
				continue
			}
			if r.id != nil {
				if _, err := t.read(context.Background(), r, handle); err != nil {
					return err
				}
			}
		}
		if err := t.finish(r, handle); err != nil {
			return err
		}
	}
	t.reap()
	return nil
}

// closeAll closes open files without flushing partial lines (they are read
// again from the checkpoint).
func (t *Tailer) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range t.readers {
		if !r.done {
			if r.id != nil {
				r.id.readOff = r.sp.lineStart
				r.id.owner = nil
				r.id.detachedAt = t.now()
			}
			_ = r.f.Close()
			r.done = true
		}
	}
	t.readers = nil
	for _, h := range t.held {
		_ = h.f.Close()
	}
	t.held = nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
