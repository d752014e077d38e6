package ivr

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/store"
)

// What Asterisk keeps of a call, so that a process started after this one
// died can take the call over (adopt.go). Two channel variables:
//
//   - HOTLINE_CALL on the caller's channel: savedCall as JSON, rewritten at
//     each change of the call (start, identification, a leg created or
//     ended, bridged, rating) by a goroutine the call owns, so the flow
//     never waits for it (on Asterisk the write waits while the caller hears
//     a prompt outside a bridge);
//   - HOTLINE_LEG on each outgoing leg, set when it is created (in the
//     create request, at no extra cost): savedLeg with a copy of the call as
//     it was then, so a call whose caller hung up while no process was
//     watching can still be recorded.
//
// Channel and bridge ids complete the picture: "<call>-legN" and
// "<call>-br" name their call.
const (
	varCall = "HOTLINE_CALL"
	varLeg  = "HOTLINE_LEG"
	// savedVersion is the format of savedCall and savedLeg; a value of
	// another version is not adopted (the call goes to the dialplan).
	savedVersion = 1
)

// Saved call phases (savedCall.Phase).
const (
	phaseIVR       = "ivr"       // greeting, café code: nobody rung yet
	phaseRinging   = "ringing"   // people are being rung
	phaseBridged   = "bridged"   // someone accepted: talking
	phaseRating    = "rating"    // the person hung up: the caller rates
	phaseVoicemail = "voicemail" // nobody accepted: the caller leaves a message
)

// savedCall is a call as Asterisk keeps it (HOTLINE_CALL). Times are the
// call's clock in Unix milliseconds; 0 is "not yet".
type savedCall struct {
	V     int    `json:"v"`
	ID    string `json:"id"`
	Chan  string `json:"ch"`   // the caller's channel
	From  string `json:"from"` // caller ID as received
	Start int64  `json:"t0"`
	// Offset is the call's clock minus the wall clock (Deps.Now), in ms.
	Offset int64  `json:"off,omitempty"`
	Phase  string `json:"st"`
	// Identification, once planned: how, the café code typed (dtmf), and
	// what the plan found.
	Matched  string `json:"m,omitempty"`
	Code     string `json:"code,omitempty"`
	Cafe     string `json:"cafe,omitempty"`
	Province string `json:"prov,omitempty"`
	Area     string `json:"area,omitempty"`
	Region   string `json:"reg,omitempty"`
	// IDs is the call's resource counter ("<call>-legN", "-pbN").
	IDs int64 `json:"n"`
	// Legs, in the order rung: ended ones (Result set) and the ones up.
	Legs []savedLeg `json:"legs,omitempty"`
	// The accepted leg (its channel id), when it accepted and when the
	// conversation started and ended.
	Accepted   string `json:"acc,omitempty"`
	AcceptedAt int64  `json:"acc_t,omitempty"`
	TalkStart  int64  `json:"talk_t,omitempty"`
	TalkEnd    int64  `json:"end_t,omitempty"`
	// Rating is the digit the caller gave (1–5, 9), "" when none yet.
	Rating string `json:"rt,omitempty"`
	// CB is set for a callback try (callback_adopt.go): it has no
	// caller's channel (Chan is empty, From is the café's number) and
	// lives in its legs' HOTLINE_LEG only.
	CB *savedTry `json:"cb,omitempty"`
}

// savedTry is what a callback try keeps besides a call's fields.
type savedTry struct {
	Req       int64  `json:"req,omitempty"` // the request held (0: a "call back now" with none pending)
	Manual    string `json:"by,omitempty"`  // who asked for a "call back now"
	Voicemail int64  `json:"vm,omitempty"`  // and from which voicemail
	// Holder is the Instance that held the request for this try: a
	// process taking the try over (another one, after it took the node
	// over) takes the request from it (store.TakeOverCallback).
	Holder string `json:"h,omitempty"`
}

// savedLeg is one outgoing leg as Asterisk keeps it.
type savedLeg struct {
	ID       string `json:"id"`
	Staff    string `json:"s"`
	Role     string `json:"r"`
	Number   string `json:"num"`
	Carrier  string `json:"c,omitempty"`
	Trunk    string `json:"k,omitempty"`
	Ring     int64  `json:"ring"`
	Answered int64  `json:"ans,omitempty"`
	Accepted int64  `json:"acc,omitempty"`
	Ended    int64  `json:"end,omitempty"`
	Result   string `json:"res,omitempty"` // "" while the leg is up
	Cause    int    `json:"q,omitempty"`
	Detail   string `json:"d,omitempty"`
	Reason   string `json:"why,omitempty"` // store.LegReasonTransfer for a leg a transfer rang
}

// legVar is HOTLINE_LEG: the leg and its call as it was when the leg was
// created.
type legVar struct {
	V    int       `json:"v"`
	Leg  savedLeg  `json:"leg"`
	Call savedCall `json:"call"`
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.UnixMilli(n)
}

