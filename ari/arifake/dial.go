package arifake

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Dialled is what happened to one outgoing leg (POST /channels/create or originate).
type Dialled struct {
	ChannelID string
	Endpoint  string // as the application gave it
	Tech      string
	Trunk     string
	Number    string
	Phone     Phone // the script that applied
	Started   time.Time
	Answered  bool
	Ended     bool
	Cause     int     // ChannelDestroyed cause once ended
	Heard     []Heard // what the phone was given (playbacks, DTMF, bridge…)
}

func allocationFailed(q *req) {
	q.ok(http.StatusInternalServerError, map[string]string{"error": "Allocation failed"})
}

// target parses and checks an endpoint. Callers hold s.mu.
func (s *Server) target(endpoint string) (DialTarget, bool) {
	t, err := ParseEndpoint(endpoint)
	if err != nil {
		return t, false
	}
	if t.Tech == "PJSIP" && len(s.opts.KnownTrunks) > 0 {
		known := false
		for _, k := range s.opts.KnownTrunks {
			known = known || k == t.Trunk
		}
		return t, known
	}
	return t, true
}

// newOutgoing allocates the channel of an outgoing leg. Callers hold s.mu.
func (s *Server) newOutgoing(id string, t DialTarget, endpoint string) *channel {
	suffix := s.newNameSuffix()
	var name string
	dp := DialplanCEP{Priority: 1}
	protocolID := ""
	if t.Tech == "PJSIP" {
		name = "PJSIP/" + t.Trunk + "-" + suffix
		dp.Context, dp.Exten = "default", "s"
		protocolID = newUUID()
	} else {
		name = "Local/" + t.Resource + "-" + suffix + ";1"
		user, _, _ := strings.Cut(t.Resource, "@")
		dp.Context, dp.Exten = t.Trunk, user
	}
	ch := s.newChannel(id, name, "Down", t.Tech)
	ch.outgoing = true
	ch.target = t
	ch.phone = s.phoneFor(t.Number)
	ch.dialplan = dp
	ch.protocolID = protocolID
	s.dials = trimHistory(append(s.dials, &dialRecord{ch: ch, d: Dialled{
		ChannelID: ch.id, Endpoint: endpoint, Tech: t.Tech, Trunk: t.Trunk, Number: t.Number,
		Phone: ch.phone, Started: time.Now(),
	}}), s.opts.HistoryLimit)
	return ch
}

type dialRecord struct {
	ch *channel
	d  Dialled
}

// Dials returns every outgoing leg so far, oldest first.
func (s *Server) Dials() []Dialled {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Dialled, 0, len(s.dials))
	for _, r := range s.dials {
		d := r.d
		d.Answered = r.ch.answeredOnce
		d.Ended = r.ch.gone
		d.Cause = r.ch.endCause
		d.Heard = append([]Heard(nil), r.ch.heard...)
		out = append(out, d)
	}
	return out
}

