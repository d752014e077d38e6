package ivr_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/ivr"
	"github.com/csm-vn/hotline/metrics"
	"github.com/csm-vn/hotline/store"
	"github.com/csm-vn/hotline/store/pgtest"
)

var _ ivr.CallbackStore = (*store.Store)(nil)

// Times of day of the callback tests: within the callback hours
// (07:00–22:00) and outside them.
var (
	inHours  = weekday10
	outHours = time.Date(2026, 3, 11, 23, 0, 0, 0, dialplan.Location())
)

func (f *fixedClock) set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = t
}

// callbackConfig turns callbacks on with test timings: a missed call
// qualifies after 100 ms of waiting, the worker looks every 50 ms.
func callbackConfig(c *ivr.Config) {
	c.Callback = ivr.CallbackConfig{Enabled: true, MinWait: 100 * time.Millisecond, Tries: 3,
		Retry: 300 * time.Millisecond, Poll: 50 * time.Millisecond, Ring: patient, BusyRetry: 200 * time.Millisecond}
	c.Prompts.Callback, c.Prompts.CallbackNoAnswer = "vi/callback", "vi/callback-no-answer"
}

// callbackRow is a stored callback request.
type callbackRow struct {
	ID         int64          `db:"id"`
	CallID     string         `db:"call_id"`
	Cafe       string         `db:"cafe_code"`
	Number     string         `db:"number"`
	State      string         `db:"state"`
	Tries      int            `db:"tries"`
	Holder     sql.NullString `db:"holder"`
	LastCallID sql.NullString `db:"last_call_id"`
	Reason     string         `db:"close_reason"`
}

func (e *env) callbacks() []callbackRow {
	e.t.Helper()
	var rows []callbackRow
	require.NoError(e.t, e.db.Select(&rows, `SELECT id, call_id, cafe_code, number, state, tries, holder,
		last_call_id, close_reason FROM callbacks ORDER BY id`))
	return rows
}

// waitCallback waits until the first callback request satisfies ok.
func (e *env) waitCallback(what string, ok func(callbackRow) bool) callbackRow {
	e.t.Helper()
	var got callbackRow
	eventually(e.t, what, func() (bool, string) {
		rows := e.callbacks()
		if len(rows) == 0 {
			return false, "no callback request"
		}
		got = rows[0]
		return ok(got), fmt.Sprintf("callback: %+v", got)
	})
	return got
}

// callbackRecords returns the stored callback tries, oldest first, with
// their legs.
func (e *env) callbackRecords() []callRow {
	e.t.Helper()
	var ids []string
	require.NoError(e.t, e.db.Select(&ids, `SELECT channel_id FROM calls WHERE direction = 'callback'
		ORDER BY recorded_at, id`))
	var out []callRow
	for _, id := range ids {
		var r callRow
		require.NoError(e.t, e.db.Get(&r, `SELECT id, channel_id, caller_raw, caller, cafe_code, matched_by, province_code,
			region_code, outcome, accepted_by, detail, talk_seconds, started_at, accepted_at, ended_at, wait_seconds
			FROM calls WHERE direction = 'callback' AND channel_id = $1`, id))
		require.NoError(e.t, e.db.Select(&r.Legs, `SELECT seq, staff_code, role, number, carrier, trunk, channel_id, ring_at,
			answered_at, accepted_at, ended_at, result, hangup_cause, detail FROM call_legs WHERE call_id = $1 ORDER BY seq`, r.ID))
		out = append(out, r)
	}
	return out
}

// waitPolls waits until the callback worker has made n more passes from
// now: the last of them started after this call, so it saw the database
// as it is now.
func waitPolls(t *testing.T, srv *ivr.Server, n uint64) {
	t.Helper()
	from := srv.CallbackPolls()
	eventually(t, "callback worker passes", func() (bool, string) {
		got := srv.CallbackPolls()
		return got >= from+n, fmt.Sprintf("%d passes since, want %d", got-from, n)
	})
}

