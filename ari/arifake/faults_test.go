package arifake_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari/arifake"
)

func doREST(t *testing.T, ctx context.Context, s *arifake.Server, method, path string) (int, error) {
	t.Helper()
	r, err := http.NewRequestWithContext(ctx, method, s.URL()+path, nil)
	require.NoError(t, err)
	r.SetBasicAuth("asterisk", "asterisk")
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		return 0, err
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

func TestScriptedFaults(t *testing.T) {
	s := arifake.Start(t, arifake.Options{})
	ctx := context.Background()

	// Status, n times, then normal service.
	s.FailNext(http.MethodDelete, "/ari/channels/*-leg1", http.StatusInternalServerError, 2)
	for range 2 {
		st, err := doREST(t, ctx, s, http.MethodDelete, "/ari/channels/c-leg1")
		require.NoError(t, err)
		require.Equal(t, http.StatusInternalServerError, st)
	}
	st, err := doREST(t, ctx, s, http.MethodDelete, "/ari/channels/c-leg1")
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, st, "served normally once the fault is used up")
	st, err = doREST(t, ctx, s, http.MethodDelete, "/ari/channels/c-leg2")
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, st, "another path is not affected")
	require.Equal(t, 2, s.FaultHits())

	// Method filter; removal.
	remove := s.AddFault(arifake.Fault{Method: http.MethodGet, Path: "/ari/channels", Status: http.StatusServiceUnavailable})
	st, err = doREST(t, ctx, s, http.MethodGet, "/ari/channels")
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, st)
	st, err = doREST(t, ctx, s, http.MethodGet, "/ari/channels")
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, st, "Times 0: until removed")
	remove()
	st, err = doREST(t, ctx, s, http.MethodGet, "/ari/channels")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, st)

	// Delay, then served.
	s.AddFault(arifake.Fault{Path: "/ari/asterisk/ping", Delay: 100 * time.Millisecond, Times: 1})
	t0 := time.Now()
	st, err = doREST(t, ctx, s, http.MethodGet, "/ari/asterisk/ping")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, st)
	require.GreaterOrEqual(t, time.Since(t0), 100*time.Millisecond)

	// Timeout: held until the client gives up.
	s.AddFault(arifake.Fault{Path: "/ari/asterisk/ping", Timeout: true, Times: 1})
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = doREST(t, tctx, s, http.MethodGet, "/ari/asterisk/ping")
	require.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)

	// The injected statuses are in the request log.
	var injected int
	for _, r := range s.Requests() {
		if r.Status == http.StatusInternalServerError || r.Status == http.StatusServiceUnavailable {
			injected++
		}
	}
	require.Equal(t, 4, injected)

	s.FailNext("", "/ari/*", http.StatusConflict, 0)
	s.ClearFaults()
	st, err = doREST(t, ctx, s, http.MethodGet, "/ari/asterisk/ping")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, st)
}

// A fault with a Rate answers that fraction of the matching requests, chosen by
// a random sequence seeded with Options.FaultSeed: the same seed chooses the
// same requests, and Path "" matches every REST path.
func TestScriptedFaultRate(t *testing.T) {
	ctx := context.Background()
	paths := []string{"/ari/asterisk/ping", "/ari/channels", "/ari/bridges"}
	// run sends n requests (round robin over paths) to a fake seeded with
	// seed and returns which ones answered 500.
	run := func(t *testing.T, seed uint64, f arifake.Fault, n int) []int {
		t.Helper()
		s := arifake.Start(t, arifake.Options{FaultSeed: seed})
		s.AddFault(f)
		var failed []int
		for i := range n {
			st, err := doREST(t, ctx, s, http.MethodGet, paths[i%len(paths)])
			require.NoError(t, err)
			switch st {
			case http.StatusInternalServerError:
				failed = append(failed, i)
			case http.StatusOK:
			default:
				t.Fatalf("request %d: status %d", i, st)
			}
		}
		require.Equal(t, len(failed), s.FaultHits())
		return failed
	}
	for _, tc := range []struct {
		name   string
		fault  arifake.Fault
		n      int
		lo, hi int // the count expected (binomial, well beyond 3 standard deviations)
	}{
		{"1% of every request", arifake.Fault{Rate: 0.01, Status: http.StatusInternalServerError}, 1200, 3, 30},
		{"half of the pings", arifake.Fault{Path: "/ari/asterisk/ping", Rate: 0.5, Status: http.StatusInternalServerError}, 300, 25, 75},
		{"half, 3 times only", arifake.Fault{Rate: 0.5, Status: http.StatusInternalServerError, Times: 3}, 100, 3, 3},
		{"rate 1: every request", arifake.Fault{Rate: 1, Status: http.StatusInternalServerError}, 30, 30, 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			failed := run(t, 42, tc.fault, tc.n)
			require.GreaterOrEqual(t, len(failed), tc.lo, "failed %v", failed)
			require.LessOrEqual(t, len(failed), tc.hi, "failed %v", failed)
			if tc.fault.Path != "" {
				for _, i := range failed {
					require.Equal(t, tc.fault.Path, paths[i%len(paths)], "request %d", i)
				}
			} else if tc.fault.Times == 0 && tc.fault.Rate < 1 {
				hit := map[string]bool{}
				for _, i := range failed {
					hit[paths[i%len(paths)]] = true
				}
				require.Len(t, hit, len(paths), "Path \"\" applies to every path")
			}
			if tc.n <= 300 {
				require.Equal(t, failed, run(t, 42, tc.fault, tc.n), "the same seed chooses the same requests")
			}
		})
	}
	require.NotEqual(t, run(t, 1, arifake.Fault{Rate: 0.5, Status: 500}, 60), run(t, 2, arifake.Fault{Rate: 0.5, Status: 500}, 60),
		"another seed, other requests")

	s := arifake.Start(t, arifake.Options{})
	for _, rate := range []float64{-0.1, 1.5} {
		require.Panics(t, func() { s.AddFault(arifake.Fault{Rate: rate, Status: 500}) }, "rate %v", rate)
	}
}
