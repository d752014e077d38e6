package ivr

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/store"
)

// Adoption: a process that starts while calls of its application are still
// up in Asterisk (the previous process was killed, crashed, ran out of
// memory) takes them over instead of cutting them. What it needs is in
// Asterisk (persist.go): HOTLINE_CALL on each caller's channel, HOTLINE_LEG
// on each outgoing leg, and the ids "<call>-legN", "<call>-br".
//
//   - A call whose caller talks with someone keeps talking: the bridge and
//     both channels stay, the conversation is followed to its end, the
//     caller is asked for a rating, the call is recorded with its legs.
//   - A call being rung, or in the greeting or café code, is rung again:
//     its old legs are hung up (and confirmed gone) first, then it is
//     planned again (a person whose old leg is not confirmed gone is left
//     out), and rung from the top of the plan. A café code not yet typed is
//     asked for again.
//   - A call whose person hung up meanwhile goes to the rating; a call in
//     voicemail finishes its message; a call whose caller hung up meanwhile
//     is recorded (its legs are hung up).
//   - A caller without HOTLINE_CALL (killed before the first write) whose
//     call is in the journal (journal.go) is taken over from the menu
//     under the journal's id.
//   - A caller whose call cannot be rebuilt (no HOTLINE_CALL and no
//     journal row, or a HOTLINE_CALL that cannot be read) goes back to the
//     dialplan (its fallback) and is recorded as interrupted.

// adoptIDJump is added to a taken-over call's resource counter: the
// previous process may have created resources after it last saved the
// counter, and their ids must not be reused.
const adoptIDJump = 1000

// errCallerGoneRestart: the caller's channel vanished while no process
// watched the call (the hotline was restarting).
var errCallerGoneRestart = errors.New("caller's channel vanished while the hotline was restarting")

// adoptAll takes over the calls of a previous process still in the
// application (app, just listed) and returns how many; channels without a
// saved call are left to the leftover handling after ReconcileGrace.
func (s *Server) adoptAll(ctx context.Context, app *ari.Application) int {
	legsOf := map[string][]string{} // call id → its legs still in Asterisk
	var callers []string
	present := map[string]bool{}
	for _, id := range app.ChannelIDs {
		present[id] = true
		if s.known(id) {
			continue
		}
		if isLegID(id) {
			callID := id[:strings.LastIndex(id, "-leg")]
			legsOf[callID] = append(legsOf[callID], id)
			continue
		}
		callers = append(callers, id)
	}
	n := 0
	taken := map[string]bool{} // call ids adopted (or found unadoptable)
	for _, id := range callers {
		if s.stop.Load() || ctx.Err() != nil {
			return n
		}
		sc, ch, err := s.readSavedCall(ctx, id)
		if err == nil && ch != nil && sc.ID == "" {
			// No saved call: killed before its first write. The journal
			// still knows the call (its id, caller and start) if its row
			// was written: taken over from the menu, as a call that had
			// not rung anyone yet.
			var ok bool
			if sc, ok = s.journalCall(id); !ok {
				continue // a leftover once the grace has passed
			}
		}
		switch {
		case ari.IsNotFound(err) || (err == nil && ch == nil):
			continue // gone meanwhile, or no saved call: a leftover once the grace has passed
		case err == nil && sc.Chan != id:
			err = fmt.Errorf("%w: saved for channel %q", errBadState, sc.Chan)
		}
		if err != nil {
			s.log.Error("cannot take over a call of a previous process: its state cannot be read; returning it to the dialplan",
				"channel_id", id, "err", err)
			s.leftover(ctx, id, "left by a previous process; its state could not be read ("+err.Error()+")")
			continue
		}
		taken[sc.ID] = true
		if s.adopt(ctx, sc, ch, legsOf[sc.ID]) {
			n++
		}
	}
	// Legs whose caller is not in the application: the caller hung up while
	// no process was watching (the legs carry the call: record it), or a
	// callback try's (it has no caller).
	for callID, legs := range legsOf {
		if taken[callID] || s.stop.Load() || ctx.Err() != nil {
			continue
		}
		sc, ok := s.callFromLegs(ctx, legs)
		if ok && sc.CB != nil { // a callback try: no caller (callback_adopt.go)
			if s.adoptTry(sc, legs) {
				n++
			}
			continue
		}
		if !ok || present[sc.Chan] {
			continue // unreadable, or its caller is a leftover: hung up after the grace
		}
		if s.adopt(ctx, sc, nil, legs) {
			n++
		}
	}
	return n
}

