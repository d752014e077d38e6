package ivr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/store"
)

// Transfer by the person who accepted: during the conversation they press
// '*', a province's landline area code (or 0, the operators) and '#'. The
// caller leaves the bridge for music on hold; the person stays in it, hears
// who is being rung, and the new plan is rung with the usual rules (hours,
// reservations, press 1), leaving out everyone already rung in this call.
//
// A transfer goes through these steps; the inputs that move it are the new
// person pressing 1, the plan running out, the transferring person hanging
// up, the caller hanging up, and Asterisk refusing a request:
//
//	asked ── unknown area code ──────────────▶ "invalid" to the person; the call goes on
//	asked ── nobody left to ring ────────────▶ "nobody took it" to the person; the call goes on
//	asked ── caller off the bridge, on music ▶ ringing (state transferring)
//	ringing ── the transferring person hangs up ──▶ ringing, blind (nobody is told any more)
//	ringing ── someone presses 1 ──▶ connected: the transferring person (if there) is hung up,
//	                                 the caller and the new person are bridged
//	ringing ── plan exhausted, person there ──▶ returned: the caller is back in the bridge
//	ringing ── plan exhausted, person gone ───▶ voicemail: the caller is offered voicemail
//	any ── the caller hangs up ──▶ abandoned (legs ringing are cancelled)
//	any ── Asterisk refuses a step ──▶ failed: the caller back with whoever is there, else voicemail
//
// Every leg rung is a leg of the same call, with its role and reason
// "transfer"; the call's accepted_by becomes the person who took it last.

// transfer is a transfer in progress, as the board shows it. Guarded by
// call.mu.
type transfer struct {
	from     LiveTarget // the person who asked for it
	to       string     // the province's name, or "operators"
	fromGone bool       // they hung up (a blind transfer)
}

// Transfer results (metrics.TransferResults).
const (
	transferConnected      = "connected"
	transferConnectedBlind = "connected_blind"
	transferReturned       = "returned"
	transferVoicemail      = "voicemail"
	transferAbandoned      = "abandoned"
	transferFailed         = "failed"
)

// transfers is the transfer side of one conversation (talk): the keys of
// the person who accepted, the bridge, and what the conversation does once
// a transfer is over.
type transfers struct {
	c        *call
	bridgeID string
	keys     transferKeys
	// voicemail: nobody took a transferred call and its person had hung
	// up: the caller is offered voicemail instead of the rating.
	voicemail bool
	prompt    string // the playback id of the last prompt to the transferring person
}

// newTransfers starts the transfer side of a conversation in bridgeID.
func (c *call) newTransfers(bridgeID string) *transfers {
	return &transfers{c: c, bridgeID: bridgeID, keys: transferKeys{interDigit: c.s.cfg.CodeInterDigit}}
}

// key takes one key pressed by the person on l (the person talking with the
// caller) and returns who talks with the caller afterwards: l, or the
// person a transfer connected. When it returns l with l.over set, l hung up
// during a transfer nobody took: the conversation is over (voicemail says
// what comes next).
func (x *transfers) key(ctx context.Context, l *leg, digit string) *leg {
	code, ok := x.keys.press(digit, time.Now())
	if !ok {
		return l
	}
	next := x.run(ctx, l, code)
	x.keys.reset()
	return next
}

