package ari

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestStatusErrors(t *testing.T) {
	srv := newRESTServer(t)
	obs := &recObserver{}
	c := testClient(t, srv.URL, obs)
	ctx := testCtx(t)
	// Bodies are the real ones from traces/errors.jsonl and f_rest_misc.jsonl.
	tests := []struct {
		name    string
		status  int
		body    string
		want    error
		message string
	}{
		{"400 bad parameter", 400, `{"message":"Invalid reason for hangup reason provided"}`, ErrBadRequest, "Invalid reason for hangup reason provided"},
		{"401", 401, `{"error":"Authentication required"}`, ErrUnauthorized, "Authentication required"},
		{"403", 403, ``, ErrUnauthorized, ""},
		{"404 channel", 404, `{"message":"Channel not found"}`, ErrNotFound, "Channel not found"},
		{"404 html body", 404, `<html>nope</html>`, ErrNotFound, "<html>nope</html>"},
		{"409 not in stasis", 409, `{"message":"Channel not in Stasis application"}`, ErrNotInStasis, "Channel not in Stasis application"},
		{"412", 412, `{"message":"Channel in invalid state"}`, ErrPrecondition, "Channel in invalid state"},
		{"422 bridge add", 422, `{"message":"Channel not in Stasis application"}`, ErrUnprocessable, "Channel not in Stasis application"},
		{"500 allocation", 500, `{"error":"Allocation failed"}`, ErrServer, "Allocation failed"},
		{"503 empty", 503, ``, ErrServer, ""},
		{"418", 418, `{}`, ErrUnexpectedStatus, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.reply(tt.status, tt.body)
			// GetChannel would decode a Channel on success: the status must
			// win before any decoding.
			ch, err := c.GetChannel(ctx, "1795555677.71")
			if ch != nil {
				t.Errorf("got a channel %+v", ch)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err %T is not *Error", err)
			}
			if e.Status != tt.status || e.Message != tt.message || e.Op != "channels.get" ||
				e.Method != "GET" || e.Path != "/ari/channels/1795555677.71" {
				t.Errorf("error = %+v", e)
			}
			msg := err.Error()
			if strings.Contains(msg, "s3cret-pw") {
				t.Errorf("message leaks the password: %s", msg)
			}
			if errors.Is(err, ErrUnauthorized) {
				if !strings.Contains(msg, `"hotline"`) || !strings.Contains(msg, srv.URL+"/ari/channels/1795555677.71") {
					t.Errorf("401 message should name user and URL: %s", msg)
				}
			} else if tt.message != "" && !strings.Contains(msg, tt.message) {
				t.Errorf("message %q lacks Asterisk's %q", msg, tt.message)
			}
			obs.mu.Lock()
			status, oerr := obs.statuses[len(obs.statuses)-1], obs.errs[len(obs.errs)-1]
			obs.mu.Unlock()
			if status != tt.status || !errors.Is(oerr, tt.want) {
				t.Errorf("observer saw %d %v", status, oerr)
			}
		})
	}
	if !IsNotFound(&Error{Status: 404}) || IsNotFound(&Error{Status: 409}) {
		t.Error("IsNotFound")
	}
}

func TestBadSuccessBodyIsDecodeError(t *testing.T) {
	srv := newRESTServer(t)
	c := testClient(t, srv.URL, nil)
	srv.reply(200, `{"id": 12`)
	_, err := c.GetChannel(testCtx(t), "c1")
	var e *Error
	if err == nil || errors.As(err, &e) || !strings.Contains(err.Error(), "decode") {
		t.Errorf("err = %v, want a decode error", err)
	}
	// A 204 with nothing to decode is fine even for calls returning data.
	srv.reply(204, "")
	if _, err := c.GetApplication(testCtx(t), "hotline"); err != nil {
		t.Errorf("204: %v", err)
	}
}

func TestNetworkErrorsWrap(t *testing.T) {
	// A listener that is closed at once: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	obs := &recObserver{}
	c := testClient(t, "http://"+addr, obs)
	err = c.Answer(testCtx(t), "c1")
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("err = %v (%T), want a wrapped *net.OpError", err, err)
	}
	obs.mu.Lock()
	if len(obs.statuses) != 1 || obs.statuses[0] != 0 || obs.errs[0] == nil {
		t.Errorf("observer saw %v %v", obs.statuses, obs.errs)
	}
	obs.mu.Unlock()

	// A cancelled context is reported as such.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer hang.Close()
	c = testClient(t, hang.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	if err := c.Answer(ctx, "c1"); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// RequestTimeout bounds a whole request: an answer that never comes, and a
// body that stops after the headers (the request's context, not an
// http.Client.Timeout, does it).
func TestRequestTimeout(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"no answer", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }},
		{"body stalls", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"id":"c1",`))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hang := httptest.NewServer(tt.handler)
			defer hang.Close()
			c, err := New(Config{URL: hang.URL, User: "u", Password: "p", App: "a", RequestTimeout: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetChannel(context.Background(), "c1"); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want a deadline", err)
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{User: "u"}, "URL is required"},
		{Config{URL: "ftp://x", User: "u"}, "scheme"},
		{Config{URL: "http://", User: "u"}, "missing host"},
		{Config{URL: "http://u:p@x:8088", User: "u"}, "credentials"},
		{Config{URL: "http://x:8088", App: "a"}, "User is required"},
		{Config{URL: "http://x:8088", User: "u"}, "App is required"},
		{Config{URL: "http://x:8088", User: "u", App: "a", PingInterval: -time.Second}, "PingInterval"},
		{Config{URL: "http://x:8088", User: "u", App: "a", BackoffMin: time.Minute, BackoffMax: time.Second}, "BackoffMax"},
	}
	for _, tt := range tests {
		_, err := New(tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%+v) = %v, want %q", tt.cfg, err, tt.want)
		}
	}
	c, err := New(Config{URL: "https://ast.example:8089/ari/", User: "u", Password: "p", App: "hotline"})
	if err != nil {
		t.Fatal(err)
	}
	if c.base != "https://ast.example:8089/ari" || c.wsURL != "wss://ast.example:8089/ari/events?app=hotline&subscribeAll=false" {
		t.Errorf("base %q ws %q", c.base, c.wsURL)
	}
	if c.Node() != "ast.example:8089" || c.App() != "hotline" {
		t.Errorf("node %q app %q", c.Node(), c.App())
	}
}
