package shipper

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatewatch/gatewatch/accesslog"
	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/logline"
	"github.com/gatewatch/gatewatch/tail"
)

// Reasons of lines shipped to the dead-letter index without decoding.
const (
	ReasonNoTimestamp = "no_timestamp"
)

// pending is a batch with what its lines need once acknowledged.
type pending struct {
	b      Batch
	acks   []ack
	first  time.Time // when its first line was added
	oldest time.Time // @timestamp of its first line
}

type ack struct {
	file     tail.FileID
	off, end int64
}

// pipe is one shipper's line handler, flusher and sender.
type pipe struct {
	s        *Shipper
	tailer   *tail.Tailer
	client   *Client
	builder  *Builder
	redact   *accesslog.Redactor
	lines    *logline.Reader // decoder and endpoint, as the metrics reader's
	namer    *IndexNamer
	stream   string // data stream name, "" in index mode
	dlq      string
	partial  map[uint64]int64 // file key → offset of a line's first piece
	stdinKey uint64

	maxDocs, maxBytes int
	interval          time.Duration

	ev  accesslog.Event
	doc []byte // a document moving to the next batch
	// act is the start of the create action for index actIndex, up to
	// the _id; idKey and idHex the first part of the _ids of the file
	// with that key (see DocID).
	actIndex string
	act      []byte
	idKey    uint64
	idHex    []byte
	idBuf    [maxIDLen]byte // the _id of the line being handled
	// ctx ends the waits of handle for a free batch or the sender.
	ctx context.Context

	mu   sync.Mutex
	cur  *pending
	free chan *pending
	full chan *pending

	sending atomic.Int64              // unix nanos of the oldest line being sent; 0 when idle
	lost    map[string]tail.LostCount // by reason, as last counted
}

func (s *Shipper) newPipe(t *tail.Tailer) (*pipe, error) {
	sc := s.sc
	p := &pipe{
		s: s, tailer: t,
		client: newClient(ClientOptions{
			ES: s.es, Backoff: Backoff{Initial: sc.Backoff.Initial.Std(), Max: sc.Backoff.Max.Std()},
			Timeout: sc.Timeout.Std(), DLQIndex: sc.DLQIndex, Auth: s.auth, Logger: s.logger,
		}, s.m),
		builder: NewBuilder(Identity{
			Gateway: s.gatewayName(), Track: s.cfg.Gateway.Track, Version: s.cfg.Gateway.Version,
		}),
		redact:   accesslog.NewRedactor(sc.RedactNames(), extraFields(s.cfg)...),
		dlq:      sc.DLQIndex,
		partial:  map[uint64]int64{},
		stdinKey: randomKey(),
		maxDocs:  sc.BatchSize,
		maxBytes: int(sc.BatchBytes),
		interval: sc.FlushInterval.Std(),
		free:     make(chan *pending, 2),
		full:     make(chan *pending, 1),
	}
	if s.c != nil {
		p.builder = NewBuilder(Identity{
			Gateway: s.gatewayName(), Kind: string(s.c.Gateway), Track: s.cfg.Gateway.Track,
			Hash: s.c.Hash, Version: s.cfg.Gateway.Version,
		})
	}
	lr, err := logline.New(&s.cfg.Sidecar, s.c)
	if err != nil {
		return nil, fmt.Errorf("shipper: %w", err)
	}
	p.lines = lr
	if sc.Mode == config.ShipperModeDataStream {
		p.stream = sc.DataStream
	} else {
		n, err := NewIndexNamer(sc.Index.Prefix, sc.Index.DatePattern)
		if err != nil {
			return nil, err
		}
		p.namer = n
	}
	// Batch bodies start at about their usual size (a 400-byte JSON line
	// makes a 1.2 KiB document: 2 KiB a document, within batch_bytes, at
	// most 8 MiB) rather than growing by copying; the pages are only
	// touched as documents fill them.
	for range 2 {
		p.free <- &pending{b: Batch{
			body:  make([]byte, 0, max(0, min(p.maxBytes+4<<10, p.maxDocs<<11, 8<<20))),
			items: make([]item, 0, min(p.maxDocs, 1<<16)),
		}}
	}
	p.ev.Reset()
	return p, nil
}

// extraFields are the extra fields of every log, for redaction by origin.
func extraFields(cfg *config.Config) []map[string]string {
	var out []map[string]string
	for _, l := range cfg.Sidecar.Logs {
		if len(l.Extra) > 0 {
			out = append(out, l.Extra)
		}
		if l.Mapping != nil && len(l.Mapping.Extra) > 0 {
			out = append(out, l.Mapping.Extra)
		}
	}
	return out
}

