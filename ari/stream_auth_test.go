package ari

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// lockedBuffer is a log destination safe for the client's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Wrong credentials are said once at error level, then retried quietly
// (debug) — a terminal must not fill with 401s — and said again once after
// the socket was up in between.
func TestStreamUnauthorizedSaidOnce(t *testing.T) {
	var attempts, accept atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		if accept.Load() == 1 {
			accept.Store(0)
			conn, err := websocket.Accept(w, r, nil)
			if err == nil {
				conn.Close(websocket.StatusGoingAway, "bye")
			}
			return
		}
		http.Error(w, `{"message":"Authentication required"}`, http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	var logs lockedBuffer
	c := streamClient(t, srv.URL, nil, func(cfg *Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		cfg.BackoffMax = 10 * time.Millisecond
		cfg.BackoffMin = time.Millisecond
	})
	run(t, c)
	waitAttempts := func(n int32) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for attempts.Load() < n {
			if ctx.Err() != nil {
				t.Fatalf("only %d attempts", attempts.Load())
			}
			time.Sleep(time.Millisecond)
		}
	}
	count := func(level string) int {
		n := 0
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "level="+level) && strings.Contains(l, "events socket refused") {
				n++
			}
		}
		return n
	}
	waitAttempts(5)
	if n := count("ERROR"); n != 1 {
		t.Fatalf("%d error lines for a 401, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "wrong ARI user or password; retrying quietly") || count("DEBUG") < 3 {
		t.Fatalf("logs:\n%s", logs.String())
	}
	accept.Store(1)
	waitAttempts(attempts.Load() + 5)
	if n := count("ERROR"); n != 2 {
		t.Fatalf("%d error lines after the socket was up once, want 2:\n%s", n, logs.String())
	}
}
