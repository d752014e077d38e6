package sim

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/csm-vn/hotline/ari/arifake"
)

// Faults of a chaos run, and what the fake saw when it was over: the
// detectors that tell whether callers and staff noticed the faults.

// DefaultAloneLimit is how long a caller may be alone in a bridge before it
// counts as "bridged with nobody": a bridge empties within a fraction of a
// second when the other side hangs up, and an ARI reconnect takes about one.
const DefaultAloneLimit = 5 * time.Second

// DefaultSettle bounds the wait, after the last call, for the fake to have
// no channel and no bridge left.
const DefaultSettle = 30 * time.Second

// Chaos is what the fake saw about the faults and their effect.
type Chaos struct {
	// WSCuts is how many times the app's events WebSocket was dropped.
	WSCuts int
	// REST500s is how many REST requests were answered 500 on purpose.
	REST500s int
	// LegsLeftUp and BridgesLeft are the channels and bridges still alive
	// once every call had ended and Settle had passed.
	LegsLeftUp, BridgesLeft int
	// Leftovers describes them (id, name, state), for the log.
	Leftovers []string
	// DoubleRings are numbers dialled while already ringing or up on
	// another leg.
	DoubleRings []arifake.DoubleRing
	// ConversationsCut are conversations the app ended while both sides
	// were still there (e.g. a restart hanging up the person).
	ConversationsCut []arifake.ConversationCut
	// CallersAlone and StaffAlone are the stretches a caller (or an
	// outgoing leg) spent alone in a bridge for longer than AloneLimit.
	CallersAlone, StaffAlone []arifake.AloneInBridge
	AloneLimit               time.Duration
}

// cutWebSocket drops the app's events WebSocket every interval until ctx
// ends.
func (g *generator) cutWebSocket(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if g.srv.CutWebSocket(g.opts.App) {
			g.mu.Lock()
			g.rep.Chaos.WSCuts++
			g.mu.Unlock()
			g.log.Info("chaos: dropped the app's events WebSocket")
		}
	}
}

// settle waits (up to Settle, or until ctx ends) for the fake to have no
// channel and no bridge left, then reads the detectors.
func (g *generator) settle(ctx context.Context) {
	wait := g.opts.Settle
	if wait <= 0 {
		wait = DefaultSettle
	}
	limit := g.opts.AloneLimit
	if limit <= 0 {
		limit = DefaultAloneLimit
	}
	sctx, cancel := context.WithTimeout(ctx, wait)
	err := g.srv.CheckClean(sctx)
	cancel()
	if err != nil && !errors.Is(err, arifake.ErrNotClean) {
		g.log.Warn("waiting for the fake to settle", "err", err)
	}
	c := &g.rep.Chaos
	chs, brs := g.srv.Leftovers()
	c.LegsLeftUp, c.BridgesLeft = len(chs), len(brs)
	for _, ch := range chs {
		c.Leftovers = append(c.Leftovers, fmt.Sprintf("channel %s (%s, %s)", ch.ID, ch.Name, ch.State))
	}
	for _, b := range brs {
		c.Leftovers = append(c.Leftovers, fmt.Sprintf("bridge %s %v", b.ID, b.Channels))
	}
	c.DoubleRings = g.srv.DoubleRings()
	c.ConversationsCut = g.srv.ConversationsCut()
	c.AloneLimit = limit
	now := time.Now()
	for _, a := range g.srv.AloneInBridges() {
		if a.Duration(now) <= limit {
			continue
		}
		if a.Caller {
			c.CallersAlone = append(c.CallersAlone, a)
		} else {
			c.StaffAlone = append(c.StaffAlone, a)
		}
	}
}

// writeChaos prints the faults and the detectors for people.
func (r Report) writeChaos(b *strings.Builder) {
	c := r.Chaos
	if c.WSCuts > 0 || c.REST500s > 0 {
		fmt.Fprintf(b, "faults: events WebSocket dropped %d times, %d REST requests answered 500\n", c.WSCuts, c.REST500s)
	}
	fmt.Fprintf(b, "after the run: %d channels and %d bridges left up, %d numbers rung twice at once, "+
		"%d callers and %d staff alone in a bridge for more than %s, %d conversations cut by the app\n",
		c.LegsLeftUp, c.BridgesLeft, len(c.DoubleRings), len(c.CallersAlone), len(c.StaffAlone), c.AloneLimit,
		len(c.ConversationsCut))
	for _, l := range c.Leftovers {
		fmt.Fprintf(b, "  left up: %s\n", l)
	}
	for _, d := range c.DoubleRings {
		fmt.Fprintf(b, "  rung twice: %s (leg %s while %s was ringing or up) at %s\n", d.Number, d.Leg, d.Other, d.At.Format(time.TimeOnly))
	}
	for _, x := range c.ConversationsCut {
		fmt.Fprintf(b, "  conversation cut: caller %s and leg %s (%s of bridge %s) at %s\n", x.Caller, x.Leg, x.How, x.Bridge, x.At.Format(time.TimeOnly))
	}
	for _, a := range append(append([]arifake.AloneInBridge(nil), c.CallersAlone...), c.StaffAlone...) {
		who := "leg"
		if a.Caller {
			who = "caller"
		}
		fmt.Fprintf(b, "  alone in bridge %s: %s %s for %s from %s\n", a.Bridge, who, a.Channel,
			a.Duration(time.Now()).Round(time.Millisecond), a.From.Format(time.TimeOnly))
	}
}