// run carries out the transfer code typed by the person on from.
func (x *transfers) run(ctx context.Context, from *leg, code string) *leg {
	c := x.c
	log := c.log.With("from_staff", from.t.Staff, "code", code)
	dir := c.s.dir()
	if dir == nil {
		return from
	}
	var prov *dialplan.Province
	to, kind := "operators", "operators"
	if code != "0" {
		p, ok := dir.ProvinceByAreaCode(code)
		if !ok {
			c.s.met.TransferRequested("invalid")
			log.Info("transfer code names no province; the conversation goes on")
			x.tell(ctx, from, sounds(c.s.cfg.Prompts.TransferInvalid))
			return from
		}
		prov, to, kind = p, p.Name, "province"
	}
	c.s.met.TransferRequested(kind)
	log = log.With("transfer_to", to)
	targets := x.plan(dir, prov, from)
	log.Info("transfer asked by the person who accepted", "targets", len(targets))
	if len(targets) == 0 {
		c.s.met.TransferEnded(transferReturned)
		log.Info("transfer: nobody left to ring; the conversation goes on")
		x.tell(ctx, from, sounds(c.s.cfg.Prompts.TransferFailed))
		return from
	}

	// The caller leaves the bridge for music on hold.
	if err := x.holdCaller(ctx); err != nil {
		if ctx.Err() != nil {
			c.s.met.TransferEnded(transferAbandoned)
			return from
		}
		c.s.met.TransferEnded(transferFailed)
		log.Error("transfer: could not take the caller out of the bridge; the conversation goes on", "err", err)
		if err := x.unholdCaller(ctx); err != nil { // in case the removal happened after all
			log.Warn("transfer: could not put the caller back in the bridge", "err", err)
		}
		x.tell(ctx, from, sounds(c.s.cfg.Prompts.TransferFailed))
		return from
	}
	c.mu.Lock()
	c.xfer = &transfer{to: to, from: LiveTarget{Staff: from.t.Staff, Name: from.t.Name, Role: string(from.t.Role),
		Number: from.t.Number, Carrier: string(from.t.Carrier), Since: from.rec.AcceptedAt, Bridged: true}}
	c.mu.Unlock()
	c.setState(StateTransferring)
	c.setTarget(nil)

	w := x.watch(from)
	next := x.ring(ctx, from, w, targets, prov)
	gone := w.stop()
	x.stopPrompt()
	c.mu.Lock()
	c.xfer = nil
	c.mu.Unlock()

	switch {
	case ctx.Err() != nil:
		c.s.met.TransferEnded(transferAbandoned)
		log.Info("transfer: the caller hung up")
		if next != nil {
			next.finish() // pressed 1 as the caller left: hung up, recorded
		}
		return from
	case next != nil:
		return x.connect(ctx, from, next, gone, log)
	case !gone:
		c.s.met.TransferEnded(transferReturned)
		log.Info("transfer: nobody accepted; the caller is back with the person who asked")
		if err := x.unholdCaller(ctx); err != nil {
			log.Error("transfer: could not put the caller back in the bridge", "err", err)
		}
		x.tell(ctx, from, sounds(c.s.cfg.Prompts.TransferFailed))
		c.setState(StateBridged)
		c.setTarget(&LiveTarget{Staff: from.t.Staff, Name: from.t.Name, Role: string(from.t.Role),
			Number: from.t.Number, Carrier: string(from.t.Carrier), Since: c.talkStart, Bridged: true})
		return from
	default:
		c.s.met.TransferEnded(transferVoicemail)
		log.Info("transfer: nobody accepted and the person who asked hung up; offering voicemail")
		x.stopMusic()
		x.voicemail = true
		from.over = true
		return from
	}
}

// plan is the transfer's plan: the province's (or the operators'), at this
// moment, without anyone already rung in this call (the person asking
// included).
func (x *transfers) plan(dir *dialplan.Directory, prov *dialplan.Province, from *leg) []dialplan.Target {
	c := x.c
	c.mu.Lock()
	rung := map[string]bool{from.t.Staff: true}
	for _, l := range c.rec.Legs {
		rung[l.Staff] = true
	}
	for _, l := range c.legs {
		rung[l.t.Staff] = true
	}
	cafe, matched := c.rec.Cafe, c.rec.MatchedBy
	c.mu.Unlock()
	id := dialplan.Identification{Caller: c.number, MatchedBy: dialplan.MatchedByNone}
	req := dialplan.PlanRequest{At: c.now(), Live: c.s, Rotation: c.rotation(), Trunks: c.s.cfg.Trunks,
		Ring: c.s.cfg.Ring, MaxTargets: c.s.cfg.MaxTargets}
	if prov != nil {
		// The café still counts: its refusals, its status.
		if cf, ok := dir.CafeByCode(cafe); ok && cafe != "" {
			id.Cafe, id.Province, id.MatchedBy = cf, cf.Province, matched
		}
		req.Province = prov.Code
	}
	req.ID = id
	t0 := time.Now()
	dec := dir.Plan(req)
	c.s.met.RoutingDecision(time.Since(t0))
	out := make([]dialplan.Target, 0, len(dec.Targets))
	for _, t := range dec.Targets {
		if !rung[t.Staff] {
			out = append(out, t)
		}
	}
	return out
}