// readSavedCall reads a channel and its HOTLINE_CALL; sc is empty (and err
// nil) when the channel has no saved call. A failed read is tried again
// (TeardownTries in all).
func (s *Server) readSavedCall(ctx context.Context, id string) (savedCall, *ari.Channel, error) {
	var ch *ari.Channel
	var raw string
	var missing bool
	_, err := s.retryCtx(ctx, func(rctx context.Context) error {
		var err error
		if ch, err = s.ari.GetChannel(rctx, id); err != nil {
			if ari.IsNotFound(err) {
				return nil
			}
			return err
		}
		raw, err = s.ari.GetChannelVar(rctx, id, varCall)
		if missing = ari.IsNotFound(err); missing {
			return nil // (or the channel went meanwhile: then the leftover handling sees it gone)
		}
		return err
	})
	switch {
	case err != nil:
		return savedCall{}, nil, err
	case ch == nil:
		return savedCall{}, nil, ari.ErrNotFound
	case missing:
		return savedCall{}, ch, nil
	}
	sc, err := decodeCall(raw)
	return sc, ch, err
}

// journalCall is the call of a previous run's journal row for the caller's
// channel id, as a call in the menu (nothing identified, nobody rung: legs
// it had, if any, are found by their ids); false without a row.
func (s *Server) journalCall(id string) (savedCall, bool) {
	s.mu.Lock()
	r, ok := s.prevRun[id]
	s.mu.Unlock()
	if !ok {
		return savedCall{}, false
	}
	return savedCall{V: savedVersion, ID: r.ID, Chan: id, From: r.CallerRaw, Start: ms(r.StartedAt),
		Offset: s.now().Sub(time.Now()).Milliseconds(), Phase: phaseIVR}, true
}

// callFromLegs rebuilds a call from the HOTLINE_LEG of its legs: the latest
// copy of the call, plus every leg.
func (s *Server) callFromLegs(ctx context.Context, legs []string) (savedCall, bool) {
	var sc savedCall
	found := false
	var own []savedLeg
	for _, id := range legs {
		var raw string
		_, err := s.retryCtx(ctx, func(rctx context.Context) error {
			var err error
			raw, err = s.ari.GetChannelVar(rctx, id, varLeg)
			return err
		})
		if err != nil {
			s.log.Warn("cannot read an outgoing leg left by a previous process", "leg", id, "err", err)
			continue
		}
		lv, err := decodeLeg(raw)
		if err != nil {
			s.log.Warn("an outgoing leg left by a previous process has an unusable state", "leg", id, "err", err)
			continue
		}
		if !found || lv.Leg.Ring > newestRing(sc) {
			sc = lv.Call
		}
		found = true
		own = append(own, lv.Leg)
	}
	if !found {
		return sc, false
	}
	for _, l := range own {
		if !slices.ContainsFunc(sc.Legs, func(x savedLeg) bool { return x.ID == l.ID }) {
			sc.Legs = append(sc.Legs, l)
		}
	}
	slices.SortStableFunc(sc.Legs, func(a, b savedLeg) int { return cmp.Compare(a.Ring, b.Ring) })
	return sc, true
}

func newestRing(sc savedCall) int64 {
	var n int64
	for _, l := range sc.Legs {
		n = max(n, l.Ring)
	}
	return n
}

