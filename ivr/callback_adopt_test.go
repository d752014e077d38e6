package ivr_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/ivr"
	"github.com/csm-vn/hotline/store"
)

// missedCallRequest writes a missed call of café KG001 (cafe1Phone) with its
// callback request, due now, and returns the request's id.
func missedCallRequest(t *testing.T, db *sqlx.DB) int64 {
	t.Helper()
	ended := time.Now().Add(-time.Minute)
	_, err := store.WriteCall(context.Background(), db, &store.CallRecord{ID: "01KAB7Y1Q3F7T8M2XW6N4P9R5V",
		Node: "test-1", ChannelID: "missed", CallerRaw: cafe1Phone, Caller: "+84945551001", CallerKind: "mobile",
		Cafe: "KG001", MatchedBy: dialplan.MatchedByCallerID, StartedAt: ended.Add(-time.Minute), EndedAt: ended,
		Outcome: store.OutcomeNoAnswer, Callback: &store.CallbackRequest{Number: "+84945551001"}})
	require.NoError(t, err)
	var id int64
	require.NoError(t, db.Get(&id, "SELECT id FROM callbacks"))
	return id
}

// dialTo waits until number has been dialled (its dial request made) and
// returns that leg.
func (a *adoptEnv) dialTo(number string) aritest.Dialled {
	a.t.Helper()
	var d aritest.Dialled
	require.NoError(a.t, a.fake.WaitFor(ctxFor(a.t), func() bool {
		for _, x := range a.fake.Dials() {
			if x.Number == number && len(requestsOf(a.fake, "POST /ari/channels/"+x.ChannelID+"/dial")) == 1 {
				d = x
				return true
			}
		}
		return false
	}), "%s dialled", number)
	return d
}

// A callback try whose café and person are talking when the hotline is
// killed goes on with the new process: same bridge, both legs up, nothing
// rung again; when the café hangs up, the try is recorded once (answered,
// its two legs) and the request is done with one try counted. Before: the
// new process hung both legs up about 2 s after it started (leftovers) and
// the try had no record.
//
// The new process may be another instance (issue 12: a second serve takes
// a node over once the first died): it takes the request over from the
// instance that made the try, whose lease is still running, and finishes
// it. Before, that request stayed pending under the dead instance's name,
// and once its lease ended the café was called back again although it had
// been reached.
func TestAdoptionKeepsACallbackTryTalking(t *testing.T) {
	for _, tc := range []struct{ name, instance string }{
		{"same instance", "test-1"},
		{"another instance took the node over", "serve-2@node-a"},
	} {
		t.Run(tc.name, func(t *testing.T) { adoptCallbackTalking(t, tc.instance) })
	}
}

func adoptCallbackTalking(t *testing.T, instance string) {
	a := newAdoptEnv(t, envOption{cfg: expect{tech: true, confirm: true}.cfg(callbackConfig),
		fake: func(o *aritest.Options) {
			o.Phones = map[string]aritest.Phone{ktv1Vina: aritest.AnswersAndPresses(20*time.Millisecond, "1", 10*time.Millisecond),
				cafe1Phone: aritest.Answers(30 * time.Millisecond)}
		}})
	a.o.cfg = func(c *ivr.Config) {
		expect{tech: true, confirm: true}.cfg(callbackConfig)(c)
		c.Instance = instance
	}
	reqID := missedCallRequest(t, a.db)
	var br aritest.Bridge
	require.NoError(t, a.fake.WaitFor(ctxFor(t), func() bool {
		brs := a.fake.Bridges()
		if len(brs) == 1 && len(brs[0].Channels) == 2 {
			br = brs[0]
			return true
		}
		return false
	}), "the callback bridged")
	tryID := strings.TrimSuffix(br.ID, "-br")
	ktvLeg, cafeLeg := a.dialTo(ktv1Vina), a.dialTo(cafe1Phone)
	require.ElementsMatch(t, []string{ktvLeg.ChannelID, cafeLeg.ChannelID}, br.Channels)

	e := a.restart()
	waitLive(t, e.ctx(), e, "the try taken over, bridged with KTV1", func(l ivr.LiveCall) bool {
		return l.ID == tryID && l.Callback && l.State == "bridged" && l.Target != nil && l.Target.Staff == "KTV1" &&
			l.Target.Bridged
	})
	// Past start-up reconciliation (the worker polls only after it) and a
	// few passes of the worker: still talking, nobody rung again.
	waitPolls(t, e.srv, 3)
	brs := a.fake.Bridges()
	require.Len(t, brs, 1)
	require.Equal(t, br.ID, brs[0].ID)
	require.ElementsMatch(t, br.Channels, brs[0].Channels)
	require.Empty(t, e.requests("DELETE /ari/bridges/"))
	require.Zero(t, e.hangups(ktvLeg.ChannelID))
	require.Zero(t, e.hangups(cafeLeg.ChannelID))
	require.Len(t, e.dialsTo(ktv1Vina), 1)
	require.Len(t, e.dialsTo(cafe1Phone), 1)
	held := e.waitCallback("held", func(callbackRow) bool { return true })
	require.Equal(t, "pending", held.State)
	require.Equal(t, instance, held.Holder.String, "the request stays held (by the new process) while the try talks")

	require.NoError(t, a.fake.HangupLeg(cafeLeg.ChannelID))
	done := e.waitCallback("the request done", func(r callbackRow) bool { return r.State == "done" })
	require.Equal(t, reqID, done.ID)
	require.Equal(t, 1, done.Tries)
	require.Equal(t, "connected", done.Reason)
	require.Equal(t, tryID, done.LastCallID.String)
	require.NoError(t, e.srv.Wait(e.ctx()))
	var recs []callRow
	eventually(t, "the try's record", func() (bool, string) {
		recs = e.callbackRecords()
		return len(recs) == 1, fmt.Sprint(len(recs))
	})
	waitPolls(t, e.srv, 2)
	require.Len(t, e.callbackRecords(), 1, "recorded once")
	r := recs[0]
	require.Equal(t, tryID, r.ID)
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, "KTV1", r.AcceptedBy.String)
	require.Equal(t, "KG001", r.Cafe.String)
	require.Equal(t, "MN", r.Region.String)
	require.Contains(t, r.Detail, "taken over")
	require.Greater(t, r.Talk, 0.0)
	require.Equal(t, []string{"KTV1/answered", "/answered"}, r.results())
	require.Equal(t, ktvLeg.ChannelID, r.Legs[0].ChannelID)
	require.Equal(t, "cafe", r.Legs[1].Role)
	require.Equal(t, cafeLeg.ChannelID, r.Legs[1].ChannelID)
	require.Equal(t, cafeLeg.ChannelID, r.ChannelID)
	var cbID int64
	require.NoError(t, e.db.Get(&cbID, "SELECT callback_id FROM calls WHERE id = $1", r.ID))
	require.Equal(t, reqID, cbID)
	require.Equal(t, 1.0, e.metric("hotline_calls_adopted_total", "state", "bridged"))
	require.NoError(t, a.fake.CheckClean(e.ctx()))
	e.requireNoReservation(waitTimeout)
}