// ktvBusy makes KTV1's numbers busy: a missed call does not wait for a
// technician ring made patient for the callback that follows.
func ktvBusy(o *aritest.Options) {
	o.Phones = map[string]aritest.Phone{ktv1Vina: aritest.Busy(), ktv1Viettel: aritest.Busy(), am1: aritest.Busy()}
}

// missNoAnswer places a call from number that nobody answers; the caller
// hangs up at the voicemail prompt (outcome no_answer). It returns the
// call's record.
func (e *env) missNoAnswer(number string) callRow {
	e.t.Helper()
	c := e.call(number)
	e.waitHeard(c, "playback", "vi/voicemail")
	require.NoError(e.t, c.Hangup())
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(e.t, "no_answer", r.Outcome)
	return r
}

func TestCallbackRequestedOnQualifyingCallsOnly(t *testing.T) {
	type scenario struct {
		name    string
		cfg     func(*ivr.Config)
		phones  map[string]aritest.Phone
		number  string
		play    func(e *env, c *aritest.Call)
		outcome string
		want    bool // a callback request is made
	}
	hangUpAtVoicemail := func(e *env, c *aritest.Call) {
		e.waitHeard(c, "playback", "vi/voicemail")
		require.NoError(t, c.Hangup())
	}
	for _, sc := range []scenario{
		{name: "no_answer after waiting", number: cafe1Phone, play: hangUpAtVoicemail, outcome: "no_answer", want: true},
		{name: "voicemail left", number: cafe1Phone, outcome: "voicemail", want: true,
			cfg: expect{message: true}.cfg(),
			play: func(e *env, c *aritest.Call) {
				e.waitHeard(c, "recording", "")
				require.NoError(t, c.Press(e.ctx(), "#"))
			}},
		{name: "abandoned after waiting", number: cafe1Phone, outcome: "abandoned", want: true,
			play: func(e *env, c *aritest.Call) {
				e.waitDial(ktv1Viettel) // the first number rang 150 ms: longer than min_wait
				require.NoError(t, c.Hangup())
			}},
		{name: "abandoned before min_wait", number: cafe1Phone, outcome: "abandoned", want: false,
			cfg: func(c *ivr.Config) { c.Callback.MinWait = time.Minute },
			play: func(e *env, c *aritest.Call) {
				e.waitDial(ktv1Vina)
				require.NoError(t, c.Hangup())
			}},
		{name: "answered", number: cafe1Phone, outcome: "answered", want: false,
			cfg:    expect{tech: true, confirm: true}.cfg(),
			phones: map[string]aritest.Phone{ktv1Vina: accepts(20 * time.Millisecond)},
			play: func(e *env, c *aritest.Call) {
				e.hangUpWhenBridged(ktv1Vina)
				require.NoError(t, c.Hangup())
			}},
		{name: "unknown café", number: "0945559999", play: hangUpAtVoicemail, outcome: "no_answer", want: false},
		{name: "callbacks disabled", number: cafe1Phone, play: hangUpAtVoicemail, outcome: "no_answer", want: false,
			cfg: func(c *ivr.Config) { c.Callback.Enabled = false }},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			clk := &fixedClock{t: outHours} // the worker leaves requests alone
			e := newEnv(t, envOption{now: clk.now, cfg: func(c *ivr.Config) {
				callbackConfig(c)
				if sc.cfg != nil {
					sc.cfg(c)
				}
			}, fake: func(o *aritest.Options) { o.Phones = sc.phones }})
			c := e.call(sc.number)
			sc.play(e, c)
			e.waitEnded(c)
			r := e.record(c.ID())
			require.Equal(t, sc.outcome, r.Outcome)
			rows := e.callbacks()
			if !sc.want {
				require.Empty(t, rows)
				return
			}
			require.Len(t, rows, 1)
			require.Equal(t, callbackRow{ID: rows[0].ID, CallID: r.ID, Cafe: "KG001", Number: "+84945551001",
				State: "pending"}, rows[0])
			eventually(t, "the request counted", func() (bool, string) {
				n := e.metric("hotline_callbacks_requested_total")
				return n == 1, fmt.Sprint(n)
			})
		})
	}
}

