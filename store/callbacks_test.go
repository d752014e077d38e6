package store

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/dialplan"
)

// missedCall is a no_answer call from café KG001 that asks for a callback.
func missedCall(id string, start time.Time) CallRecord {
	return CallRecord{
		ID: id, Node: "node-1", CallerRaw: "0945551001", Caller: "+84945551001", CallerKind: "mobile", Cafe: "KG001",
		MatchedBy: dialplan.MatchedByCallerID, StartedAt: start, EndedAt: start.Add(40 * time.Second),
		Outcome: OutcomeNoAnswer, Wait: 40 * time.Second,
		Callback: &CallbackRequest{Number: "+84945551001"},
	}
}

func writeCall(t *testing.T, db *sqlx.DB, rec CallRecord) {
	t.Helper()
	ok, err := WriteCall(testCtx(t), db, &rec)
	require.NoError(t, err)
	require.True(t, ok)
}

func callbackRow(t *testing.T, db *sqlx.DB, callID string) (state, reason string, tries int) {
	t.Helper()
	require.NoError(t, db.QueryRowContext(testCtx(t),
		"SELECT state, close_reason, tries FROM callbacks WHERE call_id = $1", callID).Scan(&state, &reason, &tries))
	return state, reason, tries
}

func TestCallbackRequestWrittenWithTheMissedCall(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	writeCall(t, db, missedCall("m1", t0))
	var cb Callback
	require.NoError(t, db.GetContext(ctx, &cb, "SELECT "+callbackColumns+" FROM callbacks"))
	require.Equal(t, "m1", cb.CallID)
	require.Equal(t, "KG001", cb.Cafe)
	require.Equal(t, "+84945551001", cb.Number)
	require.Equal(t, CallbackPending, cb.State)
	require.Zero(t, cb.Tries)
	require.True(t, cb.NextAt.Equal(t0.Add(40*time.Second)), "due when the missed call ended: %v", cb.NextAt)
	var dir string
	require.NoError(t, db.GetContext(ctx, &dir, "SELECT direction FROM calls WHERE id = 'm1'"))
	require.Equal(t, "inbound", dir)

	// A callback try is a call record of direction callback, naming the request.
	try := CallRecord{ID: "t1", Direction: DirectionCallback, CallbackID: cb.ID, Cafe: "KG001", Caller: "+84945551001",
		StartedAt: t0.Add(time.Minute), EndedAt: t0.Add(2 * time.Minute), Outcome: OutcomeAnswered,
		AcceptedAt: t0.Add(70 * time.Second), AcceptedBy: "KTV01",
		Legs: []LegRecord{
			{Staff: "KTV01", Role: dialplan.RoleTechnician, Number: "+84945550101", RingAt: t0.Add(time.Minute),
				AnsweredAt: t0.Add(62 * time.Second), AcceptedAt: t0.Add(63 * time.Second), EndedAt: t0.Add(2 * time.Minute),
				Result: LegAnswered},
			{Role: RoleCafe, Number: "+84945551001", RingAt: t0.Add(63 * time.Second), AnsweredAt: t0.Add(70 * time.Second),
				AcceptedAt: t0.Add(70 * time.Second), EndedAt: t0.Add(2 * time.Minute), Result: LegAnswered},
		}}
	writeCall(t, db, try)
	var got struct {
		Direction  string `db:"direction"`
		CallbackID int64  `db:"callback_id"`
	}
	require.NoError(t, db.GetContext(ctx, &got, "SELECT direction, callback_id FROM calls WHERE id = 't1'"))
	require.Equal(t, "callback", got.Direction)
	require.Equal(t, cb.ID, got.CallbackID)
	require.Equal(t, 1, countRows(t, db, "SELECT count(*) FROM call_legs WHERE call_id = 't1' AND role = 'cafe'"))
	// A callback try does not cancel the request it is a try of.
	state, _, _ := callbackRow(t, db, "m1")
	require.Equal(t, "pending", state)
}

