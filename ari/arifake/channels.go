package arifake

import (
	"net/http"
	"strings"
	"time"
)

const (
	msgChannelNotFound = "Channel not found"
	msgNotInStasis     = "Channel not in Stasis application"
)

// channelFor finds the path's channel, answering 404 "Channel not found" when
// it does not exist. Callers hold s.mu.
func (s *Server) channelFor(q *req) *channel {
	ch := s.channels[q.r.PathValue("channelId")]
	if ch == nil {
		q.fail(http.StatusNotFound, msgChannelNotFound)
	}
	return ch
}

// stasisChannelFor is res/ari/resource_channels.c find_control: channelFor
// plus 409 when the channel is not in Stasis. Callers hold s.mu.
func (s *Server) stasisChannelFor(q *req) *channel {
	ch := s.channelFor(q)
	if ch != nil && !ch.inStasis {
		q.fail(http.StatusConflict, msgNotInStasis)
		return nil
	}
	return ch
}

// controlFor is stasisChannelFor plus channel_state_invalid: 412 "Channel in
// invalid state" for an outgoing channel not yet answered (Down, Ringing), as
// for answer, ring, moh, silence, hold, mute, progress, dtmf, play and
// continue. Callers hold s.mu.
func (s *Server) controlFor(q *req) *channel {
	ch := s.stasisChannelFor(q)
	if ch == nil {
		return nil
	}
	switch ch.state {
	case "Down", "Rsrvd", "Ringing":
		q.fail(http.StatusPreconditionFailed, "Channel in invalid state")
		return nil
	}
	return ch
}

// anyChannelFor finds the path's channel in or out of Stasis, answering 404
// "Provided channel was not found" (variables, snoop). Callers hold s.mu.
func (s *Server) anyChannelFor(q *req) *channel {
	ch := s.channels[q.r.PathValue("channelId")]
	if ch == nil {
		q.fail(http.StatusNotFound, "Provided channel was not found")
	}
	return ch
}

// scanInt is sscanf(s, "%30d"): blanks, a sign, at least one digit.
func scanInt(s string) (int, bool) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	if t != "" && (t[0] == '+' || t[0] == '-') {
		t = t[1:]
	}
	if t == "" || t[0] < '0' || t[0] > '9' {
		return 0, false
	}
	return atoi(s), true
}

// ms converts a REST parameter in milliseconds to fake time (scaled like Second).
func (s *Server) ms(n int) time.Duration {
	return time.Duration(n) * s.opts.Second / 1000
}

func (s *Server) listChannels(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q.ok(http.StatusOK, s.channelList())
}

func (s *Server) getChannel(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch := s.channelFor(q); ch != nil {
		q.ok(http.StatusOK, ch.model())
	}
}

func (s *Server) hangupChannel(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channelFor(q)
	if ch == nil {
		return
	}
	reason, code := q.param("reason"), q.param("reason_code")
	cause := CauseNormal
	switch {
	case reason != "" && code != "":
		q.fail(http.StatusBadRequest, "The reason and reason_code can't both be specified")
		return
	case code != "":
		n, ok := scanInt(code)
		if !ok {
			q.fail(http.StatusBadRequest, "Invalid reason for hangup reason code provided")
			return
		}
		cause = n
	case reason != "":
		c, ok := hangupReasons[reason]
		if !ok {
			q.fail(http.StatusBadRequest, "Invalid reason for hangup reason provided")
			return
		}
		cause = c
	}
	s.watchCut(ch.bridge, "hangup")
	h := hangupByARI(cause)
	if ch.tech == "PJSIP" && ch.outgoing && ch.state != "Up" && cause == CauseNoAnswer {
		h.tech = 480 // the CANCEL's reason, as recorded
	}
	s.endChannel(ch, h)
}

func (s *Server) answerChannel(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.controlFor(q)
	if ch == nil {
		return
	}
	if ch.state != "Up" {
		ch.ringing = false
		s.setState(ch, "Up")
		ch.hear("answered", "")
	}
}

func (s *Server) ringChannel(on bool) func(*req) {
	return s.channelFlag(on, "ringing", func(ch *channel) *bool { return &ch.ringing })
}

// channelFlag serves a request that turns one of a channel's sounds on or
// off (ring, silence) and tells the far end ("ringing" / "ringing-stop").
func (s *Server) channelFlag(on bool, heard string, flag func(*channel) *bool) func(*req) {
	return func(q *req) {
		s.mu.Lock()
		defer s.mu.Unlock()
		ch := s.controlFor(q)
		if ch == nil {
			return
		}
		*flag(ch) = on
		if on {
			ch.hear(heard, "")
		} else {
			ch.hear(heard+"-stop", "")
		}
	}
}

