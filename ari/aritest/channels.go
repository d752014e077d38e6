package aritest

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	msgChannelNotFound = "Channel not found"
	msgNotInStasis     = "Channel not in Stasis application"
)

// channelFor finds the path's channel, answering 404 when it does not exist.
// Callers hold s.mu.
func (s *Server) channelFor(q *req) *channel {
	ch := s.channels[q.r.PathValue("id")]
	if ch == nil {
		q.fail(http.StatusNotFound, msgChannelNotFound)
	}
	return ch
}

// stasisChannelFor is channelFor plus 409 when the channel is not in Stasis.
func (s *Server) stasisChannelFor(q *req) *channel {
	ch := s.channelFor(q)
	if ch != nil && !ch.inStasis {
		q.fail(http.StatusConflict, msgNotInStasis)
		return nil
	}
	return ch
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
	cause := CauseNormal
	if rc := q.param("reason_code"); rc != "" {
		n, err := strconv.Atoi(rc)
		if err != nil || n < 0 {
			q.fail(http.StatusBadRequest, "Invalid reason for hangup reason provided")
			return
		}
		cause = n
	} else if r := q.param("reason"); r != "" {
		c, ok := hangupReasons[r]
		if !ok {
			q.fail(http.StatusBadRequest, "Invalid reason for hangup reason provided")
			return
		}
		cause = c
	}
	h := hangupByARI(cause)
	if ch.tech == "PJSIP" && ch.outgoing && ch.state != "Up" && cause == CauseNoAnswer {
		h.tech = 480 // the CANCEL's reason, as recorded
	}
	s.endChannel(ch, h)
}

func (s *Server) answerChannel(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.stasisChannelFor(q)
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
		ch := s.stasisChannelFor(q)
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
		ch := s.stasisChannelFor(q)
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

// noopChannel serves operations the fake accepts without modelling (hold, mute, progress).
func (s *Server) noopChannel(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stasisChannelFor(q)
}

func (s *Server) sendDTMF(q *req) {
	dtmf := q.param("dtmf")
	if dtmf == "" {
		q.fail(http.StatusBadRequest, "DTMF is required")
		return
	}
	before, _ := q.intParam("before", 0)
	between, _ := q.intParam("between", 100)
	duration, _ := q.intParam("duration", 100)
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.stasisChannelFor(q)
	if ch == nil {
		return
	}
	// The digits go out to the channel's far end. A phone bridged with it
	// would hear them; the fake hands them to the other channels of its bridge
	// as ChannelDtmfReceived (a simplification: a bridge passes DTMF through).
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
			if b := ch.bridge; b != nil {
				for _, peer := range b.channels {
					if peer != ch {
						s.deliverDTMF(peer, d, duration)
					}
				}
			}
		})
		delay += s.ms(between) + s.ms(duration)
	}
}

func (s *Server) continueChannel(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channelFor(q)
	if ch == nil {
		return
	}
	if !ch.inStasis {
		q.fail(http.StatusConflict, "Channel not in a Stasis application")
		return
	}
	s.stopChannelMedia(ch)
	if ch.bridge != nil {
		s.emitVarset(ch, "BRIDGEPEER", "")
		s.leaveBridge(ch)
	}
	ch.inStasis = false
	s.emitChannel(ch, event{Type: "StasisEnd", Channel: ch.modelp()})
	s.emitVarset(ch, "STASISSTATUS", "SUCCESS")
	ch.app = "" // unsubscribed: the application hears nothing more of it
	if c := q.param("context"); c != "" {
		ch.dialplan.Context = c
	}
	if e := q.param("extension"); e != "" {
		ch.dialplan.Exten = e
	}
	if p, ok := q.intParam("priority", 0); ok && p > 0 {
		ch.dialplan.Priority = int64(p)
	} else {
		ch.dialplan.Priority++
	}
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
	ch := s.stasisChannelFor(q)
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
		v, ok = ch.vars[name]
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
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.stasisChannelFor(q)
	if ch == nil {
		return
	}
	s.setVar(ch, name, q.param("value"))
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
// when the snooped channel ends.
func (s *Server) snoopChannel(q *req) {
	app := q.param("app")
	if app == "" {
		q.fail(http.StatusBadRequest, "Invalid parameters")
		return
	}
	for _, p := range []string{"spy", "whisper"} {
		switch q.param(p) {
		case "", "none", "both", "out", "in":
		default:
			q.fail(http.StatusBadRequest, "Invalid parameters")
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	target := s.channelFor(q)
	if target == nil {
		return
	}
	id := q.r.PathValue("snoopId")
	if id == "" {
		id = q.param("snoopId")
	}
	if id != "" && s.channels[id] != nil {
		q.fail(http.StatusConflict, "Channel with given unique ID already exists")
		return
	}
	sn := s.newChannel(id, "Snoop/"+target.id+"-"+s.newNameSuffix(), "Up", "Snoop")
	sn.dialplan = DialplanCEP{Context: "default", Exten: "s", Priority: 1}
	target.snoops = append(target.snoops, sn)
	resp := sn.model()
	sn.app = app
	s.enterStasis(sn, app, splitArgs(q.param("appArgs")))
	q.ok(http.StatusOK, resp)
}