func TestCallbackRequestValidation(t *testing.T) {
	for name, mod := range map[string]func(*CallRecord){
		"answered call":      func(r *CallRecord) { r.Outcome = OutcomeAnswered },
		"no café":            func(r *CallRecord) { r.Cafe = "" },
		"foreign number":     func(r *CallRecord) { r.Callback.Number = "+14155550100" },
		"callback of a try":  func(r *CallRecord) { r.Direction = DirectionCallback },
		"unknown direction":  func(r *CallRecord) { r.Direction = "outbound"; r.Callback = nil },
		"id on inbound call": func(r *CallRecord) { r.CallbackID = 7; r.Callback = nil },
	} {
		t.Run(name, func(t *testing.T) {
			rec := missedCall("x", t0)
			mod(&rec)
			require.Error(t, rec.Validate())
		})
	}
	rec := missedCall("x", t0)
	require.NoError(t, rec.Validate())
}

func TestCallbackCancelledByNewCallAndHandledVoicemail(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	st := New(db)

	// A newer call from the café, recorded, cancels the request.
	writeCall(t, db, missedCall("m1", t0))
	newer := sampleCall("a1")
	newer.Cafe, newer.StartedAt, newer.EndedAt = "KG001", t0.Add(time.Hour), t0.Add(time.Hour+time.Minute)
	newer.AcceptedAt = newer.StartedAt.Add(20 * time.Second)
	writeCall(t, db, newer)
	state, reason, _ := callbackRow(t, db, "m1")
	require.Equal(t, "cancelled", state)
	require.Equal(t, CallbackClosedNewCall, reason)

	// An older record replayed late (from the spool) asks for nothing: a
	// newer call of the café is recorded.
	writeCall(t, db, missedCall("m0", t0.Add(-time.Hour)))
	require.Zero(t, countRows(t, db, "SELECT count(*) FROM callbacks WHERE call_id = 'm0'"))

	// Marking the café's voicemail handled cancels its pending request.
	vm := missedCall("m2", t0.Add(2*time.Hour))
	vm.Outcome = OutcomeVoicemail
	vm.Voicemail = &Voicemail{Recording: "hotline-vm-m2", CallbackNumber: "+84945551001"}
	writeCall(t, db, vm)
	state, _, _ = callbackRow(t, db, "m2")
	require.Equal(t, "pending", state)
	var vmID int64
	require.NoError(t, db.GetContext(ctx, &vmID, "SELECT id FROM voicemails WHERE call_id = 'm2'"))
	require.NoError(t, st.MarkVoicemailHandled(ctx, vmID, "sup1", "called back"))
	state, reason, _ = callbackRow(t, db, "m2")
	require.Equal(t, "cancelled", state)
	require.Equal(t, CallbackClosedVoicemailHandled, reason)

	// The hotline's own cancellation when it recognises the café calling.
	writeCall(t, db, missedCall("m3", t0.Add(3*time.Hour)))
	n, err := st.CancelCafeCallbacks(ctx, "KG001", CallbackClosedNewCall, "m3")
	require.NoError(t, err)
	require.Zero(t, n, "the request of the calling call itself is kept")
	n, err = st.CancelCafeCallbacks(ctx, "KG001", CallbackClosedNewCall, "new")
	require.NoError(t, err)
	require.Equal(t, 1, n)
	n, err = st.CancelCafeCallbacks(ctx, "KG001", CallbackClosedNewCall, "new")
	require.NoError(t, err)
	require.Zero(t, n)

	ch, err := st.CountCallbackChanges(ctx)
	require.NoError(t, err)
	require.Equal(t, CallbackChanges{Requested: 3,
		Closed: map[string]int{CallbackClosedNewCall: 2, CallbackClosedVoicemailHandled: 1}}, ch)
	ch, err = st.CountCallbackChanges(ctx)
	require.NoError(t, err)
	require.Equal(t, CallbackChanges{Closed: map[string]int{}}, ch, "each change is counted once")
}

