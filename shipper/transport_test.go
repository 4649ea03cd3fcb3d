package shipper

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// recordConn is a net.Conn that keeps what is written to it, one entry a
// Write call.
type recordConn struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
}

func (c *recordConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes = append(c.writes, append([]byte(nil), p...))
	c.mu.Unlock()
	if c.Conn == nil {
		return len(p), nil
	}
	return c.Conn.Write(p)
}

func (c *recordConn) written() []byte { return bytes.Join(c.writes, nil) }

// readerOnly hides every method of a reader but Read.
type readerOnly struct{ io.Reader }

func TestBodyConnReadFrom(t *testing.T) {
	body := bytes.Repeat([]byte(`{"index":{}}`+"\n"), 10_000)
	for _, tc := range []struct {
		name       string
		src        func() io.Reader
		wantN      int
		wantErr    error
		wantWrites int // 0: not checked
	}{
		{
			name: "limited body held in memory, written in one call",
			src: func() io.Reader {
				return &io.LimitedReader{R: io.NopCloser(bytes.NewReader(body)), N: int64(len(body))}
			},
			wantN:      len(body),
			wantWrites: 1,
		},
		{
			name:    "body longer than its ContentLength fails after the declared bytes",
			src:     func() io.Reader { return &io.LimitedReader{R: io.NopCloser(bytes.NewReader(body)), N: 100} },
			wantN:   100,
			wantErr: errBodyTooLong,
		},
		{
			name:  "limited reader without WriteTo is copied",
			src:   func() io.Reader { return &io.LimitedReader{R: readerOnly{bytes.NewReader(body)}, N: int64(len(body))} },
			wantN: len(body),
		},
		{
			name:  "plain reader is copied",
			src:   func() io.Reader { return readerOnly{bytes.NewReader(body)} },
			wantN: len(body),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := &recordConn{}
			r := tc.src()
			n, err := bodyConn{rc}.ReadFrom(r)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if n != int64(tc.wantN) {
				t.Errorf("n = %d, want %d", n, tc.wantN)
			}
			if got := rc.written(); !bytes.Equal(got, body[:tc.wantN]) {
				t.Errorf("wrote %d bytes, want the first %d of the body", len(got), tc.wantN)
			}
			if tc.wantWrites != 0 && len(rc.writes) != tc.wantWrites {
				t.Errorf("%d writes, want %d", len(rc.writes), tc.wantWrites)
			}
			if lr, ok := r.(*io.LimitedReader); ok && tc.wantErr == nil && lr.N != 0 {
				t.Errorf("limited reader has %d bytes left, want 0", lr.N)
			}
		})
	}
}

// TestBodyConnThroughTransport checks that net/http hands a bulk body to
// bodyConn.ReadFrom, so the body leaves in one write of its own instead
// of 32 KiB pieces, and arrives whole.
func TestBodyConnThroughTransport(t *testing.T) {
	body := bytes.Repeat([]byte(`{"create":{}}`+"\n"+`{"message":"x"}`+"\n"), 20_000)
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
	}))
	defer srv.Close()

	var conns []*recordConn
	var mu sync.Mutex
	d := &net.Dialer{}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		rc := &recordConn{Conn: c}
		mu.Lock()
		conns = append(conns, rc)
		mu.Unlock()
		return bodyConn{rc}, nil
	}}
	defer tr.CloseIdleConnections()

	req, err := http.NewRequest(http.MethodPost, srv.URL+"/_bulk", io.NopCloser(bytes.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(body))
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if !bytes.Equal(got, body) {
		t.Fatalf("server read %d bytes, want the %d sent", len(got), len(body))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(conns) != 1 {
		t.Fatalf("%d connections, want 1", len(conns))
	}
	// net/http's connection writer holds 4 KiB: the headers and the
	// body's first bytes fill it, and the rest of the body must follow in
	// one write, not in 32 KiB pieces.
	ws := conns[0].writes
	if !bytes.HasSuffix(conns[0].written(), body) {
		t.Fatalf("the connection did not carry the body")
	}
	if last := ws[len(ws)-1]; len(ws) > 2 || !bytes.HasSuffix(body, last) || len(last) < len(body)-4096 {
		for _, w := range ws {
			t.Logf("write of %d bytes", len(w))
		}
		t.Errorf("the body was written in %d calls, want one after the header buffer", len(ws))
	}
}
