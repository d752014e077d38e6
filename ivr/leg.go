package ivr

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/store"
)

// legState is what we know of an outgoing channel's life in Asterisk,
// separately from what the flow does with the leg (ringing, confirming,
// talking). Inputs: the create request's answer; our hangup request's
// answer (2xx, 404, an error or a timeout); the channel's end (StasisEnd,
// ChannelDestroyed, reconciliation finding it gone); a hangup Asterisk
// announces (ChannelHangupRequest while bridged); running out of tries.
//
//	legNew ──created──▶ legUp ──end / 404─────────────────────────────────────────▶ legGone
//	                      │ ├──hangup request accepted──▶ legHangingUp ──end / 404──▶ legGone
//	                      │ ├──hangup request failed───▶ legHangupFailing ──retry──▶ (accepted, 404, failed)
//	                      │ │                               └──TeardownTries made──▶ legAbandoned
//	                      │ └──Asterisk announces it───▶ legEnding ──end / 404─────▶ legGone
//	legAbandoned ──the watchdog's hangup accepted / 404, or reconciliation: gone──▶ legGone
//
// Only legGone (and legNew: nothing was created) lets the leg's watchdog go.
type legState int32

const (
	// legNew: not created in Asterisk (also when the create failed).
	legNew legState = iota
	// legUp: exists in Asterisk; nobody asked it to end.
	legUp
	// legEnding: Asterisk announced its hangup (the person hung up); the end
	// is not confirmed yet.
	legEnding
	// legHangingUp: we asked Asterisk to hang it up and it accepted; the end
	// is not confirmed yet (its events may be lost with the WebSocket).
	legHangingUp
	// legHangupFailing: our hangup request failed (an error status, a
	// timeout); it is retried with backoff.
	legHangupFailing
	// legAbandoned: every try failed; we gave up (logged at ERROR and
	// counted). The watchdog stays armed, and Asterisk's absolute timeout.
	legAbandoned
	// legGone: Asterisk confirmed the end: StasisEnd, ChannelDestroyed, or
	// 404 to a request about it.
	legGone
)

// String names the state in logs.
func (s legState) String() string {
	switch s {
	case legNew:
		return "new"
	case legUp:
		return "up"
	case legEnding:
		return "ending"
	case legHangingUp:
		return "hanging_up"
	case legHangupFailing:
		return "hangup_failing"
	case legAbandoned:
		return "abandoned"
	case legGone:
		return "gone"
	}
	return "unknown"
}

// leg is one outgoing channel ringing one number.
type leg struct {
	c     *call
	id    string
	t     dialplan.Target
	log   *slog.Logger
	rec   store.LegRecord
	sub   *ari.Subscription
	gone  chan struct{} // closed by reconciliation when the channel vanished
	watch *time.Timer   // hard limit (MaxLeg, then MaxCall): kept until the end is confirmed

	// hold is the reservation of the leg's person (nil: none), held until
	// the leg's end is confirmed (reservation.pin).
	hold *reservation

	// createdAt (set once the create request returned) and goneClosed are
	// guarded by call.mu: reconciliation reads them.
	createdAt  time.Time
	goneClosed bool

	// st is the legState. The flow, then the goroutine confirming the end,
	// move it; the watchdog and reconciliation only move an abandoned leg
	// to gone.
	st     atomic.Int32
	tries  int              // hangup requests made
	reason ari.HangupReason // of our hangup, for its retries

	// over: the flow is done waiting for this leg (its end confirmed, its
	// cause awaited long enough, or a hangup under way or failing, which
	// finish and the end's confirmation take over).
	over       bool
	answered   bool
	accepted   bool
	cause      int
	status     store.LegResult // from a final Dial status, when one came
	timedOut   bool            // our ring timeout fired
	cancelled  string          // why we cancelled it ("" = we did not)
	unreach    bool            // allocation failed / CHANUNAVAIL
	unbridged  string          // accepted, but hung up before the bridge was made (result failed)
	announceID string
	// settled fires a while after our hangup request was accepted: the
	// channel's last events may never come (the WebSocket may be down).
	settled <-chan time.Time
}