// handle takes one line from the tailer: it builds the document and adds
// it to the current batch, handing full batches to the sender. It blocks
// while both batches are busy: the file is the buffer.
func (p *pipe) handle(l tail.Line) error {
	key := l.File.Key
	if l.File == (tail.FileID{}) {
		key = p.stdinKey
	}
	start := l.Offset
	if s, ok := p.partial[key]; ok {
		start = s
	}
	if len(bytes.TrimSpace(l.Bytes)) == 0 && !l.Cut {
		delete(p.partial, key)
		p.tailer.Ack(l.File, start, l.End)
		return nil
	}
	src := Source{Path: l.Path, Offset: start}
	var index string
	// The raw line is redacted while it is escaped into the batch; an
	// undecoded line goes to the dead-letter index with its reason.
	var raw []byte
	var reason string
	undecoded := true
	now := time.Time{}
	p.ev.Reset()
	err := p.lines.Decode(l.Path, l.Bytes, &p.ev)
	if errors.Is(err, accesslog.ErrPartial) {
		if _, ok := p.partial[key]; !ok {
			p.partial[key] = l.Offset
		}
		return nil
	}
	delete(p.partial, key)
	if errors.Is(err, accesslog.ErrOtherLog) {
		// KrakenD's application log in the access log's stream: counted,
		// not shipped (it is not an access-log line, nor a broken one).
		p.s.m.skipped.Inc()
		p.tailer.Ack(l.File, start, l.End)
		return nil
	}
	endpoint := contract.Unmatched
	switch {
	case l.Cut:
		raw, reason, index = l.Bytes, accesslog.ReasonTooLong, p.dlq
	case err != nil:
		raw, reason, index = l.Bytes, err.Error(), p.dlq
		if de, ok := accesslog.IsDecodeError(err); ok && de.Reason == accesslog.ReasonPartialTooLong && len(p.ev.Raw) > 0 {
			raw = p.ev.Raw // the joined line's first max_line_bytes, not its last piece
		}
	case p.ev.Time.IsZero():
		raw, reason, index = l.Bytes, ReasonNoTimestamp, p.dlq
	default:
		undecoded = false
		if len(p.ev.Raw) == 0 {
			p.ev.Raw = l.Bytes // envelope decoders give the inner, joined line
		}
		if ep := p.lines.Endpoint(&p.ev); ep != nil {
			endpoint = ep.Name
		}
		p.redact.RedactFields(&p.ev)
		now = p.ev.Time
		if p.stream != "" {
			index = p.stream
		} else {
			index = p.namer.Name(p.ev.Time)
		}
	}

	// The action and document are written straight into the current
	// batch's body; one that would make the batch too big moves to the
	// next batch (once per batch).
	p.mu.Lock()
	c, err := p.current()
	if err != nil {
		return err
	}
	mark := len(c.b.body)
	var idStart, idEnd int
	c.b.body, idStart, idEnd = p.appendAction(c.b.body, index, key, start, l.Bytes)
	docStart := len(c.b.body)
	if undecoded {
		c.b.body = p.builder.appendUndecoded(c.b.body, raw, reason, time.Now(), src, p.redact)
	} else {
		c.b.body = p.builder.appendDoc(c.b.body, &p.ev, endpoint, src, p.redact)
	}
	docLen := len(c.b.body) - docStart
	c.b.body = append(c.b.body, '\n')
	id := unsafeString(append(p.idBuf[:0], c.b.body[idStart:idEnd]...)) // copied by addItem
	if c.b.Len() > 0 && mark+docLen+len(index)+len(id)+40 > p.maxBytes {
		p.doc = append(p.doc[:0], c.b.body[mark:]...)
		c.b.body = c.b.body[:mark]
		p.mu.Unlock()
		if !p.handOver(p.ctx, false) {
			return p.ctx.Err()
		}
		p.mu.Lock()
		if c, err = p.current(); err != nil {
			return err
		}
		mark = len(c.b.body)
		c.b.body = append(c.b.body, p.doc...)
	}
	if c.b.Len() == 0 {
		c.first = time.Now()
		c.oldest = now
	}
	c.b.addItem(mark, index, id, index == p.dlq)
	// Consecutive lines of a file are acknowledged as one range.
	if n := len(c.acks); n > 0 && c.acks[n-1].file == l.File && c.acks[n-1].end == start {
		c.acks[n-1].end = l.End
	} else {
		c.acks = append(c.acks, ack{file: l.File, off: start, end: l.End})
	}
	full := c.b.Len() >= p.maxDocs || c.b.Size() >= p.maxBytes
	p.mu.Unlock()
	if full && !p.handOver(p.ctx, false) {
		return p.ctx.Err()
	}
	return nil
}

