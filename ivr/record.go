package ivr

import (
	"context"
	"errors"
	"time"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/store"
)

// teardown ends the call whatever happened — the caller hung up, the flow
// finished, the server is stopping, a panic — and submits its one record.
// What must happen (hanging up, releasing people) is retried with backoff
// by goroutines the call owns; teardown returns once they are all done, so
// nothing of the call outlives it.
func (c *call) teardown() {
	// Legs end inside the flow; anything still registered (a panic) goes.
	c.mu.Lock()
	var stray []string
	for id := range c.legs {
		stray = append(stray, id)
	}
	c.mu.Unlock()
	for _, id := range stray {
		c.hangupChannel(id, "leg")
	}
	if !c.callerLeft() {
		if reason := c.handBackReason(); reason == "" || !c.handBackToDialplan(reason) {
			c.hangupChannel(c.channelID, "caller")
		}
	}
	for _, r := range c.holds { // normally all released already
		c.unhold(r)
	}
	c.cancel(nil) // no-op when already cancelled with a cause
	rec := c.record()
	c.awaitNoted() // (the record's write ends the journal's row)
	c.s.rec.Submit(rec)
	c.log.Info("call ended", "outcome", string(rec.Outcome), "legs", len(rec.Legs),
		"wait", rec.Wait, "talk", rec.Talk, "detail", rec.Detail)
	c.owned.Wait()
}

// hangupChannel hangs up one of the call's channels (what is "leg" or
// "caller") at teardown. The first try is made now; when it fails, the
// retries run in a goroutine the call owns, and giving up is logged at
// ERROR and counted.
func (c *call) hangupChannel(id, what string) {
	defer func() {
		if what == "leg" {
			c.s.ownLeg(id, nil)
		}
	}()
	hangup := func(ctx context.Context) error {
		if err := c.s.ari.Hangup(ctx, id, ari.HangupNormal); err != nil && !ari.IsNotFound(err) {
			return err
		}
		return nil
	}
	ctx, cancel := c.teardownCtx()
	err := hangup(ctx)
	cancel()
	if err == nil {
		return
	}
	c.log.Warn("could not hang up at teardown; retrying", "what", what, "channel", id, "err", err)
	c.goOwned(func() {
		tries, err := c.s.retry(1, hangup)
		if err != nil {
			c.s.met.HangupGivenUp()
			c.log.Error("gave up hanging up a channel at teardown; Asterisk's own limits remain", "what", what,
				"channel", id, "tries", tries, "err", err)
		}
	})
}

// handBackReason says why the caller, still there at teardown, goes to
// the dialplan's fallback rather than being hung up: the hotline could not
// serve them (an internal failure before anyone took the call, or no
// voicemail when nobody accepted). "" when the call was served.
func (c *call) handBackReason() string {
	switch {
	case c.handBack != "":
		return c.handBack
	case c.failure != "" && c.acceptedBy == nil:
		return c.failure
	}
	return ""
}

// handBackToDialplan sends the caller on in the dialplan after Stasis(),
// whose fallback (operators' phones, then a voicemail box) takes them, and
// reports whether the caller is taken care of (Asterisk took them, or they
// are gone); when it reports false the caller must be hung up.
//
// A transient refusal is asked again (callerTries, callerBackoff): the
// caller is still there.
func (c *call) handBackToDialplan(reason string) bool {
	var err error
	for try := 1; ; try++ {
		ctx, cancel := c.teardownCtx()
		err = c.s.ari.ContinueInDialplan(ctx, c.channelID, ari.ContinueParams{})
		cancel()
		switch {
		case err == nil:
			c.handedBack = true
			c.log.Warn("the hotline could not serve the caller; handed to the dialplan's fallback", "reason", reason,
				"tries", try)
			return true
		case ari.IsNotFound(err):
			return true
		}
		if try >= callerTries || !transient(err) {
			break
		}
		c.log.Warn("could not hand the caller to the dialplan's fallback; retrying", "try", try, "err", err)
		time.Sleep(callerBackoff(try))
	}
	c.log.Error("could not hand the caller to the dialplan's fallback; hanging up", "reason", reason, "err", err)
	return false
}

// record builds the call's record and counts its end in the metrics.
func (c *call) record() store.CallRecord {
	c.mu.Lock()
	rec := c.rec
	rec.Legs = append([]store.LegRecord(nil), c.rec.Legs...)
	c.mu.Unlock()
	legsInRingOrder(rec.Legs) // a transfer's first leg ends after those it asked for (transfer.go)
	rec.EndedAt = c.now()
	if rec.EndedAt.Before(rec.StartedAt) {
		rec.EndedAt = rec.StartedAt
	}
	cause := context.Cause(c.ctx)
	interrupted := errors.Is(cause, errShutdown) || errors.Is(cause, errCallerGone) ||
		errors.Is(cause, errCallerGoneRestart)
	switch {
	case !rec.AcceptedAt.IsZero():
		rec.Outcome = store.OutcomeAnswered
		rec.Wait = rec.AcceptedAt.Sub(rec.StartedAt)
		end := c.talkEnd
		if end.IsZero() {
			end = rec.EndedAt
		}
		rec.Talk = end.Sub(rec.AcceptedAt)
		if interrupted {
			rec.Detail = "ended early: " + cause.Error()
		}
	case rec.Voicemail != nil:
		rec.Outcome = store.OutcomeVoicemail
	case c.failure != "":
		rec.Outcome = store.OutcomeFailed
		rec.Detail = c.failure
	case interrupted:
		rec.Outcome = store.OutcomeInterrupted
		rec.Detail = cause.Error()
	case c.exhausted:
		rec.Outcome = store.OutcomeNoAnswer
	default:
		rec.Outcome = store.OutcomeAbandoned
	}
	if c.handedBack {
		if rec.Detail == "" {
			rec.Detail = c.handBack
		}
		rec.Detail += "; handed to the dialplan's fallback"
	}
	if rec.Outcome != store.OutcomeAnswered {
		rec.Wait = rec.EndedAt.Sub(rec.StartedAt)
	}
	if c.adopted != nil && rec.Detail == "" {
		rec.Detail = "taken over by a new hotline process after a restart"
	}
	if rec.Wait < 0 {
		rec.Wait = 0
	}
	if rec.Talk < 0 {
		rec.Talk = 0
	}
	method := string(rec.MatchedBy)
	if !c.offered {
		c.s.met.CallOffered("", rec.Region)
		method = ""
	}
	c.s.met.CallEnded(string(rec.Outcome), method, rec.Region)
	if rec.Outcome == store.OutcomeAbandoned {
		c.s.met.Abandoned(rec.Region, rec.Wait)
	}
	c.s.askCallback(&rec) // callback_request.go
	return rec
}
