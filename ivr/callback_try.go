package ivr

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/store"
)

// Causes of a callback try's end besides errShutdown.
var (
	// errStaffLeft: the person who accepted hung up before the café
	// answered.
	errStaffLeft = errors.New("the person who accepted hung up before the café answered")
)

// callbackTry is what makes a call a callback try: the café to reach and
// how the try went. The flow goroutine owns it.
type callbackTry struct {
	req    *store.Callback // the request (nil: "call back now" with none pending)
	reqID  int64           // req's id, or the request a "call back now" holds (0: none)
	cafe   *dialplan.Cafe  // nil: a voicemail of an unknown caller ("call back now")
	number dialplan.Number // the café's number to dial
	route  dialplan.Route
	alt    *dialplan.Route
	// manual is who asked for a "call back now" ("" for an automatic try),
	// voicemail the voicemail it was asked from.
	manual    string
	voicemail int64

	attempted  bool // someone was rung
	connected  bool // the café answered and was bridged
	staffLeft  bool
	cafeClosed bool   // the café left the directory or closed: the request is cancelled
	detail     string // what happened, for the record
	hold       *reservation
}

// newTryCall builds the call of a callback try; nothing is rung yet.
func (s *Server) newTryCall(t *callbackTry) *call {
	start := s.now()
	return s.buildTryCall(t, ulid.Make().String(), start, time.Until(start))
}

// buildTryCall makes the call of a callback try of this id; start is on
// the call's clock, offset is that clock minus the wall clock.
func (s *Server) buildTryCall(t *callbackTry, id string, start time.Time, offset time.Duration) *call {
	s.cb.mu.Lock()
	parent := s.cb.ctx
	s.cb.mu.Unlock()
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(parent))
	c := &call{
		s: s, id: id, callerRaw: t.number.E164, number: t.number,
		seq: s.seq.Add(1), offset: offset,
		ctx: ctx, cancel: cancel, dtmf: make(chan string, 1),
		started: start, legs: map[string]*leg{}, resync: make(chan struct{}), cb: t,
	}
	cafe := ""
	if t.cafe != nil {
		cafe = t.cafe.Code
		c.cafeName = t.cafe.Name
	}
	c.log = s.log.With("call_id", id, "direction", string(store.DirectionCallback), "cafe", cafe,
		"callback_id", t.reqID, "number", t.number.E164)
	c.rec = store.CallRecord{
		ID: id, Node: s.cfg.Instance, Direction: store.DirectionCallback, CallbackID: t.reqID,
		CallerRaw: t.number.E164, Caller: t.number.E164, CallerKind: string(t.number.Kind), Cafe: cafe,
		MatchedBy: dialplan.MatchedByNone, StartedAt: start,
	}
	if t.cafe != nil {
		c.rec.Province = t.cafe.Province
		if dir := s.dir(); dir != nil {
			if p, ok := dir.Province(t.cafe.Province); ok {
				c.provinceName = p.Name
			}
		}
	}
	return c
}

// callbackTarget is the café's number as a target: its carrier's trunk,
// the alternate route when that one is congested.
func (t *callbackTry) target(ring time.Duration) dialplan.Target {
	name := "café"
	if t.cafe != nil {
		name = t.cafe.Name
	}
	return dialplan.Target{Name: name, Role: store.RoleCafe, Number: t.number.E164, Carrier: t.number.Carrier,
		Trunk: t.route.Trunk, Dial: t.route.Dial, Alternate: t.alt, RingSeconds: int(ring / time.Second),
		Reason: "callback"}
}

// routeTo fills t's number and route from e164; false when it cannot be
// dialled.
func (s *Server) routeTo(t *callbackTry, e164 string) bool {
	n := dialplan.Normalize(e164)
	r, alt, ok := s.cfg.Trunks.RouteNumber(n, n.Carrier)
	if !ok {
		return false
	}
	t.number, t.route, t.alt = n, r, alt
	return true
}

// startCallback starts the automatic try of a request this instance holds.
func (s *Server) startCallback(req *store.Callback) {
	t := &callbackTry{req: req, reqID: req.ID}
	dir := s.dir()
	if dir != nil {
		if cafe, ok := dir.CafeByCode(req.Cafe); ok && cafe.Status == dialplan.StatusActive {
			t.cafe = cafe
		}
	}
	if !s.routeTo(t, req.Number) && t.cafe != nil {
		s.routeTo(t, callbackNumber("", t.cafe))
	}
	c := s.newTryCall(t)
	if !s.goTry(c, c.serveCallback) {
		// Stopping: let go of it at once (no try made).
		c.finishRequest()
	}
}

