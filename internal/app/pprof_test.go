package app

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Go's profiles are served on a loopback address only, and never the
// command line.
func TestPprofOnLoopbackOnly(t *testing.T) {
	for _, tc := range []struct {
		addr  string
		serve bool
	}{
		{"127.0.0.1:9480", true},
		{"localhost:9480", true},
		{"[::1]:9480", true},
		{"0.0.0.0:9480", false},
		{":9480", false},
		{"192.168.1.10:9480", false},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			a := &App{}
			a.cfg.HTTP.Addr = tc.addr
			h := a.routes()
			get := func(path string) *httptest.ResponseRecorder {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
				return rec
			}
			index, heap := get("/debug/pprof/"), get("/debug/pprof/heap?debug=1")
			if tc.serve {
				require.Equal(t, http.StatusOK, index.Code)
				require.Contains(t, index.Body.String(), "goroutine")
				require.Equal(t, http.StatusOK, heap.Code)
				require.Contains(t, heap.Body.String(), "HeapAlloc")
			} else {
				require.NotEqual(t, http.StatusOK, index.Code)
				require.NotContains(t, index.Body.String(), "goroutine")
				require.NotContains(t, heap.Body.String(), "HeapAlloc")
			}
			cmd := get("/debug/pprof/cmdline")
			require.False(t, cmd.Code == http.StatusOK && strings.Contains(cmd.Body.String(), ".test"),
				"the command line is never served")
		})
	}
}
