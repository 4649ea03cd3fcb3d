package tail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
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
	key      uint64
	fp       uint64
	path     string
	dev, ino uint64
	// wasDev and wasIno are the file this content was read from before a
	// copy took it over: the predecessor of that file's next content.
	wasDev, wasIno uint64
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