// serveCallback is one automatic try: plan, ring, call the café, record.
func (c *call) serveCallback() {
	t := c.cb
	defer c.endCallback()
	switch {
	case t.cafe == nil:
		t.cafeClosed = true
		c.log.Info("callback cancelled: the café is no longer an active café of the directory")
		return
	case t.route.Dial == "":
		c.failure = "no trunk can dial the café's number"
		c.log.Error("callback: the café's number cannot be dialled through any configured trunk")
		return
	case c.s.cafeOnCall(t.cafe.Code):
		c.log.Info("callback postponed: the café is calling the hotline right now")
		return
	}
	dir := c.s.dir()
	if dir == nil {
		return
	}
	rot := c.rotation()
	dec := dir.Plan(dialplan.PlanRequest{
		ID: dialplan.Identification{Caller: t.number, Cafe: t.cafe, Province: t.cafe.Province,
			MatchedBy: dialplan.MatchedByCallerID},
		At: c.started, Live: c.s, Rotation: rot, Trunks: c.s.cfg.Trunks, Ring: c.s.cfg.Ring,
		MaxTargets: c.s.cfg.MaxTargets,
	})
	c.mu.Lock()
	c.rec.Province, c.rec.Area, c.rec.Region = dec.Province, dec.Area, dec.Region
	c.mu.Unlock()
	if len(dec.Targets) == 0 {
		c.log.Info("callback postponed: nobody of the café's plan is free", "retry_in", c.s.cfg.Callback.BusyRetry)
		return
	}
	c.log.Info("calling a café back", "try", t.req.Tries+1, "of", c.s.cfg.Callback.Tries, "targets", len(dec.Targets))
	staff := c.ringStaffForCallback(c.ctx, dec.Targets, nil)
	if staff == nil {
		return
	}
	c.callCafe(c.ctx, staff)
}

// ringStaffForCallback rings targets in order (each person reserved first,
// as for a café's call; first is the reservation of targets' first person
// when already made) until one accepts with 1, and returns that leg, or
// nil. The person stays reserved (t.hold) until the try ends.
func (c *call) ringStaffForCallback(ctx context.Context, targets []dialplan.Target, first *reservation) *leg {
	t := c.cb
	elsewhere := map[string]bool{}
	hold := first
	unreserve := func() {
		c.unhold(hold)
		hold = nil
	}
	for _, target := range targets {
		if ctx.Err() != nil {
			break
		}
		if elsewhere[target.Staff] {
			continue
		}
		if hold == nil || hold.staff != target.Staff {
			unreserve()
			h, err := c.reserve(target)
			switch {
			case errors.Is(err, errReservedElsewhere):
				elsewhere[target.Staff] = true
				continue
			case err != nil:
				continue
			}
			hold = h
		}
		if !t.attempted {
			t.attempted = true
			c.s.met.CallbackAttempted()
		}
		l := c.tryTarget(ctx, target, hold)
		if l == nil {
			select {
			case <-hold.denied:
				elsewhere[target.Staff] = true
				unreserve()
			default:
			}
			continue
		}
		t.hold = hold
		return l
	}
	unreserve()
	if t.attempted && t.detail == "" {
		t.detail = "nobody accepted"
	}
	return nil
}