// A callback try that was not talking yet when the hotline was killed —
// the person still being rung, or the café being dialled for the person
// who pressed 1 — is ended cleanly by the new process: its legs are hung
// up, the try is recorded once, interrupted, and the request is tried
// again (no try counted) after its legs are gone. Before: the legs were
// hung up as leftovers and the try had no record.
func TestAdoptionEndsACallbackTryNotYetTalking(t *testing.T) {
	for _, tc := range []struct {
		name    string
		phones  map[string]aritest.Phone
		killAt  string // the number whose dial the kill waits for
		results []string
	}{
		{"ringing the person", nil, ktv1Vina, []string{"KTV1/cancelled"}},
		{"dialling the café", map[string]aritest.Phone{
			ktv1Vina: aritest.AnswersAndPresses(20*time.Millisecond, "1", 10*time.Millisecond),
		}, cafe1Phone, []string{"KTV1/answered", "/cancelled"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAdoptEnv(t, envOption{cfg: expect{tech: true, confirm: true}.cfg(callbackConfig),
				fake: func(o *aritest.Options) { o.Phones = tc.phones }})
			reqID := missedCallRequest(t, a.db)
			killed := a.dialTo(tc.killAt)
			tryID := killed.ChannelID[:strings.LastIndex(killed.ChannelID, "-leg")]
			var oldLegs []string
			for _, d := range a.fake.Dials() {
				oldLegs = append(oldLegs, d.ChannelID)
			}

			e := a.restart()
			var recs []callRow
			eventually(t, "the try recorded", func() (bool, string) {
				recs = e.callbackRecords()
				return len(recs) == 1, fmt.Sprint(len(recs))
			})
			r := recs[0]
			require.Equal(t, tryID, r.ID)
			require.Equal(t, "interrupted", r.Outcome, "%+v", r.Legs)
			require.Contains(t, r.Detail, "restart")
			require.Equal(t, tc.results, r.results())
			for i, l := range r.Legs {
				require.Equal(t, oldLegs[i], l.ChannelID)
			}
			require.Contains(t, r.Legs[len(r.Legs)-1].Detail, "restart")
			require.False(t, r.AcceptedBy.Valid)

			// Tried again, not counted, once the old legs are gone: nobody is
			// rung twice at once.
			var created []aritest.Request
			i := -1
			require.NoError(t, e.fake.WaitFor(e.ctx(), func() bool {
				for _, d := range e.dialsTo(ktv1Vina) {
					if strings.HasPrefix(d.ChannelID, tryID) {
						continue
					}
					// (the create request is in the fake's history once it is answered)
					created = requestsOf(e.fake, "POST /ari/channels/create")
					i = slices.IndexFunc(created, func(r aritest.Request) bool { return r.Query["channelId"][0] == d.ChannelID })
					return i >= 0
				}
				return false
			}), "the request tried again")
			for _, id := range oldLegs {
				require.True(t, eventAt(t, e.fake, "ChannelDestroyed", id).Before(created[i].At), "%s gone before the new try", id)
			}
			rows := e.callbacks()
			require.Len(t, rows, 1)
			require.Equal(t, reqID, rows[0].ID)
			require.Equal(t, "pending", rows[0].State)
			require.Zero(t, rows[0].Tries, "an interrupted try is not counted")
			require.Equal(t, tryID, rows[0].LastCallID.String)
			require.Equal(t, 1.0, e.metric("hotline_calls_adopted_total", "state", "ringing"))
			require.Empty(t, requestsOf(e.fake, "/ari/channels/"+tryID+"-leg1/continue"))
		})
	}
}
