package ivr

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/store"
)

// talk bridges the caller with the person who accepted, until either side
// hangs up (Asterisk does not end the other side: we do) or MaxCall; then,
// if the caller is still there, asks for a rating. It reports false when
// the bridge could not be made while both were there: the person's leg is
// then hung up and recorded failed ("bridge failed: …"), and the caller
// goes on as after a missed target (bridgeFailed).
func (c *call) talk(ctx context.Context, l *leg) bool {
	c.acceptedBy = l
	defer func() { l.finish() }() // l: who talks with the caller now; a transfer changes it
	acc := l.rec.AcceptedAt
	c.mu.Lock()
	c.rec.AcceptedAt, c.rec.AcceptedBy = acc, l.t.Staff
	region := c.rec.Region
	c.mu.Unlock()

	bridgeID := c.id + "-br"
	destroy, err := c.bridge(ctx, bridgeID, l)
	if destroy != nil {
		defer destroy()
	}
	if err != nil {
		if ctx.Err() == nil && !c.checkCallerGone() {
			if destroy != nil {
				c.dismantle(ctx, bridgeID, destroy)
			}
			c.bridgeFailed(l, err)
			return false
		}
		// The caller left as the bridge was made: answered, as the
		// person had accepted.
	}
	c.s.met.Accepted(region, acc.Sub(c.started))
	if err != nil {
		return true
	}
	c.talkStart = c.now()
	l = c.converse(ctx, l, bridgeID, destroy, c.s.cfg.MaxCall)
	return true
}

// converse follows the bridged conversation of the caller with l's person
// until either hangs up or maxCall passes, then, if the caller is still
// there, takes them out of the bridge and asks for a rating. destroy
// destroys the bridge (once). It returns the leg of the person talking at
// the end: a transfer (transfer.go) may have changed it.
func (c *call) converse(ctx context.Context, l *leg, bridgeID string, destroy func(), maxCall time.Duration) *leg {
	c.mu.Lock()
	region := c.rec.Region
	c.mu.Unlock()
	c.setState(StateBridged)
	c.setTarget(&LiveTarget{Staff: l.t.Staff, Name: l.t.Name, Role: string(l.t.Role), Number: l.t.Number,
		Carrier: string(l.t.Carrier), Since: c.talkStart, Bridged: true})
	if l.watch != nil {
		// The hard limit of a bridged leg is MaxCall (with room for the
		// flow's own limit to act first).
		l.watch.Reset(maxCall + 2*c.s.cfg.RequestTimeout)
	}
	c.log.Info("bridged", "staff", l.t.Staff, "bridge", bridgeID)
	c.save()

	maxT := newTimer(maxCall)
	defer maxT.Stop()
	xfer := c.newTransfers(bridgeID) // *<area code># of the person talking (transfer.go)
	ctxDone := ctx.Done()
	var grace <-chan time.Time
	for !l.over {
		select {
		case ev, ok := <-l.sub.Events():
			if !ok {
				l.over = true
				break
			}
			switch e := ev.(type) {
			case *ari.ChannelDTMFReceived:
				if e.Channel.ID == l.id { // the person's keys only, never the caller's
					l = xfer.key(ctx, l, e.Digit)
				}
			case *ari.ChannelHangupRequest:
				if e.Channel.ID == l.id {
					if !e.Soft && e.Cause > 0 && l.cause == 0 {
						l.cause = e.Cause
					}
					if l.state() == legUp {
						l.setState(legEnding) // it is going: nothing for us to hang up
					}
					if grace == nil {
						// Its cause may follow in ChannelDestroyed; the caller
						// does not wait long for it.
						grace = time.After(200 * time.Millisecond)
					}
				}
			case *ari.StasisEnd:
				if e.Channel.ID == l.id {
					l.ended()
					if l.cause != 0 {
						l.over = true
					} else if grace == nil {
						grace = time.After(100 * time.Millisecond)
					}
				}
			case *ari.ChannelDestroyed:
				if e.Channel.ID == l.id {
					if l.cause == 0 {
						l.cause = e.Cause
					}
					l.ended()
					l.over = true
				}
			}
		case <-l.gone:
			l.ended()
			l.over = true
		case <-grace:
			l.over = true
		case <-l.settled:
			l.over = true
		case <-ctxDone:
			ctxDone = nil
			l.hangup(ari.HangupNormal)
		case <-maxT.C:
			c.log.Warn("call reached its maximum length; ending it", "max", c.s.cfg.MaxCall)
			l.rec.Detail = "maximum call length reached"
			l.hangup(ari.HangupNormal)
		case <-c.resyncC():
			l.resync(ctx)
		}
	}
	c.talkEnd = c.now()
	c.s.met.TalkTime(region, string(l.t.Role), c.talkEnd.Sub(c.talkStart))
	c.log.Info("conversation ended", "talk", c.talkEnd.Sub(c.talkStart).Round(time.Millisecond))
	if ctx.Err() != nil {
		return l
	}
	if c.s.cfg.Prompts.Rate != "" && !xfer.voicemail {
		c.save() // rating: a restart asks again
	}
	// The caller is alone for the rating.
	c.leaveBridge(ctx, bridgeID, destroy)
	if xfer.voicemail { // a transfer nobody took, its person gone (transfer.go)
		c.voicemail(ctx)
		return l
	}
	c.rate(ctx, l)
	return l
}