func (l *leg) state() legState     { return legState(l.st.Load()) }
func (l *leg) setState(s legState) { l.st.Store(int32(s)) }

// ended records that Asterisk confirmed the leg's end.
func (l *leg) ended() { l.setState(legGone) }

// hangupSettle is how long a leg waits for its own end events after we hung
// it up.
const hangupSettle = time.Second

// hangup asks Asterisk to hang the leg up, once; nothing when it is already
// ending or gone. The flow then waits for the end (a while), or moves on at
// once when the request failed: finish hands the leg to confirmEnd, which
// retries.
func (l *leg) hangup(reason ari.HangupReason) {
	if l.state() != legUp {
		return
	}
	l.reason = reason
	if l.requestHangup() == legHangingUp {
		l.settled = time.After(hangupSettle)
		return
	}
	l.over = true
}

// requestHangup sends one hangup request and moves the state by its answer.
func (l *leg) requestHangup() legState {
	l.tries++
	ctx, cancel := context.WithTimeout(context.Background(), l.c.s.cfg.RequestTimeout)
	err := l.c.s.ari.Hangup(ctx, l.id, l.reason)
	cancel()
	switch {
	case err == nil:
		l.setState(legHangingUp)
	case ari.IsNotFound(err):
		l.ended()
	default:
		l.setState(legHangupFailing)
		l.log.Warn("could not hang up leg; retrying", "tries", l.tries, "err", err)
	}
	return l.state()
}

// watchdog is the leg's hard limit: independent of the flow, whatever it
// waits for, the leg is hung up.
func (l *leg) watchdog() {
	l.log.Warn("leg reached its hard time limit; hanging up", "state", l.state().String())
	ctx, cancel := context.WithTimeout(context.Background(), l.c.s.cfg.RequestTimeout)
	err := l.c.s.ari.Hangup(ctx, l.id, ari.HangupNormal)
	cancel()
	if l.state() != legAbandoned {
		return // the flow or confirmEnd sees the end
	}
	if err != nil && !ari.IsNotFound(err) {
		// Kept until Asterisk confirms the end: try again a limit later.
		l.log.Error("the watchdog could not hang up a leg we had given up on; trying again later",
			"err", err, "next_in", l.c.s.cfg.MaxLeg)
		l.c.s.rearmAbandoned(l)
		return
	}
	l.c.s.forgetAbandoned(l)
}

// finish classifies a leg that is over and records it; it releases what
// the leg holds once Asterisk confirmed its end, else hands it to
// confirmEnd (owned by the call).
func (l *leg) finish() {
	c := l.c
	if l.state() == legUp {
		l.hangup(ari.HangupNormal)
	}
	c.mu.Lock()
	delete(c.legs, l.id)
	c.mu.Unlock()
	c.setTarget(nil)
	l.rec.EndedAt = c.now()
	l.rec.Result = l.result()
	l.rec.HangupCause = l.cause
	if l.timedOut && l.cause == 0 {
		l.rec.HangupCause = 19
	}
	if l.cancelled != "" && l.rec.Detail == "" {
		l.rec.Detail = l.cancelled
	}
	c.mu.Lock()
	l.rec.Seq = len(c.rec.Legs) + 1
	c.rec.Legs = append(c.rec.Legs, l.rec)
	c.mu.Unlock()
	if !l.accepted { // (the accepted leg ends with the call: its end is recorded, not saved)
		c.save()
	}
	if l.t.Role != store.RoleCafe { // a callback's leg to the café is counted as a callback
		c.s.met.LegEnded(string(l.t.Role), string(l.t.Carrier), l.rec.Trunk, string(l.rec.Result), l.t.Staff)
	}
	c.log.Info("leg ended", "leg", l.id, "staff", l.t.Staff, "result", string(l.rec.Result), "cause", l.cause)
	switch l.state() {
	case legNew, legGone:
		l.release()
	default:
		if l.hold != nil {
			l.hold.pin() // the person stays held until the leg is gone
		}
		c.goOwned(l.confirmEnd)
	}
}

