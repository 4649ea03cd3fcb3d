package shipper

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/gatewatch/gatewatch/config"
)

func transport(t config.TLSConfig) (http.RoundTripper, error) {
	tc := &tls.Config{InsecureSkipVerify: t.InsecureSkipVerify, MinVersion: tls.VersionTLS12} //nolint:gosec // an explicit option, for tests
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("loading client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	dialer := bodyDialer{&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}}
	return &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         dialer.DialContext,
		TLSClientConfig:     tc,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}, nil
}

// bodyDialer dials connections that write a bulk body in one call.
type bodyDialer struct{ *net.Dialer }

func (d bodyDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.Dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return bodyConn{c}, nil
}

// bodyConn is a connection whose ReadFrom writes a request body held in
// memory in one call. net/http hides the body's WriteTo behind an
// io.LimitedReader of the request's ContentLength, and would copy each
// bulk body through a 32 KiB buffer allocated per request, in 32 KiB
// writes: a memmove of every document, and most of the shipper's
// garbage. Over TLS the tls.Conn wraps bodyConn and encrypts record by
// record as before.
type bodyConn struct{ net.Conn }

func (c bodyConn) ReadFrom(r io.Reader) (int64, error) {
	if lr, ok := r.(*io.LimitedReader); ok {
		if wt, ok := lr.R.(io.WriterTo); ok {
			lw := &limitWriter{w: c.Conn, n: lr.N}
			n, err := wt.WriteTo(lw)
			lr.N = lw.n
			return n, err
		}
	}
	return io.Copy(c.Conn, r) // the connection's own ReadFrom, if it has one
}

// errBodyTooLong reports a body longer than the request's ContentLength,
// as net/http does: the request fails rather than send a cut body.
var errBodyTooLong = errors.New("request body longer than its ContentLength")

// limitWriter writes at most n more bytes to w.
type limitWriter struct {
	w io.Writer
	n int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	var err error
	if int64(len(p)) > l.n {
		p, err = p[:l.n], errBodyTooLong
	}
	n, werr := l.w.Write(p)
	l.n -= int64(n)
	if werr != nil {
		return n, werr
	}
	return n, err
}