// callCafe dials the café for the person who accepted (they hear ringback
// meanwhile) and bridges them; when the café does not answer the person is
// told so and hung up.
func (c *call) callCafe(ctx context.Context, staff *leg) {
	t := c.cb
	if why := c.callbackMoot(ctx); why != "" {
		t.detail = why
		c.log.Info("callback no longer needed; not dialling the café", "why", why)
		staff.finish()
		return
	}
	c.mu.Lock()
	c.rec.AcceptedBy = staff.t.Staff
	c.mu.Unlock()
	if staff.watch != nil {
		// The café's ring is on top of what the leg has used.
		staff.watch.Reset(c.s.cfg.Callback.Ring + c.s.cfg.MaxLeg)
	}
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watched := c.watchStaff(staff, func() { cancel(errStaffLeft) })
	if err := c.s.ari.Ring(ctx, staff.id); err != nil && ctx.Err() == nil {
		c.log.Warn("could not play ringback to the person who accepted", "err", err)
	}
	cafe := c.tryTarget(cctx, t.target(c.s.cfg.Callback.Ring), &reservation{denied: make(chan struct{})})
	watched()
	if staff.state() == legUp {
		rctx, rcancel := c.teardownCtx()
		_ = c.s.ari.RingStop(rctx, staff.id)
		rcancel()
	}
	switch {
	case cafe != nil && staff.state() == legUp && ctx.Err() == nil:
		c.talkCallback(ctx, staff, cafe)
		return
	case cafe != nil:
		cafe.finish()
	}
	if errors.Is(context.Cause(cctx), errStaffLeft) || staff.state() != legUp {
		t.staffLeft = true
		t.detail = errStaffLeft.Error()
		staff.finish()
		return
	}
	if n := len(c.rec.Legs); n > 0 && c.rec.Legs[n-1].Role == store.RoleCafe {
		t.detail = "the café did not answer: " + string(c.rec.Legs[n-1].Result)
	}
	if ctx.Err() == nil {
		c.playTo(ctx, staff, c.s.cfg.Prompts.CallbackNoAnswer)
	}
	staff.finish()
}

// callbackMoot says why calling the café is no longer wanted ("" when it
// still is): its request was cancelled meanwhile, or the café is calling.
func (c *call) callbackMoot(ctx context.Context) string {
	t := c.cb
	if t.cafe != nil && c.s.cafeOnCall(t.cafe.Code) {
		return "the café is calling the hotline"
	}
	if t.reqID == 0 {
		return ""
	}
	rctx, cancel := context.WithTimeout(ctx, c.s.cfg.ReserveBudget)
	defer cancel()
	st, err := c.s.cb.store.CallbackStateOf(rctx, t.reqID)
	if err != nil || st == store.CallbackPending {
		return "" // a slow database must not stop the callback
	}
	return "the callback request was " + string(st) + " meanwhile"
}

// watchStaff follows the accepted leg while the café rings: its hangup
// calls left. The returned stop ends the watch and waits for it, so the
// flow can read the leg again.
func (c *call) watchStaff(l *leg, left func()) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case ev, ok := <-l.sub.Events():
				if !ok {
					return
				}
				switch e := ev.(type) {
				case *ari.ChannelHangupRequest:
					if e.Channel.ID == l.id {
						if !e.Soft && e.Cause > 0 && l.cause == 0 {
							l.cause = e.Cause
						}
						if l.state() == legUp {
							l.setState(legEnding)
						}
						left()
					}
				case *ari.StasisEnd:
					if e.Channel.ID == l.id {
						l.ended()
						left()
					}
				case *ari.ChannelDestroyed:
					if e.Channel.ID == l.id {
						if l.cause == 0 {
							l.cause = e.Cause
						}
						l.ended()
						l.over = true
						left()
					}
				}
			case <-l.gone:
				l.ended()
				l.over = true
				left()
				return
			case <-quit:
				return
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

// playTo plays a prompt to a leg and waits for its end (bounded).
func (c *call) playTo(ctx context.Context, l *leg, name string) {
	if len(sounds(name)) == 0 || l.state() != legUp {
		return
	}
	_ = c.playWait(ctx, l.id, name)
}

// endCallback ends a try whatever happened: what is left is hung up, the
// person released, the record submitted (when someone was rung), and the
// request updated in the database.
func (c *call) endCallback() {
	if p := recover(); p != nil {
		c.failure = fmt.Sprintf("panic: %v", p)
		c.log.Error("callback flow panicked", "panic", p)
	}
	c.mu.Lock()
	var stray []string
	for id := range c.legs {
		stray = append(stray, id)
	}
	c.mu.Unlock()
	for _, id := range stray {
		c.hangupChannel(id, "leg")
	}
	for _, r := range c.holds {
		c.unhold(r)
	}
	c.cancel(nil)
	if c.cb.attempted || c.failure != "" {
		rec := c.callbackRecord()
		c.s.rec.Submit(rec)
		c.log.Info("callback try ended", "outcome", string(rec.Outcome), "legs", len(rec.Legs), "detail", rec.Detail)
	}
	c.owned.Wait()
	c.finishRequest()
	c.setState("")
	c.s.endTry(c)
}

