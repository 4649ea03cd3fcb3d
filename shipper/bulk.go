package shipper

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// Batch is a bulk request being built: the NDJSON body of create actions
// and, per item, where its lines are and the raw line to dead-letter.
// A Batch is reused after Reset; its memory is bounded by the batch size.
type Batch struct {
	body  []byte
	items []item
}

type item struct {
	start, end   int // action and source lines in body
	index        string
	idBuf        [maxIDLen]byte // the _id, kept here so that adding allocates nothing
	idLen        uint8
	longID       string // the _id when longer than idBuf
	dlq          []byte // dead-letter action+source, once the item failed for good
	deadLetter   bool   // sent to the dead-letter index from the start
	state        itemState
	status       int
	errType, why string
}

type itemState uint8

const (
	unsettled itemState = iota
	stored
	duplicate
	deadLettered
	dropped
)

// Len is the number of documents in the batch.
func (b *Batch) Len() int { return len(b.items) }

// Size is the size of the request body in bytes.
func (b *Batch) Size() int { return len(b.body) }

// Reset empties the batch, keeping its memory.
func (b *Batch) Reset() {
	b.body = b.body[:0]
	for i := range b.items {
		b.items[i] = item{}
	}
	b.items = b.items[:0]
}

// Add appends a create action for document src (a JSON object on one
// line) with id into index. The document's "message" field, the raw
// line, is what a refused document leaves in the dead-letter index. It
// returns the item's position in the batch.
func (b *Batch) Add(index, id string, src []byte) int {
	start := len(b.body)
	b.body = appendAction(b.body, index, id)
	b.body = append(b.body, src...)
	b.body = append(b.body, '\n')
	return b.addItem(start, index, id, false)
}

// addItem records the item whose action and document the caller appended
// to b.body from start on.
func (b *Batch) addItem(start int, index, id string, deadLetter bool) int {
	b.items = append(b.items, item{start: start, end: len(b.body), index: index, deadLetter: deadLetter})
	it := &b.items[len(b.items)-1]
	if len(id) <= maxIDLen {
		it.idLen = uint8(copy(it.idBuf[:], id))
	} else {
		it.longID = id
	}
	return len(b.items) - 1
}

// id returns the item's _id.
func (it *item) id() string {
	if it.longID != "" {
		return it.longID
	}
	return string(it.idBuf[:it.idLen])
}

// message returns the "message" field of item i's document.
func (b *Batch) message(i int) []byte {
	it := &b.items[i]
	line := b.body[it.start:it.end]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[j+1:]
	}
	var d struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(line, &d) != nil || d.Message == "" {
		return bytes.TrimSpace(line) // not ours: keep the whole document as text
	}
	return []byte(d.Message)
}

// AddDeadLetter is Add for a document that goes to the dead-letter index
// from the start (a line that could not be decoded); it is counted as a
// dead letter once stored.
func (b *Batch) AddDeadLetter(index, id string, src []byte) int {
	i := b.Add(index, id, src)
	b.items[i].deadLetter = true
	return i
}

func appendAction(dst []byte, index, id string) []byte {
	dst = append(dst, `{"create":{"_index":`...)
	dst = appendString(dst, index)
	dst = append(dst, `,"_id":`...)
	dst = appendString(dst, id)
	return append(dst, "}}\n"...)
}

// Outcome is what became of one document.
type Outcome struct {
	// Result is ResultStored, ResultDuplicate, ResultDeadLetter or
	// ResultDropped.
	Result string
	// Status, Type and Reason are Elasticsearch's answer for a document
	// that was dead-lettered or dropped.
	Status int
	Type   string
	Reason string
}

// Outcome returns the result of item i after Send.
func (b *Batch) Outcome(i int) Outcome {
	it := &b.items[i]
	o := Outcome{Status: it.status, Type: it.errType, Reason: it.why}
	switch it.state {
	case stored:
		o.Result = ResultStored
	case duplicate:
		o.Result = ResultDuplicate
	case deadLettered:
		o.Result = ResultDeadLetter
	case dropped:
		o.Result = ResultDropped
	}
	return o
}

// Backoff is an exponential backoff with jitter.
type Backoff struct {
	Initial, Max time.Duration
}

// Delay returns the wait before retry number attempt (0-based): a random
// duration between half and all of Initial·2^attempt, capped at Max.
func (b Backoff) Delay(attempt int) time.Duration {
	d := b.Initial
	for i := 0; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	if d > b.Max {
		d = b.Max
	}
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1)
}

// Client sends batches with the Bulk API of go-elasticsearch and handles
// every item's answer: 2xx is stored, 409 on create is already stored,
// 429 and 5xx are retried with backoff, and any other error sends the raw
// line with the error to the dead-letter index. Send returns only when
// every item of the batch is settled, or when ctx ends.
type Client struct {
	es       *elasticsearch.Client
	backoff  Backoff
	timeout  time.Duration
	dlqIndex string
	auth     func() (string, error)
	m        *metrics
	logger   *slog.Logger
	// now gives the @timestamp of dead-letter documents.
	now func() time.Time

	req  bytes.Buffer
	resp bytes.Buffer
	todo []int // the unsettled items of the batch being sent, reused
}

