package ivr

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/store"
)

// reconcile compares what Asterisk says the application owns with what we
// think is alive. Events of the time the WebSocket was down are lost for
// good (Asterisk replays nothing), so:
//
//   - a live call whose caller channel is gone is ended (recorded as
//     interrupted, or answered when someone had accepted);
//   - a leg that is gone ends (the flow moves on: next target, or rating);
//   - every call re-checks what it was waiting for (a playback, a leg's
//     answer, a recording) by asking Asterisk, and resumes: mid-IVR and
//     ringing calls go on, bridged calls keep talking;
//   - at start-up (first), the calls a previous process left are taken
//     over (adopt.go); after ReconcileGrace, channels that never sent us a
//     StasisStart and were not taken over are leftovers: callers go back to
//     the dialplan (its fallback after Stasis()) and are recorded as
//     interrupted, our old outgoing legs are hung up, our old bridges
//     destroyed.
//
// ctx ends when the connection it reconciles for is gone; runCtx when Run
// ends. Listing the application is tried again, with backoff, until it
// works or ctx ends: a failure is logged and counted
// (hotline_reconcile_failures_total). The first listing that works starts
// the start-up part, which goes on (on runCtx) when the connection drops
// meanwhile: reconnects then reconcile the calls only.
func (s *Server) reconcile(ctx, runCtx context.Context) {
	seqBefore := s.seq.Load()
	asked := time.Now()
	var app *ari.Application
	for failures := 0; ; {
		var err error
		if app, err = s.getApplication(ctx); err == nil {
			if failures > 0 {
				s.log.Info("reconciliation: the application's channels listed after failures", "failures", failures)
			}
			break
		}
		if ctx.Err() != nil {
			return // the connection went (the next one reconciles) or Run ends
		}
		failures++
		s.met.ReconcileFailed()
		wait := s.backoff(failures)
		s.log.Error("reconciliation failed: could not list the application's channels; trying again",
			"failures", failures, "next_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
		seqBefore, asked = s.seq.Load(), time.Now()
	}
	s.mu.Lock()
	first, startedUp := !s.startupClaimed, s.startedUp
	s.startupClaimed = true
	s.mu.Unlock()
	present := make(map[string]bool, len(app.ChannelIDs))
	for _, id := range app.ChannelIDs {
		present[id] = true
	}
	// Calls of ours (after a reconnect).
	s.reconcileCalls(ctx, seqBefore, asked, present)
	if !first {
		if startedUp { // (during start-up, a caller never seen may be a previous process's)
			s.startLost(ctx, app)
		}
		return
	}
	defer func() {
		s.mu.Lock()
		s.startedUp = true
		s.seen = map[string]bool{}
		s.mu.Unlock()
		s.clearStartup()
	}()
	if !slices.ContainsFunc(app.ChannelIDs, func(id string) bool { return !s.known(id) }) {
		s.clearStartup() // nothing of a previous process is up
	}
	ctx = runCtx
	prev := s.previousRun(ctx)
	s.mu.Lock()
	s.prevRun = prev
	s.mu.Unlock()
	adopted := s.adoptAll(ctx, app)
	if l, ok := s.res.(reservationLister); ok {
		s.releasePredecessorExcept(l)
	}
	// Start-up: give calls arriving right now time to show their
	// StasisStart, then treat the rest as leftovers.
	t := time.NewTimer(s.cfg.ReconcileGrace)
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
		return
	}
	n := 0
	for _, id := range app.ChannelIDs {
		if s.known(id) {
			continue
		}
		if s.leftover(ctx, id, "left in the application by a previous process without a saved state") {
			n++
		}
	}
	// Bridges: those the application is subscribed to, and ours by name
	// (an empty bridge is not listed in the application).
	bridges := append([]string(nil), app.BridgeIDs...)
	if all, err := s.listBridges(ctx); err == nil {
		for _, b := range all {
			if isBridgeID(b.ID) && !slices.Contains(bridges, b.ID) {
				bridges = append(bridges, b.ID)
			}
		}
	} else {
		s.log.Warn("could not list bridges", "err", err)
	}
	destroyed := 0
	for _, id := range bridges {
		if s.liveBridge(id) {
			continue
		}
		destroyed++
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.RequestTimeout)
		if err := s.ari.DestroyBridge(bctx, id); err != nil && !ari.IsNotFound(err) {
			s.log.Warn("could not destroy a leftover bridge", "bridge", id, "err", err)
		}
		cancel()
	}
	vanished := s.recordVanished(prev, present)
	s.log.Info("start-up reconciliation done", "calls_taken_over", adopted, "leftover_channels", n,
		"leftover_bridges", destroyed, "calls_vanished", vanished)
}

