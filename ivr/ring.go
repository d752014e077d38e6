package ivr

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/store"
)

// errReservedElsewhere: the database says another call (another instance)
// holds the person.
var errReservedElsewhere = errors.New("on another hotline call (reserved by another instance)")

// ringAll rings the plan's targets in order until someone accepts, then
// bridges; when nobody does, it offers voicemail. in is what the caller
// hears meanwhile.
func (c *call) ringAll(ctx context.Context, dec dialplan.Decision, in *intro) {
	defer in.stop()
	var prevRole dialplan.Role
	elsewhere := map[string]bool{} // staff another instance holds
	for _, t := range dec.Targets {
		if ctx.Err() != nil {
			return
		}
		if elsewhere[t.Staff] {
			continue
		}
		hold, ok := c.reserve(t)
		if !ok {
			c.log.Info("skipping target: already on a hotline call", "staff", t.Staff)
			continue
		}
		if prevRole != "" && prevRole != t.Role {
			c.s.met.Fallback(string(prevRole), string(t.Role))
		}
		prevRole = t.Role
		l := c.tryTarget(ctx, t, hold)
		if l == nil {
			select {
			case <-hold.denied:
				elsewhere[t.Staff] = true // not on their other numbers either
			default:
			}
			c.unreserve(t, hold)
			continue
		}
		in.stop()
		c.talk(ctx, l)
		c.unreserve(t, hold)
		return
	}
	if ctx.Err() != nil {
		return
	}
	c.exhausted = true
	in.stop()
	c.voicemail(ctx)
}

// tryTarget rings one target on its route, then on its alternate route if
// the first failed for the network's reasons. It returns the accepted leg
// (still up) or nil.
func (c *call) tryTarget(ctx context.Context, t dialplan.Target, hold *reservation) *leg {
	ring := c.s.cfg.Ring[t.Role]
	if t.RingSeconds > 0 && ring <= 0 {
		ring = time.Duration(t.RingSeconds) * time.Second
	}
	routes := []dialplan.Route{{Trunk: t.Trunk, Dial: t.Dial}}
	if t.Alternate != nil {
		routes = append(routes, *t.Alternate)
	}
	for i, r := range routes {
		l := c.ringRoute(ctx, t, r, ring, hold)
		if l.accepted {
			return l
		}
		if i+1 < len(routes) && l.trunkFault() && ctx.Err() == nil {
			c.log.Info("trunk problem; trying the same number through another trunk",
				"staff", t.Staff, "trunk", r.Trunk, "alternate", routes[i+1].Trunk, "result", l.rec.Result)
			continue
		}
		return nil
	}
	return nil
}

// reservation is one person reserved for this call: in memory at once, and
// in the database concurrently (the dial never waits for the database).
type reservation struct {
	staff    string
	denied   chan struct{} // closed when the database says someone else holds them
	release  chan struct{} // closed when the call is done with them
	released bool          // flow goroutine only
}

// reserve reserves t's person. The in-memory reservation decides at once;
// the database reservation (across instances) is confirmed concurrently
// with the dial and, if refused, cancels the leg. A database error is
// logged and the in-memory reservation stands: a database blink must not
// silence the hotline.
func (c *call) reserve(t dialplan.Target) (*reservation, bool) {
	if !c.s.reserveMem(t.Staff, c.id, time.Now()) {
		return nil, false
	}
	r := &reservation{staff: t.Staff, denied: make(chan struct{}), release: make(chan struct{})}
	c.holds = append(c.holds, r)
	if c.s.res == nil {
		return r, true
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), c.s.cfg.RequestTimeout)
		ok, err := c.s.res.Reserve(ctx, t.Staff, c.id, c.s.cfg.Instance, c.s.cfg.Lease)
		cancel()
		switch {
		case err != nil:
			c.log.Warn("reservation database unavailable; relying on this instance's reservation",
				"staff", t.Staff, "err", err)
		case !ok:
			close(r.denied)
		}
		<-r.release
		if err == nil && ok {
			ctx, cancel := context.WithTimeout(context.Background(), c.s.cfg.RequestTimeout)
			if err := c.s.res.Release(ctx, t.Staff, c.id); err != nil {
				c.log.Warn("could not release reservation", "staff", t.Staff, "err", err)
			}
			cancel()
		}
	}()
	return r, true
}

