package ivr

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/store"
)

// Callbacks: a call from a known café that ended no_answer, voicemail or
// abandoned after waiting more than CallbackConfig.MinWait becomes a
// callback request (its record carries it; the store writes it with the
// call). A worker owned by Run takes due requests from the database — each
// held with a lease, so across instances one request is tried by one
// instance at a time — within CallbackConfig.Hours, and for each try rings
// the café's plan (free and on duty people, reserved like any call) with
// "callback to café …, province …, press 1"; on 1 it dials the number that
// called through its carrier's trunk with the hotline's caller ID and
// bridges the two. Tries are spaced by Retry, at most Tries; a try that
// reaches nobody free costs no try. Each try is a call record of direction
// callback with its legs (the café's leg has role "cafe"). A new call from
// the café, or one of its voicemails marked handled, cancels the request.
// Server.CallbackNow is the supervisors' "call back now".

// Defaults of CallbackConfig.
const (
	DefaultCallbackMinWait     = 20 * time.Second
	DefaultCallbackTries       = 3
	DefaultCallbackRetry       = 10 * time.Minute
	DefaultCallbackPoll        = 10 * time.Second
	DefaultCallbackRing        = 30 * time.Second
	DefaultCallbackConcurrency = 4
	DefaultCallbackBusyRetry   = time.Minute
)

// DefaultCallbackHours are 07:00–22:00 every day, Asia/Ho_Chi_Minh.
var DefaultCallbackHours = func() dialplan.Schedule {
	s, err := dialplan.ParseSchedule("Mon-Sun 07:00-22:00")
	if err != nil {
		panic(err)
	}
	return s
}()

// CallbackConfig configures calling cafés back. Zero fields take the
// defaults.
type CallbackConfig struct {
	// Enabled turns the automatic callbacks on: requests are made from
	// missed calls and tried. Off, none are made or tried;
	// Server.CallbackNow (a supervisor's request) works either way.
	Enabled bool
	// MinWait: a missed call becomes a request only when the caller
	// waited longer than this.
	MinWait time.Duration
	// Tries is how many tries a request gets; Retry spaces them.
	Tries int
	Retry time.Duration
	// Hours are when cafés may be called back (Asia/Ho_Chi_Minh); a try
	// due outside them waits for them. Zero: DefaultCallbackHours.
	Hours dialplan.Schedule
	// Ring is how long the café's phone rings.
	Ring time.Duration
	// Poll is how often the worker looks for due requests.
	Poll time.Duration
	// Concurrency bounds the tries this instance makes at once.
	Concurrency int
	// BusyRetry is when a request is looked at again after nobody of the
	// café's plan was free (no try counted).
	BusyRetry time.Duration
}

func (c CallbackConfig) withDefaults() CallbackConfig {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.MinWait < 0 {
		c.MinWait = 0
	}
	def(&c.Retry, DefaultCallbackRetry)
	def(&c.Ring, DefaultCallbackRing)
	def(&c.Poll, DefaultCallbackPoll)
	def(&c.BusyRetry, DefaultCallbackBusyRetry)
	if c.Tries <= 0 {
		c.Tries = DefaultCallbackTries
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultCallbackConcurrency
	}
	if !c.Hours.Always && len(c.Hours.Windows) == 0 {
		c.Hours = DefaultCallbackHours
	}
	return c
}

func (c CallbackConfig) validate() error {
	if c.Tries > 20 {
		return fmt.Errorf("ivr: Config.Callback.Tries %d: at most 20", c.Tries)
	}
	return nil
}

// CallbackStore is what callbacks need of the database; *store.Store
// satisfies it.
type CallbackStore interface {
	ClaimCallback(ctx context.Context, instance string, lease time.Duration) (*store.Callback, error)
	HoldCafeCallback(ctx context.Context, cafe, instance string, lease time.Duration) (int64, error)
	ExtendCallbackLeases(ctx context.Context, instance string, ids []int64, lease time.Duration) (int, error)
	TakeOverCallback(ctx context.Context, id int64, instance, prev string, lease time.Duration) (bool, error)
	ReleaseInstanceCallbacks(ctx context.Context, instance string, except []int64) (int, error)
	FinishCallback(ctx context.Context, id int64, instance string, t store.CallbackTry) (store.CallbackState, error)
	CallbackStateOf(ctx context.Context, id int64) (store.CallbackState, error)
	CancelCafeCallbacks(ctx context.Context, cafe, reason, exceptCall string) (int, error)
	CallbacksPending(ctx context.Context) (int, error)
	CountCallbackChanges(ctx context.Context) (store.CallbackChanges, error)
	VoicemailForCallback(ctx context.Context, id int64) (store.VoicemailCallback, error)
}