// clearStartup closes startupClear (once).
func (s *Server) clearStartup() {
	s.startupClearOnce.Do(func() { close(s.startupClear) })
}

func (s *Server) listBridges(ctx context.Context) ([]ari.Bridge, error) {
	rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	return s.ari.ListBridges(rctx)
}

func (s *Server) getApplication(ctx context.Context) (*ari.Application, error) {
	rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	return s.ari.GetApplication(rctx, "")
}

// known reports whether a channel is one of our live calls or legs, or sent
// us a StasisStart.
func (s *Server) known(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, call := s.calls[id]
	_, leg := s.legs[id]
	return call || leg || s.seen[id]
}

// liveBridge reports whether a bridge belongs to a live call.
func (s *Server) liveBridge(id string) bool {
	callID, ok := strings.CutSuffix(id, "-br")
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.calls {
		if c.id == callID {
			return true
		}
	}
	_, try := s.tries[callID] // a callback's bridge (callback_talk.go)
	return try
}

// leftover deals with a channel a previous process left in the application
// that cannot be taken over; detail says why (for a caller's record). It
// reports whether there was something to do (the channel still existed).
func (s *Server) leftover(parent context.Context, id, detail string) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), s.cfg.RequestTimeout)
	defer cancel()
	log := s.log.With("channel_id", id)
	if isLegID(id) {
		err := s.ari.Hangup(ctx, id, ari.HangupNormal)
		switch {
		case ari.IsNotFound(err):
			return false
		case err != nil:
			log.Warn("could not hang up a leftover leg", "err", err)
		default:
			log.Info("hung up an outgoing leg left by a previous process")
		}
		return true
	}
	ch, err := s.ari.GetChannel(ctx, id)
	if ari.IsNotFound(err) {
		return false
	}
	var raw string
	start := time.Now()
	if err == nil {
		raw = ch.Caller.Number
		if !ch.CreationTime.IsZero() && ch.CreationTime.Before(start) {
			start = ch.CreationTime.Time
		}
	}
	if err := s.ari.ContinueInDialplan(ctx, id, ari.ContinueParams{}); err != nil {
		if ari.IsNotFound(err) {
			return false
		}
		detail += "; hung up"
		_ = s.ari.Hangup(ctx, id, ari.HangupNormal)
	} else {
		detail += "; returned to the dialplan"
	}
	callID := ulid.Make().String()
	s.mu.Lock()
	if r, ok := s.prevRun[id]; ok { // the call's id and start in the journal
		callID = r.ID
		if !r.StartedAt.IsZero() {
			start = r.StartedAt
		}
	}
	s.mu.Unlock()
	num := dialplan.Normalize(raw)
	rec := store.CallRecord{
		ID: callID, Node: s.cfg.Instance, ChannelID: id, CallerRaw: raw, Caller: num.E164,
		CallerKind: string(num.Kind), MatchedBy: dialplan.MatchedByNone, StartedAt: start, EndedAt: time.Now(),
		Outcome: store.OutcomeInterrupted, Detail: detail,
	}
	if rec.EndedAt.Before(rec.StartedAt) {
		rec.EndedAt = rec.StartedAt
	}
	rec.Wait = rec.EndedAt.Sub(rec.StartedAt)
	s.met.CallOffered("", "")
	s.met.CallEnded(string(store.OutcomeInterrupted), "", "")
	s.met.AdoptionFallback()
	s.rec.Submit(rec)
	log.Warn("caller left by a previous process could not be taken over", "caller", raw, "detail", detail)
	return true
}

