package arifake

import (
	"slices"
	"time"
)

// Detectors for fault-injection and chaos runs: what a caller or a person
// would notice and the application's own view cannot show. They watch the
// fake's state as it changes (with Server.mu held), so nothing is missed
// between two looks.

// DoubleRing is a number dialled while another leg to it was still ringing or
// up: one person's phone rung twice at once.
type DoubleRing struct {
	Number string // the dialled number's digits, e.g. "0945550101"
	Leg    string // the new leg's channel id
	Other  string // the leg already ringing or up
	At     time.Time
}

// AloneInBridge is a stretch of time a channel spent alone in a bridge,
// talking to nobody.
type AloneInBridge struct {
	Bridge  string
	Channel string
	Caller  bool // the channel is an incoming call (PlaceCall), not an outgoing leg
	From    time.Time
	To      time.Time // zero while it lasts
}

// Duration is how long it lasted, or has lasted at now when it still does.
func (a AloneInBridge) Duration(now time.Time) time.Duration {
	if a.To.IsZero() {
		return now.Sub(a.From)
	}
	return a.To.Sub(a.From)
}

// ConversationCut is a conversation the application ended while both sides
// were still there: a caller and an outgoing leg alone together in a
// bridge, and a REST request hung one of them up, sent one back to the
// dialplan, took one out or destroyed the bridge. (A conversation ends
// normally when a side hangs up: the application then clears a bridge of
// one.)
type ConversationCut struct {
	Bridge string
	Caller string
	Leg    string
	How    string // hangup, continue, remove, destroy
	At     time.Time
}

// watchState is what the detectors saw. Guarded by Server.mu.
type watchState struct {
	cuts        []ConversationCut
	doubleRings []DoubleRing
	alone       []AloneInBridge            // ended stretches
	aloneNow    map[*bridge]*AloneInBridge // the current one per bridge
}

// watchDial notes a double ring when ch starts dialling a number another
// live, dialled leg is on. Two legs to one number that overlap in time are
// always caught: the later one starts while the earlier one lives. Callers
// hold s.mu.
func (s *Server) watchDial(ch *channel) {
	if ch.target.Number == "" {
		return
	}
	keys := numberKeys(ch.target.Number)
	for _, o := range s.channelsSorted() {
		if o == ch || !o.outgoing || !o.dialed || o.gone {
			continue
		}
		if !sameNumber(keys, o.target.Number) {
			continue
		}
		s.watch.doubleRings = trimHistory(append(s.watch.doubleRings, DoubleRing{
			Number: ch.target.Number, Leg: ch.id, Other: o.id, At: time.Now(),
		}), s.opts.HistoryLimit)
		return
	}
}

func sameNumber(keys []string, number string) bool {
	n := digits(number)
	for _, k := range keys {
		if k == n {
			return true
		}
	}
	return false
}

// watchCut notes a conversation cut when b holds exactly a live caller and
// a live outgoing leg and a request is about to end it. Callers hold s.mu.
func (s *Server) watchCut(b *bridge, how string) {
	if b == nil || len(b.channels) != 2 {
		return
	}
	var caller, leg *channel
	for _, c := range b.channels {
		switch {
		case c.gone:
		case c.fromDialplan:
			caller = c
		case c.outgoing:
			leg = c
		}
	}
	if caller == nil || leg == nil {
		return
	}
	s.watch.cuts = trimHistory(append(s.watch.cuts, ConversationCut{
		Bridge: b.id, Caller: caller.id, Leg: leg.id, How: how, At: time.Now(),
	}), s.opts.HistoryLimit)
}

// watchBridge follows who is alone in b after its members changed. Callers
// hold s.mu.
func (s *Server) watchBridge(b *bridge) {
	w := &s.watch
	now := time.Now()
	var alone *channel
	if len(b.channels) == 1 {
		alone = b.channels[0]
	}
	if cur := w.aloneNow[b]; cur != nil && (alone == nil || cur.Channel != alone.id) {
		cur.To = now
		w.alone = trimHistory(append(w.alone, *cur), s.opts.HistoryLimit)
		delete(w.aloneNow, b)
	}
	if alone != nil && w.aloneNow[b] == nil {
		if w.aloneNow == nil {
			w.aloneNow = map[*bridge]*AloneInBridge{}
		}
		w.aloneNow[b] = &AloneInBridge{Bridge: b.id, Channel: alone.id, Caller: alone.fromDialplan, From: now}
	}
}

// DoubleRings returns every number dialled while already ringing or up on
// another leg, oldest first.
func (s *Server) DoubleRings() []DoubleRing {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]DoubleRing(nil), s.watch.doubleRings...)
}

// ConversationsCut returns the conversations the application cut short,
// oldest first.
func (s *Server) ConversationsCut() []ConversationCut {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ConversationCut(nil), s.watch.cuts...)
}

// AloneInBridges returns every stretch a channel spent alone in a bridge:
// the ended ones, oldest first, then those still lasting (To zero). A
// stretch of a few milliseconds is normal (a bridge is filled one channel at
// a time, and emptied when one side hangs up); a long one is a person
// talking to nobody.
func (s *Server) AloneInBridges() []AloneInBridge {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]AloneInBridge(nil), s.watch.alone...)
	open := make([]AloneInBridge, 0, len(s.watch.aloneNow))
	for _, a := range s.watch.aloneNow {
		open = append(open, *a)
	}
	slices.SortFunc(open, func(a, b AloneInBridge) int { return a.From.Compare(b.From) })
	return append(out, open...)
}
