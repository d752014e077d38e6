// Package app wires the hotline together — configuration, database, directory,
// the ARI client, the call flow, metrics and the HTTP server (/metrics,
// /healthz, /readyz, the supervisors' board) — and owns start-up, drain and
// stop. It touches no signals and never exits the process, so tests and other
// binaries can embed it.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/csm-vn/hotline/internal/board"
	"github.com/csm-vn/hotline/internal/config"
	"github.com/csm-vn/hotline/metrics"
	"github.com/csm-vn/hotline/store"
)

// Options configure an App. Config is required; the rest have defaults.
type Options struct {
	Config config.Config
	// Logger receives everything the app logs (discarded when nil).
	Logger *slog.Logger
	// Registry collects the metrics served on /metrics (a new one when nil).
	Registry *prometheus.Registry
	// Listener is the HTTP listener; when nil the app listens on Config.HTTP.Addr.
	Listener net.Listener
	// Version is reported by /metrics (hotline_build_info).
	Version string
}

// App is one running hotline process.
type App struct {
	opts       Options
	cfg        config.Config
	log        *slog.Logger
	registerer prometheus.Registerer
	gatherer   prometheus.Gatherer

	ready []readiness
	board atomic.Pointer[http.Handler]

	// Set by Run once built; the board and tests read them.
	metrics *metrics.Metrics
	store   *store.Store
	// nodes are the Asterisk nodes served (nodes.go).
	nodes []*node
	// draining: SIGTERM came; a node claimed from now on takes no new call.
	draining atomic.Bool

	mu   sync.Mutex
	addr string
}

// New checks the options and builds an App; nothing is started until Run.
func New(opts Options) (*App, error) {
	if err := opts.Config.Validate(); err != nil {
		return nil, fmt.Errorf("app: invalid configuration:\n%w", err)
	}
	if err := board.CheckAccess(opts.Config.HTTP.Addr, opts.Config.HTTP.BoardToken); err != nil {
		return nil, fmt.Errorf("app: invalid configuration:\n%w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	a := &App{
		opts:       opts,
		cfg:        opts.Config,
		log:        log,
		registerer: reg,
		gatherer:   reg,
	}
	// Go and process collectors here (not in metrics.New) so they exist
	// from the start, also for the commands that never build Metrics.
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("app: register go collector: %w", err)
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("app: register process collector: %w", err)
	}
	return a, nil
}

// Addr is the HTTP server's address once Run has started listening.
func (a *App) Addr() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.addr
}

// serveHTTP listens and serves until ctx ends, then shuts down gracefully.
func (a *App) serveHTTP(ctx context.Context, started chan<- error) error {
	ln := a.opts.Listener
	if ln == nil {
		var err error
		ln, err = net.Listen("tcp", a.cfg.HTTP.Addr)
		if err != nil {
			err = fmt.Errorf("http.addr %s: %w", a.cfg.HTTP.Addr, err)
			started <- err
			return err
		}
	}
	a.mu.Lock()
	a.addr = ln.Addr().String()
	a.mu.Unlock()
	srv := &http.Server{
		Handler:           a.routes(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	started <- nil
	a.log.Info("http server listening", "addr", a.addr)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}
