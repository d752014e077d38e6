package arifake

import "testing"

// Start is aritest.Start for this package's own tests (which cannot import
// aritest: it imports this package): a fake on a loopback port with short
// durations, closed when the test ends, failing it on a misuse.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := NewServer(opts.FastDefaults())
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatalf("arifake: %v", err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		for _, m := range s.Misuses() {
			t.Errorf("arifake: %s", m)
		}
	})
	return s
}
