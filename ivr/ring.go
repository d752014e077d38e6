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

// ringAll rings the plan's targets in order until someone accepts, then
// bridges; when nobody does, it offers voicemail. in is what the caller
// hears meanwhile. A person is reserved before their first number is
// dialled and released once the call moves on to someone else.
func (c *call) ringAll(ctx context.Context, dec dialplan.Decision, in *intro) {
	defer func() { in.stop() }()
	answerChecked := false
	var prevRole dialplan.Role
	elsewhere := map[string]bool{} // staff another instance holds
	unbridged := map[string]bool{} // staff who accepted but could not be bridged
	var hold *reservation          // the person being rung
	unreserve := func() {
		c.unhold(hold)
		hold = nil
	}
	defer unreserve()
	for _, t := range dec.Targets {
		if ctx.Err() != nil {
			return
		}
		if elsewhere[t.Staff] || unbridged[t.Staff] {
			continue
		}
		if hold == nil || hold.staff != t.Staff {
			unreserve()
			h, err := c.reserve(t)
			switch {
			case errors.Is(err, errReservedElsewhere):
				elsewhere[t.Staff] = true // not on their other numbers either
				c.log.Info("skipping target: reserved by another instance", "staff", t.Staff)
				continue
			case err != nil:
				c.log.Info("skipping target: already on a hotline call", "staff", t.Staff)
				continue
			}
			hold = h
		}
		if !answerChecked {
			// The first person is dialled once Asterisk has answered the
			// caller (the answer ran during the plan and the reservation)
			// and every event that came before the call's own subscription
			// has reached it: a caller already gone rings nobody.
			answerChecked = true
			if !in.waitAnswered(ctx) || !c.waitSynced(ctx) {
				return
			}
		}
		if ctx.Err() != nil {
			return
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
				unreserve()
			default:
			}
			continue
		}
		in.stop()
		if c.talk(ctx, l) {
			return
		}
		// No bridge: as after a missed target, without this person's
		// other numbers (they did answer). The caller hears ringback (or
		// music) again meanwhile.
		unbridged[t.Staff] = true
		unreserve()
		in = c.startIntro(ctx, false)
	}
	if ctx.Err() != nil {
		return
	}
	unreserve()
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
				l.over = true
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
					l.ended()
					l.over, l.unreach = true, true
					return false
				}
			case *ari.ChannelDestroyed:
				if e.Channel.ID == l.id {
					if e.Cause > 0 {
						l.cause = e.Cause
					}
					l.ended()
					l.over, l.unreach = true, true
					return false
				}
			}
		case <-l.gone:
			l.ended()
			l.over, l.unreach = true, true
			return false
		case <-t.C:
			return true
		}
	}
}

