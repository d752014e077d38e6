// Package aritest holds the test helpers around the fake Asterisk of package
// ari/arifake: Start runs one for a test and fails the test on the fake's
// misuses. The fake's API is re-exported here (type aliases, the same
// values), so that tests name one package; `hotline simulate` uses arifake
// directly, so that the production binary does not link package testing.
//
// testdata/traces holds the recordings of Asterisk 22.10.1 that arifake's
// replay tests play and the ari package's TestDecodeAllTraces decodes.
package aritest

import (
	"testing"

	"github.com/csm-vn/hotline/ari/arifake"
)

// Start runs a fake Asterisk on a loopback port for the test, with short
// durations for every unset option (Second = 20 ms, PlaybackLength = 20 ms,
// DTMFGap = 5 ms, LocalLinger = 50 ms). It is closed when the test ends, and
// the test fails if the fake read a parameter its route does not declare.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := arifake.NewServer(opts.FastDefaults())
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatalf("aritest: %v", err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		for _, m := range s.Misuses() {
			t.Errorf("aritest: %s", m)
		}
	})
	return s
}
