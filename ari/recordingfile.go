package ari

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// RecordingFile is a stored recording's file as Asterisk serves it from GET
// /recordings/stored/{name}/file: the bytes of the file in its recorded
// format, with Content-Type "audio/<extension>" ("audio/wav" for wav,
// "audio/gsm", "audio/ulaw", …) and the file's length.
type RecordingFile struct {
	// Body streams the file; the caller must close it. Reading it ends
	// with the context given to GetStoredRecordingFile.
	Body io.ReadCloser
	// ContentType is Asterisk's Content-Type header as sent.
	ContentType string
	// Size is the file's length in bytes (Asterisk always sends
	// Content-Length); -1 when the answer had none.
	Size int64
}

// GetStoredRecordingFile fetches a stored recording's file. Unlike the other
// REST calls the body is not read here: it is handed over as a stream, so a
// file of any length can be passed on without holding it in memory.
// Config.RequestTimeout bounds the wait for Asterisk's answer (its headers)
// only; reading the body is bounded by ctx, which the caller must limit.
// An unknown recording gives ErrNotFound ("Recording not found"); a file
// Asterisk cannot open is its 403 "Recording could not be opened" (an
// *Error, which unwraps to ErrUnauthorized as every 403, wrapped in an error
// that names Asterisk's message first).
func (c *Client) GetStoredRecordingFile(ctx context.Context, name string) (_ *RecordingFile, err error) {
	const op = "recordings.stored_file"
	if err := need(op, "recording name", name); err != nil {
		return nil, err
	}
	path := "/recordings/stored/" + seg(name) + "/file"
	start := time.Now()
	status := 0
	defer func() {
		c.obs.RequestDone(c.node, op, status, time.Since(start), err)
	}()

	ctx, cancel := context.WithCancel(ctx)
	// The answer must come within the request timeout; the body may take
	// as long as ctx allows.
	headerTimer := time.AfterFunc(c.requestTimeout, cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("ari %s: %w", op, err)
	}
	req.SetBasicAuth(c.user, c.password)
	if c.debug {
		c.log.Info("ari wire request", "method", http.MethodGet, "url", c.base+path)
	}
	hc := *c.hc // the same transport and connections, without the overall timeout
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if !headerTimer.Stop() { // it fired and cancelled the request
		if err == nil {
			resp.Body.Close()
		}
		cancel()
		return nil, fmt.Errorf("ari %s: GET %s: no answer within %s: %w", op, path, c.requestTimeout, context.DeadlineExceeded)
	}
	if err != nil {
		cancel()
		return nil, fmt.Errorf("ari %s: GET %s: %w", op, path, err)
	}
	status = resp.StatusCode
	if status < 200 || status > 299 {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		cancel()
		if c.debug {
			c.log.Info("ari wire response", "method", http.MethodGet, "path", path, "status", status, "body", string(raw))
		}
		e := &Error{Op: op, Method: http.MethodGet, Path: "/ari" + path, Status: status, Message: errorMessage(raw)}
		if errors.Is(e, ErrUnauthorized) {
			e.User, e.URL = c.user, c.base+path
			if status == http.StatusForbidden && e.Message != "" {
				// Asterisk's 403 here is a file it cannot open, not
				// the credentials: say so first.
				return nil, fmt.Errorf("ari %s: %s: %w", op, e.Message, e)
			}
		}
		return nil, e
	}
	ctype := resp.Header.Get("Content-Type")
	if c.debug {
		c.log.Info("ari wire response", "method", http.MethodGet, "path", path, "status", status,
			"content_type", ctype, "content_length", resp.ContentLength)
	}
	return &RecordingFile{Body: &cancelBody{ReadCloser: resp.Body, cancel: cancel}, ContentType: ctype, Size: resp.ContentLength}, nil
}

// cancelBody releases the request's context when the body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
	once   sync.Once
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.cancel)
	return err
}