// appendAction appends the create action of the line at offset in the
// file with the given key into index, and returns where its _id (see
// DocID) is in dst. The start of the action is kept for the index and
// the start of the _id for the file, so that most lines need only their
// offset and checksum formatted.
func (p *pipe) appendAction(dst []byte, index string, key uint64, offset int64, line []byte) ([]byte, int, int) {
	if index != p.actIndex || p.act == nil {
		p.actIndex = index
		p.act = append(p.act[:0], `{"create":{"_index":`...)
		p.act = appendString(p.act, index)
		p.act = append(p.act, `,"_id":"`...)
	}
	if key != p.idKey || p.idHex == nil {
		p.idKey = key
		p.idHex = strconv.AppendUint(p.idHex[:0], key, 16)
		p.idHex = append(p.idHex, '-')
	}
	dst = append(dst, p.act...)
	start := len(dst)
	dst = append(dst, p.idHex...)
	dst = appendDecimal(dst, offset)
	dst = append(dst, '-')
	dst = appendLineSum(dst, line)
	end := len(dst)
	return append(dst, "\"}}\n"...), start, end
}

// current returns the batch being filled, waiting for a free one when
// both are with the sender. It is called with p.mu held and returns with
// it held, except on error (ctx ended), when it is released.
func (p *pipe) current() (*pending, error) {
	for p.cur == nil {
		p.mu.Unlock()
		var b *pending
		select {
		case b = <-p.free:
		case <-p.ctx.Done():
			return nil, p.ctx.Err() // stopping while Elasticsearch holds both batches
		}
		p.mu.Lock()
		p.cur = b
	}
	return p.cur, nil
}

// handOver passes the current batch to the sender. With onlyIfOld false it
// always does; the flusher passes batches older than the flush interval.
// It reports false when ctx ended first.
func (p *pipe) handOver(ctx context.Context, force bool) bool {
	p.mu.Lock()
	c := p.cur
	if c == nil || c.b.Len() == 0 {
		p.mu.Unlock()
		return true
	}
	p.cur = nil
	p.mu.Unlock()
	_ = force
	select {
	case p.full <- c:
		return true
	case <-ctx.Done():
		return false
	}
}

// flusher hands over batches older than the flush interval and updates
// the lag gauges.
func (p *pipe) flusher(ctx context.Context) {
	tick := time.NewTicker(min(p.interval/2+time.Millisecond, time.Second))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		p.mu.Lock()
		old := p.cur != nil && p.cur.b.Len() > 0 && time.Since(p.cur.first) >= p.interval
		p.mu.Unlock()
		if old {
			p.handOver(ctx, false)
		}
		p.updateLag()
	}
}

func (p *pipe) updateLag() {
	st := p.tailer.Stats()
	var lag int64
	for _, f := range st.Files {
		if d := f.Size - f.Acked; d > 0 {
			lag += d
		}
	}
	p.s.m.lagBytes.Set(float64(lag))
	oldest := p.sending.Load()
	p.mu.Lock()
	if p.cur != nil && p.cur.b.Len() > 0 && !p.cur.oldest.IsZero() && (oldest == 0 || p.cur.oldest.UnixNano() < oldest) {
		oldest = p.cur.oldest.UnixNano()
	}
	p.mu.Unlock()
	if oldest == 0 {
		p.s.m.lagSecs.Set(0)
	} else {
		p.s.m.lagSecs.Set(max(0, time.Since(time.Unix(0, oldest)).Seconds()))
	}
	if p.lost == nil {
		p.lost = make(map[string]tail.LostCount, len(st.Lost))
	}
	for _, l := range st.Lost {
		was := p.lost[l.Reason]
		p.s.m.lostBytes.WithLabelValues(l.Reason).Add(float64(l.Bytes - was.Bytes))
		p.s.m.lostLines.WithLabelValues(l.Reason).Add(float64(l.Lines - was.Lines))
		p.lost[l.Reason] = l
	}
}

// sender sends batches in order and acknowledges their lines once every
// item is settled.
// It stops taking batches when stop ends and abandons the one in flight
// when ctx ends.
func (p *pipe) sender(ctx, stop context.Context) {
	for {
		var c *pending
		select {
		case <-stop.Done():
			// A OneShot run closes full after its last batch: send it.
			select {
			case b, ok := <-p.full:
				if !ok {
					return
				}
				c = b
			default:
				return
			}
		case b, ok := <-p.full:
			if !ok {
				return
			}
			c = b
		}
		if !c.oldest.IsZero() {
			p.sending.Store(c.oldest.UnixNano())
		} else {
			p.sending.Store(c.first.UnixNano())
		}
		if err := p.client.Send(ctx, &c.b); err != nil {
			return // ctx ended: nothing more is acknowledged
		}
		var n int64
		for _, a := range c.acks {
			p.tailer.Ack(a.file, a.off, a.end)
			n += a.end - a.off
		}
		p.s.docs.Add(int64(c.b.Len()))
		p.s.bytes.Add(n)
		p.sending.Store(0)
		c.b.Reset()
		c.acks = c.acks[:0]
		p.free <- c
	}
}
