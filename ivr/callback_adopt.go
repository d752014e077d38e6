package ivr

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/store"
)

// Callback tries across a restart. A try has no caller's channel: what a
// new process needs is in its legs' HOTLINE_LEG (persist.go: the leg, and a
// copy of the try as it was when the leg was created, with savedCall.CB),
// in its bridge "<try>-br" (created once the café answered: the bridge says
// the try was talking) and in the database (the request, held by this
// Instance under its lease). At start-up (adoptAll) a try found from its
// legs is:
//
//   - talking (its bridge exists, the person who accepted and the café's leg
//     are both known): taken over. The bridge and both channels stay, the
//     conversation is followed to its end; then the try is recorded
//     (answered, "taken over…") and its request finished (done), as if no
//     restart had happened. A side that hung up during the restart ends the
//     conversation at once (the other is hung up).
//   - anything else (the person still being rung or hearing the
//     announcement, the café being dialled): ended cleanly. Its legs are hung
//     up (recorded cancelled, "hung up at a restart of the hotline"; the
//     person who had pressed 1 keeps answered) and the try is recorded
//     interrupted; its request is let go as a stop lets it go: no try
//     counted, due again after Callback.BusyRetry (a "call back now" keeps
//     its request's plan).
//
// The request stays held by this Instance throughout (the start-up release
// of the previous run's requests skips it), so no other try of the café
// starts meanwhile. A try made by another process (its Instance saved with
// the try), whose node this process took over, has its request taken over
// from that process the same way.

// errRestartCut: a callback try that was not talking yet when the process
// died; the new process hung its legs up.
var errRestartCut = errors.New("hung up at a restart of the hotline before the café and the person were talking")

// adoptTry takes over the callback try sc of a previous process, found
// from its legs still in Asterisk; false when it is already ours or the
// worker does not run (then its legs are leftovers, hung up after the
// grace).
func (s *Server) adoptTry(sc savedCall, legs []string) bool {
	t := &callbackTry{reqID: sc.CB.Req, manual: sc.CB.Manual, voicemail: sc.CB.Voicemail,
		number: dialplan.Normalize(sc.From), attempted: true}
	if dir := s.dir(); dir != nil && sc.Cafe != "" {
		if cafe, ok := dir.CafeByCode(sc.Cafe); ok {
			t.cafe = cafe
		}
	}
	c := s.buildTryCall(t, sc.ID, fromMS(sc.Start), time.Duration(sc.Offset)*time.Millisecond)
	c.adopted = &sc
	c.ids.Store(sc.IDs + adoptIDJump)
	c.oldLegs = legs
	c.log = c.log.With("callback_id", sc.CB.Req)
	c.mu.Lock()
	c.rec.Cafe, c.rec.Province, c.rec.Area, c.rec.Region = sc.Cafe, sc.Province, sc.Area, sc.Region
	c.mu.Unlock()
	s.mu.Lock()
	if s.stop.Load() || s.tries[sc.ID] != nil {
		s.mu.Unlock()
		return false
	}
	for _, id := range legs { // known from now: not a leftover
		s.legs[id] = c
	}
	s.mu.Unlock()
	if !s.goTry(c, c.resumeTry) {
		s.mu.Lock()
		for _, id := range legs {
			if s.legs[id] == c {
				delete(s.legs, id)
			}
		}
		s.mu.Unlock()
		c.cancel(nil)
		s.log.Warn("a callback try of a previous process is not taken over: the callback worker does not run",
			"call_id", sc.ID, "legs", legs)
		return false
	}
	return true
}

// resumeTry continues a callback try taken over from a previous process.
func (c *call) resumeTry() {
	defer c.endCallback()
	sc := *c.adopted
	c.keepRequest()
	up := c.savedLegs(sc)
	present := map[string]bool{}
	for _, id := range c.oldLegs {
		present[id] = true
		if _, ok := up[id]; !ok { // (callFromLegs read every leg it could)
			c.log.Warn("an outgoing leg of the callback try has no usable state; hanging it up", "leg", id)
			c.hangupChannel(id, "leg")
		}
	}
	bridgeID := c.id + "-br"
	br, err := c.getBridge(bridgeID)
	brKnown := err == nil || ari.IsNotFound(err)
	if !brKnown {
		c.log.Warn("could not look at the callback's bridge; leaving it as it is", "bridge", bridgeID, "err", err)
	}
	var staff, cafe *savedLeg
	for _, l := range sortedLegs(up) {
		switch {
		case l.Role == string(store.RoleCafe):
			cafe = &l
		case l.Accepted != 0 || (br != nil && slices.Contains(br.Channels, l.ID)):
			staff = &l
		}
	}
	talking := staff != nil && cafe != nil && (br != nil || !brKnown)
	c.log.Info("taking over a callback try of a previous process", "talking", talking, "legs", len(sc.Legs),
		"legs_up", len(c.oldLegs))
	if !talking {
		c.s.met.CallAdopted(StateRinging)
		c.cancel(errRestartCut)
		c.cutTry(sortedLegs(up), present)
		if br != nil {
			c.destroyBridge(bridgeID)
		}
		return
	}
	c.s.met.CallAdopted(StateBridged)
	delete(up, staff.ID)
	delete(up, cafe.ID)
	c.cutTry(sortedLegs(up), present) // (none: a try rings one leg at a time)
	c.resumeCallbackTalk(*staff, *cafe, br, present)
}