// adopt registers the call sc of a previous process and starts its flow
// (resume). ch is the caller's channel, nil when it is gone; legs are the
// call's legs still in Asterisk. False when the call is already ours or the
// server is stopping.
func (s *Server) adopt(parent context.Context, sc savedCall, ch *ari.Channel, legs []string) bool {
	raw := sc.From
	if ch != nil && raw == "" {
		raw = ch.Caller.Number
	}
	c := s.buildCall(parent, sc.ID, sc.Chan, raw, fromMS(sc.Start), time.Duration(sc.Offset)*time.Millisecond)
	c.adopted = &sc
	c.ids.Store(sc.IDs + adoptIDJump)
	c.oldLegs = legs
	c.identified(sc)
	c.offered = sc.Matched != ""
	if ch == nil {
		c.gone.Store(true)
		c.cancel(errCallerGoneRestart)
	} else if ch.State != ari.StateUp {
		c.notAnswered = true
	}
	if dir := s.dir(); dir != nil {
		if cafe, ok := dir.CafeByCode(sc.Cafe); ok && sc.Cafe != "" {
			c.cafeName = cafe.Name
		}
		if p, ok := dir.Province(sc.Province); ok {
			c.provinceName = p.Name
		}
	}
	if sc.Cafe != "" || sc.Matched != "" {
		c.log = c.log.With("cafe", sc.Cafe, "matched_by", sc.Matched)
	}
	s.mu.Lock()
	if s.stop.Load() || s.calls[sc.Chan] != nil || (ch != nil && s.seen[sc.Chan]) {
		s.mu.Unlock()
		c.sub.Close()
		c.cancel(nil)
		return false
	}
	s.calls[sc.Chan] = c
	s.adoptedIDs[sc.ID] = true
	if !s.startedUp {
		s.seen[sc.Chan] = true
	}
	for _, id := range legs {
		s.legs[id] = c
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		c.serve()
	}()
	return true
}

// resume continues a call taken over from a previous process, from what
// Asterisk shows of it.
func (c *call) resume(ctx context.Context) {
	sc := *c.adopted
	c.log.Info("taking over a call of a previous process", "phase", sc.Phase, "legs", len(sc.Legs),
		"legs_up", len(c.oldLegs), "caller_gone", c.callerLeft())
	if !c.callerLeft() {
		// Subscribed since buildCall: a hangup from now on is seen; one
		// before is found by asking.
		if _, err := c.getChannel(c.channelID); ari.IsNotFound(err) {
			c.gone.Store(true)
			c.cancel(errCallerGoneRestart)
		}
	}
	// Legs up in Asterisk, with what they say of themselves when the
	// saved call does not know them (saved before they were created).
	up := c.savedLegs(sc)
	present := map[string]bool{}
	for _, id := range c.oldLegs {
		present[id] = true
		if _, ok := up[id]; ok {
			continue
		}
		if lv, err := c.readLeg(id); err == nil {
			up[id] = lv.Leg
			if sc.Matched == "" && lv.Call.Matched != "" {
				// The caller's state was saved before the plan (its next
				// write was held up by a prompt): the leg knows more.
				sc.Matched, sc.Code = lv.Call.Matched, lv.Call.Code
				c.identified(lv.Call)
			}
		} else {
			c.log.Warn("an outgoing leg of the call has no usable state; hanging it up", "leg", id, "err", err)
			c.hangupChannel(id, "leg")
		}
	}
	// Is someone talking with the caller? The bridge says so, whatever was
	// saved last.
	bridgeID := c.id + "-br"
	br, err := c.getBridge(bridgeID)
	brKnown := err == nil || ari.IsNotFound(err)
	if !brKnown {
		c.log.Warn("could not look at the call's bridge; leaving it as it is", "bridge", bridgeID, "err", err)
	}
	accepted := sc.Accepted
	if accepted == "" && br != nil {
		for _, id := range br.Channels {
			if _, ok := up[id]; ok {
				accepted = id
			}
		}
	}
	var acc *savedLeg
	if l, ok := up[accepted]; ok && accepted != "" {
		acc = &l
		delete(up, accepted)
	}
	// Every other leg goes first: nobody is rung twice at once.
	c.dropOldLegs(sortedLegs(up), present)
	if acc == nil || sc.TalkEnd != 0 {
		c.releaseOld() // nobody talks (a plan made again reserves its people anew)
	}
	switch {
	case acc != nil && sc.TalkEnd == 0:
		c.s.met.CallAdopted(StateBridged)
		c.resumeTalk(ctx, sc, *acc, br, brKnown, present[acc.ID])
	case sc.Phase == phaseRating || (acc == nil && sc.Accepted != ""):
		c.s.met.CallAdopted(StateIVR)
		var l *leg
		if acc != nil { // its end not recorded yet
			l = c.adoptLeg(*acc, !present[acc.ID])
			l.answered, l.accepted = true, true
			defer l.finish()
		}
		c.resumeRating(ctx, sc, br, l)
	case sc.Phase == phaseVoicemail:
		c.s.met.CallAdopted(StateIVR)
		c.resumeVoicemail(ctx)
	default:
		if len(sc.Legs) > 0 || sc.Phase == phaseRinging {
			c.s.met.CallAdopted(StateRinging)
		} else {
			c.s.met.CallAdopted(StateIVR)
		}
		if br != nil || !brKnown {
			c.destroyBridge(bridgeID) // (nobody talks in it)
		}
		c.ringAgain(ctx)
	}
}

