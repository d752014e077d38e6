package ivr

import (
	"sort"
	"time"
)

// Live call states (the vocabulary shared with metrics and the board).
const (
	StateIVR     = "ivr"     // greeting, identification, voicemail, rating
	StateRinging = "ringing" // someone is being rung or is confirming
	StateBridged = "bridged" // the caller talks with someone
	// StateTransferring: the person who accepted passes the call on; the
	// caller hears music while the new plan rings (transfer.go).
	StateTransferring = "transferring"
)

// LiveCall is one call in progress, for the supervisors' live board.
type LiveCall struct {
	ID        string // call id (the record's id)
	ChannelID string // the caller's channel
	Caller    string // E.164 when known, else the raw caller ID
	CafeCode  string
	CafeName  string
	Province  string // province name
	Region    string // region code
	MatchedBy string // caller_id, dtmf, area_code, none ("" until identified)
	State     string // ivr, ringing, bridged
	Started   time.Time
	Target    *LiveTarget // who is being rung or talked to; nil when nobody

	// Callback: the hotline is calling the café back (Caller is the café's
	// number being called).
	Callback bool
	// During a transfer (State transferring): the person who asked for it
	// (TransferFromGone once they hung up: a blind transfer) and where to,
	// the province's name or "operators".
	TransferFrom     *LiveTarget
	TransferFromGone bool
	TransferTo       string
}

// LiveTarget is the person a live call is ringing or bridged with.
type LiveTarget struct {
	Staff, Name, Role, Number, Carrier string
	Since                              time.Time // rung since, or bridged since
	Bridged                            bool
}

// Snapshot returns the live calls, oldest first.
func (s *Server) Snapshot() []LiveCall {
	s.mu.Lock()
	calls := make([]*call, 0, len(s.calls))
	for _, c := range s.calls {
		calls = append(calls, c)
	}
	for _, c := range s.tries {
		calls = append(calls, c)
	}
	s.mu.Unlock()
	out := make([]LiveCall, 0, len(calls))
	for _, c := range calls {
		out = append(out, c.live())
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Started.Equal(out[j].Started) {
			return out[i].Started.Before(out[j].Started)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Busy reports whether staff is on (or being rung for) a hotline call of
// this instance. It is the plan's dialplan.Live.
func (s *Server) Busy(staff string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.reserved[staff]
	return ok
}

// LastRung implements dialplan.Rotation from this instance's memory.
func (s *Server) LastRung(staff string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastRung[staff]
}

// reserveMem reserves staff for callID in memory; false when someone else
// holds them. It also notes the ring time for rotation.
func (s *Server) reserveMem(staff, callID string, at time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if holder, ok := s.reserved[staff]; ok && holder != callID {
		return false
	}
	s.reserved[staff] = callID
	s.lastRung[staff] = at
	return true
}

// releaseMem ends callID's in-memory reservation of staff.
func (s *Server) releaseMem(staff, callID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reserved[staff] == callID {
		delete(s.reserved, staff)
	}
}

// ownLeg registers (or, with c nil, forgets) one of our outgoing channels.
func (s *Server) ownLeg(id string, c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c == nil {
		delete(s.legs, id)
		return
	}
	s.legs[id] = c
}

// live returns the call's board line.
func (c *call) live() LiveCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	lc := LiveCall{
		ID: c.id, ChannelID: c.channelID, Caller: c.callerShown(), State: c.state, Started: c.started,
		CafeCode: c.rec.Cafe, CafeName: c.cafeName, Province: c.provinceName, Region: c.rec.Region,
		MatchedBy: string(c.rec.MatchedBy), Callback: c.cb != nil,
	}
	if c.target != nil {
		t := *c.target
		lc.Target = &t
	}
	if x := c.xfer; x != nil {
		from := x.from
		lc.TransferFrom, lc.TransferFromGone, lc.TransferTo = &from, x.fromGone, x.to
	}
	return lc
}

func (c *call) callerShown() string {
	if c.number.E164 != "" {
		return c.number.E164
	}
	return c.callerRaw
}

// setState moves the call to state, keeping the ActiveCalls gauge right.
func (c *call) setState(state string) {
	c.mu.Lock()
	if state == StateRinging && c.xfer != nil {
		state = StateTransferring // ringing for a transfer (transfer.go)
	}
	old := c.state
	c.state = state
	c.mu.Unlock()
	if old == state {
		return
	}
	if old != "" {
		c.s.met.ActiveCalls(old, -1)
	}
	if state != "" {
		c.s.met.ActiveCalls(state, 1)
	}
}

// setTarget shows who is being rung or talked to (nil: nobody).
func (c *call) setTarget(t *LiveTarget) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.target = t
}