// ClientOptions configure a Client.
type ClientOptions struct {
	// ES is the transport (addresses, TLS); its own retries must be off.
	ES       *elasticsearch.Client
	Backoff  Backoff
	Timeout  time.Duration
	DLQIndex string
	// Auth returns the Authorization header value, read at send time so
	// a rotated key needs no restart; nil for none.
	Auth   func() (string, error)
	Logger *slog.Logger
}

func newClient(o ClientOptions, m *metrics) *Client {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Backoff.Initial <= 0 {
		o.Backoff.Initial = 100 * time.Millisecond
	}
	if o.Backoff.Max < o.Backoff.Initial {
		o.Backoff.Max = 30 * time.Second
	}
	return &Client{es: o.ES, backoff: o.Backoff, timeout: o.Timeout, dlqIndex: o.DLQIndex, auth: o.Auth, m: m, logger: o.Logger, now: time.Now}
}

// errRequest is a failed request with its metric reason.
type errRequest struct {
	reason string
	status int
	err    error
}

func (e *errRequest) Error() string {
	if e.status != 0 {
		return fmt.Sprintf("bulk request answered %d: %v", e.status, e.err)
	}
	return fmt.Sprintf("bulk request failed: %v", e.err)
}

func (e *errRequest) Unwrap() error { return e.err }

// Send ships the batch. It returns nil when every item is stored, a
// duplicate, dead-lettered or dropped (see Outcome), and ctx's error when
// ctx ends first; then some items may be settled and the rest are not.
func (c *Client) Send(ctx context.Context, b *Batch) error {
	if len(b.items) == 0 {
		return nil
	}
	limit := len(b.items) // items per request; lowered by 413 and whole-request 400
	attempt := 0
	first := true
	todo := c.todo[:0]
	defer func() { c.todo = todo[:0] }()
	for {
		todo = todo[:0]
		for i := range b.items {
			if b.items[i].state == unsettled {
				todo = append(todo, i)
			}
		}
		if len(todo) == 0 {
			return nil
		}
		chunk := todo[:min(limit, len(todo))]
		var body []byte
		if first && len(chunk) == len(b.items) {
			body = b.body
		} else {
			c.req.Reset()
			for _, i := range chunk {
				it := &b.items[i]
				if it.dlq != nil {
					c.req.Write(it.dlq)
				} else {
					c.req.Write(b.body[it.start:it.end])
				}
			}
			body = c.req.Bytes()
		}
		first = false
		retry, err := c.send(ctx, b, chunk, body)
		if (err != nil || retry > 0) && ctx.Err() != nil {
			return ctx.Err()
		}
		var re *errRequest
		switch {
		case errors.As(err, &re) && re.status == http.StatusRequestEntityTooLarge && len(chunk) > 1:
			limit = max(1, len(chunk)/2)
			continue
		case errors.As(err, &re) && re.status == http.StatusBadRequest:
			// The whole request was refused: isolate the item at fault,
			// then dead-letter it alone.
			if len(chunk) > 1 {
				limit = 1
				continue
			}
			c.fail(b, chunk[0], re.status, "bulk_request_rejected", re.err.Error())
			continue
		case err != nil:
			d := c.backoff.Delay(attempt)
			attempt++
			c.logger.Warn("Elasticsearch bulk request failed; retrying", "err", err, "attempt", attempt, "retry_in", d, "documents", len(chunk))
			if !sleep(ctx, d) {
				return ctx.Err()
			}
			continue
		}
		if retry > 0 {
			c.m.docs.WithLabelValues(ResultRetried).Add(float64(retry))
			d := c.backoff.Delay(attempt)
			// Back off further only when nothing got through: a cluster
			// that accepts part of each request is making progress.
			if retry == len(chunk) {
				attempt++
			}
			if !sleep(ctx, d) {
				return ctx.Err()
			}
			continue
		}
		attempt = 0
	}
}

// fail settles item i after a non-retryable error: the first time it is
// re-sent to the dead-letter index, the second time it is dropped, loudly.
func (c *Client) fail(b *Batch, i, status int, typ, reason string) {
	it := &b.items[i]
	it.status, it.errType, it.why = status, typ, reason
	if it.dlq == nil && c.dlqIndex != "" {
		it.dlq = appendDeadLetter(nil, c.dlqIndex, b.message(i), it, c.now())
		return
	}
	it.state = dropped
	c.m.docs.WithLabelValues(ResultDropped).Inc()
	c.logger.Error("Elasticsearch refused a document and its dead-letter copy; it is not stored", "index", it.index, "id", it.id(), "status", status, "type", typ, "reason", reason)
}

