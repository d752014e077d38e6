package app

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// readiness is one condition of /readyz.
type readiness struct {
	name  string
	check func(context.Context) error
	// anyOf groups conditions of which one holding is enough (the
	// Asterisk nodes: "ari").
	anyOf string
}

func (a *App) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", a.handleReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.gatherer, promhttp.HandlerOpts{Registry: a.registerer}))
	addPprof(mux, a.cfg.HTTP.Addr)
	// The board exists once the call flow does; until then it says so.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if h := a.board.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		w.Header().Set("Retry-After", "2")
		http.Error(w, "starting: waiting for the database", http.StatusServiceUnavailable)
	})
	return mux
}

func (a *App) setBoard(h http.Handler) { a.board.Store(&h) }

// handleReady answers 200 only when every condition holds (database
// reachable, and at least one Asterisk node served with its events socket
// up), else 503; the body says of each condition (each node) "ok" or why
// not.
func (a *App) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	status := http.StatusOK
	body := map[string]string{}
	groupOK := map[string]bool{}
	for _, c := range a.ready {
		err := c.check(ctx)
		if err != nil {
			body[c.name] = err.Error()
		} else {
			body[c.name] = "ok"
		}
		switch {
		case c.anyOf != "":
			groupOK[c.anyOf] = groupOK[c.anyOf] || err == nil
		case err != nil:
			status = http.StatusServiceUnavailable
		}
	}
	for _, ok := range groupOK {
		if !ok {
			status = http.StatusServiceUnavailable
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
