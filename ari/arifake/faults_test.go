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
