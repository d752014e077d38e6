package ari

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// gateServer holds every request until released and counts the TCP
// connections the client opens.
type gateServer struct {
	*httptest.Server
	mu       sync.Mutex
	gate     chan struct{}
	inflight int
	max      int
	conns    int
	changed  chan struct{}
}

func newGateServer(t *testing.T) *gateServer {
	s := &gateServer{changed: make(chan struct{}, 1)}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.inflight++
		s.max = max(s.max, s.inflight)
		gate := s.gate
		s.mu.Unlock()
		s.poke()
		<-gate
		s.mu.Lock()
		s.inflight--
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *gateServer) poke() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// waitInflight waits until n requests are held.
func (s *gateServer) waitInflight(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		s.mu.Lock()
		got := s.inflight
		s.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-s.changed:
		case <-deadline:
			t.Fatalf("%d requests held, want %d", got, n)
		}
	}
}

// arm makes the next requests wait; release lets them and every later one
// through.
func (s *gateServer) arm() {
	s.mu.Lock()
	s.gate = make(chan struct{})
	s.mu.Unlock()
}

func (s *gateServer) release() {
	s.mu.Lock()
	close(s.gate)
	s.mu.Unlock()
}

// The REST client keeps the connections it opened for the next requests
// (a burst no larger than the pool opens no new ones), and never has more
// than maxConns requests — Asterisk HTTP sessions — open at once: Asterisk
// takes 100 (http.conf sessionlimit).
func TestRESTConnectionPool(t *testing.T) {
	srv := newGateServer(t)
	c, err := New(Config{URL: srv.URL, User: "u", Password: "p", App: "hotline", RequestTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	burst := func(n int, waitFor int) {
		srv.arm()
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := c.Answer(ctx, "chan"); err != nil {
					t.Error(err)
				}
			}()
		}
		srv.waitInflight(t, waitFor)
		srv.release()
		wg.Wait()
	}
	// Bursts of 50 concurrent requests: the connections of the first are
	// reused by the next ones.
	for range 5 {
		burst(50, 50)
	}
	srv.mu.Lock()
	conns := srv.conns
	srv.mu.Unlock()
	if conns != 50 {
		t.Fatalf("5 bursts of 50 requests opened %d connections, want 50 (kept and reused)", conns)
	}
	// 100 at once: only maxConns reach the server, the others wait for a
	// connection.
	burst(100, maxConns)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.max > maxConns || srv.conns > maxConns {
		t.Fatalf("%d requests at once over %d connections, want at most %d", srv.max, srv.conns, maxConns)
	}
}