// callbacks is the callback worker's state.
type callbacks struct {
	store CallbackStore
	kick  chan struct{} // look for due requests now
	polls atomic.Uint64 // worker passes done (tests wait on it)

	mu sync.Mutex
	// ctx is Run's while the worker runs: tries started from it (and from
	// CallbackNow) are owned by wg, which the worker waits for.
	ctx     context.Context
	running bool
	wg      sync.WaitGroup
}

func newCallbacks(st CallbackStore) *callbacks {
	return &callbacks{store: st, kick: make(chan struct{}, 1)}
}

// errNoCallbacks: the worker is not running (no store, or stopped).
var errNoCallbacks = errors.New("ivr: callbacks are not running (no database, or the server is stopping)")

// begin lets tries start (goTry) from now on, owned by the worker that
// runCallbacks(ctx) runs: Run calls it before anything else, so a try taken
// over at start-up (callback_adopt.go) finds the worker running.
func (cb *callbacks) begin(ctx context.Context) {
	if cb.store == nil {
		return
	}
	cb.mu.Lock()
	cb.ctx, cb.running = ctx, true
	cb.mu.Unlock()
}

// runCallbacks is the callback worker: it runs until ctx ends, then ends
// every try in progress and waits for them. With callbacks disabled it only
// owns the tries of CallbackNow. Run calls cb.begin(ctx) first.
func (s *Server) runCallbacks(ctx context.Context) {
	cb := s.cb
	if cb.store == nil {
		return
	}
	defer func() {
		cb.mu.Lock()
		cb.running = false
		cb.mu.Unlock()
		s.cancelTries(errShutdown)
		cb.wg.Wait()
	}()
	cfg := s.cfg.Callback
	if cfg.Enabled {
		// A previous run's try may still be up in Asterisk (it was killed
		// mid-try): its request is not tried again, nor its people rung,
		// until start-up reconciliation has taken that try over (or hung
		// its legs up) and freed the previous run's reservations.
		select {
		case <-s.startupClear:
		case <-ctx.Done():
			return
		}
		s.releaseCallbackPredecessor()
	}
	poll := time.NewTicker(cfg.Poll)
	defer poll.Stop()
	lease := time.NewTicker(s.cfg.Lease / 3)
	defer lease.Stop()
	for {
		if cfg.Enabled {
			s.pollCallbacks(ctx)
		}
		cb.polls.Add(1)
	wait:
		for {
			select {
			case <-ctx.Done():
				return
			case <-poll.C:
				break wait
			case <-cb.kick:
				break wait
			case <-lease.C:
				s.extendCallbackLeases(ctx)
			}
		}
	}
}

// releaseCallbackPredecessor lets go of the requests a previous run of this
// Instance held (it died trying them), except those of the tries in
// progress here (taken over at start-up); their leases would end anyway.
func (s *Server) releaseCallbackPredecessor() {
	var keep []int64
	s.mu.Lock()
	for _, c := range s.tries {
		if c.cb.reqID != 0 {
			keep = append(keep, c.cb.reqID)
		}
	}
	s.mu.Unlock()
	var n int
	_, err := s.retry(0, func(ctx context.Context) error {
		var err error
		n, err = s.cb.store.ReleaseInstanceCallbacks(ctx, s.cfg.Instance, keep)
		return err
	})
	if err != nil {
		s.log.Warn("could not release the callbacks a previous run of this instance held; their leases end anyway",
			"instance", s.cfg.Instance, "err", err)
		return
	}
	if n > 0 {
		s.log.Info("released the callbacks a previous run of this instance held", "count", n)
	}
}

