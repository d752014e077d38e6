package arifake

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// Fault scripts a failure of the fake's REST interface, for fault-injection
// tests: the requests it selects are answered with an error status, held for
// a while, or held until the client gives up, instead of (or before) being
// served. The events WebSocket is not a REST request; see EventFault.
type Fault struct {
	// Method selects the HTTP method ("DELETE"); "" matches any.
	Method string
	// Path is a path.Match pattern over the URL path, e.g.
	// "/ari/channels/*-leg1" or "/ari/channels/*" ('*' does not cross '/');
	// "" matches every path.
	Path string
	// Rate, between 0 and 1, applies the fault to that fraction of the
	// matching requests, chosen at random (Options.FaultSeed seeds the
	// choice): Fault{Rate: 0.01, Status: 500} answers 1% of the requests with
	// 500. 0 (or 1) applies it to every matching request.
	Rate float64
	// Status, when not 0, is answered (with Asterisk's {"message": …} body)
	// instead of serving the request: 404, 409, 500, 503…
	Status int
	// Delay holds the request this long first; with Status 0 it is then
	// served normally.
	Delay time.Duration
	// Timeout holds the request until the client gives up (its request
	// context ends or the server closes); nothing is served.
	Timeout bool
	// Times is how many requests the fault applies to (with a Rate, counting
	// only the chosen ones); 0 means every one until it is removed.
	Times int
}

// faultTable holds the scripted faults; its own mutex, so that a held
// request never blocks the telephony state.
type faultTable struct {
	mu     sync.Mutex
	faults []*activeFault
	hits   int
	rng    *rand.Rand // Fault.Rate's choices, seeded with Options.FaultSeed
}

type activeFault struct {
	Fault
	used int
}

// AddFault adds a scripted fault and returns the function that removes it.
// Faults are consulted in the order added; the first one that matches a
// request (and has uses left, and chooses it when it has a Rate) applies to
// it. A Rate outside [0, 1] panics.
func (s *Server) AddFault(f Fault) (remove func()) {
	if math.IsNaN(f.Rate) || f.Rate < 0 || f.Rate > 1 {
		panic(fmt.Sprintf("arifake: Fault.Rate %v is not between 0 and 1", f.Rate))
	}
	a := &activeFault{Fault: f}
	s.faults.mu.Lock()
	s.faults.faults = append(s.faults.faults, a)
	s.faults.mu.Unlock()
	return func() {
		s.faults.mu.Lock()
		defer s.faults.mu.Unlock()
		for i, x := range s.faults.faults {
			if x == a {
				s.faults.faults = append(s.faults.faults[:i], s.faults.faults[i+1:]...)
				return
			}
		}
	}
}

// FailNext makes the next n requests matching method and the path pattern
// fail with status (n <= 0: every one until ClearFaults).
func (s *Server) FailNext(method, pathPattern string, status, n int) {
	if n <= 0 {
		n = 0
	}
	s.AddFault(Fault{Method: method, Path: pathPattern, Status: status, Times: n})
}

// ClearFaults removes every scripted fault, REST and WebSocket.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	s.faults.faults = nil
	s.faults.mu.Unlock()
	s.mu.Lock()
	s.evFaults = nil
	s.mu.Unlock()
}

// FaultHits returns how many requests a scripted fault applied to so far.
func (s *Server) FaultHits() int {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	return s.faults.hits
}

// take returns the fault that applies to r, using one of its uses.
func (t *faultTable) take(r *http.Request) (Fault, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, f := range t.faults {
		if f.Method != "" && f.Method != r.Method {
			continue
		}
		if ok, _ := path.Match(f.Path, r.URL.Path); f.Path != "" && !ok {
			continue
		}
		if f.Rate > 0 && f.Rate < 1 && t.rng.Float64() >= f.Rate {
			continue
		}
		f.used++
		if f.Times > 0 && f.used >= f.Times {
			t.faults = append(t.faults[:i], t.faults[i+1:]...)
		}
		t.hits++
		return f.Fault, true
	}
	return Fault{}, false
}

