package ivr

import (
	"context"
	"time"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/store"
)

// The journal of calls in progress (PostgreSQL live_calls, store.LiveCall):
// a row per café's call from its start until its record is written (the
// write deletes it). Asterisk keeps what a restart needs to take a call over
// (persist.go), but a caller who hangs up while no process runs, before any
// leg was created, leaves nothing there: the journal is how the next run
// still records that call (interrupted).

// callJournal is the optional side of a Reserver (store.Store) that keeps
// the journal.
type callJournal interface {
	BeginCall(ctx context.Context, c store.LiveCall) error
	LiveCalls(ctx context.Context, instance string) ([]store.LiveCall, error)
}

// note writes the call's row in the journal (the call owns the goroutine;
// teardown waits for it before submitting the record, so the record's write
// comes after and deletes the row). A failure is logged and counted: the call
// goes on, it just could not be recorded by a restart.
func (c *call) note() {
	j, ok := c.s.res.(callJournal)
	if !ok || !c.persisted() || c.adopted != nil {
		close(c.noted)
		return
	}
	c.goOwned(func() {
		defer close(c.noted)
		ctx, cancel := context.WithTimeout(context.Background(), c.s.cfg.RequestTimeout)
		defer cancel()
		if err := j.BeginCall(ctx, store.LiveCall{ID: c.id, Instance: c.s.cfg.Instance, Run: c.s.run,
			ChannelID: c.channelID, CallerRaw: c.callerRaw, StartedAt: c.started}); err != nil {
			c.s.met.DBError("begin_call")
			c.log.Warn("could not note the call in the database; a restart could not record it if nothing of it is left in Asterisk",
				"err", err)
		}
	})
}

// awaitNoted waits (within RequestTimeout) until the call's journal row is
// written, so that the record, written after, deletes it.
func (c *call) awaitNoted() {
	if c.noted == nil {
		return
	}
	t := time.NewTimer(c.s.cfg.RequestTimeout)
	defer t.Stop()
	select {
	case <-c.noted:
	case <-t.C:
	}
}

// previousRun lists the journal's calls of previous runs of this Instance
// (their record was never written), by caller's channel; nil when the
// Reserver keeps no journal or the database does not answer (logged).
func (s *Server) previousRun(ctx context.Context) map[string]store.LiveCall {
	j, ok := s.res.(callJournal)
	if !ok {
		return nil
	}
	var rows []store.LiveCall
	_, err := s.retryCtx(ctx, func(ctx context.Context) error {
		var err error
		rows, err = j.LiveCalls(ctx, s.cfg.Instance)
		return err
	})
	if err != nil {
		s.met.DBError("live_calls")
		s.log.Error("could not read the calls a previous run of this instance left unrecorded; they stay unrecorded until the next start",
			"err", err)
		return nil
	}
	out := make(map[string]store.LiveCall, len(rows))
	for _, r := range rows {
		if r.Run != s.run {
			out[r.ChannelID] = r
		}
	}
	return out
}

// recordVanished records, as interrupted, the calls of a previous run that
// left nothing in Asterisk (their caller's channel was not in the
// application at start-up, and no leg of theirs was: nothing was taken
// over) — a caller who hung up while no process ran.
func (s *Server) recordVanished(prev map[string]store.LiveCall, present map[string]bool) int {
	n := 0
	for ch, r := range prev {
		if present[ch] || s.live(r.ID) {
			continue
		}
		num := dialplan.Normalize(r.CallerRaw)
		rec := store.CallRecord{ID: r.ID, Node: s.cfg.Instance, ChannelID: r.ChannelID, CallerRaw: r.CallerRaw,
			Caller: num.E164, CallerKind: string(num.Kind), MatchedBy: dialplan.MatchedByNone, StartedAt: r.StartedAt,
			EndedAt: s.now(), Outcome: store.OutcomeInterrupted,
			Detail: "the caller's channel vanished while the hotline was restarting; nothing of the call was left in Asterisk"}
		if rec.EndedAt.Before(rec.StartedAt) {
			rec.EndedAt = rec.StartedAt
		}
		rec.Wait = rec.EndedAt.Sub(rec.StartedAt)
		s.met.CallOffered("", "")
		s.met.CallEnded(string(store.OutcomeInterrupted), "", "")
		s.rec.Submit(rec)
		s.log.Warn("recorded a call of a previous run that left nothing in Asterisk", "call_id", r.ID,
			"channel_id", r.ChannelID, "caller", r.CallerRaw)
		n++
	}
	return n
}

// live reports whether a call of this id is in progress here (taken over
// at start-up included: it is recorded by its own flow).
func (s *Server) live(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.adoptedIDs[id] {
		return true
	}
	for _, c := range s.calls {
		if c.id == id {
			return true
		}
	}
	return false
}