// unreserve ends the reservation of t's person.
func (c *call) unreserve(t dialplan.Target, r *reservation) {
	c.unhold(r)
}

func (c *call) unhold(r *reservation) {
	if r.released {
		return
	}
	r.released = true
	c.s.releaseMem(r.staff, c.id)
	close(r.release)
}

// leg is one outgoing channel ringing one number.
type leg struct {
	c     *call
	id    string
	t     dialplan.Target
	rec   store.LegRecord
	sub   *ari.Subscription
	gone  chan struct{} // closed by reconciliation when the channel vanished
	watch *time.Timer   // hard limit (MaxLeg)
	// createdAt (set once the create request returned) and goneClosed are
	// guarded by call.mu: reconciliation reads them.
	createdAt  time.Time
	goneClosed bool

	answered   bool
	accepted   bool
	ended      bool
	hungUp     bool // we asked Asterisk to hang it up
	cause      int
	status     store.LegResult // from a final Dial status, when one came
	timedOut   bool            // our ring timeout fired
	cancelled  string          // why we cancelled it ("" = we did not)
	unreach    bool            // allocation failed / CHANUNAVAIL
	announceID string
	// settled fires a while after our hangup request succeeded: the
	// channel's last events may never come (the WebSocket may be down).
	settled <-chan time.Time
}

// hangupSettle is how long a leg waits for its own end events after we hung
// it up.
const hangupSettle = time.Second

// stasisEntryLimit bounds the wait for a created channel's StasisStart.
const stasisEntryLimit = 3 * time.Second

// awaitStasis waits until the created channel has entered the application.
// Asterisk may answer POST /channels/create before the channel is in Stasis,
// and a dial sent then is refused with 409 "Channel not in Stasis
// application" (seen on Asterisk 22.10.1, roughly one leg in twenty). Before
// it is dialled a channel's only other events are noise (variables set) or
// its end, which is recorded. It reports false when the channel ended first;
// when the limit passes (e.g. the events link is down) the dial is tried
// anyway and its own error decides.
func (l *leg) awaitStasis(limit time.Duration) bool {
	t := time.NewTimer(limit)
	defer t.Stop()
	for {
		select {
		case ev, ok := <-l.sub.Events():
			if !ok {
				l.ended = true
				return false
			}
			switch e := ev.(type) {
			case *ari.StasisStart:
				if e.Channel.ID == l.id {
					return true
				}
			case *ari.ChannelHangupRequest:
				if e.Channel.ID == l.id && !e.Soft && e.Cause > 0 && l.cause == 0 {
					l.cause = e.Cause
				}
			case *ari.StasisEnd:
				if e.Channel.ID == l.id {
					l.ended, l.unreach = true, true
					return false
				}
			case *ari.ChannelDestroyed:
				if e.Channel.ID == l.id {
					if e.Cause > 0 {
						l.cause = e.Cause
					}
					l.ended, l.unreach = true, true
					return false
				}
			}
		case <-l.gone:
			l.ended, l.unreach = true, true
			return false
		case <-t.C:
			return true
		}
	}
}