// savedLegs adds the saved call's ended legs to the record and returns
// those it saved as still up, by channel id.
func (c *call) savedLegs(sc savedCall) map[string]savedLeg {
	up := map[string]savedLeg{}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range sc.Legs {
		if l.Result != "" {
			c.rec.Legs = append(c.rec.Legs, l.record())
		} else {
			up[l.ID] = l
		}
	}
	return up
}

func sortedLegs(m map[string]savedLeg) []savedLeg {
	out := make([]savedLeg, 0, len(m))
	for _, l := range m {
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b savedLeg) int { return cmp.Compare(a.Ring, b.Ring) })
	return out
}

// adoptLeg makes a leg of the call from its saved state, subscribed and
// registered; it is up in Asterisk unless gone is set.
func (c *call) adoptLeg(sl savedLeg, gone bool) *leg {
	t := dialplan.Target{Staff: sl.Staff, Role: dialplan.Role(sl.Role), Number: sl.Number,
		Carrier: dialplan.Carrier(sl.Carrier), Trunk: sl.Trunk}
	if dir := c.s.dir(); dir != nil {
		if st, ok := dir.Staff(sl.Staff); ok {
			t.Name = st.Name
		}
	}
	l := &leg{c: c, id: sl.ID, t: t, gone: make(chan struct{})}
	l.rec = sl.record()
	l.rec.Result, l.rec.EndedAt = "", time.Time{}
	l.answered = !l.rec.AnsweredAt.IsZero()
	l.log = c.log.With("leg", l.id, "staff", t.Staff, "role", string(t.Role), "trunk", t.Trunk)
	c.s.ownLeg(l.id, c)
	l.sub = c.s.ari.Subscribe(ari.ChannelKey(l.id))
	l.setState(legUp)
	c.mu.Lock()
	c.legs[l.id] = l
	l.createdAt = time.Now()
	c.mu.Unlock()
	if !gone {
		// Subscribed: an end from now on is seen; one before, by asking.
		if _, err := c.getChannel(l.id); ari.IsNotFound(err) {
			gone = true
		}
	}
	if gone {
		l.ended()
		c.mu.Lock()
		l.goneClosed = true
		close(l.gone)
		c.mu.Unlock()
	}
	return l
}

// dropOldLegs hangs up the legs the previous process was ringing (present:
// still in Asterisk) and records them as cancelled; a person whose leg is
// not confirmed gone stays held, so the new plan leaves them out.
func (c *call) dropOldLegs(legs []savedLeg, present map[string]bool) {
	for _, sl := range legs {
		l := c.adoptLeg(sl, !present[sl.ID])
		l.over = true
		if l.state() == legGone {
			l.cancelled = "ended while the hotline was restarting (result unknown)"
			l.finish()
			continue
		}
		l.cancelled = "hung up at a restart of the hotline, to ring again"
		l.hangup(ari.HangupNormal)
		if l.state() != legGone && !l.awaitEnd(2*hangupSettle) {
			if _, err := c.getChannel(l.id); ari.IsNotFound(err) {
				l.ended()
			}
		}
		if l.state() != legGone && c.s.reserveMem(l.t.Staff, c.id, time.Now()) {
			c.log.Warn("a leg of the previous process is not confirmed gone; its person is not rung again for this call",
				"leg", l.id, "staff", l.t.Staff)
			c.holds = append(c.holds, &reservation{staff: l.t.Staff, release: make(chan struct{})})
		}
		l.finish()
	}
}

// identified takes a saved call's identification.
func (c *call) identified(sc savedCall) {
	c.adopted.Matched, c.code, c.offered = sc.Matched, sc.Code, true
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rec.MatchedBy = dialplan.MatchedBy(sc.Matched)
	c.rec.Cafe, c.rec.Province, c.rec.Area, c.rec.Region = sc.Cafe, sc.Province, sc.Area, sc.Region
}