// holdCaller takes the caller out of the bridge (waiting until Asterisk says so:
// music started before would be lost) and starts music on hold.
func (x *transfers) holdCaller(ctx context.Context) error {
	c := x.c
	sub := c.s.ari.Subscribe(ari.BridgeKey(x.bridgeID))
	defer sub.Close()
	if err := c.s.ari.RemoveChannels(ctx, x.bridgeID, c.channelID); err != nil {
		return fmt.Errorf("remove the caller from the bridge: %w", err)
	}
	t := time.NewTimer(bridgeLeftWait)
	defer t.Stop()
wait:
	for {
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				break wait
			}
			if e, ok := ev.(*ari.ChannelLeftBridge); ok && e.Channel.ID == c.channelID {
				break wait
			}
		case <-t.C:
			c.log.Warn("transfer: the caller did not leave the bridge in time", "bridge", x.bridgeID)
			break wait
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := c.s.ari.StartChannelMOH(ctx, c.channelID, c.s.cfg.MOHClass); err != nil && ctx.Err() == nil {
		c.log.Warn("transfer: could not start music on hold for the caller", "class", c.s.cfg.MOHClass, "err", err)
	}
	return nil
}

// stopMusic stops the caller's music on hold.
func (x *transfers) stopMusic() {
	c := x.c
	if c.callerLeft() {
		return
	}
	ctx, cancel := c.teardownCtx()
	defer cancel()
	if err := c.s.ari.StopChannelMOH(ctx, c.channelID); err != nil && !ari.IsNotFound(err) {
		c.log.Warn("transfer: could not stop the caller's music on hold", "err", err)
	}
}

// unholdCaller puts the caller back in the bridge, music stopped.
func (x *transfers) unholdCaller(ctx context.Context) error {
	x.stopMusic()
	if err := x.c.s.ari.AddChannels(ctx, x.bridgeID, x.c.channelID); err != nil {
		return fmt.Errorf("put the caller back in the bridge: %w", err)
	}
	return nil
}

// ring rings the targets in order until someone presses 1, and returns
// their leg (still up, their reservation kept until the call ends), or nil.
// Before each new person the transferring person, while on the line (w),
// is told who is rung.
func (x *transfers) ring(ctx context.Context, from *leg, w *fromWatch, targets []dialplan.Target, prov *dialplan.Province) *leg {
	c := x.c
	c.ringReason = store.LegReasonTransfer
	defer func() { c.ringReason = "" }()
	var prevRole dialplan.Role
	prevStaff := ""
	elsewhere := map[string]bool{} // staff another instance holds
	var hold *reservation
	unreserve := func() {
		c.unhold(hold)
		hold = nil
	}
	for _, t := range targets {
		if ctx.Err() != nil {
			break
		}
		if elsewhere[t.Staff] {
			continue
		}
		if hold == nil || hold.staff != t.Staff {
			unreserve()
			h, err := c.reserve(t)
			switch {
			case errors.Is(err, errReservedElsewhere):
				elsewhere[t.Staff] = true
				c.log.Info("transfer: skipping target: reserved by another instance", "staff", t.Staff)
				continue
			case err != nil:
				c.log.Info("transfer: skipping target: already on a hotline call", "staff", t.Staff)
				continue
			}
			hold = h
		}
		if prevRole != "" && prevRole != t.Role {
			c.s.met.Fallback(string(prevRole), string(t.Role))
		}
		prevRole = t.Role
		if t.Staff != prevStaff && !w.isGone() {
			x.tell(ctx, from, x.whoIsRung(t, prov))
		}
		prevStaff = t.Staff
		l := c.tryTarget(ctx, t, hold)
		if l != nil {
			return l
		}
		select {
		case <-hold.denied:
			elsewhere[t.Staff] = true
			unreserve()
		default:
		}
	}
	unreserve()
	return nil
}