// ringRoute rings t through r until the leg ends, or the person accepts.
func (c *call) ringRoute(ctx context.Context, t dialplan.Target, r dialplan.Route, ring time.Duration, hold *reservation) *leg {
	l := &leg{c: c, id: c.newID("leg"), t: t, gone: make(chan struct{}), hold: hold}
	l.rec = store.LegRecord{Staff: t.Staff, Role: t.Role, Number: t.Number, Carrier: t.Carrier,
		Trunk: r.Trunk, ChannelID: l.id, Reason: c.ringReason}
	log := c.log.With("leg", l.id, "staff", t.Staff, "role", string(t.Role), "trunk", r.Trunk)
	l.log = log
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
	// What a process taking the call over needs of the leg (persist.go).
	if v := c.legVariable(l); v != "" {
		vars[varLeg] = v
	}
	// Create and dial are not cut short by the caller hanging up: an
	// aborted request could leave a channel we do not know exists. The
	// caller's hangup is acted on right after (the loop below).
	rctx, rcancel := c.teardownCtx()
	defer rcancel()
	if _, err := c.s.ari.CreateChannel(rctx, ari.CreateChannelParams{
		ChannelID: l.id, Endpoint: r.Dial, Originator: c.channelID, Variables: vars,
	}); err != nil {
		l.over = true // nothing was created (legNew)
		l.unreach = true
		l.rec.Detail = "create: " + err.Error()
		log.Warn("could not create outgoing channel", "err", err)
		return l
	}
	l.setState(legUp)
	c.mu.Lock()
	l.createdAt = time.Now()
	c.mu.Unlock()
	c.save()
	l.watch = time.AfterFunc(ring+c.s.cfg.MaxLeg, l.watchdog)
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
		if l.over {
			break
		}
		if err := c.s.ari.Dial(rctx, l.id, "", ring); err != nil {
			l.rec.Detail = "dial: " + err.Error()
			l.unreach = true
			log.Warn("could not dial", "err", err)
			l.hangup(ari.HangupNormal)
			break
		}
		c.markRung(t.Staff)
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
	// armAnswered starts the wait that follows an answer: the
	// announcement's end (bounded by MaxPrompt), or at once the time to
	// press 1 when nothing could be played.
	armAnswered := func() {
		switch {
		case !l.answered || annT != nil || confirmT != nil:
		case l.announceID == "":
			startConfirm()
		default:
			annT = newTimer(c.s.cfg.MaxPrompt)
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
	for !l.over && !l.accepted {
		select {
		case ev, ok := <-l.sub.Events():
			if !ok {
				l.over = true
				break
			}
			switch e := ev.(type) {
			case *ari.Dial:
				if e.Peer.ID != l.id {
					break
				}
				switch e.DialStatus {
				case ari.DialAnswer:
					l.onAnswer(ctx)
					armAnswered()
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
				if e.Channel.ID == l.id && e.Channel.State == ari.StateUp {
					l.onAnswer(ctx)
					armAnswered()
				}
			case *ari.PlaybackFinished:
				if e.Playback.ID == l.announceID {
					startConfirm()
				}
			case *ari.ChannelDTMFReceived:
				if e.Channel.ID == l.id && l.answered && e.Digit == "1" && l.cancelled == "" && l.state() == legUp {
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
				l.ended()
				if l.cause != 0 {
					l.over = true
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
					l.ended()
					l.over = true
				}
			}
		case <-endGrace:
			l.over = true
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
			l.over = true // finish hands the unconfirmed end to confirmEnd
		case <-gone:
			gone = nil
			l.ended()
			if endGrace == nil {
				// Its last events may still be queued: they carry the cause.
				endGrace = time.After(100 * time.Millisecond)
			}
		case <-c.resyncC():
			l.resync(ctx)
			armAnswered()
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
	if l.answered || l.state() != legUp {
		return false
	}
	l.answered = true
	l.rec.AnsweredAt = l.c.now()
	if l.t.Role == store.RoleCafe {
		// A callback reaching the café: no announcement, no 1 to press.
		l.accepted, l.rec.AcceptedAt = true, l.rec.AnsweredAt
		return false
	}
	l.announce(ctx)
	return true
}

// announce plays the announcement to the person who answered and sets
// announceID. A play Asterisk refuses (an error status, or no answer
// within RequestTimeout) is tried once more, then the plain "press 1"
// prompt is played instead; when nothing can be played announceID stays
// "" and the time to press 1 starts at once, rather than after an
// announcement the person never hears. Every fallback is logged and
// counted (hotline_announcement_fallbacks_total).
func (l *leg) announce(ctx context.Context) {
	c := l.c
	full := c.announcement()
	short := sounds(c.s.cfg.Prompts.PressOne)
	if len(short) == 0 {
		short = []string{"sound:beep"}
	}
	tries := []struct {
		media    []string
		fallback string // counted when this try is the one that plays
	}{{full, ""}, {full, "retry"}, {short, "press_one"}}
	for i, try := range tries {
		id := c.newID("pb")
		pctx, cancel := context.WithTimeout(ctx, c.s.cfg.RequestTimeout)
		_, err := c.s.ari.PlayChannel(pctx, l.id, ari.PlayParams{PlaybackID: id, Media: try.media})
		cancel()
		if err == nil {
			l.announceID = id
			if try.fallback != "" {
				c.s.met.AnnouncementFallback(try.fallback)
				l.log.Warn("announcement played after a refusal", "fallback", try.fallback, "media", try.media)
			}
			return
		}
		if ctx.Err() != nil || ari.IsNotFound(err) || errors.Is(err, ari.ErrNotInStasis) {
			return // the call or the leg ended: their own events follow
		}
		l.log.Warn("could not play the announcement", "try", i+1, "media", try.media, "err", err)
		var refused *ari.Error
		if !errors.As(err, &refused) {
			// No answer: the play may have started after all. Stop it, so
			// the person does not hear it under the next try.
			sctx, scancel := c.teardownCtx()
			_ = c.s.ari.StopPlayback(sctx, id)
			scancel()
		}
	}
	c.s.met.AnnouncementFallback("none")
	l.log.Error("could not play anything to the person who answered; their time to press 1 starts now",
		"confirm_timeout", c.s.cfg.ConfirmTimeout)
}

// resync checks the leg after an ARI reconnect (events may have been lost).
func (l *leg) resync(ctx context.Context) {
	ch, err := l.c.s.ari.GetChannel(ctx, l.id)
	switch {
	case ari.IsNotFound(err):
		l.ended()
		l.over = true
	case err == nil && ch.State == ari.StateUp && !l.answered:
		l.onAnswer(ctx)
	}
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

// result is the leg's result (see store.LegResult).
func (l *leg) result() store.LegResult {
	switch {
	case l.unbridged != "":
		return store.LegFailed
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
