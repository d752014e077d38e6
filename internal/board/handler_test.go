package board

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJSON(t *testing.T) {
	t.Parallel()
	for _, target := range []string{"/board.json", "/?format=json"} {
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			w := get(t, Handler(static(fixture()), Options{}), target)
			require.Equal(t, 200, w.Code)
			assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
			var b jsonBoard
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &b))

			assert.True(t, b.Now.Equal(testNow))
			require.Len(t, b.Calls, 4)
			// Oldest first, full numbers, durations in seconds.
			assert.Equal(t, "c-bridged", b.Calls[0].ID)
			assert.Equal(t, StateBridged, b.Calls[0].State)
			assert.Equal(t, "+84912345678", b.Calls[0].Caller)
			assert.Equal(t, int64(72), b.Calls[0].StateSeconds)
			assert.Equal(t, int64(225), b.Calls[0].CallSeconds)
			require.NotNil(t, b.Calls[0].Target)
			assert.Equal(t, "Nguyễn Văn Bình", b.Calls[0].Target.Name)
			assert.Equal(t, "0987654321", b.Calls[0].Target.Number)
			assert.Equal(t, []string{"c-bridged", "c-late", "c-ringing", "c-ivr"},
				[]string{b.Calls[0].ID, b.Calls[1].ID, b.Calls[2].ID, b.Calls[3].ID})
			assert.Equal(t, int64(8), b.Calls[3].StateSeconds, "StateSince falls back to Started")
			assert.Nil(t, b.Calls[3].Target)
			assert.NotContains(t, w.Body.String(), "0001-01-01", "zero times are left out")

			require.Len(t, b.OnCall, 1)
			assert.Equal(t, int64(72), b.OnCall[0].Seconds)

			assert.Equal(t, "2025-11-25", b.Today.Date)
			assert.True(t, b.Today.From.Equal(time.Date(2025, 11, 25, 0, 0, 0, 0, Zone)))
			assert.True(t, b.Today.To.Equal(time.Date(2025, 11, 26, 0, 0, 0, 0, Zone)))
			require.Len(t, b.Today.Regions, 3)
			assert.Equal(t, RegionTotals{Name: "Tổng cộng", Offered: 36, Answered: 29, Abandoned: 3, Voicemail: 1, NoAnswer: 1, Failed: 1, Interrupted: 1}, b.Today.Total)

			assert.Equal(t, 3, b.Voicemails.Waiting)
			assert.Equal(t, int64(2*3600+5*60), b.Voicemails.OldestSeconds)
			require.Len(t, b.Voicemails.Latest, 2)
			assert.Equal(t, "0978123456", b.Voicemails.Latest[0].CallbackNumber)
		})
	}
}

func TestJSONEmpty(t *testing.T) {
	t.Parallel()
	w := get(t, Handler(static(Snapshot{}), Options{Now: func() time.Time { return testNow }}), "/board.json")
	require.Equal(t, 200, w.Code)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &raw))
	// Lists are [] rather than null, so scripts can iterate without checks.
	assert.Equal(t, []any{}, raw["calls"])
	assert.Equal(t, []any{}, raw["on_call"])
	assert.Equal(t, []any{}, raw["today"].(map[string]any)["regions"])
	vm := raw["voicemails"].(map[string]any)
	assert.Equal(t, []any{}, vm["latest"])
	assert.NotContains(t, vm, "oldest")
	assert.Equal(t, testNow.Format(time.RFC3339), raw["now"])
}

func TestSourceError(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	secret := errors.New(`dial tcp db.internal:5432: password authentication failed for user "hotline"`)
	src := SourceFunc(func(context.Context) (Snapshot, error) { return Snapshot{}, secret })
	h := Handler(src, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Now: func() time.Time { return testNow }})

	w := get(t, h, "/")
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	body := w.Body.String()
	assert.Contains(t, text(element(t, body, "error", "p")), "Không lấy được dữ liệu")
	assert.Contains(t, body, `<meta http-equiv="refresh" content="5">`, "the page keeps refreshing")
	assert.NotContains(t, body, "Không có cuộc gọi nào", "no data is not the same as no calls")
	assert.NotContains(t, body, `id="calls"`)
	assert.NotContains(t, body, "db.internal")
	assert.NotContains(t, body, "password")

	j := get(t, h, "/board.json")
	require.Equal(t, http.StatusServiceUnavailable, j.Code)
	assert.JSONEq(t, `{"error":"board data unavailable"}`, j.Body.String())
	assert.Contains(t, logs.String(), "db.internal", "the error is logged for the operator")
}

func TestSourceTimeout(t *testing.T) {
	t.Parallel()
	src := SourceFunc(func(ctx context.Context) (Snapshot, error) {
		<-ctx.Done() // a source that hangs until the handler's deadline
		return Snapshot{}, ctx.Err()
	})
	w := get(t, Handler(src, Options{Timeout: 20 * time.Millisecond}), "/board.json")
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
}

func TestSnapshotNowFallsBackToClock(t *testing.T) {
	t.Parallel()
	s := fixture()
	s.Now = time.Time{}
	later := testNow.Add(10 * time.Second)
	w := get(t, Handler(static(s), Options{Now: func() time.Time { return later }}), "/")
	assert.Contains(t, text(element(t, w.Body.String(), "call-c-ivr", "article")), "Tổng đài tự động IVR 00:18")
}

func TestMethodsAndPaths(t *testing.T) {
	t.Parallel()
	h := Handler(static(fixture()), Options{})
	tests := []struct {
		method, target string
		status         int
	}{
		{http.MethodGet, "/", 200},
		{http.MethodHead, "/", 200},
		{http.MethodHead, "/board.json", 200},
		{http.MethodPost, "/", 405},
		{http.MethodDelete, "/board.json", 405},
		{http.MethodGet, "/board.html", 404},
		{http.MethodGet, "/metrics", 404},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(tc.method, tc.target, nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		assert.Equal(t, tc.status, w.Code, "%s %s", tc.method, tc.target)
		if tc.method == http.MethodHead {
			assert.Zero(t, w.Body.Len(), "HEAD has no body")
		}
		if tc.status == 405 {
			assert.Equal(t, "GET, HEAD", w.Header().Get("Allow"))
		}
	}
}

// TestHandlerConcurrent renders from many goroutines at once (run with -race).
func TestHandlerConcurrent(t *testing.T) {
	t.Parallel()
	h := Handler(static(fixture()), Options{Token: testToken})
	done := make(chan int, 8)
	for range 8 {
		go func() {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Authorization", "Bearer "+testToken)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			done <- w.Code
		}()
	}
	for range 8 {
		assert.Equal(t, 200, <-done)
	}
}