// callbackRecord is the try's call record.
func (c *call) callbackRecord() store.CallRecord {
	t := c.cb
	c.mu.Lock()
	rec := c.rec
	rec.Legs = append([]store.LegRecord(nil), c.rec.Legs...)
	c.mu.Unlock()
	// In the order rung (the person's leg ends after the café's).
	slices.SortStableFunc(rec.Legs, func(a, b store.LegRecord) int { return a.RingAt.Compare(b.RingAt) })
	for i, l := range rec.Legs {
		rec.Legs[i].Seq = i + 1
		if l.Role == store.RoleCafe {
			rec.ChannelID = l.ChannelID // the café's channel, as for a café's call
		}
	}
	rec.EndedAt = c.now()
	if rec.EndedAt.Before(rec.StartedAt) {
		rec.EndedAt = rec.StartedAt
	}
	cause := context.Cause(c.ctx)
	interrupted := tryInterrupted(cause)
	detail := t.detail
	switch {
	case t.connected:
		rec.Outcome = store.OutcomeAnswered
		rec.Wait = rec.AcceptedAt.Sub(rec.StartedAt)
		end := c.talkEnd
		if end.IsZero() {
			end = rec.EndedAt
		}
		rec.Talk = end.Sub(c.talkStart)
		detail = ""
		switch {
		case interrupted:
			detail = "ended early: " + cause.Error()
		case c.adopted != nil:
			detail = "taken over by a new hotline process after a restart"
		}
	case c.failure != "":
		rec.Outcome, detail = store.OutcomeFailed, c.failure
	case interrupted:
		rec.Outcome, detail = store.OutcomeInterrupted, cause.Error()
	case t.staffLeft:
		rec.Outcome = store.OutcomeAbandoned
	default:
		rec.Outcome = store.OutcomeNoAnswer
	}
	if !t.connected {
		// Taken by nobody: the person's 1 is on their leg (answered).
		rec.AcceptedAt, rec.AcceptedBy = time.Time{}, ""
		rec.Wait = rec.EndedAt.Sub(rec.StartedAt)
	}
	if t.manual != "" {
		prefix := "call back now by " + t.manual + " (voicemail " + strconv.FormatInt(t.voicemail, 10) + ")"
		if detail != "" {
			detail = prefix + ": " + detail
		} else {
			detail = prefix
		}
	}
	rec.Detail = detail
	rec.Wait, rec.Talk = max(rec.Wait, 0), max(rec.Talk, 0)
	return rec
}

// tryInterrupted reports whether a try's end cause is a stop (this
// process's, the link's, or a restart that cut the try before it talked):
// recorded interrupted, not counted against the café's tries.
func tryInterrupted(cause error) bool {
	return errors.Is(cause, errShutdown) || errors.Is(cause, errCallerGone) || errors.Is(cause, errRestartCut)
}

// finishRequest records the try on the request this instance holds (if
// any) and lets go of it, retrying; should the database not answer, the
// lease ends and another try follows.
func (c *call) finishRequest() {
	t := c.cb
	if t.reqID == 0 || c.s.cb.store == nil {
		return
	}
	interrupted := tryInterrupted(context.Cause(c.ctx))
	cfg := c.s.cfg.Callback
	try := store.CallbackTry{Connected: t.connected, MaxTries: cfg.Tries, Retry: cfg.Retry, CafeClosed: t.cafeClosed,
		// A "call back now", a try cut short by a stop, or one that rang
		// nobody do not use up the café's tries.
		Counts: t.manual == "" && !interrupted && (t.attempted || c.failure != ""),
	}
	if t.attempted || c.failure != "" {
		try.CallID = c.id
	}
	switch {
	case try.Counts || t.connected:
	case t.manual != "" && !t.attempted:
		try.KeepNext = true // a "call back now" that rang nobody: the automatic tries go on as planned
	case t.manual != "":
	default:
		try.Retry = cfg.BusyRetry
	}
	var state store.CallbackState
	n, err := c.s.retry(0, func(ctx context.Context) error {
		var err error
		state, err = c.s.cb.store.FinishCallback(ctx, t.reqID, c.s.cfg.Instance, try)
		return err
	})
	if err != nil {
		c.s.met.DBError("finish_callback")
		c.log.Error("could not record the callback try; its lease ends and it is tried again", "tries", n, "err", err)
		return
	}
	switch state {
	case store.CallbackGivenUp:
		c.log.Warn("callback given up: every try failed", "tries", cfg.Tries)
	case store.CallbackDone:
		c.log.Info("callback done: the café was reached")
	case store.CallbackPending:
		if try.Counts {
			c.log.Info("callback will be tried again", "in", cfg.Retry)
		}
	}
}
