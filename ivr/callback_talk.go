package ivr

import (
	"context"
	"time"

	"github.com/csm-vn/hotline/ari"
)

// talkSide is one leg of a callback's conversation.
type talkSide struct {
	l      *leg
	events <-chan ari.Event
	gone   <-chan struct{}
	grace  <-chan time.Time // its end's cause may still come
}

// onEvent applies one of the leg's events.
func (sd *talkSide) onEvent(ev ari.Event, ok bool) {
	l := sd.l
	if !ok {
		sd.events = nil
		l.over = true
		return
	}
	switch e := ev.(type) {
	case *ari.ChannelHangupRequest:
		if e.Channel.ID != l.id {
			return
		}
		if !e.Soft && e.Cause > 0 && l.cause == 0 {
			l.cause = e.Cause
		}
		if l.state() == legUp {
			l.setState(legEnding)
		}
		if sd.grace == nil {
			sd.grace = time.After(200 * time.Millisecond)
		}
	case *ari.StasisEnd:
		if e.Channel.ID == l.id {
			l.ended()
			if l.cause != 0 {
				l.over = true
			} else if sd.grace == nil {
				sd.grace = time.After(100 * time.Millisecond)
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
}

// talkCallback bridges the person who accepted with the café until either
// hangs up (the other is then hung up) or MaxCall, then records both legs.
func (c *call) talkCallback(ctx context.Context, staff, cafe *leg) {
	t := c.cb
	defer func() {
		staff.finish()
		cafe.finish()
	}()
	c.mu.Lock()
	c.rec.AcceptedAt = cafe.rec.AcceptedAt
	c.mu.Unlock()

	bridgeID := c.id + "-br"
	bctx, bcancel := c.teardownCtx()
	_, err := c.s.ari.CreateBridge(bctx, ari.CreateBridgeParams{ID: bridgeID, Type: ari.BridgeMixing, Name: "hotline callback " + c.id})
	bcancel()
	if err != nil {
		c.failure = "create bridge: " + err.Error()
		c.log.Error("could not create the callback's bridge", "err", err)
		return
	}
	defer c.destroyBridge(bridgeID)
	if err := c.s.ari.AddChannels(ctx, bridgeID, staff.id, cafe.id); err != nil {
		if ctx.Err() == nil {
			c.failure = "bridge channels: " + err.Error()
			c.log.Error("could not bridge the callback", "err", err)
		}
		return
	}
	c.talkStart = c.now()
	t.connected = true
	c.s.met.CallbackConnected()
	c.bridgedCallback(staff, cafe, c.s.cfg.MaxCall)
	c.log.Info("callback bridged", "staff", staff.t.Staff, "bridge", bridgeID)
	c.converseCallback(ctx, staff, cafe, c.s.cfg.MaxCall)
}

// bridgedCallback shows the try as talking (Snapshot) and sets both legs'
// hard limit to left (the conversation's time left) plus a margin.
func (c *call) bridgedCallback(staff, cafe *leg, left time.Duration) {
	c.setState(StateBridged)
	c.setTarget(&LiveTarget{Staff: staff.t.Staff, Name: staff.t.Name, Role: string(staff.t.Role),
		Number: staff.t.Number, Carrier: string(staff.t.Carrier), Since: c.talkStart, Bridged: true})
	for _, l := range []*leg{staff, cafe} {
		if l.watch != nil {
			l.watch.Reset(left + 2*c.s.cfg.RequestTimeout)
		} else {
			l.watch = time.AfterFunc(left+2*c.s.cfg.RequestTimeout, l.watchdog)
		}
	}
}

// converseCallback follows a callback's conversation until either side
// hangs up (the other is then hung up), ctx ends or left (the time left of
// MaxCall) runs out.
func (c *call) converseCallback(ctx context.Context, staff, cafe *leg, left time.Duration) {
	sides := []*talkSide{{l: staff, events: staff.sub.Events(), gone: staff.gone},
		{l: cafe, events: cafe.sub.Events(), gone: cafe.gone}}
	maxT := newTimer(left)
	defer maxT.Stop()
	ctxDone := ctx.Done()
	hangupBoth := func() {
		for _, sd := range sides {
			sd.l.hangup(ari.HangupNormal)
		}
	}
	for !staff.over || !cafe.over {
		a, b := sides[0], sides[1]
		select {
		case ev, ok := <-a.events:
			a.onEvent(ev, ok)
		case ev, ok := <-b.events:
			b.onEvent(ev, ok)
		case <-a.gone:
			a.gone = nil
			a.l.ended()
			a.l.over = true
		case <-b.gone:
			b.gone = nil
			b.l.ended()
			b.l.over = true
		case <-a.grace:
			a.l.over = true
		case <-b.grace:
			b.l.over = true
		case <-a.l.settled:
			a.l.over = true
		case <-b.l.settled:
			b.l.over = true
		case <-ctxDone:
			ctxDone = nil
			hangupBoth()
		case <-maxT.C:
			c.log.Warn("callback reached its maximum length; ending it", "max", c.s.cfg.MaxCall)
			staff.rec.Detail = "maximum call length reached"
			hangupBoth()
		case <-c.resyncC():
			staff.resync(ctx)
			cafe.resync(ctx)
		}
		// Either side leaving ends the other: Asterisk does not.
		for i, sd := range sides {
			if sd.l.over || sd.l.state() != legUp {
				other := sides[1-i].l
				if other.state() == legUp {
					other.hangup(ari.HangupNormal)
				}
			}
		}
	}
	c.talkEnd = c.now()
	c.log.Info("callback conversation ended", "talk", c.talkEnd.Sub(c.talkStart).Round(time.Millisecond))
}