// bridge creates the call's bridge and puts the caller and the leg in it.
// destroy destroys the bridge (once, however often it is called); it is nil
// when no bridge was created.
func (c *call) bridge(ctx context.Context, bridgeID string, l *leg) (destroy func(), err error) {
	// Not cut short by a hangup: an aborted create could leave a bridge
	// behind that we do not know exists.
	bctx, bcancel := c.teardownCtx()
	_, err = c.s.ari.CreateBridge(bctx, ari.CreateBridgeParams{ID: bridgeID, Type: ari.BridgeMixing, Name: "hotline " + c.id})
	bcancel()
	if err != nil {
		return nil, fmt.Errorf("create bridge: %w", err)
	}
	destroyed := false
	destroy = func() {
		if destroyed {
			return
		}
		destroyed = true
		c.destroyBridge(bridgeID)
	}
	if err := c.s.ari.AddChannels(ctx, bridgeID, c.channelID, l.id); err != nil {
		return destroy, fmt.Errorf("bridge channels: %w", err)
	}
	return destroy, nil
}

// destroyBridge destroys one of the call's bridges. The first try is made
// now; when Asterisk refuses it or does not answer, the retries (backoff,
// TeardownTries in all, as a teardown hangup) run in a goroutine the call
// owns, and giving up is logged at ERROR and counted
// (hotline_bridges_given_up_total): a bridge is never left up silently.
// 404 means it is gone already.
func (c *call) destroyBridge(bridgeID string) {
	destroy := func(ctx context.Context) error {
		if err := c.s.ari.DestroyBridge(ctx, bridgeID); err != nil && !ari.IsNotFound(err) {
			return err
		}
		return nil
	}
	ctx, cancel := c.teardownCtx()
	err := destroy(ctx)
	cancel()
	if err == nil {
		return
	}
	c.log.Warn("could not destroy the bridge; retrying", "bridge", bridgeID, "err", err)
	c.goOwned(func() {
		tries, err := c.s.retry(1, destroy)
		if err != nil {
			c.s.met.BridgeGivenUp()
			c.log.Error("gave up destroying a bridge; it stays in Asterisk until destroyed by hand",
				"bridge", bridgeID, "tries", tries, "err", err)
			return
		}
		c.log.Info("bridge destroyed after retries", "bridge", bridgeID, "tries", tries)
	})
}

// bridgeFailed ends what a failed bridge leaves; the call is not the
// person's. When Asterisk refused the bridge with both still there, the
// person who accepted is not left on a silent line: their leg is hung up
// (by talk's finish) and recorded cancelled — we hung it up, it is not
// their fault — with detail "bridge failed: …" (it keeps its accepted
// time: they did press 1); logged at ERROR and counted. When the person
// hung up themselves before being connected, the leg is recorded failed.
func (c *call) bridgeFailed(l *leg, err error) {
	l.accepted = false
	c.acceptedBy = nil
	c.mu.Lock()
	c.rec.AcceptedAt, c.rec.AcceptedBy = time.Time{}, ""
	c.mu.Unlock()
	gctx, cancel := c.teardownCtx()
	_, gerr := c.s.ari.GetChannel(gctx, l.id)
	cancel()
	if ari.IsNotFound(gerr) {
		l.ended()
		l.unbridged = "hung up before being connected"
		l.rec.Detail = l.unbridged
		c.log.Info("the person who accepted hung up before being connected; going on", "staff", l.t.Staff,
			"leg", l.id, "err", err)
		return
	}
	l.cancelled = "bridge failed: " + err.Error()
	c.s.met.BridgeFailed()
	c.log.Error("could not bridge the caller with the person who accepted; hanging up their leg and going on",
		"staff", l.t.Staff, "leg", l.id, "err", err)
}