// connect ends a transfer someone accepted: the caller is bridged with next,
// then the person who asked, when still there, is hung up. Should Asterisk
// refuse the bridge, next is hung up and the caller goes back to the person
// who asked, or is offered voicemail when they are gone.
func (x *transfers) connect(ctx context.Context, from, next *leg, gone bool, log *slog.Logger) *leg {
	c := x.c
	x.stopMusic()
	if err := c.s.ari.AddChannels(ctx, x.bridgeID, c.channelID, next.id); err != nil {
		// They pressed 1 (accepted_at stays) but never had the call.
		next.accepted, next.cancelled = false, "transfer: bridge failed: "+err.Error()
		next.finish()
		if ctx.Err() != nil {
			c.s.met.TransferEnded(transferAbandoned)
			return from
		}
		c.s.met.TransferEnded(transferFailed)
		if !gone {
			if err2 := x.unholdCaller(ctx); err2 == nil {
				log.Error("transfer: could not bridge the caller with the person who accepted; back with the person who asked",
					"staff", next.t.Staff, "err", err)
				x.tell(ctx, from, sounds(c.s.cfg.Prompts.TransferFailed))
				c.setState(StateBridged)
				c.setTarget(&LiveTarget{Staff: from.t.Staff, Name: from.t.Name, Role: string(from.t.Role),
					Number: from.t.Number, Carrier: string(from.t.Carrier), Since: c.talkStart, Bridged: true})
				return from
			}
			from.hangup(ari.HangupNormal) // alone in the bridge: the caller cannot come back
		}
		log.Error("transfer: could not bridge the caller with the person who accepted; offering voicemail",
			"staff", next.t.Staff, "err", err)
		from.over = true
		x.voicemail = true
		return from
	}
	result := transferConnectedBlind
	if !gone {
		result = transferConnected
		from.rec.Detail = "transferred to " + next.t.Staff
	}
	from.hangup(ari.HangupNormal) // attended: dropped now that the caller has the new person
	from.finish()
	c.unholdStaff(from.t.Staff)
	c.s.met.TransferEnded(result)
	c.acceptedBy = next
	c.mu.Lock()
	c.rec.AcceptedBy = next.t.Staff
	c.mu.Unlock()
	if next.watch != nil {
		next.watch.Reset(c.s.cfg.MaxCall + 2*c.s.cfg.RequestTimeout)
	}
	c.setState(StateBridged)
	c.setTarget(&LiveTarget{Staff: next.t.Staff, Name: next.t.Name, Role: string(next.t.Role), Number: next.t.Number,
		Carrier: string(next.t.Carrier), Since: c.now(), Bridged: true})
	log.Info("transfer connected", "staff", next.t.Staff, "result", result)
	return next
}

// fromWatch follows the transferring person's leg while the new plan
// rings (the conversation's loop, which reads it otherwise, is waiting for
// the transfer): their hangup makes the transfer blind, shows on the board
// and stops the prompts. Their digits are dropped: a transfer is under way.
// It is a goroutine of the call, always stopped by the transfer.
type fromWatch struct {
	x    *transfers
	from *leg
	quit chan struct{}
	done chan struct{}
	gone chan struct{} // closed when they hung up (or vanished)
	// cause is the hangup cause seen; read after done.
	cause int
}

// watch starts following from.
func (x *transfers) watch(from *leg) *fromWatch {
	w := &fromWatch{x: x, from: from, quit: make(chan struct{}), done: make(chan struct{}), gone: make(chan struct{})}
	go w.run()
	return w
}

