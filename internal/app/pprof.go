package app

import (
	"net/http"
	"net/http/pprof"

	"github.com/csm-vn/hotline/internal/board"
)

// addPprof serves Go's profiles under /debug/pprof/ (CPU: profile?seconds=N,
// heap, goroutine, allocs, …) when the HTTP address is loopback, where the
// board needs no token either: profiling a running serve under load is how
// its cost per call is found. Beyond loopback they are not served at all.
// The command line (/debug/pprof/cmdline) is never served.
func addPprof(mux *http.ServeMux, addr string) bool {
	if board.RequireTokenFor(addr) {
		return false
	}
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return true
}