func TestClaimCallbackOnceAcrossInstances(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	st := New(db)
	writeCall(t, db, missedCall("m1", t0))

	// Eight claimers at once, as two instances' workers would: one wins.
	var mu sync.Mutex
	var got []*Callback
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cb, err := st.ClaimCallback(ctx, []string{"a", "b"}[i%2], time.Minute)
			require.NoError(t, err)
			if cb != nil {
				mu.Lock()
				got = append(got, cb)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.Len(t, got, 1)
	var holder string
	require.NoError(t, db.GetContext(ctx, &holder, "SELECT holder FROM callbacks WHERE id = $1", got[0].ID))
	other := map[string]string{"a": "b", "b": "a"}[holder]
	_, err := st.HoldCafeCallback(ctx, "KG001", other, time.Minute)
	require.ErrorIs(t, err, ErrCallbackBusy)
	n, err := st.ExtendCallbackLeases(ctx, holder, []int64{got[0].ID}, time.Minute)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	// Not finished by the other instance; the holder's try counts.
	st2, err := st.FinishCallback(ctx, got[0].ID, other, CallbackTry{Counts: true, MaxTries: 3, Retry: time.Hour})
	require.NoError(t, err)
	require.Equal(t, CallbackPending, st2)
	_, _, tries := callbackRow(t, db, "m1")
	require.Zero(t, tries)
	state, err := st.FinishCallback(ctx, got[0].ID, holder, CallbackTry{CallID: "t1", Counts: true, MaxTries: 3, Retry: time.Hour})
	require.NoError(t, err)
	require.Equal(t, CallbackPending, state)
	_, _, tries = callbackRow(t, db, "m1")
	require.Equal(t, 1, tries)
	// Not due for an hour: nothing to claim.
	cb, err := st.ClaimCallback(ctx, "a", time.Minute)
	require.NoError(t, err)
	require.Nil(t, cb)

	// An expired lease (the holder died) lets another instance take it.
	_, err = db.ExecContext(ctx, "UPDATE callbacks SET next_at = now(), holder = 'dead', held_until = now() - interval '1s'")
	require.NoError(t, err)
	cb, err = st.ClaimCallback(ctx, "a", time.Minute)
	require.NoError(t, err)
	require.NotNil(t, cb)
	require.Equal(t, 1, cb.Tries)
}

func TestFinishCallbackTriesAndOutcomes(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	st := New(db)
	claim := func() *Callback {
		t.Helper()
		_, err := db.ExecContext(ctx, "UPDATE callbacks SET next_at = now() WHERE state = 'pending'")
		require.NoError(t, err)
		cb, err := st.ClaimCallback(ctx, "a", time.Minute)
		require.NoError(t, err)
		require.NotNil(t, cb)
		return cb
	}
	try := CallbackTry{Counts: true, MaxTries: 3, Retry: time.Hour}

	writeCall(t, db, missedCall("m1", t0))
	// Nobody free: no try counted.
	s, err := st.FinishCallback(ctx, claim().ID, "a", CallbackTry{MaxTries: 3, Retry: time.Minute})
	require.NoError(t, err)
	require.Equal(t, CallbackPending, s)
	for i, want := range []CallbackState{CallbackPending, CallbackPending, CallbackGivenUp} {
		s, err := st.FinishCallback(ctx, claim().ID, "a", try)
		require.NoError(t, err)
		require.Equal(t, want, s, "try %d", i+1)
	}
	state, reason, tries := callbackRow(t, db, "m1")
	require.Equal(t, "given_up", state)
	require.Equal(t, CallbackClosedTriesExhausted, reason)
	require.Equal(t, 3, tries)

	writeCall(t, db, missedCall("m2", t0.Add(time.Hour)))
	s, err = st.FinishCallback(ctx, claim().ID, "a", CallbackTry{CallID: "t", Connected: true, Counts: true, MaxTries: 3})
	require.NoError(t, err)
	require.Equal(t, CallbackDone, s)
	state, reason, tries = callbackRow(t, db, "m2")
	require.Equal(t, "done", state)
	require.Equal(t, CallbackClosedConnected, reason)
	require.Equal(t, 1, tries)

	writeCall(t, db, missedCall("m3", t0.Add(2*time.Hour)))
	s, err = st.FinishCallback(ctx, claim().ID, "a", CallbackTry{CafeClosed: true})
	require.NoError(t, err)
	require.Equal(t, CallbackCancelled, s)

	// "Call back now" holds the café's pending request, due or not.
	writeCall(t, db, missedCall("m4", t0.Add(3*time.Hour)))
	_, err = db.ExecContext(ctx, "UPDATE callbacks SET next_at = now() + interval '1 hour' WHERE call_id = 'm4'")
	require.NoError(t, err)
	id, err := st.HoldCafeCallback(ctx, "KG001", "b", time.Minute)
	require.NoError(t, err)
	require.NotZero(t, id)
	id2, err := st.HoldCafeCallback(ctx, "KG002", "b", time.Minute)
	require.NoError(t, err)
	require.Zero(t, id2, "no request pending for KG002")
	// A request whose try a restarted run took over stays held.
	n, err := st.ReleaseInstanceCallbacks(context.WithoutCancel(ctx), "b", []int64{id})
	require.NoError(t, err)
	require.Zero(t, n)
	n, err = st.ReleaseInstanceCallbacks(context.WithoutCancel(ctx), "b", nil)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	pending, err := st.CallbacksPending(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, pending)
}

func TestVoicemailForCallback(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	st := New(db)
	writeCall(t, db, voicemailCall("v1"))
	var id int64
	require.NoError(t, db.GetContext(ctx, &id, "SELECT id FROM voicemails"))
	v, err := st.VoicemailForCallback(ctx, id)
	require.NoError(t, err)
	require.Equal(t, VoicemailCallback{VoicemailID: id, CallID: "v1", Cafe: "KG002", CallbackNumber: "+842973555001"}, v)
	_, err = st.VoicemailForCallback(ctx, id+100)
	require.ErrorIs(t, err, ErrNotFound)
}

// A process that took a callback try over (after it took the try's node
// over) takes the request from the instance that made the try, whatever
// that one's lease says, and from an ended lease or nobody; never from
// another holder within its lease, nor a request no longer pending.
func TestTakeOverCallback(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	st := New(db)
	writeCall(t, db, missedCall("m1", t0))
	var id int64
	require.NoError(t, db.GetContext(ctx, &id, "SELECT id FROM callbacks"))
	for _, tc := range []struct {
		name   string
		holder any // nil: nobody
		until  string
		state  string
		prev   string
		want   bool
	}{
		{"from the instance that made the try, within its lease", "serve-1@a", "now() + interval '1 minute'", "pending", "serve-1@a", true},
		{"own hold renewed", "serve-2@a", "now() + interval '1 minute'", "pending", "", true},
		{"held by nobody", nil, "NULL", "pending", "serve-1@a", true},
		{"lease ended", "serve-3@b", "now() - interval '1 second'", "pending", "serve-1@a", true},
		{"another holder within its lease", "serve-3@b", "now() + interval '1 minute'", "pending", "serve-1@a", false},
		{"unknown previous holder", "serve-3@b", "now() + interval '1 minute'", "pending", "", false},
		{"done meanwhile", "serve-1@a", "now() + interval '1 minute'", "done", "serve-1@a", false},
	} {
		_, err := db.ExecContext(ctx, "UPDATE callbacks SET holder = $1, held_until = "+tc.until+", state = $2, "+
			"closed_at = CASE WHEN $2 = 'pending' THEN NULL ELSE now() END WHERE id = $3", tc.holder, tc.state, id)
		require.NoError(t, err, tc.name)
		got, err := st.TakeOverCallback(ctx, id, "serve-2@a", tc.prev, time.Minute)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, got, tc.name)
		var holder sql.NullString
		require.NoError(t, db.GetContext(ctx, &holder, "SELECT holder FROM callbacks WHERE id = $1", id))
		if tc.want {
			require.Equal(t, "serve-2@a", holder.String, tc.name)
		} else {
			require.NotEqual(t, "serve-2@a", holder.String, tc.name)
		}
	}
	_, err := st.TakeOverCallback(ctx, id, "", "x", time.Minute)
	require.Error(t, err)
}