// resumeTalk follows a conversation the previous process had bridged;
// legUp says the accepted leg was still in the application; brKnown that
// Asterisk said what br is (nil: no such bridge).
func (c *call) resumeTalk(ctx context.Context, sc savedCall, sl savedLeg, br *ari.Bridge, brKnown, legUp bool) {
	l := c.adoptLeg(sl, !legUp)
	l.answered, l.accepted = true, true
	if l.rec.AnsweredAt.IsZero() {
		l.rec.AnsweredAt = l.rec.AcceptedAt
	}
	bridgeID := c.id + "-br"
	acceptedAt := fromMS(sc.AcceptedAt)
	talkStart := fromMS(sc.TalkStart)
	if br != nil && !br.CreationTime.IsZero() {
		// Not saved yet (the process died right after bridging): the
		// bridge's creation is when it happened. Bridge times are wall
		// clock; the call's clock is offset from it.
		at := br.CreationTime.Add(c.offset)
		if acceptedAt.IsZero() {
			acceptedAt = at
		}
		if talkStart.IsZero() {
			talkStart = at
		}
	}
	if acceptedAt.IsZero() {
		acceptedAt = c.now()
	}
	if talkStart.IsZero() {
		talkStart = acceptedAt
	}
	if l.rec.AcceptedAt.IsZero() {
		l.rec.AcceptedAt = acceptedAt
	}
	c.acceptedBy = l
	c.talkStart = talkStart
	c.mu.Lock()
	c.rec.AcceptedAt, c.rec.AcceptedBy = acceptedAt, l.t.Staff
	c.mu.Unlock()
	defer func() { l.finish() }() // l: who talks with the caller at the end; a transfer changes it
	c.holdAdopted(l.t)
	c.releaseOld()
	l.watch = time.AfterFunc(c.s.cfg.MaxCall+2*c.s.cfg.RequestTimeout, l.watchdog)

	destroyed := false
	destroy := func() {
		if !destroyed {
			destroyed = true
			c.destroyBridge(bridgeID)
		}
	}
	defer destroy()
	inBridge := br != nil && slices.Contains(br.Channels, c.channelID) && slices.Contains(br.Channels, l.id)
	if brKnown && legUp && !c.callerLeft() && !inBridge {
		// The previous process died between creating the bridge and
		// adding both, or during a transfer (the caller on music outside
		// the bridge, transfer.go): finish its work — a transfer is not
		// carried over, the caller goes back to the person who accepted.
		if err := c.s.ari.StopChannelMOH(ctx, c.channelID); err != nil && !ari.IsNotFound(err) && ctx.Err() == nil {
			c.log.Warn("could not stop the music of a call taken over", "err", err)
		}
		if br == nil {
			bctx, cancel := c.teardownCtx()
			_, err := c.s.ari.CreateBridge(bctx, ari.CreateBridgeParams{ID: bridgeID, Type: ari.BridgeMixing, Name: "hotline " + c.id})
			cancel()
			if err != nil && !errors.Is(err, ari.ErrConflict) { // (409: it exists after all)
				c.failure = "create bridge: " + err.Error()
				c.log.Error("could not create the bridge of a call taken over", "err", err)
				return
			}
		}
		if err := c.s.ari.AddChannels(ctx, bridgeID, c.channelID, l.id); err != nil && ctx.Err() == nil {
			c.failure = "bridge channels: " + err.Error()
			c.log.Error("could not bridge a call taken over", "err", err)
			return
		}
	}
	left := c.s.cfg.MaxCall - c.now().Sub(talkStart)
	c.log.Info("conversation taken over", "staff", l.t.Staff, "talking_for", c.now().Sub(talkStart).Round(time.Second),
		"person_still_there", legUp)
	l = c.converse(ctx, l, bridgeID, destroy, max(left, time.Millisecond))
}

