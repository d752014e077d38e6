package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/internal/board"
	"github.com/csm-vn/hotline/ivr"
	"github.com/csm-vn/hotline/store"
)

// boardSource assembles the live board from the call flow (calls now), the
// store (today's totals, voicemails) and the directory (region names).
type boardSource struct {
	calls func() []nodeServer // every node's being served
	// nodes: the hotline serves more than one node (each call shows its own).
	nodes bool
	store *store.Store
	dir   func() *dialplan.Directory
}

// nodeServer is a node's call flow and the node's name.
type nodeServer struct {
	node  string
	calls *ivr.Server
}

func (s boardSource) Snapshot(ctx context.Context) (board.Snapshot, error) {
	now := time.Now()
	snap := board.Snapshot{Now: now}
	type liveCall struct {
		ivr.LiveCall
		node string
	}
	var live []liveCall
	for _, ns := range s.calls() {
		for _, c := range ns.calls.Snapshot() {
			lc := liveCall{LiveCall: c}
			if s.nodes {
				lc.node = ns.node
			}
			live = append(live, lc)
		}
	}
	slices.SortFunc(live, func(x, y liveCall) int {
		if c := x.Started.Compare(y.Started); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	for _, c := range live {
		bc := board.Call{ID: c.ID, State: c.State, CafeCode: c.CafeCode, CafeName: c.CafeName,
			Province: c.Province, Region: c.Region, Caller: c.Caller, Started: c.Started, StateSince: c.Started,
			Callback: c.Callback, Node: c.node}
		if t := c.Target; t != nil {
			p := board.Person{Staff: t.Staff, Name: t.Name, Role: t.Role, Number: t.Number, Since: t.Since}
			bc.Target, bc.StateSince = &p, t.Since
			if t.Bridged {
				snap.OnCall = append(snap.OnCall, p)
			}
		}
		if f := c.TransferFrom; f != nil {
			p := board.Person{Staff: f.Staff, Name: f.Name, Role: f.Role, Number: f.Number, Since: f.Since}
			bc.Transfer = &board.Transfer{From: p, FromGone: c.TransferFromGone, To: c.TransferTo}
			if !c.TransferFromGone {
				snap.OnCall = append(snap.OnCall, p) // still on the line, with the caller on hold
			}
		}
		snap.Calls = append(snap.Calls, bc)
	}

	from, to := board.TodayRange(now)
	counts, err := s.store.OutcomesByRegion(ctx, from, to)
	if err != nil {
		return snap, fmt.Errorf("today's totals: %w", err)
	}
	dir := s.dir()
	byRegion := map[string]*board.RegionTotals{}
	var order []string
	total := func(region string) *board.RegionTotals {
		if t, ok := byRegion[region]; ok {
			return t
		}
		t := &board.RegionTotals{Region: region, Name: "Chưa rõ vùng"}
		if r, ok := dir.Region(region); ok {
			t.Name = r.Name
		}
		byRegion[region] = t
		order = append(order, region)
		return t
	}
	for _, code := range dir.RegionCodes() {
		total(code)
	}
	for _, c := range counts {
		t := total(c.Region)
		t.Offered += c.Calls
		switch c.Outcome {
		case store.OutcomeAnswered:
			t.Answered += c.Calls
		case store.OutcomeAbandoned:
			t.Abandoned += c.Calls
		case store.OutcomeVoicemail:
			t.Voicemail += c.Calls
		case store.OutcomeNoAnswer:
			t.NoAnswer += c.Calls
		case store.OutcomeFailed:
			t.Failed += c.Calls
		case store.OutcomeInterrupted:
			t.Interrupted += c.Calls
		}
	}
	for _, region := range order {
		snap.Today = append(snap.Today, *byRegion[region])
	}

	n, err := s.store.VoicemailsWaiting(ctx)
	if err != nil {
		return snap, fmt.Errorf("voicemails: %w", err)
	}
	snap.VoicemailsWaiting = n
	if snap.CallbacksPending, err = s.store.CallbacksPending(ctx); err != nil {
		return snap, fmt.Errorf("callbacks: %w", err)
	}
	vms, err := s.store.ListVoicemails(ctx, store.VoicemailFilter{WaitingOnly: true, Limit: 500})
	if err != nil {
		return snap, fmt.Errorf("voicemails: %w", err)
	}
	if len(vms) > 0 {
		snap.OldestVoicemail = vms[0].CreatedAt // listed oldest first
	}
	slices.Reverse(vms)
	for _, v := range vms[:min(len(vms), board.DefaultVoicemails)] {
		snap.Voicemails = append(snap.Voicemails, board.Voicemail{ID: v.ID, CafeCode: v.Cafe, CafeName: v.CafeName,
			CallbackNumber: v.CallbackNumber, Created: v.CreatedAt})
	}
	return snap, nil
}