func (w *fromWatch) run() {
	defer close(w.done)
	from := w.from
	for {
		select {
		case ev, ok := <-from.sub.Events():
			if !ok {
				w.hungUp()
				return
			}
			switch e := ev.(type) {
			case *ari.ChannelHangupRequest:
				if e.Channel.ID == from.id {
					if !e.Soft && e.Cause > 0 && w.cause == 0 {
						w.cause = e.Cause
					}
					from.st.CompareAndSwap(int32(legUp), int32(legEnding)) // it is going: nothing for us to hang up
					w.hungUp()
				}
			case *ari.StasisEnd:
				if e.Channel.ID == from.id {
					from.ended()
					w.hungUp()
				}
			case *ari.ChannelDestroyed:
				if e.Channel.ID == from.id {
					if w.cause == 0 {
						w.cause = e.Cause
					}
					from.ended()
					w.hungUp()
				}
			}
		case <-from.gone: // reconciliation: it vanished while the ARI link was down
			from.ended()
			w.hungUp()
			return
		case <-w.quit:
			return
		}
	}
}

// hungUp records, once, that the transferring person is gone.
func (w *fromWatch) hungUp() {
	if w.isGone() {
		return
	}
	close(w.gone)
	c := w.x.c
	c.mu.Lock()
	if c.xfer != nil {
		c.xfer.fromGone = true
	}
	c.mu.Unlock()
	c.log.Info("transfer: the person who asked hung up; it goes on without them", "staff", w.from.t.Staff)
}

func (w *fromWatch) isGone() bool {
	select {
	case <-w.gone:
		return true
	default:
		return false
	}
}

// stop ends the watch and reports whether the person hung up; then their
// leg is over for the conversation.
func (w *fromWatch) stop() bool {
	close(w.quit)
	<-w.done
	from := w.from
	if w.cause != 0 && from.cause == 0 {
		from.cause = w.cause
	}
	gone := w.isGone()
	if gone {
		from.over = true
	}
	return gone
}

// whoIsRung is what the transferring person hears before each new person
// is rung: "transferring to" + the role + ("in" + the province).
func (x *transfers) whoIsRung(t dialplan.Target, prov *dialplan.Province) []string {
	p := x.c.s.cfg.Prompts
	media := sounds(p.Transfer)
	if p.RolePrefix != "" {
		media = append(media, "sound:"+p.RolePrefix+string(t.Role))
	}
	if prov != nil && t.Role != dialplan.RoleOperator && p.ProvincePrefix != "" {
		media = append(media, sounds(p.Province, p.ProvincePrefix+prov.AreaCode)...)
	}
	return media
}

// tell plays media to the transferring person, without waiting; the
// previous prompt, if still playing, is cut first.
func (x *transfers) tell(ctx context.Context, from *leg, media []string) {
	if len(media) == 0 {
		return
	}
	x.stopPrompt()
	c := x.c
	id := c.newID("pb")
	pctx, cancel := context.WithTimeout(ctx, c.s.cfg.RequestTimeout)
	defer cancel()
	if _, err := c.s.ari.PlayChannel(pctx, from.id, ari.PlayParams{PlaybackID: id, Media: media}); err != nil {
		if ctx.Err() == nil && !ari.IsNotFound(err) {
			c.log.Warn("transfer: could not play to the transferring person", "media", media, "err", err)
		}
		return
	}
	x.prompt = id
}

// stopPrompt stops the last prompt to the transferring person, if it still
// plays.
func (x *transfers) stopPrompt() {
	if x.prompt == "" {
		return
	}
	ctx, cancel := x.c.teardownCtx()
	defer cancel()
	_ = x.c.s.ari.StopPlayback(ctx, x.prompt) // 404: it had finished
	x.prompt = ""
}

// legsInRingOrder puts a call's legs in the order they were rung and
// numbers them so (Seq). Legs are recorded as they end, and the person who
// asked for a transfer talks on while the people it rings are rung: their
// leg ends after those.
func legsInRingOrder(legs []store.LegRecord) {
	slices.SortStableFunc(legs, func(a, b store.LegRecord) int { return a.RingAt.Compare(b.RingAt) })
	for i := range legs {
		legs[i].Seq = i + 1
	}
}

// unholdStaff ends the call's reservation of staff (the person who passed
// the call on is free again).
func (c *call) unholdStaff(staff string) {
	for _, r := range c.holds {
		if r.staff == staff {
			c.unhold(r)
		}
	}
}
