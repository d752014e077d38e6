package ivr

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/csm-vn/hotline/dialplan"
)

// errReservedElsewhere: the database says another call (another instance)
// holds the person.
var errReservedElsewhere = errors.New("on another hotline call (reserved by another instance)")

// errBusyHere: this instance already holds the person for another call.
var errBusyHere = errors.New("already on a hotline call of this instance")

// reservation is one person reserved for this call: in this instance's
// memory at once, and in the database (across instances) by a goroutine the
// call owns, which also releases it — with retries — when the call is done
// with the person.
type reservation struct {
	staff string
	// decided is closed once the database answered; ok and err are valid
	// from then on.
	decided chan struct{}
	ok      bool
	err     error
	// late is set when the flow stopped waiting for the database (budget
	// passed) and dialled on the in-memory reservation alone.
	late atomic.Bool
	// denied is closed when the database says someone else holds the
	// person (an answer that came after the budget cancels the leg).
	denied chan struct{}
	// release is closed when the call is done with the person.
	release  chan struct{}
	released bool // flow goroutine only
	// pins are the legs to the person whose end Asterisk has not confirmed
	// yet (their hangup is being retried): the person is let go only once
	// they are gone, so nobody rings them meanwhile.
	pins   sync.WaitGroup
	pinned atomic.Int32
}

// pin holds the person until unpin: a leg to them may still be up.
func (r *reservation) pin() {
	r.pinned.Add(1)
	r.pins.Add(1)
}

func (r *reservation) unpin() {
	r.pinned.Add(-1)
	r.pins.Done()
}

// reserve reserves t's person before they are dialled. This instance's
// in-memory reservation decides at once (errBusyHere). The database is then
// given ReserveBudget to answer: someone else holds the person
// (errReservedElsewhere: not dialled at all), or the reservation is
// confirmed. When it does not answer in time, or fails, the person is dialled
// on the in-memory reservation alone — logged and counted, since another
// instance could ring them too — and a late refusal still cancels the leg: a
// database blink must not silence the hotline.
func (c *call) reserve(t dialplan.Target) (*reservation, error) {
	if !c.s.reserveMem(t.Staff, c.id, time.Now()) {
		return nil, errBusyHere
	}
	r := &reservation{staff: t.Staff, decided: make(chan struct{}), denied: make(chan struct{}),
		release: make(chan struct{})}
	c.holds = append(c.holds, r)
	if c.s.res == nil {
		return r, nil
	}
	c.goOwned(func() { c.holdInDatabase(r) })
	budget := time.NewTimer(c.s.cfg.ReserveBudget)
	defer budget.Stop()
	select {
	case <-r.decided:
		switch {
		case r.err == nil && r.ok:
			return r, nil
		case r.err == nil:
			c.unhold(r)
			return nil, errReservedElsewhere
		}
		c.memoryOnly(t, r.err)
	case <-budget.C:
		r.late.Store(true)
		c.memoryOnly(t, fmt.Errorf("no answer within %s", c.s.cfg.ReserveBudget))
	}
	return r, nil
}

// memoryOnly logs and counts a person dialled without the database's
// confirmation.
func (c *call) memoryOnly(t dialplan.Target, err error) {
	c.s.met.ReservationMemoryOnly()
	c.log.Warn("reservation database did not confirm in time; dialling on this instance's in-memory reservation only "+
		"(another instance could ring this person too)", "staff", t.Staff, "budget", c.s.cfg.ReserveBudget, "err", err)
}

// holdInDatabase makes r's database reservation, waits until the call is
// done with the person, and releases it. A reserve that failed on our side
// may still have committed, so it is released too.
func (c *call) holdInDatabase(r *reservation) {
	ctx, cancel := context.WithTimeout(context.Background(), c.s.cfg.RequestTimeout)
	ok, err := c.s.res.Reserve(ctx, r.staff, c.id, c.s.cfg.Instance, c.s.cfg.Lease)
	cancel()
	r.ok, r.err = ok, err
	close(r.decided)
	switch {
	case err == nil && !ok:
		close(r.denied)
		return // nothing of ours to release
	case err != nil && r.late.Load():
		c.log.Warn("reservation database failed; the reservation will be released in case it was made",
			"staff", r.staff, "err", err)
	}
	<-r.release
	c.releaseInDatabase(r.staff)
}