func TestCallbackRingsPersonThenCafeAndBridges(t *testing.T) {
	clk := &fixedClock{t: outHours}
	e := newEnv(t, envOption{now: clk.now, cfg: expect{tech: true, confirm: true}.cfg(callbackConfig), fake: ktvBusy})
	missed := e.missNoAnswer(cafe1Phone)
	req := e.waitCallback("a pending request", func(r callbackRow) bool { return r.State == "pending" })

	// Now the technician answers and presses 1, and the café answers.
	e.fake.SetPhone(ktv1Vina, aritest.AnswersAndPresses(20*time.Millisecond, "1", time.Second))
	e.fake.SetPhone(cafe1Phone, aritest.Answers(30*time.Millisecond))
	ktvLegsBefore := len(e.dialsTo(ktv1Vina))
	clk.set(inHours)

	// The café's leg is bridged with the technician; the café hangs up
	// after talking.
	var cafeLeg aritest.Dialled
	eventually(t, "the café bridged", func() (bool, string) {
		for _, d := range e.dialsTo(cafe1Phone) {
			if slices.ContainsFunc(d.Heard, func(h aritest.Heard) bool { return h.Kind == "bridged" }) && !d.Ended {
				cafeLeg = d
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", e.dialsTo(cafe1Phone))
	})
	eventually(t, "the callback live on the board, bridged with KTV1", func() (bool, string) {
		live := e.srv.Snapshot()
		return len(live) == 1 && live[0].Callback && live[0].State == "bridged" && live[0].Target != nil &&
			live[0].Target.Staff == "KTV1", fmt.Sprintf("%+v", live)
	})
	require.NoError(t, e.fake.HangupLeg(cafeLeg.ChannelID))

	done := e.waitCallback("the request done", func(r callbackRow) bool { return r.State == "done" })
	require.Equal(t, 1, done.Tries)
	require.Equal(t, "connected", done.Reason)
	require.False(t, done.Holder.Valid)
	require.NoError(t, e.srv.Wait(e.ctx()))
	var recs []callRow
	eventually(t, "the try's record", func() (bool, string) {
		recs = e.callbackRecords()
		return len(recs) == 1, fmt.Sprint(len(recs))
	})
	r := recs[0]
	require.Equal(t, done.LastCallID.String, r.ID)
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, "KG001", r.Cafe.String)
	require.Equal(t, "KTV1", r.AcceptedBy.String)
	require.Equal(t, "+84945551001", r.Caller)
	require.Equal(t, "MN", r.Region.String)
	require.Greater(t, r.Talk, 0.0)
	require.Equal(t, []string{"KTV1/answered", "/answered"}, r.results())
	require.Equal(t, "technician", r.Legs[0].Role)
	require.Equal(t, "+84945550101", r.Legs[0].Number)
	cl := r.Legs[1]
	require.Equal(t, "cafe", cl.Role)
	require.Equal(t, "+84945551001", cl.Number)
	require.Equal(t, "vinaphone", cl.Trunk)
	require.Equal(t, cafeLeg.ChannelID, cl.ChannelID)
	require.Equal(t, cafeLeg.ChannelID, r.ChannelID)
	var cbID int64
	require.NoError(t, e.db.Get(&cbID, "SELECT callback_id FROM calls WHERE id = $1", r.ID))
	require.Equal(t, req.ID, cbID)
	require.NotEqual(t, missed.ID, r.ID)

	// The technician heard "callback to café K G 0 0 1, Kiên Giang, press 1".
	ktv := e.dialsTo(ktv1Vina)[ktvLegsBefore]
	var heard []string
	for _, h := range ktv.Heard {
		if h.Kind == "playback" {
			heard = append(heard, h.Detail)
		}
	}
	require.Contains(t, heard, "sound:vi/callback")
	require.NotContains(t, heard, "sound:vi/announce")
	require.Contains(t, heard, "sound:vi/province-0297")
	// The café was dialled through its carrier's trunk with the hotline's
	// caller ID, and only once.
	var cafeCreates []aritest.Request
	for _, q := range e.requests("POST /ari/channels/create") {
		if q.Query["endpoint"][0] == "PJSIP/0945551001@gw-vinaphone" {
			cafeCreates = append(cafeCreates, q)
		}
	}
	require.Len(t, cafeCreates, 1)
	require.Contains(t, cafeCreates[0].Body, hotlineCID)
	require.Equal(t, cafeLeg.ChannelID, cafeCreates[0].Query["channelId"][0])

	eventually(t, "callback metrics", func() (bool, string) {
		got := []float64{e.metric("hotline_callbacks_requested_total"), e.metric("hotline_callbacks_attempted_total"),
			e.metric("hotline_callbacks_connected_total"), e.metric("hotline_callbacks_pending")}
		return slices.Equal(got, []float64{1, 1, 1, 0}), fmt.Sprint(got)
	})
	require.Zero(t, e.metric("hotline_metrics_label_rejected_total"))
	// The café's leg is not a staff leg.
	require.Equal(t, 1.0, e.metric("hotline_legs_total", "role", "technician", "result", "answered"))
}

func TestCallbackTriesRetryAndHours(t *testing.T) {
	clk := &fixedClock{t: outHours}
	e := newEnv(t, envOption{now: clk.now, cfg: expect{tech: true, confirm: true}.cfg(callbackConfig,
		func(c *ivr.Config) { c.Callback.Ring = 150 * time.Millisecond }), fake: ktvBusy})
	e.missNoAnswer(cafe1Phone)
	e.waitCallback("a pending request", func(r callbackRow) bool { return r.State == "pending" })
	e.fake.SetPhone(ktv1Vina, accepts(20*time.Millisecond))
	e.fake.SetPhone(cafe1Phone, aritest.NeverAnswers())
	ktvBefore := len(e.dialsTo(ktv1Vina))

	// Outside the hours the worker looks and leaves the request alone.
	waitPolls(t, e.srv, 3)
	r := e.waitCallback("untouched", func(callbackRow) bool { return true })
	require.Equal(t, "pending", r.State)
	require.False(t, r.Holder.Valid)
	require.Zero(t, r.Tries)
	require.Len(t, e.dialsTo(ktv1Vina), ktvBefore)

	clk.set(inHours)
	r = e.waitCallback("given up after 3 tries", func(r callbackRow) bool { return r.State == "given_up" })
	require.Equal(t, 3, r.Tries)
	require.Equal(t, "tries_exhausted", r.Reason)
	require.NoError(t, e.srv.Wait(e.ctx()))

	var recs []callRow
	eventually(t, "three records", func() (bool, string) {
		recs = e.callbackRecords()
		return len(recs) == 3, fmt.Sprint(len(recs))
	})
	for i, rec := range recs {
		require.Equal(t, "no_answer", rec.Outcome)
		// The technician was told the café did not answer.
		require.True(t, slices.ContainsFunc(e.dialsTo(ktv1Vina)[ktvBefore+i].Heard, func(h aritest.Heard) bool {
			return h.Kind == "playback" && h.Detail == "sound:vi/callback-no-answer"
		}), "try %d: %+v", i+1, e.dialsTo(ktv1Vina)[ktvBefore+i].Heard)
		require.Equal(t, []string{"KTV1/answered", "/no_answer"}, rec.results())
		require.Equal(t, "the café did not answer: no_answer", rec.Detail)
		require.False(t, rec.AcceptedAt.Valid)
		require.False(t, rec.AcceptedBy.Valid, "nobody took a call that did not reach the café")
	}
	// Tries are spaced by callback.retry: each starts at least that long
	// after the previous one started (it was due retry after it ended).
	ktv := e.dialsTo(ktv1Vina)[ktvBefore:]
	require.Len(t, ktv, 3)
	for i := 1; i < len(ktv); i++ {
		require.GreaterOrEqual(t, ktv[i].Started.Sub(ktv[i-1].Started), 300*time.Millisecond, "try %d", i+1)
	}
	// No fourth try.
	waitPolls(t, e.srv, 3)
	require.Len(t, e.dialsTo(ktv1Vina), ktvBefore+3)
	eventually(t, "callback metrics", func() (bool, string) {
		got := []float64{e.metric("hotline_callbacks_attempted_total"), e.metric("hotline_callbacks_connected_total"),
			e.metric("hotline_callbacks_given_up_total")}
		return slices.Equal(got, []float64{3, 0, 1}), fmt.Sprint(got)
	})
}

func TestCallbackCancelledByNewCallOrHandledVoicemail(t *testing.T) {
	clk := &fixedClock{t: outHours}
	e := newEnv(t, envOption{now: clk.now, cfg: expect{tech: true, confirm: true, message: true}.cfg(callbackConfig),
		fake: ktvBusy})
	e.missNoAnswer(cafe1Phone)
	e.waitCallback("a pending request", func(r callbackRow) bool { return r.State == "pending" })

	// The café calls again and is bridged with its technician: the request
	// is cancelled as soon as the café is recognised, before the call ends.
	e.fake.SetPhone(ktv1Vina, accepts(20*time.Millisecond))
	c := e.call(cafe1Phone)
	e.waitHeard(c, "bridged", "")
	r := e.waitCallback("cancelled", func(r callbackRow) bool { return r.State == "cancelled" })
	require.Equal(t, "new_call", r.Reason)
	e.hangUpWhenBridged(ktv1Vina)
	require.NoError(t, c.Hangup())
	e.waitEnded(c)
	require.Equal(t, "answered", e.record(c.ID()).Outcome)

	// A voicemail left, then marked handled on the board: cancelled too.
	e.fake.SetPhone(ktv1Vina, aritest.Busy())
	c = e.call(cafe1Phone)
	e.waitHeard(c, "recording", "")
	require.NoError(t, c.Press(e.ctx(), "#"))
	e.waitEnded(c)
	vm := e.record(c.ID())
	require.Equal(t, "voicemail", vm.Outcome)
	var vmID int64
	require.NoError(t, e.db.Get(&vmID, "SELECT id FROM voicemails WHERE call_id = $1", vm.ID))
	rows := e.callbacks()
	require.Len(t, rows, 2)
	require.Equal(t, "pending", rows[1].State)
	require.NoError(t, e.store.MarkVoicemailHandled(e.ctx(), vmID, "sup1", "called them from my phone"))
	rows = e.callbacks()
	require.Equal(t, "cancelled", rows[1].State)
	require.Equal(t, "voicemail_handled", rows[1].Reason)

	// In the hours, nothing is tried.
	e.fake.SetPhone(ktv1Vina, accepts(20*time.Millisecond))
	clk.set(inHours)
	waitPolls(t, e.srv, 3)
	require.Empty(t, e.callbackRecords())
	eventually(t, "cancellations counted", func() (bool, string) {
		got := []float64{e.metric("hotline_callbacks_cancelled_total", "reason", "new_call"),
			e.metric("hotline_callbacks_cancelled_total", "reason", "voicemail_handled"),
			e.metric("hotline_callbacks_attempted_total")}
		return slices.Equal(got, []float64{1, 1, 0}), fmt.Sprint(got)
	})
}

// secondHotline runs another instance (its own ARI application and
// instance name) on e's database and fake Asterisk, with the same
// directory, clock and configuration.
func secondHotline(t *testing.T, e *env, now func() time.Time, cfg ivr.Config) *ivr.Server {
	t.Helper()
	const app = "hotline-b"
	ctx, cancel := context.WithCancel(context.Background())
	rec, err := store.NewRecorder(e.db, store.RecorderOptions{SpoolPath: filepath.Join(t.TempDir(), "spool.jsonl"),
		RetryInterval: 100 * time.Millisecond})
	require.NoError(t, err)
	client, err := ari.New(ari.Config{URL: e.fake.URL(), User: "asterisk", Password: "asterisk", App: app,
		BackoffMin: 10 * time.Millisecond, BackoffMax: 20 * time.Millisecond, RequestTimeout: 5 * time.Second})
	require.NoError(t, err)
	clientDone := make(chan struct{})
	go func() {
		defer close(clientDone)
		_ = client.Run(ctx)
	}()
	dir := testDirectory(t)
	cfg.Instance = "test-2"
	var log *slog.Logger
	if os.Getenv("IVR_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("instance", "b")
	}
	srv, err := ivr.New(cfg, ivr.Deps{ARI: client, Directory: func() *dialplan.Directory { return dir },
		Reserver: e.store, Recorder: rec, Callbacks: e.store, Now: now, Logger: log,
		Metrics: metrics.New(prometheus.NewRegistry(), metrics.Options{})})
	require.NoError(t, err)
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-runErr)
		<-clientDone
		cctx, ccancel := context.WithTimeout(context.Background(), waitTimeout)
		defer ccancel()
		require.NoError(t, rec.Close(cctx))
	})
	wctx, wcancel := context.WithTimeout(ctx, waitTimeout)
	defer wcancel()
	require.NoError(t, client.WaitConnected(wctx))
	return srv
}