// pollCallbacks counts what changed in the database (metrics), then, when
// taking new work is right (not draining, ARI connected, within the hours),
// starts tries of due requests up to Concurrency.
func (s *Server) pollCallbacks(ctx context.Context) {
	st := s.cb.store
	rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	if ch, err := st.CountCallbackChanges(rctx); err != nil {
		if ctx.Err() == nil {
			s.met.DBError("count_callbacks")
			s.log.Warn("could not count callback changes", "err", err)
		}
	} else {
		s.met.CallbacksRequested(ch.Requested)
		for reason, n := range ch.Closed {
			switch reason {
			case store.CallbackClosedTriesExhausted:
				s.met.CallbacksGivenUp(n)
			case store.CallbackClosedConnected: // counted by the try itself
			default:
				s.met.CallbacksCancelled(reason, n)
			}
		}
	}
	if n, err := st.CallbacksPending(rctx); err == nil {
		s.met.SetCallbacksPending(n)
	}
	if s.stop.Load() || ctx.Err() != nil {
		return
	}
	if state, _ := s.ari.State(); !state.Connected {
		return
	}
	if !s.cfg.Callback.Hours.OpenAt(s.now()) {
		return
	}
	for s.triesRunning() < s.cfg.Callback.Concurrency {
		req, err := st.ClaimCallback(rctx, s.cfg.Instance, s.cfg.Lease)
		if err != nil {
			if ctx.Err() == nil {
				s.met.DBError("claim_callback")
				s.log.Warn("could not look for due callbacks", "err", err)
			}
			return
		}
		if req == nil {
			return
		}
		s.startCallback(req)
	}
}

// triesRunning counts the callback tries in progress here.
func (s *Server) triesRunning() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tries)
}

// extendCallbackLeases renews the leases of the requests being tried here.
func (s *Server) extendCallbackLeases(ctx context.Context) {
	var ids []int64
	s.mu.Lock()
	for _, c := range s.tries {
		if c.cb.reqID != 0 {
			ids = append(ids, c.cb.reqID)
		}
	}
	s.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	if _, err := s.cb.store.ExtendCallbackLeases(rctx, s.cfg.Instance, ids, s.cfg.Lease); err != nil && ctx.Err() == nil {
		s.met.DBError("extend_callbacks")
		s.log.Warn("callback lease heartbeat failed", "err", err)
	}
}

// goTry runs a try in a goroutine owned by the worker; false when the
// worker is not running (then nothing was started).
func (s *Server) goTry(c *call, fn func()) bool {
	cb := s.cb
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if !cb.running {
		return false
	}
	s.mu.Lock()
	s.tries[c.id] = c
	s.mu.Unlock()
	cb.wg.Add(1)
	go func() {
		defer cb.wg.Done()
		fn()
	}()
	return true
}

// endTry forgets a finished try and wakes the worker (room for another).
func (s *Server) endTry(c *call) {
	s.mu.Lock()
	delete(s.tries, c.id)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	select {
	case s.cb.kick <- struct{}{}:
	default:
	}
}

// cancelTries ends every try in progress with cause.
func (s *Server) cancelTries(cause error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.tries {
		c.cancel(cause)
	}
}

// cafeOnCall reports whether the café is calling the hotline on this
// instance right now.
func (s *Server) cafeOnCall(cafe string) bool {
	s.mu.Lock()
	calls := make([]*call, 0, len(s.calls))
	for _, c := range s.calls {
		calls = append(calls, c)
	}
	s.mu.Unlock()
	for _, c := range calls {
		c.mu.Lock()
		same := c.rec.Cafe == cafe
		c.mu.Unlock()
		if same {
			return true
		}
	}
	return false
}

// reconcileTries is reconcileCalls for callback tries: after an ARI
// reconnect, their legs that vanished end, and each re-checks what it waits
// for.
func (s *Server) reconcileTries(seqBefore uint64, asked time.Time, present map[string]bool) {
	s.mu.Lock()
	tries := make([]*call, 0, len(s.tries))
	for _, c := range s.tries {
		if c.seq <= seqBefore {
			tries = append(tries, c)
		}
	}
	s.mu.Unlock()
	for _, c := range tries {
		c.mu.Lock()
		for id, l := range c.legs {
			if !l.createdAt.IsZero() && l.createdAt.Before(asked) && !present[id] && !l.goneClosed {
				l.goneClosed = true
				close(l.gone)
			}
		}
		close(c.resync)
		c.resync = make(chan struct{})
		c.mu.Unlock()
	}
}