func saveLeg(r store.LegRecord) savedLeg {
	return savedLeg{ID: r.ChannelID, Staff: r.Staff, Role: string(r.Role), Number: r.Number,
		Carrier: string(r.Carrier), Trunk: r.Trunk, Ring: ms(r.RingAt), Answered: ms(r.AnsweredAt),
		Accepted: ms(r.AcceptedAt), Ended: ms(r.EndedAt), Result: string(r.Result), Cause: r.HangupCause,
		Detail: r.Detail, Reason: r.Reason}
}

func (l savedLeg) record() store.LegRecord {
	return store.LegRecord{Staff: l.Staff, Role: dialplan.Role(l.Role), Number: l.Number,
		Carrier: dialplan.Carrier(l.Carrier), Trunk: l.Trunk, ChannelID: l.ID, RingAt: fromMS(l.Ring),
		AnsweredAt: fromMS(l.Answered), AcceptedAt: fromMS(l.Accepted), EndedAt: fromMS(l.Ended),
		Result: store.LegResult(l.Result), HangupCause: l.Cause, Detail: l.Detail, Reason: l.Reason}
}

// errBadState: a saved call or leg that cannot be used.
var errBadState = errors.New("unusable saved call state")

// decodeCall reads HOTLINE_CALL; errBadState when it is garbled, of another
// version, or incomplete.
func decodeCall(raw string) (savedCall, error) {
	var sc savedCall
	if err := json.Unmarshal([]byte(raw), &sc); err != nil {
		return sc, fmt.Errorf("%w: %w", errBadState, err)
	}
	return sc, sc.check()
}

func (sc savedCall) check() error {
	switch {
	case sc.V != savedVersion:
		return fmt.Errorf("%w: version %d", errBadState, sc.V)
	case !isULID(sc.ID):
		return fmt.Errorf("%w: call id %q", errBadState, sc.ID)
	case sc.Start <= 0:
		return fmt.Errorf("%w: no start time", errBadState)
	case sc.Chan == "" && sc.CB == nil:
		return fmt.Errorf("%w: no caller's channel", errBadState)
	}
	switch sc.Phase {
	case phaseIVR, phaseRinging, phaseBridged, phaseRating, phaseVoicemail:
	default:
		return fmt.Errorf("%w: phase %q", errBadState, sc.Phase)
	}
	for _, l := range sc.Legs {
		if !l.usable() {
			return fmt.Errorf("%w: leg %q", errBadState, l.ID)
		}
	}
	return nil
}

// usable: a leg of ours to a person, or a callback's leg to the café.
func (l savedLeg) usable() bool {
	return isLegID(l.ID) && (l.Staff != "" || l.Role == string(store.RoleCafe))
}

// decodeLeg reads HOTLINE_LEG.
func decodeLeg(raw string) (legVar, error) {
	var lv legVar
	if err := json.Unmarshal([]byte(raw), &lv); err != nil {
		return lv, fmt.Errorf("%w: %w", errBadState, err)
	}
	if lv.V != savedVersion || !lv.Leg.usable() {
		return lv, fmt.Errorf("%w: leg variable", errBadState)
	}
	return lv, lv.Call.check()
}

// snapshot is the call as HOTLINE_CALL says it. It runs on the flow's
// goroutine (the legs' records are the flow's).
func (c *call) snapshot() savedCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	sc := savedCall{V: savedVersion, ID: c.id, Chan: c.channelID, From: c.callerRaw, Start: ms(c.started),
		Offset: c.offset.Milliseconds(), Phase: phaseIVR, Matched: string(c.rec.MatchedBy), Code: c.code,
		Cafe: c.rec.Cafe, Province: c.rec.Province, Area: c.rec.Area, Region: c.rec.Region, IDs: c.ids.Load()}
	for _, r := range c.rec.Legs {
		sc.Legs = append(sc.Legs, saveLeg(r))
	}
	up := make([]savedLeg, 0, len(c.legs))
	for _, l := range c.legs {
		if l.state() != legNew {
			up = append(up, saveLeg(l.rec))
		}
	}
	slices.SortFunc(up, func(a, b savedLeg) int { return cmp.Compare(a.Ring, b.Ring) })
	sc.Legs = append(sc.Legs, up...)
	switch {
	case c.acceptedBy != nil:
		sc.Phase = phaseBridged
		sc.Accepted, sc.AcceptedAt = c.acceptedBy.id, ms(c.rec.AcceptedAt)
		sc.TalkStart, sc.TalkEnd = ms(c.talkStart), ms(c.talkEnd)
		if !c.talkEnd.IsZero() {
			sc.Phase = phaseRating
		}
	case c.exhausted:
		sc.Phase = phaseVoicemail
	case len(c.legs) > 0 || c.state == StateRinging:
		sc.Phase = phaseRinging
	}
	if t := c.cb; t != nil {
		sc.CB = &savedTry{Req: t.reqID, Manual: t.manual, Voicemail: t.voicemail, Holder: c.s.cfg.Instance}
	}
	if r := c.rec.Rating; r != nil {
		if r.Complaint {
			sc.Rating = "9"
		} else {
			sc.Rating = strconv.Itoa(r.Score)
		}
	}
	return sc
}