// releaseInDatabase releases the call's database reservation of staff,
// retrying; giving up is logged at ERROR and counted (the row is no longer
// renewed, so it frees the person when its lease ends).
func (c *call) releaseInDatabase(staff string) {
	n, err := c.s.retry(0, func(ctx context.Context) error { return c.s.res.Release(ctx, staff, c.id) })
	switch {
	case err != nil:
		c.s.met.ReleaseGivenUp()
		c.log.Error("gave up releasing a reservation; it is no longer renewed and frees the person when its lease ends",
			"staff", staff, "tries", n, "lease", c.s.cfg.Lease, "err", err)
	case n > 1:
		c.log.Info("reservation released after retries", "staff", staff, "tries", n)
	}
}

// unhold ends the call's reservation r: at once in memory, and in the
// database by r's goroutine.
func (c *call) unhold(r *reservation) {
	if r == nil || r.released {
		return
	}
	r.released = true
	if r.pinned.Load() > 0 {
		// A leg to the person is still being hung up: they are let go
		// when it is gone (or given up on).
		c.goOwned(func() {
			r.pins.Wait()
			c.s.releaseMem(r.staff, c.id)
			close(r.release)
		})
		return
	}
	c.s.releaseMem(r.staff, c.id)
	close(r.release)
}

// goOwned runs fn in a goroutine the call owns: teardown waits for it.
func (c *call) goOwned(fn func()) {
	c.owned.Add(1)
	go func() {
		defer c.owned.Done()
		fn()
	}()
}

// maxTeardownBackoff caps the wait between two tries of a teardown step.
const maxTeardownBackoff = 4 * time.Second

// backoff is the wait after the n-th failed try (n >= 1) of a teardown
// step: TeardownBackoff, doubled each time, at most maxTeardownBackoff.
func (s *Server) backoff(n int) time.Duration {
	d := s.cfg.TeardownBackoff
	for i := 1; i < n && d < maxTeardownBackoff; i++ {
		d *= 2
	}
	return min(d, maxTeardownBackoff)
}

// retry runs op, each try bounded by RequestTimeout, until it succeeds or
// TeardownTries tries were made in all (done were made already, by the
// caller), waiting backoff between tries. It returns the number of tries
// and the last error (nil on success). It ignores every context on
// purpose: what it does must happen, and it is bounded.
func (s *Server) retry(done int, op func(ctx context.Context) error) (int, error) {
	var err error
	for n := done; ; {
		if n > 0 {
			time.Sleep(s.backoff(n))
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RequestTimeout)
		err = op(ctx)
		cancel()
		n++
		if err == nil || n >= s.cfg.TeardownTries {
			return n, err
		}
	}
}

// rotationStore is the optional shared side of a Reserver (store.Store)
// that makes "least recently rung first" the same on every instance.
type rotationStore interface {
	RungTimes(ctx context.Context) (map[string]time.Time, error)
	MarkRung(ctx context.Context, staff string) error
}

// rungTimes is a dialplan.Rotation read from the database.
type rungTimes map[string]time.Time

// LastRung implements dialplan.Rotation.
func (r rungTimes) LastRung(staff string) time.Time { return r[staff] }

// rotation returns the plan's least-recently-rung data: the database's
// (shared by every instance) when it answers within ReserveBudget, else
// this instance's memory (logged and counted).
func (c *call) rotation() dialplan.Rotation {
	rs, ok := c.s.res.(rotationStore)
	if !ok {
		return c.s
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.s.cfg.ReserveBudget)
	times, err := rs.RungTimes(ctx)
	cancel()
	if err != nil {
		c.s.met.RotationMemoryOnly()
		c.log.Warn("rotation database did not answer in time; ordering by this instance's memory of who was rung last",
			"budget", c.s.cfg.ReserveBudget, "err", err)
		return c.s
	}
	return rungTimes(times)
}

// markRung records, for every instance, that staff has just been rung.
func (c *call) markRung(staff string) {
	rs, ok := c.s.res.(rotationStore)
	if !ok || staff == "" { // "": a callback's leg to the café
		return
	}
	c.goOwned(func() {
		ctx, cancel := context.WithTimeout(context.Background(), c.s.cfg.RequestTimeout)
		defer cancel()
		if err := rs.MarkRung(ctx, staff); err != nil {
			c.s.met.DBError("mark_rung")
			c.log.Warn("could not record who was rung in the database; other instances may ring them next",
				"staff", staff, "err", err)
		}
	})
}