// keepRequest makes this Instance the holder of the try's request: its own
// previous run's hold is renewed (its lease may have run out while no
// process ran), and another process's — the one that made the try, which
// no longer serves this node — is taken over, so the request is finished
// by this try and not tried again by anyone when that hold's lease ends.
func (c *call) keepRequest() {
	t := c.cb
	if t.reqID == 0 || c.s.cb.store == nil {
		return
	}
	var prev string
	if c.adopted != nil && c.adopted.CB != nil {
		prev = c.adopted.CB.Holder
	}
	var held bool
	_, err := c.s.retryCtx(c.ctx, func(ctx context.Context) error {
		var err error
		held, err = c.s.cb.store.TakeOverCallback(ctx, t.reqID, c.s.cfg.Instance, prev, c.s.cfg.Lease)
		return err
	})
	switch {
	case err != nil:
		c.s.met.DBError("extend_callbacks")
		c.log.Warn("could not renew the hold of the callback request of a try taken over", "err", err)
	case !held:
		c.log.Warn("the callback request of a try taken over is no longer held by this instance (done, cancelled or taken by another); the try is recorded, the request left as it is")
	case prev != "" && prev != c.s.cfg.Instance:
		c.log.Info("took the callback request over from the process that made the try", "previous_holder", prev)
	}
}

// cutTry hangs up the legs of a try taken over that was not talking and
// records them.
func (c *call) cutTry(legs []savedLeg, present map[string]bool) {
	for _, sl := range legs {
		l := c.adoptLeg(sl, !present[sl.ID])
		l.over = true
		if sl.Accepted != 0 { // the person who pressed 1, hearing ringback while the café rang
			l.answered, l.accepted = true, true
		}
		if l.state() == legGone {
			l.cancelled = "ended while the hotline was restarting (result unknown)"
		} else {
			l.cancelled = "hung up at a restart of the hotline"
			l.hangup(ari.HangupNormal)
		}
		l.finish()
	}
	c.releaseOld()
}

// resumeCallbackTalk follows the conversation of a try taken over: the
// person (staff) and the café in the bridge br (nil when Asterisk did not
// say); present says which legs were still in the application.
func (c *call) resumeCallbackTalk(ssl, csl savedLeg, br *ari.Bridge, present map[string]bool) {
	t := c.cb
	ctx := c.ctx
	staff := c.adoptLeg(ssl, !present[ssl.ID])
	cafe := c.adoptLeg(csl, !present[csl.ID])
	if t.cafe != nil {
		cafe.t.Name = t.cafe.Name
	}
	defer func() {
		staff.finish()
		cafe.finish()
	}()
	talkStart := c.now()
	if br != nil && !br.CreationTime.IsZero() {
		// The bridge is made when the café answers. Bridge times are wall
		// clock; the call's clock is offset from it.
		talkStart = br.CreationTime.Add(c.offset)
	}
	for _, l := range []*leg{staff, cafe} {
		l.answered, l.accepted = true, true
		if l.rec.AnsweredAt.IsZero() {
			l.rec.AnsweredAt = talkStart
		}
		if l.rec.AcceptedAt.IsZero() {
			l.rec.AcceptedAt = l.rec.AnsweredAt
		}
	}
	c.talkStart = talkStart
	c.mu.Lock()
	c.rec.AcceptedAt, c.rec.AcceptedBy = cafe.rec.AcceptedAt, staff.t.Staff
	c.mu.Unlock()
	c.holdAdopted(staff.t)
	c.releaseOld()

	bridgeID := c.id + "-br"
	defer c.destroyBridge(bridgeID)
	var missing []string
	for _, l := range []*leg{staff, cafe} {
		if br != nil && l.state() == legUp && !slices.Contains(br.Channels, l.id) {
			missing = append(missing, l.id)
		}
	}
	if len(missing) > 0 && staff.state() == legUp && cafe.state() == legUp {
		// The previous process died while adding them: finish its work.
		if err := c.s.ari.AddChannels(ctx, bridgeID, missing...); err != nil && ctx.Err() == nil {
			c.failure = "bridge channels: " + err.Error()
			c.log.Error("could not bridge a callback taken over", "err", err)
			return
		}
	}
	t.connected = true
	left := max(c.s.cfg.MaxCall-c.now().Sub(talkStart), time.Millisecond)
	c.bridgedCallback(staff, cafe, left)
	c.log.Info("callback conversation taken over", "staff", staff.t.Staff,
		"talking_for", c.now().Sub(talkStart).Round(time.Second),
		"both_still_there", staff.state() == legUp && cafe.state() == legUp)
	c.converseCallback(ctx, staff, cafe, left)
}
