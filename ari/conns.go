package ari

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// conns is the REST client's own HTTP/1.1 transport to one plain-http
// Asterisk: a pool of kept-alive connections, each request written and its
// answer read by the goroutine that makes the request.
//
// net/http's Transport runs two goroutines per connection (one writes
// requests, one reads answers) and hands every request to them and every
// answer back over channels: three goroutine switches per request, each a
// futex wake-up. Under load those hand-overs, not the bytes, were a quarter
// of serve's CPU. ARI's answers are small JSON documents read whole, so
// none of that machinery is needed: parsing the answer (status line,
// headers, Content-Length or chunked body) is still net/http's
// http.ReadResponse.
//
// The pool follows the same rules as before (see maxConns): at most
// maxConns requests — Asterisk HTTP sessions — at once, an idle connection
// dropped after idleConnTimeout, before Asterisk's own 15 s. A connection
// Asterisk closed while it was idle (Asterisk restarted) is found when the
// request written on it gets no byte back; the request is then sent once
// more on a new connection — Asterisk never read it — and every other idle
// connection, opened before that restart too, is dropped.
type conns struct {
	addr    string // host:port to dial
	host    string // Host header
	auth    string // Authorization header value; never logged
	dialer  net.Dialer
	maxBody int64

	slots chan struct{} // one per request in flight (≤ maxConns)

	mu   sync.Mutex
	idle []*conn // most recently used last
}

// conn is one kept-alive connection.
type conn struct {
	nc    net.Conn
	br    *bufio.Reader
	bw    *bufio.Writer
	read  int64     // bytes read from nc so far (countingReader)
	since time.Time // idle since
	used  bool      // has carried a request before
}

func newConns(host, user, password string, dialTimeout time.Duration, maxBody int64) *conns {
	addr := host
	if _, _, err := net.SplitHostPort(host); err != nil {
		addr = net.JoinHostPort(host, "80")
	}
	return &conns{
		addr:    addr,
		host:    host,
		auth:    "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password)),
		dialer:  net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second},
		maxBody: maxBody,
		slots:   make(chan struct{}, maxConns),
	}
}

// exchange sends one request (target is the path and query below the
// host) and reads the whole answer: status and body. A body larger than
// maxBody is an error. ctx bounds everything, waiting for a free slot
// included; deadline (the request timeout) bounds the exchange itself.
func (p *conns) exchange(ctx context.Context, method, target string, payload []byte, deadline time.Time) (int, []byte, error) {
	select {
	case p.slots <- struct{}{}:
	default:
		select {
		case p.slots <- struct{}{}:
		case <-ctx.Done():
			return 0, nil, context.Cause(ctx)
		}
	}
	defer func() { <-p.slots }()

	for attempt := 0; ; attempt++ {
		c, err := p.get(ctx, deadline)
		if err != nil {
			return 0, nil, err
		}
		status, body, keep, err := c.roundTrip(ctx, p, method, target, payload, deadline)
		if err == nil {
			if keep {
				p.put(c)
			} else {
				c.nc.Close()
			}
			return status, body, nil
		}
		c.nc.Close()
		var stale staleError
		if errors.As(err, &stale) && attempt == 0 {
			p.dropIdle()
			continue
		}
		return 0, nil, err
	}
}

// get returns an idle connection kept less than idleConnTimeout, or dials
// a new one.
func (p *conns) get(ctx context.Context, deadline time.Time) (*conn, error) {
	now := time.Now()
	p.mu.Lock()
	for len(p.idle) > 0 {
		c := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if now.Sub(c.since) < idleConnTimeout {
			p.mu.Unlock()
			return c, nil
		}
		c.nc.Close()
	}
	p.mu.Unlock()
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	nc, err := p.dialer.DialContext(dctx, "tcp", p.addr)
	if err != nil {
		if cerr := ctxError(ctx, deadline); cerr != nil {
			return nil, fmt.Errorf("%w (%w)", cerr, err)
		}
		return nil, err
	}
	c := &conn{nc: nc}
	c.br = bufio.NewReaderSize(countingReader{c}, 4096)
	c.bw = bufio.NewWriterSize(nc, 2048)
	return c, nil
}