// persisted reports whether the call keeps HOTLINE_CALL in Asterisk: a
// café's call (a caller's channel). A callback try has no such channel: it
// lives in its legs' HOTLINE_LEG (legVariable) and its request in the
// database (callback_adopt.go).
func (c *call) persisted() bool { return c.cb == nil && c.channelID != "" }

// save hands the call's current state to its saver (the flow's goroutine
// only). The saver writes the latest state it was given; a state given
// while a write is under way is written after it.
func (c *call) save() {
	if !c.persisted() {
		return
	}
	b, err := json.Marshal(c.snapshot())
	if err != nil { // cannot happen: plain fields
		c.log.Error("could not encode the call's state", "err", err)
		return
	}
	c.saveMu.Lock()
	c.toSave = string(b)
	c.saveMu.Unlock()
	select {
	case c.saveKick <- struct{}{}:
	default:
	}
}

// saveTimeout bounds one write of HOTLINE_CALL: on Asterisk it waits while
// the caller hears a prompt or records a message outside a bridge.
func (s *Server) saveTimeout() time.Duration {
	return max(s.cfg.MaxPrompt, s.cfg.VoicemailMax) + s.cfg.RequestTimeout
}

// awaitFirstSave waits until the first write of the call's state is over
// (bounded by RequestTimeout): made before the caller hears a prompt, it is
// not held up by one, so a call is never without a saved state for long.
func (c *call) awaitFirstSave(ctx context.Context) {
	if !c.persisted() || c.firstSaved == nil {
		return
	}
	t := time.NewTimer(c.s.cfg.RequestTimeout)
	defer t.Stop()
	select {
	case <-c.firstSaved:
	case <-ctx.Done():
	case <-t.C:
	}
}

// awaitSaved waits (within RequestTimeout) until the state last given to
// the saver is written in Asterisk. A write made while the caller hears a
// prompt waits on Asterisk for the prompt's end, and one that reaches
// Asterisk after a recording was asked for waits for the whole recording:
// what must be saved before a recording starts is waited for first.
func (c *call) awaitSaved(ctx context.Context) {
	if !c.persisted() {
		return
	}
	t := time.NewTimer(c.s.cfg.RequestTimeout)
	defer t.Stop()
	for {
		c.saveMu.Lock()
		done, wrote := c.written == c.toSave, c.wrote
		c.saveMu.Unlock()
		if done {
			return
		}
		select {
		case <-wrote:
		case <-ctx.Done():
			return
		case <-t.C:
			c.log.Warn("recording before the call's state was saved in Asterisk (a restart during it could not take it over)")
			return
		}
	}
}

// saver writes HOTLINE_CALL on the caller's channel whenever the flow saved
// a new state, until the call's context ends or stop is closed. A failed
// write is logged, counted and tried again with backoff (a newer state, if
// any, is written instead).
func (c *call) saver(stop <-chan struct{}) {
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	first := true
	firstDone := func() {
		if first {
			first = false
			close(c.firstSaved)
		}
	}
	defer firstDone()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	failures := 0
	for {
		select {
		case <-c.saveKick:
		case <-ctx.Done():
			return
		}
		for {
			c.saveMu.Lock()
			v, done := c.toSave, c.toSave == c.written
			c.saveMu.Unlock()
			if done {
				break
			}
			rctx, rcancel := context.WithTimeout(ctx, c.s.saveTimeout())
			err := c.s.ari.SetChannelVar(rctx, c.channelID, varCall, v)
			rcancel()
			firstDone()
			switch {
			case err == nil:
				c.saveMu.Lock()
				c.written = v
				close(c.wrote)
				c.wrote = make(chan struct{})
				c.saveMu.Unlock()
				if failures > 0 {
					c.log.Info("call state saved in Asterisk after failures", "failures", failures)
					failures = 0
				}
				continue
			case ctx.Err() != nil || ari.IsNotFound(err):
				return // the call is over
			}
			failures++
			c.s.met.CallStateSaveFailed()
			c.log.Warn("could not save the call's state in Asterisk; retrying (a restart now could not take the call over)",
				"failures", failures, "err", err)
			t := time.NewTimer(c.s.backoff(failures))
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
	}
}

// legVariable is HOTLINE_LEG for a leg about to be created, a café's call's
// or a callback try's.
func (c *call) legVariable(l *leg) string {
	if !c.persisted() && c.cb == nil {
		return ""
	}
	b, _ := json.Marshal(legVar{V: savedVersion, Leg: saveLeg(l.rec), Call: c.snapshot()})
	return string(b)
}
