package ivr

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/store"
)

// Errors of CallbackNow (wrapped; test with errors.Is). An unknown
// voicemail is store.ErrNotFound; a café whose callback another instance
// is trying right now, store.ErrCallbackBusy.
var (
	ErrUnknownStaff     = errors.New("ivr: no such staff member in the directory")
	ErrStaffUnavailable = errors.New("ivr: the staff member cannot be rung (suspended, terminated, or no number)")
	ErrStaffBusy        = errors.New("ivr: the staff member is on a hotline call")
	ErrNoNumber         = errors.New("ivr: the voicemail has no number the hotline can dial")
)

// CallbackNow is the supervisors' "call back now" of a voicemail: at once,
// whatever the hour (a supervisor asked), it rings the staff member chosen
// (all their numbers in order, reserved like any call, so never someone
// already on a hotline call) with "callback to café …, press 1"; on 1 it
// dials the number that left the voicemail (else the café's first number)
// through its carrier's trunk with the hotline's caller ID, and bridges.
// who (the supervisor) is logged and recorded in the try's detail. It
// returns once the person is reserved and the try started; the try is a
// call record of direction callback. A pending callback request of the
// café is held meanwhile (the automatic tries leave it) and is done when
// the café is reached. It works whether or not automatic callbacks are
// enabled.
func (s *Server) CallbackNow(ctx context.Context, voicemailID int64, staffID, who string) error {
	who = strings.TrimSpace(who)
	switch {
	case s.cb.store == nil:
		return errNoCallbacks
	case who == "":
		return errors.New("ivr: call back now: who asked is required")
	case s.stop.Load():
		return fmt.Errorf("ivr: call back now: %w", errNoCallbacks)
	}
	vm, err := s.cb.store.VoicemailForCallback(ctx, voicemailID)
	if err != nil {
		return fmt.Errorf("ivr: call back now: %w", err)
	}
	dir := s.dir()
	if dir == nil {
		return errors.New("ivr: call back now: no directory loaded")
	}
	staff, ok := dir.Staff(staffID)
	if !ok {
		return fmt.Errorf("ivr: call back now: %s: %w", staffID, ErrUnknownStaff)
	}
	targets := s.staffTargets(staff)
	if staff.Status != dialplan.StatusActive || len(targets) == 0 {
		return fmt.Errorf("ivr: call back now: %s (%s, %d numbers): %w", staffID, staff.Status, len(targets),
			ErrStaffUnavailable)
	}
	t := &callbackTry{manual: who, voicemail: voicemailID}
	if vm.Cafe != "" {
		if cafe, ok := dir.CafeByCode(vm.Cafe); ok {
			t.cafe = cafe
		}
	}
	if !s.routeTo(t, vm.CallbackNumber) && !s.routeTo(t, callbackNumber("", t.cafe)) {
		return fmt.Errorf("ivr: call back now: voicemail %d: %w", voicemailID, ErrNoNumber)
	}
	if t.cafe != nil && s.callingBack(t.cafe.Code) {
		return fmt.Errorf("ivr: call back now: %s: %w", t.cafe.Code, store.ErrCallbackBusy)
	}
	c := s.newTryCall(t)
	c.log = c.log.With("voicemail", voicemailID, "requested_by", who, "staff", staffID)
	hold, err := c.reserve(targets[0])
	if err != nil {
		c.owned.Wait()
		return fmt.Errorf("ivr: call back now: %s: %w", staffID, ErrStaffBusy)
	}
	if t.cafe != nil {
		// The café's pending request, held while this try runs (the
		// automatic tries leave it), done when the café is reached.
		id, err := s.cb.store.HoldCafeCallback(ctx, t.cafe.Code, s.cfg.Instance, s.cfg.Lease)
		if err != nil {
			c.unhold(hold)
			c.owned.Wait()
			return fmt.Errorf("ivr: call back now: %w", err)
		}
		t.reqID, c.rec.CallbackID = id, id
		c.log = c.log.With("held_callback_id", id)
	}
	c.log.Info("call back now: ringing the chosen person")
	if !s.goTry(c, func() { c.serveCallbackNow(targets, hold) }) {
		c.unhold(hold)
		c.owned.Wait()
		c.finishRequest()
		return fmt.Errorf("ivr: call back now: %w", errNoCallbacks)
	}
	return nil
}

// callingBack reports whether a callback try of the café runs here.
func (s *Server) callingBack(cafe string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.tries {
		if c.cb.cafe != nil && c.cb.cafe.Code == cafe {
			return true
		}
	}
	return false
}

// serveCallbackNow is a supervisor's try: the chosen person, then the café.
func (c *call) serveCallbackNow(targets []dialplan.Target, hold *reservation) {
	defer c.endCallback()
	staff := c.ringStaffForCallback(c.ctx, targets, hold)
	if staff == nil {
		return
	}
	c.callCafe(c.ctx, staff)
}

// staffTargets are the staff member's numbers as targets, in their order,
// each through its carrier's trunk; numbers no trunk can dial are left out.
func (s *Server) staffTargets(st *dialplan.Staff) []dialplan.Target {
	var out []dialplan.Target
	for _, p := range st.Phones {
		n := dialplan.Normalize(p.E164)
		carrier := dialplan.EffectiveCarrier(p)
		r, alt, ok := s.cfg.Trunks.RouteNumber(n, carrier)
		if !ok {
			continue
		}
		out = append(out, dialplan.Target{Staff: st.Code, Name: st.Name, Role: st.Role, Number: n.E164,
			Carrier: carrier, Trunk: r.Trunk, Dial: r.Dial, Alternate: alt, Reason: "chosen by a supervisor"})
	}
	return out
}
