package arifake

import (
	"strings"
	"time"
)

// newChannel allocates a channel. Callers hold s.mu.
func (s *Server) newChannel(id, name, state, tech string) *channel {
	if id == "" {
		id = s.newUniqueID()
	}
	s.objSeq++
	ch := &channel{
		seq:     s.objSeq,
		id:      id,
		name:    name,
		state:   state,
		tech:    tech,
		created: time.Now(),
		vars:    map[string]string{},
	}
	s.channels[id] = ch
	s.notify()
	return ch
}

// enterStasis puts ch into app and sends StasisStart. Callers hold s.mu.
func (s *Server) enterStasis(ch *channel, app string, args []string) {
	ch.app = app
	ch.inStasis = true
	ch.originate = false
	ch.dialplan.AppName = "Stasis"
	ch.dialplan.AppData = strings.Join(append([]string{app}, args...), ",")
	s.emitVarset(ch, "STASISSTATUS", "")
	a := make([]string, len(args))
	copy(a, args)
	s.emitChannel(ch, event{Type: "StasisStart", Args: &a, Channel: ch.modelp()})
}

func (s *Server) emitVarset(ch *channel, name, value string) {
	s.emitChannel(ch, event{Type: "ChannelVarset", Variable: name, Value: strp(value), Channel: ch.modelp()})
}

func (s *Server) setState(ch *channel, state string) {
	if ch.state == state {
		return
	}
	ch.state = state
	s.emitChannel(ch, event{Type: "ChannelStateChange", Channel: ch.modelp()})
	s.notify() // even when no application hears of it
}

// hangup describes how a channel ends.
type hangup struct {
	reqCause *int // cause in ChannelHangupRequest; nil omits it (a SIP BYE)
	soft     bool // soft flag in ChannelHangupRequest (hung up through ARI, a timeout)
	reqTech  int  // tech_cause (SIP status) in ChannelHangupRequest; 0 omits it
	cause    int  // cause in ChannelDestroyed
	tech     int  // tech_cause in ChannelDestroyed; 0 omits it
}

// hangupByARI is DELETE /channels/{id} (and Asterisk's own dial timeout):
// ChannelHangupRequest{cause:32, soft:true}, then the channel ends with cause.
func hangupByARI(cause int) hangup {
	return hangup{reqCause: intp(CauseARIHangup), soft: true, cause: cause}
}

// hangupFarEnd is the far end hanging up: a SIP BYE carries no cause, a Local
// channel's other half does.
func hangupFarEnd(tech string, cause int) hangup {
	if tech == "PJSIP" {
		return hangup{cause: cause}
	}
	return hangup{reqCause: intp(cause), cause: cause}
}

// endChannel runs Asterisk's hangup sequence as the application sees it:
// ChannelHangupRequest, playbacks/recordings end, ChannelLeftBridge, StasisEnd,
// (a dialplan-entered channel: a soft ChannelHangupRequest cause 16 as the
// dialplan ends), ChannelDestroyed. Callers hold s.mu.
func (s *Server) endChannel(ch *channel, h hangup) {
	if ch.gone {
		return
	}
	ch.dialToken++
	ev := event{Type: "ChannelHangupRequest", Cause: h.reqCause, Soft: h.soft, Channel: ch.modelp()}
	if h.reqTech != 0 {
		ev.TechCause = intp(h.reqTech)
	}
	s.emitChannel(ch, ev)
	s.stopChannelMedia(ch)
	if ch.bridge != nil {
		s.emitVarset(ch, "BRIDGEPEER", "")
		s.leaveBridge(ch)
	}
	if ch.inStasis {
		ch.inStasis = false
		s.emitChannel(ch, event{Type: "StasisEnd", Channel: ch.modelp()})
		s.emitVarset(ch, "STASISSTATUS", "SUCCESS")
		if ch.fromDialplan {
			ch.dialplan.AppName, ch.dialplan.AppData = "", ""
			s.emitChannel(ch, event{Type: "ChannelHangupRequest", Cause: intp(CauseNormal), Soft: true, Channel: ch.modelp()})
		}
	}
	ch.dialplan.AppName, ch.dialplan.AppData = "", ""
	s.destroy(ch, h.cause, h.tech)
	for _, sn := range ch.snoops {
		s.endChannel(sn, hangup{reqCause: intp(CauseNormal), cause: CauseNormal})
	}
	ch.snoops = nil
}

// destroy sends ChannelDestroyed and forgets the channel. Callers hold s.mu.
func (s *Server) destroy(ch *channel, cause, techCause int) {
	ev := event{Type: "ChannelDestroyed", Cause: intp(cause), CauseTxt: causeTxt(cause), Channel: ch.modelp()}
	if techCause != 0 {
		ev.TechCause = intp(techCause)
	}
	s.emitChannel(ch, ev)
	s.forget(ch, cause)
}

func (s *Server) forget(ch *channel, cause int) {
	ch.gone = true
	ch.dialToken++
	ch.endCause = cause
	delete(s.channels, ch.id)
	if ch.call != nil {
		ch.call.end(cause)
	}
	s.notify()
}

// stopChannelMedia ends the channel's playbacks and recording. Callers hold s.mu.
func (s *Server) stopChannelMedia(ch *channel) {
	s.hangupPlaybacks(&ch.plays)
	if ch.recording != nil {
		s.finishRecording(ch.recording, "done")
	}
	ch.moh, ch.ringing, ch.silence = "", false, false
}

// leaveBridge takes ch out of its bridge with ChannelLeftBridge. Callers hold s.mu.
func (s *Server) leaveBridge(ch *channel) {
	b := ch.bridge
	if b == nil {
		return
	}
	b.remove(ch)
	ch.bridge = nil
	s.watchBridge(b)
	ch.hear("unbridged", b.id)
	s.emitBridgeAndChannel(b, ch, event{Type: "ChannelLeftBridge", Bridge: b.modelp(), Channel: ch.modelp()})
	s.notify()
}

// emitBridgeAndChannel sends an event about a channel in a bridge to the
// channel's app and the bridge's apps, once each.
func (s *Server) emitBridgeAndChannel(b *bridge, ch *channel, ev event) {
	sent := map[string]bool{}
	if ch.app != "" {
		s.emit(ch.app, ev)
		sent[ch.app] = true
	}
	for _, a := range sortedKeys(b.apps) {
		if !sent[a] {
			s.emit(a, ev)
			sent[a] = true
		}
	}
	s.emitAll(ev, sent)
}

// deliverDTMF is a digit arriving from ch's far end. Callers hold s.mu.
func (s *Server) deliverDTMF(ch *channel, digit string, durationMS int) {
	if ch.gone {
		return
	}
	s.emitChannel(ch, event{Type: "ChannelDtmfReceived", Digit: digit, DurationMS: intp(durationMS), Channel: ch.modelp()})
	// A bridge passes the digit on: the other channels' far ends hear it.
	// They get no event: Asterisk publishes DTMF a channel received
	// (main/channel.c __ast_read), not DTMF written to it
	// (stasis_channels.c keeps only direction "Received").
	if b := ch.bridge; b != nil {
		for _, peer := range b.channels {
			if peer != ch {
				peer.hear("dtmf", digit)
			}
		}
	}
	if r := ch.recording; r != nil && r.state == "recording" {
		if r.terminateOn == "any" || r.terminateOn == digit {
			s.finishRecording(r, "done")
		}
	}
}