// dismantle destroys a bridge the call could not complete. Asterisk may
// have put the caller in it before refusing the leg: then it waits until
// the caller is out (leaveBridge), so what the caller hears next is not
// lost in the bridge. A bridge without the caller sends no event to wait
// for (Asterisk subscribes the application to a bridge only when one of
// its channels enters it), so that is asked first.
func (c *call) dismantle(ctx context.Context, bridgeID string, destroy func()) {
	gctx, cancel := c.teardownCtx()
	b, err := c.s.ari.GetBridge(gctx, bridgeID)
	cancel()
	if err == nil && !slices.Contains(b.Channels, c.channelID) {
		destroy()
		return
	}
	c.leaveBridge(ctx, bridgeID, destroy) // in it, or Asterisk could not say
}

// bridgeLeftWait bounds the wait for the caller to be out of the bridge.
const bridgeLeftWait = 2 * time.Second

// leaveBridge destroys the bridge and waits until Asterisk says the caller
// left it. Asterisk answers the DELETE before the caller is out, and a
// prompt started in between is queued to the bridge and lost without a
// trace (seen on Asterisk 22.10.1 with SIP channels: the play answered 201,
// then no PlaybackStarted, ever; 404 for it later).
func (c *call) leaveBridge(ctx context.Context, bridgeID string, destroy func()) {
	sub := c.s.ari.Subscribe(ari.BridgeKey(bridgeID))
	defer sub.Close()
	destroy()
	t := time.NewTimer(bridgeLeftWait)
	defer t.Stop()
	for {
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				return
			}
			switch e := ev.(type) {
			case *ari.ChannelLeftBridge:
				if e.Channel.ID == c.channelID {
					return
				}
			case *ari.BridgeDestroyed:
				return
			}
		case <-t.C:
			c.log.Warn("the caller did not leave the destroyed bridge in time", "bridge", bridgeID)
			return
		case <-ctx.Done():
			return
		}
	}
}

// rate asks the caller for a score 1–5 (9 = complaint about the person) and
// stores it against the person who took the call.
func (c *call) rate(ctx context.Context, l *leg) {
	c.setState(StateIVR)
	c.setTarget(nil)
	c.drainDigits()
	p := c.promptFor(ctx, c.s.cfg.Prompts.Rate)
	d := c.waitDigit(ctx, p, c.s.cfg.RatingTimeout, "123459")
	c.stopPlay(p)
	if d == "" {
		return
	}
	c.mu.Lock()
	region := c.rec.Region
	if d == "9" {
		c.rec.Rating = &store.Rating{Complaint: true, Staff: l.t.Staff}
	} else {
		c.rec.Rating = &store.Rating{Score: int(d[0] - '0'), Staff: l.t.Staff}
	}
	rt := *c.rec.Rating
	c.mu.Unlock()
	c.save()
	if rt.Complaint {
		c.s.met.Complaint(region, l.t.Staff)
	} else {
		c.s.met.Rating(region, l.t.Staff, rt.Score)
	}
	c.log.Info("caller rated the call", "score", rt.Score, "complaint", rt.Complaint, "staff", l.t.Staff)
	_ = c.playWait(ctx, c.channelID, c.s.cfg.Prompts.Thanks)
}

// promptFor starts a prompt on the caller; nil when it could not play.
func (c *call) promptFor(ctx context.Context, name string) *player {
	media := sounds(name)
	if len(media) == 0 {
		return nil
	}
	p, err := c.startPlay(ctx, c.channelID, media)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Warn("could not play prompt", "media", media, "err", err)
		}
		return nil
	}
	return p
}

// waitDigit waits for one of the allowed digits from the caller, during the
// prompt p (which a digit cuts) or within timeout after it ends. "" when
// none came.
func (c *call) waitDigit(ctx context.Context, p *player, timeout time.Duration, allowed string) string {
	var promptDone <-chan struct{}
	var timer *time.Timer
	if p != nil {
		promptDone = p.done
		bound := newTimer(c.s.cfg.MaxPrompt)
		defer bound.Stop()
		timer = bound
	} else {
		timer = newTimer(timeout)
	}
	defer func() { timer.Stop() }()
	for {
		select {
		case d := <-c.dtmf:
			if strings.Contains(allowed, d) {
				return d
			}
		case <-promptDone:
			promptDone = nil
			timer.Stop()
			timer = newTimer(timeout)
		case <-timer.C:
			return ""
		case <-ctx.Done():
			return ""
		}
	}
}

// drainDigits forgets digits pressed earlier.
func (c *call) drainDigits() {
	for {
		select {
		case <-c.dtmf:
		default:
			return
		}
	}
}