func (s *Server) mohChannel(on bool) func(*req) {
	return func(q *req) {
		s.mu.Lock()
		defer s.mu.Unlock()
		ch := s.controlFor(q)
		if ch == nil {
			return
		}
		if on {
			class := q.param("mohClass")
			if class == "" {
				class = "default"
			}
			ch.moh = class
			ch.hear("moh", class)
		} else if ch.moh != "" {
			ch.moh = ""
			ch.hear("moh-stop", "")
		}
	}
}

func (s *Server) silenceChannel(on bool) func(*req) {
	return s.channelFlag(on, "silence", func(ch *channel) *bool { return &ch.silence })
}

// noopChannel serves operations the fake accepts without modelling (hold,
// unhold, progress).
func (s *Server) noopChannel(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.controlFor(q)
}

// muteChannel serves POST and DELETE /channels/{id}/mute: checked, not
// modelled. The direction has no default, whatever api-docs says.
func (s *Server) muteChannel(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.controlFor(q) == nil {
		return
	}
	switch q.param("direction") {
	case "":
		q.fail(http.StatusBadRequest, "Direction is required")
	case "in", "out", "both":
	default:
		q.fail(http.StatusBadRequest, "Invalid direction specified")
	}
}

func (s *Server) sendDTMF(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.controlFor(q)
	if ch == nil {
		return
	}
	dtmf := q.param("dtmf")
	if dtmf == "" {
		q.fail(http.StatusBadRequest, "DTMF is required")
		return
	}
	// 0 (missing or not a number) means Asterisk's defaults.
	before, between, duration := q.intParam("before"), q.intParam("between"), q.intParam("duration")
	q.intParam("after")
	if between == 0 {
		between = 100
	}
	if duration == 0 {
		duration = 100
	}
	// The digits go out to the channel's far end, and only there: in a
	// bridge Asterisk writes them to the channel's driver
	// (res/stasis/control.c dtmf_in_bridge → ast_dtmf_stream_external),
	// never into the bridge, so the other channels get nothing — no
	// ChannelDtmfReceived (that is DTMF a channel receives from its far end).
	delay := s.ms(before)
	for _, r := range dtmf {
		d := string(r)
		if d == "," {
			delay += 500 * s.opts.Second / time.Second
			continue
		}
		s.after(delay, func() {
			if ch.gone {
				return
			}
			ch.hear("dtmf", d)
		})
		delay += s.ms(between) + s.ms(duration)
	}
}

// continueChannel serves POST /channels/{id}/continue with Asterisk's choice
// of location: no context keeps the channel's context (and its extension
// unless one is given), a context without an extension goes to "s"; a
// priority of 0 (missing or not a number) is the next priority when neither
// context nor extension is given, else 1. Labels are not modelled. The
// channel leaves Stasis once its queued playbacks have played to their end.
func (s *Server) continueChannel(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.controlFor(q)
	if ch == nil {
		return
	}
	context, exten, prio := q.param("context"), q.param("extension"), q.intParam("priority")
	q.param("label")
	s.watchCut(ch.bridge, "continue")
	next := ch.dialplan
	switch {
	case context == "":
		if exten != "" {
			next.Exten = exten
		}
	default:
		next.Context = context
		next.Exten = "s"
		if exten != "" {
			next.Exten = exten
		}
	}
	switch {
	case prio != 0:
		next.Priority = int64(prio)
	case context == "" && exten == "":
		next.Priority++
	default:
		next.Priority = 1
	}
	if len(ch.plays) > 0 {
		// The continue waits in the channel's command queue behind its
		// playbacks, which play to their end (as recorded).
		ch.pendingContinue = &next
		return
	}
	s.leaveStasis(ch, next)
}

// leaveStasis sends ch back to the dialplan at next. Callers hold s.mu.
func (s *Server) leaveStasis(ch *channel, next DialplanCEP) {
	ch.pendingContinue = nil
	s.stopChannelMedia(ch)
	if ch.bridge != nil {
		s.emitVarset(ch, "BRIDGEPEER", "")
		s.leaveBridge(ch)
	}
	ch.inStasis = false
	s.emitChannel(ch, event{Type: "StasisEnd", Channel: ch.modelp()})
	s.emitVarset(ch, "STASISSTATUS", "SUCCESS")
	ch.app = "" // unsubscribed: the application hears nothing more of it
	ch.dialplan.Context, ch.dialplan.Exten, ch.dialplan.Priority = next.Context, next.Exten, next.Priority
	ch.dialplan.AppName, ch.dialplan.AppData = "", ""
	if ch.call != nil {
		ch.call.mark("continued")
	}
	if !s.opts.ContinueKeepsChannel {
		s.forget(ch, CauseNormal)
	}
}