// resumeRating asks the caller for the rating the previous process was
// asking for (or had been given: then the call just ends). l is the
// accepted leg when its end is not recorded yet.
func (c *call) resumeRating(ctx context.Context, sc savedCall, br *ari.Bridge, l *leg) {
	var sl savedLeg
	for _, x := range sc.Legs {
		if x.ID == sc.Accepted {
			sl = x
		}
	}
	if sl.Staff == "" {
		// The accepted leg is not in the saved legs: nobody to rate.
		c.failure = "taken over after a restart; who answered is not known"
		return
	}
	if l == nil {
		l = &leg{c: c, id: sl.ID, t: dialplan.Target{Staff: sl.Staff, Role: dialplan.Role(sl.Role)}}
	}
	c.acceptedBy = l
	c.talkStart, c.talkEnd = fromMS(sc.TalkStart), fromMS(sc.TalkEnd)
	if c.talkEnd.IsZero() {
		c.talkEnd = c.now()
	}
	c.mu.Lock()
	c.rec.AcceptedAt, c.rec.AcceptedBy = fromMS(sc.AcceptedAt), sl.Staff
	if sc.Rating != "" {
		if sc.Rating == "9" {
			c.rec.Rating = &store.Rating{Complaint: true, Staff: sl.Staff}
		} else {
			c.rec.Rating = &store.Rating{Score: int(sc.Rating[0] - '0'), Staff: sl.Staff}
		}
	}
	rated := c.rec.Rating != nil
	c.mu.Unlock()
	c.save()
	if rated || ctx.Err() != nil {
		return
	}
	if br != nil {
		c.leaveBridge(ctx, br.ID, func() { c.destroyBridge(br.ID) })
	}
	c.rate(ctx, c.acceptedBy)
}

// resumeVoicemail finishes the message the caller was leaving: a recording
// still going is waited for, one finished is kept; when none was started,
// the voicemail starts again.
func (c *call) resumeVoicemail(ctx context.Context) {
	c.exhausted = true
	c.save() // (the new resource counter)
	name := "hotline-vm-" + c.id
	sub := c.s.ari.Subscribe(ari.RecordingKey(name))
	defer sub.Close()
	rctx, cancel := c.teardownCtx()
	_, liveErr := c.s.ari.GetLiveRecording(rctx, name)
	cancel()
	if liveErr == nil {
		c.setState(StateIVR)
		limit := newTimer(c.s.cfg.VoicemailMax + c.s.cfg.RequestTimeout)
		defer limit.Stop()
	wait:
		for {
			select {
			case ev, ok := <-sub.Events():
				if !ok {
					break wait
				}
				switch ev.(type) {
				case *ari.RecordingFinished, *ari.RecordingFailed:
					break wait
				}
			case <-limit.C:
				sctx, cancel := c.teardownCtx()
				_ = c.s.ari.StopRecording(sctx, name)
				cancel()
				break wait
			case <-ctx.Done():
				break wait
			case <-c.resyncC():
				if _, err := c.s.ari.GetLiveRecording(context.WithoutCancel(ctx), name); ari.IsNotFound(err) {
					break wait
				}
			}
		}
	}
	rctx, cancel = c.teardownCtx()
	_, storedErr := c.s.ari.GetStoredRecording(rctx, name)
	cancel()
	switch {
	case storedErr == nil:
		c.mu.Lock()
		c.rec.Voicemail = &store.Voicemail{Recording: name, CallbackNumber: c.number.E164}
		c.mu.Unlock()
		c.log.Info("message recorded", "recording", name)
		if ctx.Err() == nil {
			c.setState(StateIVR)
			_ = c.playWait(ctx, c.channelID, c.s.cfg.Prompts.Goodbye)
		}
	case liveErr != nil && ctx.Err() == nil:
		c.voicemail(ctx) // the previous process died before the recording started
	}
}

// ringAgain plans the call again and rings it from the top; a café code
// not typed yet is asked for again.
func (c *call) ringAgain(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	c.setState(StateIVR)
	c.save()
	dir := c.s.dir()
	if dir == nil {
		c.failure = "no directory loaded"
		return
	}
	id := dialplan.Identify(dir, c.number, c.code)
	if c.adopted.Matched == "" && id.MatchedBy != dialplan.MatchedByCallerID {
		// The previous process was still identifying the café.
		if c.notAnswered {
			if err := c.answer(ctx); err != nil {
				return
			}
			c.notAnswered = false
		}
		code := c.collectCode(ctx, dir)
		if ctx.Err() != nil {
			return
		}
		id = dialplan.Identify(dir, c.number, code)
		if id.MatchedBy == dialplan.MatchedByDTMF {
			c.code = code
		}
	}
	dec := c.plan(dir, id)
	in := c.startIntro(ctx, c.notAnswered)
	c.ringAll(ctx, dec, in)
}