// injectFault applies the scripted fault matching r, if any, and reports
// whether it answered the request (the caller then serves nothing).
func (s *Server) injectFault(w http.ResponseWriter, r *http.Request, body []byte) bool {
	f, ok := s.faults.take(r)
	if !ok {
		return false
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	switch {
	case f.Timeout:
		<-r.Context().Done()
		s.logRequest(r, body, 0)
		return true
	case f.Status != 0:
		s.logRequest(r, body, f.Status) // before the answer, as serveREST
		writeErr(w, f.Status, http.StatusText(f.Status)+" (injected fault)")
		return true
	}
	return false
}

// EventFault scripts a cut of an application's events WebSocket at a chosen
// event: when the fake is about to send the Nth event that matches, it
// closes the socket abruptly instead (no close frame, like a network cut or
// an Asterisk crash), and that event is lost: Asterisk replays nothing to a
// socket that connects again. The events queued before it are still written,
// so the application receives everything up to the cut. Then, as after
// CutWebSocket, the socket's applications are inactive until they connect
// again (incoming calls go to the dialplan fallback, their events are lost);
// channels and bridges stay where they are.
type EventFault struct {
	// App is the application whose event it is; "" matches any.
	App string
	// Type is the event type, e.g. "StasisStart"; "" matches any.
	Type string
	// Channel is a path.Match pattern over the id of a channel the event is
	// about (its channel, peer or caller, or a playback's channel:…
	// target): "1795554020.5", "*-leg1"; "" matches any.
	Channel string
	// CallerNumber, when set, is the caller ID number of that channel (the
	// event's channel, peer or caller): how a test names an incoming call
	// before its channel id exists.
	CallerNumber string
	// Nth is which matching event, counted from when the fault was added,
	// cuts the socket: 1 (or 0) the first. The fault then ends.
	Nth int
}

type activeEventFault struct {
	EventFault
	seen int
}

// AddEventFault adds a scripted WebSocket cut and returns the function that
// removes it (if it has not fired yet). DroppedEvents lists the events lost to
// the cuts that fired.
func (s *Server) AddEventFault(f EventFault) (remove func()) {
	a := &activeEventFault{EventFault: f}
	s.mu.Lock()
	s.evFaults = append(s.evFaults, a)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.removeEventFault(a)
	}
}

// DroppedEvents returns the events that scripted WebSocket cuts (EventFault)
// made the fake lose, in order; Conn is the connection that was cut.
func (s *Server) DroppedEvents() []SentEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SentEvent(nil), s.dropped...)
}

// removeEventFault forgets a. Callers hold s.mu.
func (s *Server) removeEventFault(a *activeEventFault) {
	for i, x := range s.evFaults {
		if x == a {
			s.evFaults = append(s.evFaults[:i], s.evFaults[i+1:]...)
			return
		}
	}
}

// cutAt applies the scripted WebSocket cuts to ev, about to be sent to app on
// c, and reports whether c was cut instead (the event is then lost). Every
// matching fault counts the event; the first one to reach its Nth fires.
// Callers hold s.mu.
func (s *Server) cutAt(c *wsConn, app string, ev event) bool {
	var fired *activeEventFault
	for _, f := range s.evFaults {
		if !f.matches(app, ev) {
			continue
		}
		f.seen++
		if fired == nil && f.seen >= max(f.Nth, 1) {
			fired = f
		}
	}
	if fired == nil {
		return false
	}
	s.removeEventFault(fired)
	for _, n := range c.apps {
		if a := s.apps[n]; a != nil && a.conn == c {
			a.conn = nil
		}
	}
	c.cutAfterQueued()
	s.log.Debug("websocket cut by a scripted fault", "app", app, "conn", c.n, "event", ev.Type)
	return true
}

func (f *activeEventFault) matches(app string, ev event) bool {
	if (f.App != "" && f.App != app) || (f.Type != "" && f.Type != ev.Type) {
		return false
	}
	if f.Channel == "" && f.CallerNumber == "" {
		return true
	}
	for _, ch := range []*Channel{ev.Channel, ev.Peer, ev.Caller} {
		if ch == nil {
			continue
		}
		idOK, _ := path.Match(f.Channel, ch.ID)
		if (f.Channel == "" || idOK) && (f.CallerNumber == "" || f.CallerNumber == ch.Caller.Number) {
			return true
		}
	}
	if ev.Playback != nil && f.CallerNumber == "" {
		if id, ok := strings.CutPrefix(ev.Playback.TargetURI, "channel:"); ok {
			if ok, _ := path.Match(f.Channel, id); ok {
				return true
			}
		}
	}
	return false
}