func TestCallbackTakenOnceAcrossTwoServers(t *testing.T) {
	clk := &fixedClock{t: outHours}
	var cfg ivr.Config
	e := newEnv(t, envOption{now: clk.now, cfg: expect{tech: true, confirm: true}.cfg(callbackConfig,
		func(c *ivr.Config) { cfg = *c }), fake: ktvBusy})
	other := secondHotline(t, e, clk.now, cfg)
	e.missNoAnswer(cafe1Phone)
	e.waitCallback("a pending request", func(r callbackRow) bool { return r.State == "pending" })
	e.fake.SetPhone(ktv1Vina, accepts(20*time.Millisecond))
	e.fake.SetPhone(cafe1Phone, aritest.Answers(30*time.Millisecond))
	ktvBefore := len(e.dialsTo(ktv1Vina))

	// Both workers look every 50 ms from now on.
	clk.set(inHours)
	var cafeLeg aritest.Dialled
	eventually(t, "the café bridged", func() (bool, string) {
		for _, d := range e.dialsTo(cafe1Phone) {
			if slices.ContainsFunc(d.Heard, func(h aritest.Heard) bool { return h.Kind == "bridged" }) && !d.Ended {
				cafeLeg = d
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", e.dialsTo(cafe1Phone))
	})
	// While the café talks, both workers look again: neither takes it.
	waitPolls(t, e.srv, 3)
	waitPolls(t, other, 3)
	require.NoError(t, e.fake.HangupLeg(cafeLeg.ChannelID))
	e.waitCallback("done", func(r callbackRow) bool { return r.State == "done" })
	require.NoError(t, e.srv.Wait(e.ctx()))
	require.NoError(t, other.Wait(e.ctx()))
	waitPolls(t, e.srv, 3)
	waitPolls(t, other, 3)

	require.Len(t, e.dialsTo(ktv1Vina), ktvBefore+1, "the technician was rung once")
	require.Len(t, e.dialsTo(cafe1Phone), 1, "the café was called once")
	var recs []callRow
	eventually(t, "one record", func() (bool, string) {
		recs = e.callbackRecords()
		return len(recs) == 1, fmt.Sprint(len(recs))
	})
	require.Equal(t, "answered", recs[0].Outcome)
	var node string
	require.NoError(t, e.db.Get(&node, "SELECT node FROM calls WHERE id = $1", recs[0].ID))
	require.Contains(t, []string{"test-1", "test-2"}, node)
}

func TestCallbackNow(t *testing.T) {
	clk := &fixedClock{t: outHours} // outside the hours: a supervisor may still ask
	e := newEnv(t, envOption{now: clk.now, cfg: expect{am: true, confirm: true, message: true}.cfg(callbackConfig),
		fake: ktvBusy})
	leaveMessage := func(number string) (vmID int64) {
		c := e.call(number)
		e.waitHeard(c, "recording", "")
		require.NoError(t, c.Press(e.ctx(), "#"))
		e.waitEnded(c)
		vm := e.record(c.ID())
		require.NoError(t, e.db.Get(&vmID, "SELECT id FROM voicemails WHERE call_id = $1", vm.ID))
		return vmID
	}
	vmID := leaveMessage(cafe1Phone)
	req := e.waitCallback("a pending request", func(r callbackRow) bool { return r.State == "pending" })
	vm2 := leaveMessage(cafe2Phone)

	// Errors first.
	for _, tc := range []struct {
		name     string
		vm       int64
		staff    string
		who      string
		want     error
		contains string
	}{
		{name: "unknown voicemail", vm: vmID + 100, staff: "AM1", who: "sup1", want: store.ErrNotFound},
		{name: "unknown staff", vm: vmID, staff: "NOBODY", who: "sup1", want: ivr.ErrUnknownStaff},
		{name: "suspended staff", vm: vmID, staff: "KTV3", who: "sup1", want: ivr.ErrStaffUnavailable},
		{name: "nobody asked", vm: vmID, staff: "AM1", who: " ", contains: "who asked"},
	} {
		err := e.srv.CallbackNow(e.ctx(), tc.vm, tc.staff, tc.who)
		require.Error(t, err, tc.name)
		if tc.want != nil {
			require.ErrorIs(t, err, tc.want, tc.name)
		} else {
			require.Contains(t, err.Error(), tc.contains, tc.name)
		}
	}

	e.fake.SetPhone(am1, accepts(20*time.Millisecond))
	e.fake.SetPhone(cafe1Phone, aritest.Answers(30*time.Millisecond))
	ktvBefore, amBefore := len(e.dialsTo(ktv1Vina)), len(e.dialsTo(am1))
	require.NoError(t, e.srv.CallbackNow(e.ctx(), vmID, "AM1", "sup1"))
	var cafeLeg aritest.Dialled
	eventually(t, "the café bridged with AM1", func() (bool, string) {
		for _, d := range e.dialsTo(cafe1Phone) {
			if slices.ContainsFunc(d.Heard, func(h aritest.Heard) bool { return h.Kind == "bridged" }) && !d.Ended {
				cafeLeg = d
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", e.dialsTo(cafe1Phone))
	})
	// The person is on the callback: a "call back now" of another café to
	// them is refused; the café is being called back: another person for
	// it too.
	require.ErrorIs(t, e.srv.CallbackNow(e.ctx(), vm2, "AM1", "sup2"), ivr.ErrStaffBusy)
	require.ErrorIs(t, e.srv.CallbackNow(e.ctx(), vmID, "OP1", "sup2"), store.ErrCallbackBusy)
	// The request is held by the try: the worker leaves it.
	require.True(t, e.callbacks()[0].Holder.Valid, "%+v", e.callbacks())
	require.NoError(t, e.fake.HangupLeg(cafeLeg.ChannelID))

	done := e.waitCallback("done", func(r callbackRow) bool { return r.State == "done" })
	require.Zero(t, done.Tries, "a supervisor's try does not use up the café's tries")
	require.NoError(t, e.srv.Wait(e.ctx()))
	var recs []callRow
	eventually(t, "one record", func() (bool, string) {
		recs = e.callbackRecords()
		return len(recs) == 1, fmt.Sprint(len(recs))
	})
	r := recs[0]
	require.Equal(t, "answered", r.Outcome)
	require.Equal(t, "AM1", r.AcceptedBy.String)
	require.Equal(t, []string{"AM1/answered", "/answered"}, r.results())
	require.Equal(t, fmt.Sprintf("call back now by sup1 (voicemail %d)", vmID), r.Detail)
	var cbID int64
	require.NoError(t, e.db.Get(&cbID, "SELECT callback_id FROM calls WHERE id = $1", r.ID))
	require.Equal(t, req.ID, cbID)
	require.Len(t, e.dialsTo(ktv1Vina), ktvBefore, "only the chosen person is rung")
	require.Len(t, e.dialsTo(am1), amBefore+1)
	require.True(t, strings.HasPrefix(done.LastCallID.String, r.ID))
}

// A process killed in the middle of a callback's try leaves the try's leg
// ringing KTV1 and the request held by its instance. The restarted process
// (same instance) tries the request again only once start-up
// reconciliation has hung that leg up: KTV1 is never rung twice at once.
// Before, the callback worker released the request and tried it at once,
// while the old leg still rang.
func TestCallbackWaitsForAPreviousRunsTryToBeHungUp(t *testing.T) {
	const oldTry = "01KAB7Y1Q3F7T8M2XW6N4P9R5T" // the previous process's try
	db, _ := pgtest.Open(t)
	ctx := context.Background()
	require.NoError(t, store.Migrate(ctx, db))
	ended := time.Now().Add(-time.Minute)
	_, err := store.WriteCall(ctx, db, &store.CallRecord{ID: "01KAB7Y1Q3F7T8M2XW6N4P9R5V", Node: "test-1",
		ChannelID: "missed", CallerRaw: cafe1Phone, Caller: "+84945551001", CallerKind: "mobile", Cafe: "KG001",
		MatchedBy: dialplan.MatchedByCallerID, StartedAt: ended.Add(-time.Minute), EndedAt: ended,
		Outcome: store.OutcomeNoAnswer, Callback: &store.CallbackRequest{Number: "+84945551001"}})
	require.NoError(t, err)
	_, err = db.Exec("UPDATE callbacks SET holder = 'test-1', held_until = now() + interval '1 hour'")
	require.NoError(t, err)

	clk := &fixedClock{t: inHours}
	e := newEnv(t, envOption{now: clk.now, db: db, cfg: expect{tech: true, confirm: true}.cfg(func(c *ivr.Config) {
		callbackConfig(c)
		c.ReconcileGrace = 500 * time.Millisecond
	}), before: func(fake *aritest.Server) {
		// The previous process: its try's leg to KTV1, ringing; then it dies.
		ctx, cancel := context.WithCancel(context.Background())
		prev, err := ari.New(ari.Config{URL: fake.URL(), User: "asterisk", Password: "asterisk", App: "hotline"})
		require.NoError(t, err)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = prev.Run(ctx)
		}()
		require.NoError(t, fake.WaitConnected(ctx, "hotline"))
		legStart := prev.Subscribe(ari.ChannelKey(oldTry + "-leg1"))
		_, err = prev.CreateChannel(ctx, ari.CreateChannelParams{ChannelID: oldTry + "-leg1",
			Endpoint: "PJSIP/" + ktv1Vina + "@gw-vinaphone"})
		require.NoError(t, err)
		for ev := range legStart.Events() {
			if _, ok := ev.(*ari.StasisStart); ok {
				break
			}
		}
		legStart.Close()
		require.NoError(t, prev.Dial(ctx, oldTry+"-leg1", "", 0))
		cancel()
		<-done
	}})
	var newLeg aritest.Dialled
	require.NoError(t, e.fake.WaitFor(e.ctx(), func() bool {
		for _, d := range e.dialsTo(ktv1Vina) {
			// (the create request is in the fake's history once it is answered)
			if d.ChannelID != oldTry+"-leg1" && len(requestsOf(e.fake, "POST /ari/channels/create")) > 1 {
				newLeg = d
				return true
			}
		}
		return false
	}), "the request tried again")
	gone := eventAt(t, e.fake, "ChannelDestroyed", oldTry+"-leg1")
	created := requestsOf(e.fake, "POST /ari/channels/create")
	i := slices.IndexFunc(created, func(r aritest.Request) bool { return r.Query["channelId"][0] == newLeg.ChannelID })
	require.GreaterOrEqual(t, i, 0, "new leg %+v; creates %+v", newLeg, created)
	require.True(t, gone.Before(created[i].At), "old leg destroyed %v, new leg created %v", gone, created[i].At)
}
