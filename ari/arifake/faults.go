package arifake

import (
	"net/http"
	"path"
	"sync"
	"time"
)

// Fault scripts a failure of the fake's REST interface, for fault-injection
// tests: the requests it selects are answered with an error status, held for
// a while, or held until the client gives up, instead of (or before) being
// served.
type Fault struct {
	// Method selects the HTTP method ("DELETE"); "" matches any.
	Method string
	// Path is a path.Match pattern over the URL path, e.g.
	// "/ari/channels/*-leg1" or "/ari/channels/*" ('*' does not cross '/').
	Path string
	// Status, when not 0, is answered (with Asterisk's {"message": …} body)
	// instead of serving the request: 404, 409, 500, 503…
	Status int
	// Delay holds the request this long first; with Status 0 it is then
	// served normally.
	Delay time.Duration
	// Timeout holds the request until the client gives up (its request
	// context ends or the server closes); nothing is served.
	Timeout bool
	// Times is how many matching requests the fault applies to; 0 means
	// every one until it is removed.
	Times int
}

// faultTable holds the scripted faults; its own mutex, so that a held
// request never blocks the telephony state.
type faultTable struct {
	mu     sync.Mutex
	faults []*activeFault
	hits   int
}

type activeFault struct {
	Fault
	used int
}

// AddFault adds a scripted fault and returns the function that removes it.
// Faults are consulted in the order added; the first one that matches a
// request (and has uses left) applies to it.
func (s *Server) AddFault(f Fault) (remove func()) {
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

// ClearFaults removes every scripted fault.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults = nil
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
		if ok, _ := path.Match(f.Path, r.URL.Path); !ok {
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
		writeErr(w, f.Status, http.StatusText(f.Status)+" (injected fault)")
		s.logRequest(r, body, f.Status)
		return true
	}
	return false
}
