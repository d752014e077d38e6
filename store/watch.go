package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// WatchOptions tune WatchDirectory. Zero values take the defaults.
type WatchOptions struct {
	Logger *slog.Logger
	// Debounce gathers a burst of notifications into one reload (default
	// 100 ms): the first notification starts the timer, later ones ride along.
	Debounce time.Duration
	// Resync reloads even without notifications, as a safety net (default
	// 5 min; negative = never).
	Resync time.Duration
	// ConnectTimeout bounds the first LISTEN (default 10 s).
	ConnectTimeout time.Duration
	// PingInterval checks the LISTEN connection so a silently dead one is
	// replaced (default 30 s).
	PingInterval time.Duration
	// Directory options for dialplan.NewDirectory (e.g. dialplan.WithTet).
	Directory []dialplan.Option
	// OnError is told about every failed reload (the old snapshot stays).
	OnError func(error)
}

// Watcher holds the current directory snapshot and replaces it when the
// database says the directory changed. Readers call Current, which never
// blocks: snapshots are swapped through an atomic pointer.
type Watcher struct {
	cur      atomic.Pointer[dialplan.Directory]
	reloads  atomic.Uint64
	load     func(context.Context) (*dialplan.Directory, error)
	onChange func(*dialplan.Directory)
	opts     WatchOptions
	log      *slog.Logger
	done     chan struct{}
}

// WatchDirectory loads the directory and keeps it fresh: it LISTENs on
// DirectoryChannel (through its own connection to url, re-established with
// backoff when lost) and, within Debounce of a committed change to any
// directory table, reloads it with db and swaps it in, then calls onChange
// (may be nil) from the watcher goroutine. A lost connection triggers a
// reload once it is back (changes may have been missed meanwhile). A failed
// reload keeps the old snapshot and is retried. The first LISTEN and load
// happen before WatchDirectory returns, so an error means no snapshot.
// The watcher stops when ctx ends; Wait waits for that.
func WatchDirectory(ctx context.Context, db *sqlx.DB, url string, onChange func(*dialplan.Directory),
	opts WatchOptions) (*Watcher, error) {
	w := newWatcher(opts, onChange, func(ctx context.Context) (*dialplan.Directory, error) {
		return LoadDirectory(ctx, db, opts.Directory...)
	})
	l := pq.NewListener(url, 100*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		switch {
		case err != nil:
			w.log.Warn("directory listener", "event", ev.String(), "err", err)
		default:
			w.log.Debug("directory listener", "event", ev.String())
		}
	})
	// LISTEN before the first load, so no change can fall in between.
	errc := make(chan error, 1)
	go func() { errc <- l.Listen(DirectoryChannel) }()
	timeout := time.NewTimer(w.opts.ConnectTimeout)
	defer timeout.Stop()
	select {
	case err := <-errc:
		if err != nil {
			_ = l.Close()
			return nil, fmt.Errorf("store: watch directory: listen: %w", err)
		}
	case <-timeout.C:
		_ = l.Close()
		<-errc
		return nil, errors.New("store: watch directory: listen: cannot connect to the database")
	case <-ctx.Done():
		_ = l.Close()
		<-errc
		return nil, fmt.Errorf("store: watch directory: %w", ctx.Err())
	}
	d, err := w.load(ctx)
	if err != nil {
		_ = l.Close()
		return nil, err
	}
	w.cur.Store(d)
	w.reloads.Add(1)

	var wg sync.WaitGroup
	pingCtx, stopPing := context.WithCancel(ctx)
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(w.opts.PingInterval)
		defer t.Stop()
		for {
			select {
			case <-pingCtx.Done():
				return
			case <-t.C:
				if err := l.Ping(); err != nil {
					w.log.Debug("directory listener ping failed", "err", err)
				}
			}
		}
	}()
	go func() {
		defer close(w.done)
		w.run(ctx, l.Notify)
		stopPing()
		_ = l.Close()
		wg.Wait()
	}()
	return w, nil
}

func newWatcher(opts WatchOptions, onChange func(*dialplan.Directory),
	load func(context.Context) (*dialplan.Directory, error)) *Watcher {
	if opts.Debounce <= 0 {
		opts.Debounce = 100 * time.Millisecond
	}
	if opts.Resync == 0 {
		opts.Resync = 5 * time.Minute
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 10 * time.Second
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = 30 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = discardLogger()
	}
	return &Watcher{load: load, onChange: onChange, opts: opts, log: log.With("component", "directory-watcher"),
		done: make(chan struct{})}
}

// Current returns the newest directory snapshot. It never blocks.
func (w *Watcher) Current() *dialplan.Directory { return w.cur.Load() }

// Reloads counts successful loads, the first included.
func (w *Watcher) Reloads() uint64 { return w.reloads.Load() }

// Wait blocks until the watcher has stopped (after its ctx ended).
func (w *Watcher) Wait() { <-w.done }

// run reloads on notifications (debounced), on resync ticks, and retries
// failed reloads with a growing delay.
func (w *Watcher) run(ctx context.Context, notify <-chan *pq.Notification) {
	var resync <-chan time.Time
	if w.opts.Resync > 0 {
		t := time.NewTicker(w.opts.Resync)
		defer t.Stop()
		resync = t.C
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	armed := false
	arm := func(d time.Duration) {
		if !armed {
			timer.Reset(d)
			armed = true
		}
	}
	failures := 0
	reload := func() {
		if err := w.reload(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			delay := min(time.Duration(failures)*time.Second, 30*time.Second)
			w.log.Error("directory reload failed; keeping the previous snapshot", "err", err, "retry_in", delay)
			if w.opts.OnError != nil {
				w.opts.OnError(err)
			}
			arm(delay)
			return
		}
		failures = 0
	}
	for {
		select {
		case <-ctx.Done():
			return
		case n, ok := <-notify:
			if !ok {
				return
			}
			if n == nil {
				w.log.Info("directory listener reconnected; reloading")
			}
			arm(w.opts.Debounce)
		case <-timer.C:
			armed = false
			reload()
		case <-resync:
			reload()
		}
	}
}

func (w *Watcher) reload(ctx context.Context) error {
	start := time.Now()
	d, err := w.load(ctx)
	if err != nil {
		return err
	}
	w.cur.Store(d)
	w.reloads.Add(1)
	c := d.Counts()
	w.log.Info("directory reloaded", "cafes", c.Cafes, "staff", c.Staff, "took", time.Since(start))
	if w.onChange != nil {
		w.onChange(d)
	}
	return nil
}