// Summary is the machine-readable end of a run: one JSON object with flat
// fields, printed as the last line of `hotline simulate` (scripts/chaos.sh
// reads it). Records are filled in by whoever can read the call records.
type Summary struct {
	CallsPlaced   int `json:"calls_placed"`
	CallsTaken    int `json:"calls_taken"`    // entered the app (StasisStart)
	CallsFallback int `json:"calls_fallback"` // found no app connected: the dialplan's fallback took them
	CallsEnded    int `json:"calls_ended"`    // callers whose channel ended
	// CallersCutShort were still waiting when the run ended (or after the
	// caller's own limit) and were hung up by simulate: calls the app left
	// hanging, e.g. whose StasisStart it never got.
	CallersCutShort int `json:"callers_cut_short"`

	RecordsChecked       bool           `json:"records_checked"`
	RecordsWritten       int            `json:"records_written"`   // calls taken with a row in calls
	RecordsLost          int            `json:"records_lost"`      // calls taken without one
	RecordsDuplicate     int            `json:"records_duplicate"` // rows beyond the first for a call
	Interrupted          int            `json:"records_interrupted"`
	InterruptedByRestart int            `json:"interrupted_by_restart"` // left by a previous process
	Outcomes             map[string]int `json:"outcomes"`
	RecordsMissing       []string       `json:"records_missing,omitempty"` // caller channels without a record (the first 20)

	LegsLeftUp               int     `json:"legs_left_up"`
	BridgesLeft              int     `json:"bridges_left"`
	StaffRungTwice           int     `json:"staff_rung_twice"`
	CallersBridgedWithNobody int     `json:"callers_bridged_with_nobody"`
	ConversationsCut         int     `json:"conversations_cut"`
	StaffBridgedWithNobody   int     `json:"staff_bridged_with_nobody"`
	AloneLimitSeconds        float64 `json:"alone_limit_seconds"`

	WSCuts       int     `json:"ws_cuts"`
	REST500s     int     `json:"rest_500s"`
	RESTRequests int     `json:"rest_requests"` // served by the fake (the 500s not included)
	Seconds      float64 `json:"seconds"`       // placing the calls and waiting for them to end

	// GoalsMissed names the fields above that should be 0 and are not
	// (records_lost only when the records were checked); empty means
	// every goal was met.
	GoalsMissed []string `json:"goals_missed"`
}

// Summary returns the report's machine-readable summary (records not
// checked).
func (r Report) Summary() Summary {
	s := Summary{
		CallsPlaced: r.Placed, CallsTaken: len(r.CallIDs), CallsFallback: r.Fallback, CallsEnded: r.Completed,
		CallersCutShort: r.Heard["cut_short"] + r.Heard["too_long"],
		LegsLeftUp:      r.Chaos.LegsLeftUp, BridgesLeft: r.Chaos.BridgesLeft, StaffRungTwice: len(r.Chaos.DoubleRings),
		CallersBridgedWithNobody: len(r.Chaos.CallersAlone), StaffBridgedWithNobody: len(r.Chaos.StaffAlone),
		ConversationsCut:  len(r.Chaos.ConversationsCut),
		AloneLimitSeconds: r.Chaos.AloneLimit.Seconds(),
		WSCuts:            r.Chaos.WSCuts, REST500s: r.Chaos.REST500s, RESTRequests: r.ARIRequests, Seconds: r.Elapsed.Seconds(),
		Outcomes: map[string]int{},
	}
	s.CheckGoals()
	return s
}

// CheckGoals fills GoalsMissed.
func (s *Summary) CheckGoals() {
	s.GoalsMissed = []string{}
	for _, g := range []struct {
		name string
		n    int
		on   bool
	}{
		{"records_lost", s.RecordsLost, s.RecordsChecked},
		{"records_duplicate", s.RecordsDuplicate, s.RecordsChecked},
		{"legs_left_up", s.LegsLeftUp, true},
		{"bridges_left", s.BridgesLeft, true},
		{"staff_rung_twice", s.StaffRungTwice, true},
		{"callers_bridged_with_nobody", s.CallersBridgedWithNobody, true},
		{"conversations_cut", s.ConversationsCut, true},
	} {
		if g.on && g.n != 0 {
			s.GoalsMissed = append(s.GoalsMissed, g.name)
		}
	}
}