// ringRoute rings t through r until the leg ends, or the person accepts.
func (c *call) ringRoute(ctx context.Context, t dialplan.Target, r dialplan.Route, ring time.Duration, hold *reservation) *leg {
	l := &leg{c: c, id: c.newID("leg"), t: t, gone: make(chan struct{})}
	l.rec = store.LegRecord{Staff: t.Staff, Role: t.Role, Number: t.Number, Carrier: t.Carrier,
		Trunk: r.Trunk, ChannelID: l.id}
	log := c.log.With("leg", l.id, "staff", t.Staff, "role", string(t.Role), "trunk", r.Trunk)
	c.s.ownLeg(l.id, c)
	l.sub = c.s.ari.Subscribe(ari.ChannelKey(l.id))
	c.mu.Lock()
	c.legs[l.id] = l
	c.mu.Unlock()
	defer func() {
		if !l.accepted {
			l.finish()
		}
	}()

	l.rec.RingAt = c.now()
	c.setState(StateRinging)
	c.setTarget(&LiveTarget{Staff: t.Staff, Name: t.Name, Role: string(t.Role), Number: t.Number,
		Carrier: string(t.Carrier), Since: l.rec.RingAt})
	vars := map[string]string{
		// Asterisk's own hard limit on the leg: it ends even if this
		// process dies or loses the ARI link (ours, below, is tighter).
		"TIMEOUT(absolute)": strconv.Itoa(int((ring + c.s.cfg.MaxLeg + c.s.cfg.MaxCall).Seconds()) + 1),
	}
	if c.s.cfg.CallerID != "" {
		vars["CALLERID(num)"] = c.s.cfg.CallerID
		vars["CONNECTEDLINE(num,i)"] = c.s.cfg.CallerID
	}
	// Create and dial are not cut short by the caller hanging up: an
	// aborted request could leave a channel we do not know exists. The
	// caller's hangup is acted on right after (the loop below).
	rctx, rcancel := c.teardownCtx()
	defer rcancel()
	if _, err := c.s.ari.CreateChannel(rctx, ari.CreateChannelParams{
		ChannelID: l.id, Endpoint: r.Dial, Originator: c.channelID, Variables: vars,
	}); err != nil {
		l.ended = true
		l.unreach = true
		l.rec.Detail = "create: " + err.Error()
		log.Warn("could not create outgoing channel", "err", err)
		return l
	}
	c.mu.Lock()
	l.createdAt = time.Now()
	c.mu.Unlock()
	l.watch = time.AfterFunc(ring+c.s.cfg.MaxLeg, func() {
		// Independent of the flow: whatever it waits for, the leg ends.
		log.Warn("leg reached its hard time limit; hanging up")
		hctx, cancel := c.teardownCtx()
		defer cancel()
		_ = c.s.ari.Hangup(hctx, l.id, ari.HangupNormal)
	})
	if !l.awaitStasis(stasisEntryLimit) {
		log.Warn("outgoing channel ended before it entered the application")
	}
	deniedC := hold.denied
	select {
	case <-deniedC:
		deniedC = nil
		l.cancelled = errReservedElsewhere.Error()
		l.hangup(ari.HangupNormal)
	default:
		if l.ended {
			break
		}
		if err := c.s.ari.Dial(rctx, l.id, "", ring); err != nil {
			l.rec.Detail = "dial: " + err.Error()
			l.unreach = true
			log.Warn("could not dial", "err", err)
			l.hangup(ari.HangupNormal)
		}
	}
	log.Debug("ringing")

	ringT := newTimer(ring)
	defer ringT.Stop()
	var confirmT, annT *time.Timer
	confirmC := func() <-chan time.Time {
		if confirmT == nil {
			return nil
		}
		return confirmT.C
	}
	annC := func() <-chan time.Time {
		if annT == nil {
			return nil
		}
		return annT.C
	}
	startConfirm := func() {
		if confirmT == nil {
			confirmT = newTimer(c.s.cfg.ConfirmTimeout)
		}
	}
	defer func() {
		if confirmT != nil {
			confirmT.Stop()
		}
		if annT != nil {
			annT.Stop()
		}
	}()
	var endGrace <-chan time.Time
	ctxDone := ctx.Done()
	gone := l.gone
	for !l.ended && !l.accepted {
		select {
		case ev, ok := <-l.sub.Events():
			if !ok {
				l.ended = true
				break
			}
			switch e := ev.(type) {
			case *ari.Dial:
				if e.Peer.ID != l.id {
					break
				}
				switch e.DialStatus {
				case ari.DialAnswer:
					if l.onAnswer(ctx) {
						annT = newTimer(c.s.cfg.MaxPrompt)
					}
				case ari.DialBusy:
					l.status = store.LegBusy
					l.hangup(ari.HangupBusy)
				case ari.DialCongestion:
					l.status = store.LegCongestion
					l.hangup(ari.HangupCongestion)
				case ari.DialChanUnavail:
					l.status, l.unreach = store.LegFailed, true
					l.hangup(ari.HangupNormal)
				case ari.DialNoAnswer:
					l.status = store.LegNoAnswer
					l.hangup(ari.HangupNoAnswer)
				}
			case *ari.ChannelStateChange:
				if e.Channel.ID == l.id && e.Channel.State == ari.StateUp && l.onAnswer(ctx) {
					annT = newTimer(c.s.cfg.MaxPrompt)
				}
			case *ari.PlaybackFinished:
				if e.Playback.ID == l.announceID {
					startConfirm()
				}
			case *ari.ChannelDTMFReceived:
				if e.Channel.ID == l.id && l.answered && e.Digit == "1" && l.cancelled == "" && !l.hungUp {
					l.accepted = true
					l.rec.AcceptedAt = c.now()
				}
			case *ari.ChannelHangupRequest:
				if e.Channel.ID == l.id && !e.Soft && e.Cause > 0 && l.cause == 0 {
					l.cause = e.Cause
				}
			case *ari.StasisEnd:
				if e.Channel.ID != l.id {
					break
				}
				if l.cause != 0 {
					l.ended = true
				} else if endGrace == nil {
					// ChannelDestroyed (with the cause) may follow; it is not
					// guaranteed to reach us after StasisEnd.
					endGrace = time.After(100 * time.Millisecond)
				}
			case *ari.ChannelDestroyed:
				if e.Channel.ID == l.id {
					if e.Cause > 0 {
						l.cause = e.Cause
					}
					l.ended = true
				}
			}
		case <-endGrace:
			l.ended = true
		case <-ringT.C:
			if !l.answered {
				l.timedOut = true
				l.hangup(ari.HangupNoAnswer)
			}
		case <-annC():
			startConfirm()
		case <-confirmC():
			if !l.accepted {
				log.Info("answered but did not press 1 (voicemail or wrong person)")
				l.hangup(ari.HangupNormal)
			}
		case <-ctxDone:
			ctxDone = nil
			l.cancelled = context.Cause(ctx).Error()
			l.hangup(ari.HangupNormal)
		case <-deniedC:
			deniedC = nil
			if l.cancelled == "" {
				l.cancelled = errReservedElsewhere.Error()
				l.hangup(ari.HangupNormal)
			}
		case <-l.settled:
			l.ended = true
		case <-gone:
			gone = nil
			if endGrace == nil {
				// Its last events may still be queued: they carry the cause.
				endGrace = time.After(100 * time.Millisecond)
			}
		case <-c.resyncC():
			l.resync(ctx)
		}
	}
	if l.accepted {
		if l.announceID != "" {
			sctx, cancel := c.teardownCtx()
			_ = c.s.ari.StopPlayback(sctx, l.announceID)
			cancel()
		}
		log.Info("accepted")
		return l
	}
	return l
}