// send makes one request for the items in chunk and settles what it can.
// It returns the number of items to retry, or an error for the request.
func (c *Client) send(ctx context.Context, b *Batch, chunk []int, body []byte) (int, error) {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	h := http.Header{"Content-Type": []string{"application/x-ndjson"}}
	if c.auth != nil {
		v, err := c.auth()
		if err != nil {
			c.m.errors.WithLabelValues(ReasonAuth).Inc()
			return 0, &errRequest{reason: ReasonAuth, err: fmt.Errorf("reading Elasticsearch credentials: %w", err)}
		}
		if v != "" {
			h.Set("Authorization", v)
		}
	}
	res, err := esapi.BulkRequest{Body: bytes.NewReader(body), Header: h}.Do(ctx, c.es)
	if err != nil {
		reason := ReasonNetwork
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			reason = ReasonTimeout
		}
		c.m.errors.WithLabelValues(reason).Inc()
		return 0, &errRequest{reason: reason, err: err}
	}
	defer res.Body.Close()
	c.resp.Reset()
	if _, err := c.resp.ReadFrom(res.Body); err != nil {
		c.m.errors.WithLabelValues(ReasonNetwork).Inc()
		return 0, &errRequest{reason: ReasonNetwork, err: fmt.Errorf("reading bulk response: %w", err)}
	}
	rb := c.resp.Bytes()
	if res.StatusCode != http.StatusOK {
		reason := ReasonStatus4xx
		switch {
		case res.StatusCode == http.StatusTooManyRequests:
			reason = ReasonStatus429
		case res.StatusCode >= 500:
			reason = ReasonStatus5xx
		case res.StatusCode == http.StatusRequestEntityTooLarge:
			reason = ReasonTooLarge
		case res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden:
			reason = ReasonAuth
		}
		c.m.errors.WithLabelValues(reason).Inc()
		return 0, &errRequest{reason: reason, status: res.StatusCode, err: errors.New(errorReason(rb))}
	}
	if noErrors(rb) {
		for _, i := range chunk {
			c.settle(&b.items[i], stored)
		}
		return 0, nil
	}
	var br bulkResponse
	if err := json.Unmarshal(rb, &br); err != nil || len(br.Items) != len(chunk) {
		c.m.errors.WithLabelValues(ReasonBadResponse).Inc()
		if err == nil {
			err = fmt.Errorf("%d items answered for %d sent", len(br.Items), len(chunk))
		}
		return 0, &errRequest{reason: ReasonBadResponse, err: fmt.Errorf("decoding bulk response: %w", err)}
	}
	retry := 0
	for k, i := range chunk {
		it := &b.items[i]
		var ri bulkItem
		for _, v := range br.Items[k] { // one key: the action
			ri = v
		}
		switch s := ri.Status; {
		case s >= 200 && s < 300:
			c.settle(it, stored)
		case s == http.StatusConflict:
			c.settle(it, duplicate)
		case s == http.StatusTooManyRequests || s >= 500:
			retry++
		default:
			// First failure: dead-letter it; failure of the dead-letter
			// copy: drop it, loudly.
			c.fail(b, i, s, ri.Error.Type, ri.Error.Reason)
		}
	}
	return retry, nil
}

func (c *Client) settle(it *item, s itemState) {
	if (it.dlq != nil || it.deadLetter) && (s == stored || s == duplicate) {
		it.state = deadLettered
		c.m.deadLet.Inc()
		return
	}
	it.state = s
	switch s {
	case stored:
		c.m.stored.Inc()
	case duplicate:
		c.m.duplicate.Inc()
	}
}

type bulkResponse struct {
	Errors bool                  `json:"errors"`
	Items  []map[string]bulkItem `json:"items"`
}

type bulkItem struct {
	Status int `json:"status"`
	Error  struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
}

// noErrors reports whether a bulk response says "errors":false near its
// start, where Elasticsearch writes it, so that a clean answer needs no
// decoding of its items.
func noErrors(b []byte) bool {
	head := b[:min(len(b), 64)]
	i := bytes.Index(head, []byte(`"errors":`))
	if i < 0 {
		return false
	}
	return bytes.HasPrefix(bytes.TrimLeft(head[i+len(`"errors":`):], " "), []byte("false"))
}

// errorReason extracts error.type and error.reason from an Elasticsearch
// error body, or returns a short prefix of it.
func errorReason(b []byte) string {
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && len(e.Error) > 0 {
		var d struct{ Type, Reason string }
		if json.Unmarshal(e.Error, &d) == nil && d.Type != "" {
			return d.Type + ": " + d.Reason
		}
		return string(e.Error)
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return strconv.Quote(string(b))
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// drainClose reads and closes a response body so the connection is reused.
func drainClose(r io.ReadCloser) {
	_, _ = io.Copy(io.Discard, r)
	_ = r.Close()
}