func splitArgs(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// validEndpoint is Asterisk's first look at an endpoint: "tech/resource",
// both non-empty (else 400 "Invalid endpoint specified").
func validEndpoint(endpoint string) bool {
	tech, dev, ok := strings.Cut(endpoint, "/")
	return ok && tech != "" && dev != ""
}

// createChannel serves POST /channels/create, with Asterisk's checks in its
// order (res/ari/resource_channels.c ast_ari_channels_create).
func (s *Server) createChannel(q *req) {
	vars, ok := q.variables()
	if !ok {
		return
	}
	if q.param("originator") != "" && q.param("formats") != "" {
		q.fail(http.StatusBadRequest, "Originator and formats can't both be specified")
		return
	}
	endpoint := q.param("endpoint")
	if endpoint == "" {
		q.fail(http.StatusBadRequest, "Endpoint must be specified")
		return
	}
	if !validEndpoint(endpoint) {
		q.fail(http.StatusBadRequest, "Invalid endpoint specified")
		return
	}
	q.param("otherChannelId") // the Local channel's other half: not modelled
	s.mu.Lock()
	defer s.mu.Unlock()
	id := q.param("channelId")
	if id != "" && s.channels[id] != nil {
		q.fail(http.StatusConflict, "Channel with given unique ID already exists")
		return
	}
	t, ok := s.target(endpoint)
	if !ok {
		allocationFailed(q)
		return
	}
	ch := s.newOutgoing(id, t, endpoint)
	app := q.param("app")
	if app == "" {
		// As recorded: 200, and the channel is gone at once (it has nowhere to go).
		m := ch.model()
		s.forget(ch, 0)
		q.ok(http.StatusOK, m)
		return
	}
	ch.app = app
	for _, k := range sortedKeys(vars) {
		s.setVar(ch, k, vars[k])
	}
	resp := ch.model()
	args := splitArgs(q.param("appArgs"))
	data := strings.Join(append([]string{app}, args...), ",")
	ch.dialplan.AppName, ch.dialplan.AppData = "Stasis", data
	s.emitChannel(ch, event{Type: "ChannelDialplan", DialplanApp: strp("Stasis"), DialplanAppData: strp(data), Channel: ch.modelp()})
	if s.opts.StasisEntryDelay < 0 {
		s.enterStasis(ch, app, args)
	} else {
		// Not in Stasis until then: a dial (or anything else) is refused
		// with 409, as on Asterisk when the answer came first.
		s.after(s.opts.StasisEntryDelay, func() {
			if !ch.gone {
				s.enterStasis(ch, app, args)
			}
		})
	}
	q.ok(http.StatusOK, resp)
}

// parseCallerID parses "Name <number>" or "number".
func parseCallerID(s string) CallerID {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "<"); i >= 0 && strings.HasSuffix(s, ">") {
		return CallerID{Name: strings.Trim(strings.TrimSpace(s[:i]), `"`), Number: s[i+1 : len(s)-1]}
	}
	return CallerID{Number: s}
}