// goneGrace is how long reconciliation lets events already on their way
// (a StasisEnd queued for a call) arrive before it declares a channel gone.
const goneGrace = 250 * time.Millisecond

// reconcileCalls ends what vanished while the WebSocket was down and makes
// every call re-check what it waits for.
func (s *Server) reconcileCalls(ctx context.Context, seqBefore uint64, asked time.Time, present map[string]bool) {
	s.mu.Lock()
	calls := make([]*call, 0, len(s.calls))
	for _, c := range s.calls {
		if c.seq <= seqBefore { // calls started after we asked are not in the answer
			calls = append(calls, c)
		}
	}
	others := len(s.abandoned) + len(s.tries)
	s.mu.Unlock()
	if len(calls) == 0 && others == 0 {
		return // nothing of ours to check (the first connection)
	}
	t := time.NewTimer(goneGrace)
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
		return
	}
	ended, legsGone := 0, 0
	for _, c := range calls {
		if !present[c.channelID] && c.ctx.Err() == nil {
			c.gone.Store(true)
			c.cancel(errCallerGone)
			ended++
		}
		c.mu.Lock()
		for id, l := range c.legs {
			if !l.createdAt.IsZero() && l.createdAt.Before(asked) && !present[id] && !l.goneClosed {
				l.goneClosed = true
				close(l.gone)
				legsGone++
			}
		}
		close(c.resync)
		c.resync = make(chan struct{})
		c.mu.Unlock()
	}
	s.reconcileAbandoned(ctx, present)
	s.reconcileTries(seqBefore, asked, present) // callback tries (callback.go)
	s.log.Info("reconciled after ARI reconnect", "live_calls", len(calls), "ended", ended, "legs_gone", legsGone)
}

// reconcileAbandoned looks again at the legs we gave up hanging up: gone
// ones are forgotten (their watchdog stopped), the others get one more
// hangup request.
func (s *Server) reconcileAbandoned(ctx context.Context, present map[string]bool) {
	s.mu.Lock()
	legs := make([]*leg, 0, len(s.abandoned))
	for _, l := range s.abandoned {
		legs = append(legs, l)
	}
	s.mu.Unlock()
	for _, l := range legs {
		if !present[l.id] {
			s.forgetAbandoned(l)
			continue
		}
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.RequestTimeout)
		err := s.ari.Hangup(hctx, l.id, ari.HangupNormal)
		cancel()
		if err == nil || ari.IsNotFound(err) {
			s.forgetAbandoned(l)
		}
	}
}

// startLost starts the calls whose StasisStart was lost with the events
// WebSocket (Asterisk sent it on the connection that dropped, and replays
// nothing): callers in the application that we never saw, once events still
// on their way have had goneGrace to arrive. A caller with a saved state
// (HOTLINE_CALL) is another process's call, not one of ours.
func (s *Server) startLost(ctx context.Context, app *ari.Application) {
	var lost []string
	for _, id := range app.ChannelIDs {
		if !isLegID(id) && !s.known(id) {
			lost = append(lost, id)
		}
	}
	if len(lost) == 0 {
		return
	}
	t := time.NewTimer(goneGrace)
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
		return
	}
	for _, id := range lost {
		if s.known(id) {
			continue // its StasisStart came after all
		}
		rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
		ch, err := s.ari.GetChannel(rctx, id)
		var saved error = ari.ErrNotFound
		if err == nil {
			_, saved = s.ari.GetChannelVar(rctx, id, varCall)
		}
		cancel()
		switch {
		case err != nil:
			continue // gone meanwhile (or Asterisk does not say: the next reconciliation will)
		case !ari.IsNotFound(saved):
			s.log.Warn("a caller in the application is not ours: it has another process's saved state, or it cannot be read",
				"channel_id", id, "err", saved)
			continue
		}
		s.log.Warn("a call whose StasisStart was lost with the events WebSocket is taken now", "channel_id", id,
			"caller", ch.Caller.Number)
		s.startCall(ctx, *ch)
	}
}