func (p *conns) put(c *conn) {
	c.since = time.Now()
	c.used = true
	p.mu.Lock()
	p.idle = append(p.idle, c)
	p.mu.Unlock()
}

// dropIdle closes every idle connection: one of them turned out closed by
// Asterisk, so the others, older still, are too.
func (p *conns) dropIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, c := range idle {
		c.nc.Close()
	}
}

// staleError is a request on a kept connection that Asterisk had closed:
// the request was written (or not) and not a byte came back.
type staleError struct{ err error }

func (e staleError) Error() string { return "connection closed by Asterisk: " + e.err.Error() }
func (e staleError) Unwrap() error { return e.err }

// aLongTimeAgo is a deadline that makes any blocked read or write on a
// connection return at once.
var aLongTimeAgo = time.Unix(1, 0)

func (c *conn) roundTrip(ctx context.Context, p *conns, method, target string, payload []byte, deadline time.Time) (status int, body []byte, keep bool, err error) {
	if err := c.nc.SetDeadline(deadline); err != nil {
		return 0, nil, false, err
	}
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { _ = c.nc.SetDeadline(aLongTimeAgo) })
		defer func() {
			if !stop() && err == nil {
				// ctx ended as the answer came: the connection's
				// deadline is spoilt, so it is not kept.
				keep = false
			}
		}()
	}
	read0 := c.read
	c.writeRequest(p, method, target, payload)
	if err := c.bw.Flush(); err != nil {
		return 0, nil, false, c.failed(ctx, deadline, read0, err)
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, nil, false, c.failed(ctx, deadline, read0, err)
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, p.maxBody+1))
	resp.Body.Close()
	if err != nil {
		return 0, nil, false, c.failed(ctx, deadline, read0, fmt.Errorf("read body: %w", err))
	}
	if int64(len(body)) > p.maxBody {
		return 0, nil, false, fmt.Errorf("answer longer than %d bytes", p.maxBody)
	}
	return resp.StatusCode, body, !resp.Close && c.br.Buffered() == 0, nil
}

// failed says what went wrong with an exchange: the context or the request
// timeout first, else a stale kept connection (nothing came back on a
// connection used before), else the network error as it is.
func (c *conn) failed(ctx context.Context, deadline time.Time, read0 int64, err error) error {
	if cerr := ctxError(ctx, deadline); cerr != nil {
		return fmt.Errorf("%w (%w)", cerr, err)
	}
	if c.used && c.read == read0 && isClosedConn(err) {
		return staleError{err}
	}
	return err
}

// ctxError is the context's error, or context.DeadlineExceeded once the
// request's own deadline has passed.
func ctxError(ctx context.Context, deadline time.Time) error {
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if !time.Now().Before(deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// isClosedConn is the error of a connection the other side closed: EOF on
// read, a reset, a broken pipe.
func isClosedConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, net.ErrClosed)
}

// writeRequest puts the request in the write buffer: the same headers as
// net/http sent (Host, Authorization, Accept, and for a body Content-Type
// and Content-Length; Content-Length: 0 for a POST, PUT or DELETE without
// one, so the server never waits for a body).
func (c *conn) writeRequest(p *conns, method, target string, payload []byte) {
	w := c.bw
	w.WriteString(method)
	w.WriteByte(' ')
	w.WriteString(target)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(p.host)
	w.WriteString("\r\nAuthorization: ")
	w.WriteString(p.auth)
	w.WriteString("\r\nAccept: application/json\r\n")
	switch {
	case payload != nil:
		w.WriteString("Content-Type: application/json\r\nContent-Length: ")
		var n [20]byte
		w.Write(strconv.AppendInt(n[:0], int64(len(payload)), 10))
		w.WriteString("\r\n\r\n")
		w.Write(payload)
	case method != http.MethodGet && method != http.MethodHead:
		w.WriteString("Content-Length: 0\r\n\r\n")
	default:
		w.WriteString("\r\n")
	}
}

// countingReader counts the bytes read from a connection, so a failure
// can tell "nothing came back" from a broken answer.
type countingReader struct{ c *conn }

func (r countingReader) Read(b []byte) (int, error) {
	n, err := r.c.nc.Read(b)
	r.c.read += int64(n)
	return n, err
}
