package arifake

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrAppInactive is returned by PlaceCall when the application has no
// WebSocket: Stasis() fails at once and the call goes to the dialplan's fallback
// after it (which hangs up), exactly as on a real Asterisk.
var ErrAppInactive = errors.New("arifake: application has no websocket; call went to the dialplan fallback")

// ErrCallEnded is returned when acting on a call that has ended.
var ErrCallEnded = errors.New("arifake: call has ended")

// CallSpec describes an incoming call.
type CallSpec struct {
	// Number is the caller ID number exactly as the trunk sends it ("" = anonymous).
	Number string
	// Name is the caller ID name ("" = none).
	Name string
	// Tech is "PJSIP" (default: a call from a SIP trunk; its hangup is a BYE
	// without a cause) or "Local" (like the recorded Local/2@hotline callers).
	Tech string
	// Trunk is the PJSIP endpoint the call arrives on (default Options.InboundTrunk).
	Trunk string
	// Extension dialled (default Options.Extension).
	Extension string
}

// Call is an incoming call placed with PlaceCall: the caller's side.
type Call struct {
	s    *Server
	ch   *channel
	done chan struct{}
	// guarded by s.mu
	ended  bool
	status string
}

// PlaceCall places an incoming call on the extension: its channel enters Stasis
// in Options.App with StasisStart (state Ring). If the application has no
// WebSocket, it returns ErrAppInactive and no channel remains.
func (s *Server) PlaceCall(spec CallSpec) (*Call, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("arifake: place call: server closed")
	}
	app := s.opts.App
	if a := s.apps[app]; a == nil || a.conn == nil {
		s.fallbacks++
		s.notify()
		return nil, fmt.Errorf("%w (app %q, caller %q)", ErrAppInactive, app, spec.Number)
	}
	tech := spec.Tech
	if tech == "" {
		tech = "PJSIP"
	}
	if tech != "PJSIP" && tech != "Local" {
		return nil, fmt.Errorf("arifake: place call: unknown tech %q", spec.Tech)
	}
	exten := spec.Extension
	if exten == "" {
		exten = s.opts.Extension
	}
	trunk := spec.Trunk
	if trunk == "" {
		trunk = s.opts.InboundTrunk
	}
	suffix := s.newNameSuffix()
	var name, protocolID string
	caller := CallerID{Name: spec.Name, Number: spec.Number}
	var connected CallerID
	if tech == "PJSIP" {
		name = "PJSIP/" + trunk + "-" + suffix
		protocolID = newUUID() + "@127.0.0.1"
	} else {
		name = "Local/" + exten + "@" + s.opts.InboundContext + "-" + suffix + ";2"
		connected = caller
	}
	ch := s.newChannel("", name, "Ring", tech)
	ch.caller, ch.connected, ch.protocolID = caller, connected, protocolID
	ch.target = DialTarget{Tech: tech, Trunk: trunk}
	ch.dialplan = DialplanCEP{Context: s.opts.InboundContext, Exten: exten, Priority: 2}
	ch.fromDialplan = true
	c := &Call{s: s, ch: ch, done: make(chan struct{})}
	ch.call = c
	ch.app = app
	ch.inStasis = true
	ch.dialplan.AppName, ch.dialplan.AppData = "Stasis", app
	s.emitChannel(ch, event{Type: "StasisStart", Args: &[]string{}, Channel: ch.modelp()})
	return c, nil
}

// Fallbacks counts incoming calls that found the application inactive.
func (s *Server) Fallbacks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fallbacks
}

// end is called with s.mu held when the channel is gone.
func (c *Call) end(int) {
	if !c.ended {
		c.ended = true
		close(c.done)
	}
}

func (c *Call) mark(status string) { c.status = status }

// ID is the caller channel's id.
func (c *Call) ID() string { return c.ch.id }

// Channel is a snapshot of the caller's channel.
func (c *Call) Channel() Channel {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.ch.model()
}

// Done is closed when the caller's channel is gone.
func (c *Call) Done() <-chan struct{} { return c.done }

// Cause is the ChannelDestroyed cause once the call has ended.
func (c *Call) Cause() (cause int, ended bool) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.ch.endCause, c.ended
}

// Continued reports whether the application sent the call back to the dialplan.
func (c *Call) Continued() bool {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.status == "continued"
}

// Answered reports whether the call is (or was) answered.
func (c *Call) Answered() bool {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	for _, h := range c.ch.heard {
		if h.Kind == "answered" {
			return true
		}
	}
	return c.ch.state == "Up"
}

// WaitAnswered waits until the application answers the call.
func (c *Call) WaitAnswered(ctx context.Context) error {
	err := c.s.waitState(ctx, func() bool { return c.ch.state == "Up" || c.ended })
	if err != nil {
		return err
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.ch.state != "Up" {
		return ErrCallEnded
	}
	return nil
}

// WaitHeard waits until the caller has been given something of kind (see
// Heard.Kind) whose detail contains detail, and returns it.
func (c *Call) WaitHeard(ctx context.Context, kind, detail string) (Heard, error) {
	var got Heard
	err := c.s.waitState(ctx, func() bool {
		for _, h := range c.ch.heard {
			if h.Kind == kind && strings.Contains(h.Detail, detail) {
				got = h
				return true
			}
		}
		return false
	})
	return got, err
}

// Heard returns what the caller was given so far: playbacks, music on hold,
// ringing, DTMF, bridging, recording.
func (c *Call) Heard() []Heard {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return append([]Heard(nil), c.ch.heard...)
}

// Press sends DTMF digits from the caller. Each arrives as ChannelDtmfReceived
// when the key is released (duration_ms later), Options.DTMFGap apart.
func (c *Call) Press(ctx context.Context, digits string) error {
	for _, r := range digits {
		if !strings.ContainsRune("0123456789*#ABCD", r) {
			return fmt.Errorf("arifake: press %q: not a DTMF digit", r)
		}
	}
	for i, r := range digits {
		wait := c.s.ms(c.s.opts.DTMFDurationMS)
		if i > 0 {
			wait += c.s.opts.DTMFGap
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("arifake: press: %w", ctx.Err())
		case <-t.C:
		}
		c.s.mu.Lock()
		if c.ch.gone {
			c.s.mu.Unlock()
			return ErrCallEnded
		}
		c.s.deliverDTMF(c.ch, string(r), c.s.opts.DTMFDurationMS)
		c.s.mu.Unlock()
	}
	return nil
}

// Hangup hangs the call up from the caller's side (a SIP BYE, or the other
// half of a Local channel). A bridged party stays, as on a real Asterisk.
func (c *Call) Hangup() error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.ch.gone {
		return ErrCallEnded
	}
	c.s.endChannel(c.ch, hangupFarEnd(c.ch.tech, CauseNormal))
	return nil
}

// HangupLeg hangs up an outgoing leg from the phone's side (the person puts the
// phone down), as if its script said so now.
func (s *Server) HangupLeg(channelID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channels[channelID]
	if ch == nil || !ch.outgoing {
		return fmt.Errorf("arifake: hang up leg %q: %w", channelID, ErrCallEnded)
	}
	s.endChannel(ch, hangupFarEnd(ch.tech, CauseNormal))
	return nil
}

// PressOnLeg makes the person on an answered outgoing leg press digits now.
func (s *Server) PressOnLeg(channelID, digits string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channels[channelID]
	if ch == nil || !ch.outgoing {
		return fmt.Errorf("arifake: press on leg %q: %w", channelID, ErrCallEnded)
	}
	s.pressLater(ch, digits, 0, nil) // in order, DTMFGap apart
	return nil
}