func (s *Server) getChannelVar(q *req) {
	name := q.param("variable")
	if name == "" {
		q.fail(http.StatusBadRequest, "Variable name is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.anyChannelFor(q)
	if ch == nil {
		return
	}
	var v string
	var ok bool
	switch strings.ToUpper(name) {
	case "CALLERID(NUM)":
		v, ok = ch.caller.Number, true
	case "CALLERID(NAME)":
		v, ok = ch.caller.Name, true
	case "CHANNEL(NAME)":
		v, ok = ch.name, true
	case "UNIQUEID":
		v, ok = ch.id, true
	default:
		if strings.HasSuffix(name, ")") {
			// Other dialplan functions are not modelled: read as empty.
			v, ok = "", true
		} else {
			v, ok = ch.vars[name]
		}
	}
	if !ok {
		q.fail(http.StatusNotFound, "Provided variable was not found")
		return
	}
	q.ok(http.StatusOK, map[string]string{"value": v})
}

func (s *Server) setChannelVar(q *req) {
	name := q.param("variable")
	if name == "" {
		q.fail(http.StatusBadRequest, "Variable name is required")
		return
	}
	value, set := q.stringParam("value")
	q.boolParam("report_events")
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.stasisChannelFor(q)
	if ch == nil {
		return
	}
	if commandQueueHeld(ch) {
		// res/stasis/control.c: the set is a command run on the channel's
		// thread, which a playback or a recording outside a bridge holds
		// until it ends; the answer waits for it (a greeting: seconds).
		s.mu.Unlock()
		err := s.waitState(q.r.Context(), func() bool { return !commandQueueHeld(ch) })
		s.mu.Lock()
		if err != nil {
			q.fail(http.StatusInternalServerError, "request abandoned while queued behind a playback")
			return
		}
	}
	if !set {
		// No value (or not a string in a JSON body): pbx_builtin_setvar_helper
		// with NULL deletes the variable; ChannelVarset "" only when the old
		// value was not empty.
		if old, ok := ch.vars[name]; ok {
			delete(ch.vars, name)
			if old != "" {
				s.emitVarset(ch, name, "")
			}
		}
		return
	}
	s.setVar(ch, name, value)
}

// commandQueueHeld reports whether a synchronous command on ch would wait:
// a playback or a recording runs on the channel's thread outside a bridge.
// Callers hold s.mu.
func commandQueueHeld(ch *channel) bool {
	return !ch.gone && ch.bridge == nil && (len(ch.plays) > 0 || ch.recording != nil)
}

// setVar sets a channel variable or caller-id function. Callers hold s.mu.
func (s *Server) setVar(ch *channel, name, value string) {
	switch strings.ToUpper(name) {
	case "CALLERID(NUM)":
		ch.caller.Number = value
		s.emitCallerID(ch)
		return
	case "CALLERID(NAME)":
		ch.caller.Name = value
		s.emitCallerID(ch)
		return
	}
	ch.vars[name] = value
	s.emitVarset(ch, name, value)
}

func (s *Server) emitCallerID(ch *channel) {
	s.emitChannel(ch, event{Type: "ChannelCallerId", CallerPresentation: intp(0),
		CallerPresentationTxt: "Presentation Allowed, Not Screened", Channel: ch.modelp()})
}

// snoopChannel creates a Snoop channel on the target, in Stasis in app. It
// carries no audio in the fake; it ends when the application hangs it up or
// when the snooped channel ends. The checks are Asterisk's, in its order.
func (s *Server) snoopChannel(q *req) {
	dirs := map[string]bool{"": true, "none": true, "both": true, "out": true, "in": true}
	spy, whisper := q.param("spy"), q.param("whisper")
	switch {
	case !dirs[spy]:
		q.fail(http.StatusBadRequest, "Invalid direction specified for spy")
		return
	case !dirs[whisper]:
		q.fail(http.StatusBadRequest, "Invalid direction specified for whisper")
		return
	case (spy == "" || spy == "none") && (whisper == "" || whisper == "none"):
		q.fail(http.StatusBadRequest, "Direction must be specified for at least spy or whisper")
		return
	}
	app := q.param("app")
	if app == "" {
		q.fail(http.StatusBadRequest, "Application name is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	target := s.anyChannelFor(q)
	if target == nil {
		return
	}
	id := q.r.PathValue("snoopId")
	if q.rt.path == "/channels/{channelId}/snoop" {
		id = q.param("snoopId")
	}
	args := splitArgs(q.param("appArgs"))
	if id != "" && s.channels[id] != nil {
		q.fail(http.StatusInternalServerError, "Snoop channel could not be created")
		return
	}
	sn := s.newChannel(id, "Snoop/"+target.id+"-"+s.newNameSuffix(), "Up", "Snoop")
	sn.dialplan = DialplanCEP{Context: "default", Exten: "s", Priority: 1}
	target.snoops = append(target.snoops, sn)
	resp := sn.model()
	sn.app = app
	s.enterStasis(sn, app, args)
	q.ok(http.StatusOK, resp)
}