// onAnswer handles the person answering: the announcement starts. It
// reports whether this was the first answer.
func (l *leg) onAnswer(ctx context.Context) bool {
	if l.answered || l.hungUp {
		return false
	}
	l.answered = true
	l.rec.AnsweredAt = l.c.now()
	l.announceID = l.c.newID("pb")
	media := l.c.announcement()
	if _, err := l.c.s.ari.PlayChannel(ctx, l.id, ari.PlayParams{PlaybackID: l.announceID, Media: media}); err != nil {
		l.c.log.Warn("could not play the announcement", "leg", l.id, "err", err)
		l.announceID = ""
	}
	return true
}

// resync checks the leg after an ARI reconnect (events may have been lost).
func (l *leg) resync(ctx context.Context) {
	ch, err := l.c.s.ari.GetChannel(ctx, l.id)
	switch {
	case ari.IsNotFound(err):
		l.ended = true
	case err == nil && ch.State == ari.StateUp && !l.answered:
		l.onAnswer(ctx)
	}
}

// hangup hangs the leg up (once).
func (l *leg) hangup(reason ari.HangupReason) {
	if l.hungUp {
		return
	}
	l.hungUp = true
	ctx, cancel := l.c.teardownCtx()
	defer cancel()
	if err := l.c.s.ari.Hangup(ctx, l.id, reason); err != nil {
		if ari.IsNotFound(err) {
			l.ended = true
			return
		}
		l.c.log.Warn("could not hang up leg", "leg", l.id, "err", err)
		l.ended = true // do not wait for events that may never come
		return
	}
	l.settled = time.After(hangupSettle)
}