// release lets the leg go once Asterisk confirmed its end (or nothing was
// created): its watchdog, its events, its registration.
func (l *leg) release() {
	if l.watch != nil {
		l.watch.Stop()
	}
	l.sub.Close()
	l.c.s.ownLeg(l.id, nil)
}

// confirmEnd follows a leg whose end Asterisk has not confirmed: it waits
// for the end events and asks again (hangup; 404 confirms) with backoff,
// until the end is confirmed or TeardownTries requests were made; then it
// gives up loudly, leaving the watchdog armed.
func (l *leg) confirmEnd() {
	if l.hold != nil {
		defer l.hold.unpin()
	}
	if l.reason == "" {
		l.reason = ari.HangupNormal
	}
	for {
		wait := l.c.s.backoff(max(l.tries, 1))
		if l.awaitEnd(wait) {
			l.release()
			return
		}
		if l.tries >= l.c.s.cfg.TeardownTries {
			l.abandon()
			return
		}
		if l.requestHangup() == legGone {
			if l.tries > 1 {
				l.log.Info("leg hung up after retries", "tries", l.tries)
			}
			l.release()
			return
		}
	}
}

// awaitEnd waits up to d for the leg's end events and reports whether
// Asterisk confirmed the end.
func (l *leg) awaitEnd(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	events := l.sub.Events()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				events = nil // no more events: the requests decide
				continue
			}
			switch e := ev.(type) {
			case *ari.StasisEnd:
				if e.Channel.ID == l.id {
					l.ended()
					return true
				}
			case *ari.ChannelDestroyed:
				if e.Channel.ID == l.id {
					l.ended()
					return true
				}
			}
		case <-t.C:
			return false
		}
	}
}

// abandon gives up hanging the leg up: logged at ERROR and counted. The
// watchdog stays armed (and Asterisk's absolute timeout); reconciliation
// after an ARI reconnect also looks at the leg again.
func (l *leg) abandon() {
	l.c.s.keepAbandoned(l) // first: the watchdog acts on an abandoned leg only once it is kept
	l.setState(legAbandoned)
	l.c.s.met.HangupGivenUp()
	l.log.Error("gave up hanging up a leg; its watchdog stays armed, and Asterisk's absolute timeout",
		"tries", l.tries)
	l.sub.Close()
}

// keepAbandoned remembers a leg we gave up hanging up, until its watchdog
// or reconciliation sees it end, or the server stops.
func (s *Server) keepAbandoned(l *leg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.abandoned[l.id] = l
}

// rearmAbandoned arms an abandoned leg's watchdog again, unless the server
// stopped watching it.
func (s *Server) rearmAbandoned(l *leg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.abandoned[l.id]; ok {
		l.watch.Reset(s.cfg.MaxLeg)
	}
}

// forgetAbandoned forgets an abandoned leg whose end Asterisk confirmed (or
// accepted to bring about).
func (s *Server) forgetAbandoned(l *leg) {
	if l.st.CompareAndSwap(int32(legAbandoned), int32(legGone)) {
		l.log.Info("a leg we had given up hanging up has ended")
	}
	l.watch.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.abandoned, l.id)
	delete(s.legs, l.id)
}

// stopAbandoned stops the watchdogs of the legs we gave up on (the server
// is stopping; Asterisk's absolute timeout remains).
func (s *Server) stopAbandoned() {
	s.mu.Lock()
	legs := make([]*leg, 0, len(s.abandoned))
	for _, l := range s.abandoned {
		legs = append(legs, l)
	}
	s.abandoned = map[string]*leg{}
	s.mu.Unlock()
	for _, l := range legs {
		if l.watch != nil {
			l.watch.Stop()
		}
		l.log.Error("stopping with a leg we could not hang up; only Asterisk's absolute timeout ends it now")
	}
}