// releaseOld frees the reservations the previous process made for this
// call (kept at start-up: releasePredecessorExcept) except those of the
// people the call holds now: the one it talks with, or one whose old leg
// is not confirmed gone. The previous process may have been another
// instance (this one took its node over): its rows for this call are this
// call's too. One try each, made before the call reserves
// anyone anew; a failure is logged (the row then lasts as long as the call).
func (c *call) releaseOld() {
	l, ok := c.s.res.(reservationLister)
	if !ok {
		return
	}
	ctx, cancel := c.teardownCtx()
	rows, err := l.Reservations(ctx)
	cancel()
	if err != nil {
		c.log.Warn("could not list the reservations of the previous process for this call; they last as long as the call",
			"err", err)
		return
	}
	held := map[string]bool{}
	for _, r := range c.holds {
		held[r.staff] = true
	}
	for _, r := range rows {
		if r.CallID != c.id || held[r.Staff] {
			continue
		}
		ctx, cancel := c.teardownCtx()
		err := c.s.res.Release(ctx, r.Staff, r.CallID)
		cancel()
		if err != nil {
			c.log.Warn("could not release a reservation of the previous process for this call; it lasts as long as the call",
				"staff", r.Staff, "err", err)
		}
	}
}

// holdAdopted reserves the person a taken-over call is talking with (the
// previous run's reservation of them, kept at start-up, is renewed). When
// the previous process was another instance (this one took its node over),
// its reservation of the person for this call is let go and made again
// under this instance, so the person stays held as long as the call.
func (c *call) holdAdopted(t dialplan.Target) {
	_, err := c.reserve(t)
	if errors.Is(err, errReservedElsewhere) && c.dropPredecessorHold(t.Staff) {
		_, err = c.reserve(t)
	}
	if err != nil {
		c.log.Warn("the person of a call taken over is held by another call", "staff", t.Staff, "err", err)
	}
}

// dropPredecessorHold releases another instance's reservation of staff for
// this call; false when there is none (or it cannot be read or released).
func (c *call) dropPredecessorHold(staff string) bool {
	l, ok := c.s.res.(reservationLister)
	if !ok {
		return false
	}
	ctx, cancel := c.teardownCtx()
	defer cancel()
	rows, err := l.Reservations(ctx)
	if err != nil {
		return false
	}
	for _, r := range rows {
		if r.Staff == staff && r.CallID == c.id && r.Instance != c.s.cfg.Instance {
			if err := c.s.res.Release(ctx, staff, c.id); err != nil {
				c.log.Warn("could not take over the previous instance's reservation of the person", "staff", staff,
					"previous_instance", r.Instance, "err", err)
				return false
			}
			c.log.Info("took over the previous instance's reservation of the person", "staff", staff,
				"previous_instance", r.Instance)
			return true
		}
	}
	return false
}

// readLeg reads a leg's HOTLINE_LEG.
func (c *call) readLeg(id string) (legVar, error) {
	var raw string
	_, err := c.s.retryCtx(c.ctx, func(rctx context.Context) error {
		var err error
		raw, err = c.s.ari.GetChannelVar(rctx, id, varLeg)
		if ari.IsNotFound(err) {
			return nil
		}
		return err
	})
	if err != nil {
		return legVar{}, err
	}
	return decodeLeg(raw)
}

func (c *call) getChannel(id string) (*ari.Channel, error) {
	ctx, cancel := c.teardownCtx()
	defer cancel()
	return c.s.ari.GetChannel(ctx, id)
}

// getBridge reads a bridge, trying again (TeardownTries) when Asterisk
// does not answer 200 or 404.
func (c *call) getBridge(id string) (*ari.Bridge, error) {
	var br *ari.Bridge
	_, err := c.s.retryCtx(context.WithoutCancel(c.ctx), func(ctx context.Context) error {
		var err error
		br, err = c.s.ari.GetBridge(ctx, id)
		if ari.IsNotFound(err) {
			return nil
		}
		return err
	})
	if err == nil && br == nil {
		return nil, ari.ErrNotFound
	}
	return br, err
}

// retryCtx is retry (TeardownTries tries with backoff) that stops early
// when ctx ends.
func (s *Server) retryCtx(ctx context.Context, op func(ctx context.Context) error) (int, error) {
	var err error
	for n := 0; ; {
		if n > 0 {
			t := time.NewTimer(s.backoff(n))
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return n, ctx.Err()
			}
		}
		rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
		err = op(rctx)
		cancel()
		n++
		if err == nil || n >= s.cfg.TeardownTries || ctx.Err() != nil {
			return n, err
		}
	}
}