// trunkFault reports whether the leg failed for the network's reasons, so
// the same number is worth trying through another trunk.
func (l *leg) trunkFault() bool {
	if l.answered || l.cancelled != "" {
		return false
	}
	return l.rec.Result == store.LegCongestion || l.unreach ||
		(l.rec.Result == store.LegFailed && unreachableCause(l.cause))
}

// finish classifies a leg that is over, releases it and records it.
func (l *leg) finish() {
	c := l.c
	if l.watch != nil {
		l.watch.Stop()
	}
	if !l.ended && !l.hungUp {
		l.hangup(ari.HangupNormal)
	}
	l.sub.Close()
	c.s.ownLeg(l.id, nil)
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
	c.s.met.LegEnded(string(l.t.Role), string(l.t.Carrier), l.rec.Trunk, string(l.rec.Result), l.t.Staff)
	c.log.Info("leg ended", "leg", l.id, "staff", l.t.Staff, "result", string(l.rec.Result), "cause", l.cause)
}

// result is the leg's result (see store.LegResult).
func (l *leg) result() store.LegResult {
	switch {
	case l.accepted:
		return store.LegAnswered
	case l.cancelled != "":
		return store.LegCancelled
	case l.answered:
		return store.LegAnsweredUnconfirmed
	case l.timedOut:
		return store.LegNoAnswer
	case l.status != "":
		return l.status
	case l.unreach:
		return store.LegFailed
	}
	return causeResult(l.cause)
}

// causeResult maps a Q.850 hangup cause of an unanswered leg to a result.
// Asterisk's Dial status is not enough (a SIP 486 gives no BUSY status):
// the cause is what to trust.
func causeResult(cause int) store.LegResult {
	switch cause {
	case 17: // user busy
		return store.LegBusy
	case 16, 18, 19: // normal (hung up while ringing), no user responding, no answer
		return store.LegNoAnswer
	case 34, 38, 41, 42, 44: // congestion, network out of order, temporary failure
		return store.LegCongestion
	}
	// 1 unallocated, 3 no route, 21 rejected, 0 unknown, anything else.
	return store.LegFailed
}

// unreachableCause reports whether a failed leg's cause points at the route
// rather than the person (a rejected call, 21, does not).
func unreachableCause(cause int) bool {
	switch cause {
	case 0, 1, 2, 3, 27, 38, 47, 63, 66, 79, 127:
		return true
	}
	return false
}

// newTimer returns a timer firing after d; d <= 0 gives one that never
// fires.
func newTimer(d time.Duration) *time.Timer {
	if d <= 0 {
		t := time.NewTimer(time.Hour)
		t.Stop()
		return t
	}
	return time.NewTimer(d)
}