// originate serves POST /channels and POST /channels/{id}: the older way, with
// no StasisStart until the far end answers and none at all when it fails. The
// checks are Asterisk's, in its order; a timeout of 0 (missing or not a
// number) or below -1 is 30 s, -1 is none.
func (s *Server) originate(q *req) {
	vars, ok := q.variables()
	if !ok {
		return
	}
	id := q.r.PathValue("channelId")
	if q.rt.path == "/channels" {
		id = q.param("channelId")
	}
	if len(id) > maxUniqueID || len(q.param("otherChannelId")) > maxUniqueID {
		q.fail(http.StatusBadRequest, fmt.Sprintf("Uniqueid length exceeds maximum of %d", maxUniqueID))
		return
	}
	endpoint := q.param("endpoint")
	if endpoint == "" {
		q.fail(http.StatusBadRequest, "Endpoint must be specified")
		return
	}
	if q.param("originator") != "" && q.param("formats") != "" {
		q.fail(http.StatusBadRequest, "Originator and formats can't both be specified")
		return
	}
	if !validEndpoint(endpoint) {
		q.fail(http.StatusBadRequest, "Invalid endpoint specified")
		return
	}
	app, exten := q.param("app"), q.param("extension")
	// Originating into the dialplan (context, priority, label) is not modelled.
	q.param("context")
	q.intParam("priority")
	q.param("label")
	if app == "" && exten == "" {
		q.fail(http.StatusBadRequest, "Application or extension must be specified")
		return
	}
	timeout := q.intParam("timeout")
	switch {
	case timeout == -1:
		timeout = 0 // none
	case timeout <= 0:
		timeout = 30
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := q.param("originator"); o != "" && s.channels[o] == nil {
		q.fail(http.StatusBadRequest, "Provided originator channel was not found")
		return
	}
	if id != "" && s.channels[id] != nil {
		q.fail(http.StatusConflict, "Channel with given unique ID already exists")
		return
	}
	t, ok := s.target(endpoint)
	if !ok {
		allocationFailed(q)
		return
	}
	ch := s.newOutgoing(id, t, endpoint)
	if cid := q.param("callerId"); cid != "" {
		ch.caller = parseCallerID(cid)
		ch.connected = ch.caller
	}
	ch.dialplan.AppName, ch.dialplan.AppData = "AppDial2", "(Outgoing Line)"
	resp := ch.model()
	if app == "" {
		s.forget(ch, 0)
		q.ok(http.StatusOK, resp)
		return
	}
	ch.app = app
	ch.originate = true
	ch.args = splitArgs(q.param("appArgs"))
	for _, k := range sortedKeys(vars) {
		ch.vars[k] = vars[k]
	}
	s.startDial(ch, timeout)
	q.ok(http.StatusOK, resp)
}

// maxUniqueID is AST_MAX_PUBLIC_UNIQUEID.
const maxUniqueID = 149

// dialChannel serves POST /channels/{id}/dial. An unknown caller is ignored
// (Asterisk only copies caller-id and variables from it when it exists); a
// timeout of 0 or less means none.
func (s *Server) dialChannel(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.stasisChannelFor(q)
	if ch == nil {
		return
	}
	caller := s.channels[q.param("caller")]
	timeout := q.intParam("timeout")
	if ch.state != "Down" || ch.dialed {
		q.fail(http.StatusConflict, "Channel is not in the 'Down' state")
		return
	}
	if !ch.outgoing {
		q.fail(http.StatusConflict, "Dialing a channel not created by ARI")
		return
	}
	if caller != nil {
		ch.connected = caller.caller
	}
	s.emitChannel(ch, event{Type: "ChannelConnectedLine", Channel: ch.modelp()})
	s.startDial(ch, max(timeout, 0))
}

// startDial runs the scripted far end of an outgoing leg. timeout is in
// seconds (0 = none). Callers hold s.mu.
func (s *Server) startDial(ch *channel, timeout int) {
	s.watchDial(ch)
	ch.dialed = true
	tok := ch.dialToken
	live := func() bool { return !ch.gone && ch.dialToken == tok }
	s.after(0, func() {
		if !live() {
			return
		}
		s.dialEvent(ch, "", true)
		p := ch.phone
		outcome := p.Outcome
		switch s.trunks[ch.target.Trunk] {
		case TrunkCongested:
			outcome, p = OutcomeCongestion, Phone{Outcome: OutcomeCongestion}
		case TrunkUnavailable:
			outcome, p = OutcomeUnreachable, Phone{Outcome: OutcomeUnreachable}
		}
		local := ch.tech == "Local"
		fail := func(cause, tech int, status string) {
			if !live() {
				return
			}
			s.failLeg(ch, cause, tech, status)
		}
		afterRing := func(fn func()) {
			if p.RingFor > 0 {
				s.ring(ch)
				s.after(p.RingFor, func() {
					if live() {
						fn()
					}
				})
				return
			}
			fn()
		}
		switch outcome {
		case OutcomeAnswer:
			afterRing(func() { s.answerLeg(ch, p) })
		case OutcomeNoAnswer:
			s.ring(ch)
		case OutcomeBusy, OutcomeCongestion:
			cause, tech, status := CauseBusy, 486, "BUSY"
			if outcome == OutcomeCongestion {
				cause, tech, status = CauseCongestion, 503, "CONGESTION"
			}
			if p.Cause != 0 {
				cause = p.Cause
			}
			if local {
				// Busy()/Congestion() in a dialplan: the status at once, the
				// hangup only when the far side gives up.
				s.dialEvent(ch, status, false)
				if ch.originate {
					fail(cause, 0, "")
					return
				}
				s.after(s.opts.LocalLinger, func() { fail(cause, 0, "") })
				return
			}
			// A SIP 486/503 gives no final Dial status, only the hangup.
			afterRing(func() { fail(cause, tech, status) })
		case OutcomeReject:
			cause, tech := CauseRejected, 603
			if p.Cause != 0 {
				cause = p.Cause
			}
			if local {
				tech = 0
			}
			afterRing(func() { fail(cause, tech, "") })
		case OutcomeUnreachable:
			cause := CauseNoRoute
			if p.Cause != 0 {
				cause = p.Cause
			}
			if local {
				s.dialEvent(ch, "CHANUNAVAIL", false)
			}
			fail(cause, 0, "CHANUNAVAIL")
		}
	})
	if timeout > 0 {
		s.after(s.seconds(timeout), func() {
			if !live() || ch.state == "Up" {
				return
			}
			if ch.originate {
				s.destroy(ch, CauseNoAnswer, 0)
				return
			}
			// Asterisk hangs the leg up itself: soft cause 32, destroyed with 19,
			// and no NOANSWER dialstatus.
			s.endChannel(ch, hangupByARI(CauseNoAnswer))
		})
	}
}

// dialEvent sends a Dial event for an outgoing leg. The first one of a dial
// carries the dial string; with /dial the later ones carry "", with originate
// all of them carry it (as recorded).
func (s *Server) dialEvent(ch *channel, status string, first bool) {
	ds := ""
	if first || ch.originate {
		ds = ch.target.Resource
	}
	s.emitChannel(ch, event{Type: "Dial", DialStatus: strp(status), Forward: strp(""), DialString: strp(ds), Peer: ch.modelp()})
}

func (s *Server) ring(ch *channel) {
	if ch.state == "Ringing" {
		return
	}
	s.setState(ch, "Ringing")
	s.dialEvent(ch, "RINGING", false)
}

func (s *Server) answerLeg(ch *channel, p Phone) {
	s.setState(ch, "Up")
	ch.answeredOnce = true
	s.dialEvent(ch, "ANSWER", false)
	if ch.originate {
		s.enterStasis(ch, ch.app, ch.args)
	}
	s.pressLater(ch, p.Keys, p.KeysAfter, nil)
	for _, k := range p.Later {
		if !k.InBridge {
			s.laterPress(ch, k)
		}
	}
	tok := ch.dialToken
	if p.HangupAfter > 0 {
		s.after(p.HangupAfter, func() {
			if !ch.gone && ch.dialToken == tok {
				s.endChannel(ch, hangupFarEnd(ch.tech, CauseNormal))
			}
		})
	}
}

// pressLater makes the far end of an answered leg press digits, the first
// after delay, each next one DTMFGap after the previous one was delivered,
// while the leg lasts: one timeline, so the digits arrive in order however
// late the timers fire. then, if not nil, runs right after the last digit.
// Callers hold s.mu.
func (s *Server) pressLater(ch *channel, digits string, delay time.Duration, then func()) {
	if digits == "" {
		return
	}
	tok := ch.dialToken
	s.after(delay, func() {
		if ch.gone || ch.dialToken != tok {
			return
		}
		s.deliverDTMF(ch, digits[:1], s.opts.DTMFDurationMS)
		switch {
		case len(digits) > 1:
			s.pressLater(ch, digits[1:], s.opts.DTMFGap, then)
		case then != nil:
			then()
		}
	})
}

// laterPress starts one of a phone's later presses (Phone.Later), and the
// hangup that follows its last digit (Press.HangupAfter). Callers hold s.mu.
func (s *Server) laterPress(ch *channel, k Press) {
	var then func()
	if k.HangupAfter > 0 {
		tok := ch.dialToken
		then = func() {
			s.after(k.HangupAfter, func() {
				if !ch.gone && ch.dialToken == tok {
					s.endChannel(ch, hangupFarEnd(ch.tech, CauseNormal))
				}
			})
		}
	}
	s.pressLater(ch, k.Digits, k.After, then)
}

// enteredBridge starts the keys a leg's phone presses once in a bridge
// (Press.InBridge), the first time it enters one. Callers hold s.mu.
func (s *Server) enteredBridge(ch *channel) {
	if !ch.outgoing || ch.bridgedOnce {
		return
	}
	ch.bridgedOnce = true
	for _, k := range ch.phone.Later {
		if k.InBridge {
			s.laterPress(ch, k)
		}
	}
}

// failLeg ends a leg that the far end failed.
func (s *Server) failLeg(ch *channel, cause, tech int, status string) {
	if ch.originate {
		// Never entered Stasis: a final Dial status and ChannelDestroyed only;
		// a Local busy/congested leg is destroyed with cause 0 (as recorded).
		if status != "" {
			s.dialEvent(ch, status, false)
		}
		if ch.tech == "Local" && (cause == CauseBusy || cause == CauseCongestion) {
			cause = 0
		}
		s.destroy(ch, cause, tech)
		return
	}
	s.endChannel(ch, hangup{reqCause: intp(cause), reqTech: tech, cause: cause, tech: tech})
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
