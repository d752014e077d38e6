package aritest

import (
	"context"
	"net/url"
	"testing"
	"time"
)

// Start runs a fake Asterisk on a loopback port for the test, with short
// durations for every unset option (Second = 20 ms, PlaybackLength = 20 ms,
// DTMFGap = 5 ms, LocalLinger = 50 ms). It is closed when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := NewServer(opts.fastDefaults())
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatalf("aritest: %v", err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		s.misMu.Lock()
		defer s.misMu.Unlock()
		for _, m := range s.misuses {
			t.Errorf("aritest: %s", m)
		}
	})
	return s
}

// RequireCleanAtEnd makes the test fail if, when it ends (after cleanups
// registered later, e.g. stopping the application, have run), a channel or
// bridge is still alive after waiting up to wait.
func (s *Server) RequireCleanAtEnd(t testing.TB, wait time.Duration) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := s.CheckClean(ctx); err != nil {
			t.Errorf("%v", err)
		}
	})
}

// EventsURL is the WebSocket URL of app with the server's credentials.
func (s *Server) EventsURL(app string, subscribeAll bool) string {
	u := s.URL()
	v := url.Values{}
	v.Set("app", app)
	if subscribeAll {
		v.Set("subscribeAll", "true")
	} else {
		v.Set("subscribeAll", "false")
	}
	v.Set("api_key", s.opts.User+":"+s.opts.Password)
	return "ws" + u[len("http"):] + "/ari/events?" + v.Encode()
}
