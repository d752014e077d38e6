package arifake

import (
	"context"
	"net/url"
	"time"
)

// TB is the part of testing.TB that RequireCleanAtEnd uses; *testing.T and
// *testing.B satisfy it. It is an interface here so that this package, which
// `hotline simulate` links, does not import package testing.
type TB interface {
	Helper()
	Cleanup(func())
	Errorf(format string, args ...any)
}

// RequireCleanAtEnd makes the test fail if, when it ends (after cleanups
// registered later, e.g. stopping the application, have run), a channel or
// bridge is still alive after waiting up to wait.
func (s *Server) RequireCleanAtEnd(t TB, wait time.Duration) {
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
