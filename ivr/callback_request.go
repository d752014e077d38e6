package ivr

import (
	"context"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/store"
)

// askCallback marks a café's finished call for a callback request when it
// qualifies: callbacks enabled, a known and active café, the call ended
// no_answer, voicemail or abandoned, and the caller waited longer than
// MinWait. The store makes the request when it writes the record (so it
// survives a database outage in the spool with the record).
func (s *Server) askCallback(rec *store.CallRecord) {
	cfg := s.cfg.Callback
	if !cfg.Enabled || s.cb.store == nil || rec.Cafe == "" ||
		(rec.Direction != "" && rec.Direction != store.DirectionInbound) {
		return
	}
	switch rec.Outcome {
	case store.OutcomeNoAnswer, store.OutcomeVoicemail, store.OutcomeAbandoned:
	default:
		return
	}
	if rec.Wait <= cfg.MinWait {
		return
	}
	dir := s.dir()
	if dir == nil {
		return
	}
	cafe, ok := dir.CafeByCode(rec.Cafe)
	if !ok || cafe.Status != dialplan.StatusActive {
		return
	}
	number := callbackNumber(rec.Caller, cafe)
	if number == "" {
		s.log.Warn("missed call of a café with no number to call back", "call_id", rec.ID, "cafe", rec.Cafe)
		return
	}
	rec.Callback = &store.CallbackRequest{Number: number}
	s.log.Info("missed call: the café will be called back", "call_id", rec.ID, "cafe", rec.Cafe,
		"outcome", string(rec.Outcome), "wait", rec.Wait)
}

// callbackNumber is the number to call a café back on: the number that
// called (the caller ID the network gave, never digits typed) when it is a
// Vietnamese mobile or landline number, else the café's first number in the
// directory; "" when neither can be dialled.
func callbackNumber(caller string, cafe *dialplan.Cafe) string {
	if n := dialplan.Normalize(caller); n.Dialable() {
		return n.E164
	}
	if cafe == nil {
		return ""
	}
	for _, p := range cafe.Phones {
		if n := dialplan.Normalize(p); n.Dialable() {
			return n.E164
		}
	}
	return ""
}

// cafeCalling is told that a café the hotline recognised is calling: its
// pending callback (from an earlier call) is cancelled at once, by a
// goroutine the call owns. Should the database not answer, the call's
// record cancels it when it is written. It is called with c.mu held.
func (s *Server) cafeCalling(c *call, cafe string) {
	if !s.cfg.Callback.Enabled || s.cb.store == nil || c.cb != nil {
		return
	}
	log := c.log // (the flow goes on changing c.log)
	c.goOwned(func() {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RequestTimeout)
		defer cancel()
		n, err := s.cb.store.CancelCafeCallbacks(ctx, cafe, store.CallbackClosedNewCall, c.id)
		switch {
		case err != nil:
			s.met.DBError("cancel_callbacks")
			log.Warn("could not cancel the café's pending callback; its call's record will", "err", err)
		case n > 0:
			log.Info("the café called again: its pending callback is cancelled")
		}
	})
}
