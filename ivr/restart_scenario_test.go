package ivr_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/ivr"
	"github.com/csm-vn/hotline/store"
	"github.com/csm-vn/hotline/store/pgtest"
)

// The shared scenario of a hotline killed mid-call (phoneScenarios), on the
// fake and on a real Asterisk: the first hotline runs in a child process
// (adopt_test.go), the second in the test.

// killable is a hotline of a child process and what restart needs.
type killable struct {
	child *child
	o     envOption
	spool string
	// rest reads channels, bridges and variables (REST only).
	rest *ari.Client
}

// startKillableOn runs the hotline in a child process against the Asterisk
// at url, on a fresh database, and waits until it connected.
func startKillableOn(t *testing.T, url, user, password string, o envOption, ktv1 []string) *env {
	t.Helper()
	db, dbURL := pgtest.Open(t)
	require.NoError(t, store.Migrate(context.Background(), db))
	cfg := testConfig()
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	k := &killable{o: o, spool: filepath.Join(t.TempDir(), "spool.jsonl")}
	k.child = startChild(t, childSpec{URL: url, User: user, Password: password, DB: dbURL, Spool: k.spool,
		Config: cfg, KTV1: ktv1})
	rest, err := ari.New(ari.Config{URL: url, User: user, Password: password, App: "test-observer"})
	require.NoError(t, err)
	k.rest = rest
	eventually(t, "the child hotline connected", func() (bool, string) {
		out := k.child.out.String()
		return strings.Contains(out, "ari: events socket connected"), out
	})
	return &env{t: t, db: db, killable: k}
}

// restartOn kills first's child and starts the hotline in this process
// against the Asterisk at url.
func restartOn(t *testing.T, first *env, start func(o envOption) *env) *env {
	t.Helper()
	k := first.killable
	k.child.kill()
	o := k.o
	o.db, o.spool = first.db, k.spool
	return start(o)
}

func (d fakePhones) startKillable(t *testing.T, o envOption, ktv1 []string) *env {
	fo := aritest.Options{Second: time.Second, DefaultPhone: aritest.NeverAnswers()}
	d.phones(&fo)
	fake := aritest.Start(t, fo)
	fake.RequireCleanAtEnd(t, waitTimeout)
	hangUpAfterTalking(t, fake, d.talks())
	e := startKillableOn(t, fake.URL(), "asterisk", "asterisk", o, ktv1)
	e.fake = fake
	return e
}

func (d fakePhones) restart(t *testing.T, first *env) *env {
	return restartOn(t, first, func(o envOption) *env {
		e := startHotline(t, first.fake.URL(), "asterisk", "asterisk", o)
		e.fake = first.fake
		return e
	})
}

func (d *realPhones) startKillable(t *testing.T, o envOption, ktv1 []string) *env {
	return startKillableOn(t, d.url, d.user, d.password, o, ktv1)
}

func (d *realPhones) restart(t *testing.T, first *env) *env {
	return restartOn(t, first, func(o envOption) *env { return d.start(t, o) })
}

// waitSavedBridged waits until a call is bridged and has saved so in
// Asterisk (HOTLINE_CALL on the caller's channel), and returns its id and
// the accepted leg.
func waitSavedBridged(t *testing.T, ctx context.Context, rest *ari.Client) (callID, leg string) {
	t.Helper()
	for {
		brs, err := rest.ListBridges(ctx)
		require.NoError(t, err)
		for _, b := range brs {
			id, ok := strings.CutSuffix(b.ID, "-br")
			if !ok || len(b.Channels) != 2 {
				continue
			}
			var caller string
			for _, ch := range b.Channels {
				if strings.HasPrefix(ch, id+"-leg") {
					leg = ch
				} else {
					caller = ch
				}
			}
			raw, err := rest.GetChannelVar(ctx, caller, "HOTLINE_CALL")
			var s saved
			if err == nil && json.Unmarshal([]byte(raw), &s) == nil && s.Phase == "bridged" && s.Accepted == leg {
				return id, leg
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no bridged call saved in Asterisk; bridges %+v", brs)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// The hotline is killed (SIGKILL) while the caller talks with the KTV; a
// new one starts and takes the call over: the conversation goes on in its
// bridge, and when the KTV hangs up the caller rates the call, which is
// recorded once, answered, under its first id.
func scenarioKilledWhileBridgedTakenOver(t *testing.T, d phoneDriver) {
	ctx := scenarioCtx(t, d)
	u := d.unit()
	ktv1 := []string{tpLongKTV1Restart}
	o := envOption{dir: phoneDirectory(t, phonePlan{ktv1: ktv1}),
		cfg: expect{tech: true, confirm: true, rate: true}.cfg(phoneConfig(u), func(c *ivr.Config) { c.MaxCall = 60 * u })}
	first := d.startKillable(t, o, ktv1)
	c := d.placeCall(t, ctx, first, cafe1Phone)
	callID, leg := waitSavedBridged(t, ctx, first.killable.rest)

	e := d.restart(t, first)
	waitLive(t, ctx, e, "taken over, bridged with KTV1", func(l ivr.LiveCall) bool {
		return l.ID == callID && l.State == "bridged" && l.Target != nil && l.Target.Staff == "KTV1" && l.Target.Bridged
	})
	br, err := first.killable.rest.GetBridge(ctx, callID+"-br")
	require.NoError(t, err, "the bridge survived the restart")
	require.Contains(t, br.Channels, leg)
	// The KTV hangs up on their own (12 units after pressing 1).
	waitLive(t, ctx, e, "asking for a rating", func(l ivr.LiveCall) bool { return l.State == "ivr" && l.Target == nil })
	require.NoError(t, c.press(ctx, "5"))
	c.waitEnded(t, ctx)
	r := e.recordOf(cafe1Phone)
	require.Equal(t, callID, r.ID)
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, []string{"KTV1/answered"}, r.results())
	require.Equal(t, leg, r.Legs[0].ChannelID)
	require.True(t, r.Legs[0].AcceptedAt.Valid)
	require.Contains(t, r.Detail, "taken over")
	require.NotNil(t, r.Rating)
	require.Equal(t, int64(5), r.Rating.Score.Int64)
	d.checkClean(t, ctx, e)
	e.expectMetrics(map[string]float64{
		`hotline_calls_adopted_total{state="bridged"}`:           1,
		ended("answered", "caller_id", "MN"):                     1,
		legs("technician", "vinaphone", "vinaphone", "answered"): 1,
		staffLegs("KTV1", "answered"):                            1,
		talks("MN", "technician"):                                1,
		`hotline_ratings_total{region="MN",score="5"}`:           1,
		`hotline_staff_ratings_total{staff="KTV1"}`:              1,
		`hotline_staff_rating_points_total{staff="KTV1"}`:        5,
	})
}

// waitSavedRinging waits until a call saved in Asterisk (HOTLINE_CALL on
// the caller's channel) rings one of its legs, and returns its id and that
// leg.
func waitSavedRinging(t *testing.T, ctx context.Context, rest *ari.Client) (callID, leg string) {
	t.Helper()
	for {
		chans, err := rest.ListChannels(ctx)
		require.NoError(t, err)
		for _, ch := range chans {
			raw, err := rest.GetChannelVar(ctx, ch.ID, "HOTLINE_CALL")
			var s saved
			if err != nil || json.Unmarshal([]byte(raw), &s) != nil {
				continue
			}
			for _, l := range chans {
				if strings.HasPrefix(l.ID, s.ID+"-leg") && l.State == "Ringing" {
					t.Logf("killed with the call saved as %s", raw)
					return s.ID, l.ID
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no ringing call saved in Asterisk; channels %+v", chans)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// The hotline is killed (SIGKILL) while KTV1's phone rings; a new one takes
// the call over: the old leg is hung up, the call is planned again and rung
// from the top (KTV1 again, then the area manager, who accepts). One
// record under the call's first id, the old leg cancelled by the restart.
func scenarioKilledWhileRingingRungAgain(t *testing.T, d phoneDriver) {
	ctx := scenarioCtx(t, d)
	u := d.unit()
	ktv1 := []string{tpNeverVina}
	o := envOption{dir: phoneDirectory(t, phonePlan{ktv1: ktv1}),
		cfg: expect{am: true, confirm: true}.cfg(phoneConfig(u))}
	first := d.startKillable(t, o, ktv1)
	c := d.placeCall(t, ctx, first, cafe1Phone)
	callID, oldLeg := waitSavedRinging(t, ctx, first.killable.rest)

	e := d.restart(t, first)
	c.waitEnded(t, ctx) // AM1 accepts, talks briefly and hangs up
	r := e.recordOf(cafe1Phone)
	require.Equal(t, callID, r.ID)
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, []string{"KTV1/cancelled", "KTV1/no_answer", "AM1/answered"}, r.results())
	require.Equal(t, oldLeg, r.Legs[0].ChannelID)
	require.Contains(t, r.Legs[0].Detail, "restart")
	require.NotEqual(t, oldLeg, r.Legs[1].ChannelID)
	require.True(t, strings.HasPrefix(r.Legs[1].ChannelID, callID+"-leg"), "the call keeps its id: %s", r.Legs[1].ChannelID)
	require.Equal(t, "AM1", r.AcceptedBy.String)
	d.checkClean(t, ctx, e)
	// Taken over as ringing, or as still in the IVR when the kill came
	// before the ringing state was written (on Asterisk the write waits
	// while the caller hears the intro's prompts): either way rung again.
	ivrPhase := e.metric("hotline_calls_adopted_total", "state", "ivr")
	require.Equal(t, 1.0, ivrPhase+e.metric("hotline_calls_adopted_total", "state", "ringing"))
	e.expectMetrics(map[string]float64{
		`hotline_calls_adopted_total{state="ivr"}`:                 ivrPhase,
		`hotline_calls_adopted_total{state="ringing"}`:             1 - ivrPhase,
		ended("answered", "caller_id", "MN"):                       1,
		legs("technician", "vinaphone", "vinaphone", "cancelled"):  1,
		legs("technician", "vinaphone", "vinaphone", "no_answer"):  1,
		legs("area_manager", "vinaphone", "vinaphone", "answered"): 1,
		staffLegs("KTV1", "cancelled"):                             1,
		staffLegs("KTV1", "no_answer"):                             1,
		staffLegs("AM1", "answered"):                               1,
		streak("KTV1"):                                             1,
		fallback("technician", "area_manager"):                     1,
		answerWaits("MN"):                                          1,
		talks("MN", "area_manager"):                                1,
		routed:                                                     1,
	})
}

// waitCallbackBridged waits until a callback try's two legs are in its
// bridge and returns the try's id and its legs.
func waitCallbackBridged(t *testing.T, ctx context.Context, rest *ari.Client) (tryID string, legs []string) {
	t.Helper()
	for {
		brs, err := rest.ListBridges(ctx)
		require.NoError(t, err)
		for _, b := range brs {
			id, ok := strings.CutSuffix(b.ID, "-br")
			if ok && len(b.Channels) == 2 && strings.HasPrefix(b.Channels[0], id+"-leg") &&
				strings.HasPrefix(b.Channels[1], id+"-leg") {
				return id, b.Channels
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no callback try bridged; bridges %+v", brs)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// The hotline is killed (SIGKILL) while a callback try's café and KTV1 talk;
// a new one takes the try over: the conversation goes on in its bridge, and
// when KTV1 hangs up the café is hung up, the try is recorded once,
// answered, under its first id, and the request is done.
func scenarioKilledWhileCallbackTalkingTakenOver(t *testing.T, d phoneDriver) {
	ctx := scenarioCtx(t, d)
	u := d.unit()
	ktv1 := []string{tpLongKTV1Restart}
	o := envOption{dir: phoneDirectory(t, phonePlan{ktv1: ktv1}),
		cfg: expect{tech: true, confirm: true}.cfg(phoneConfig(u), func(c *ivr.Config) {
			c.MaxCall = 60 * u
			c.Callback = ivr.CallbackConfig{Enabled: true, MinWait: time.Millisecond, Tries: 1, Retry: time.Hour,
				Poll: 100 * time.Millisecond, Ring: 4 * u}
			c.Prompts.Callback, c.Prompts.CallbackNoAnswer = "vi/callback", "vi/callback-no-answer"
		})}
	first := d.startKillable(t, o, ktv1)
	reqID := missedCallRequest(t, first.db)
	tryID, legs := waitCallbackBridged(t, ctx, first.killable.rest)

	e := d.restart(t, first)
	waitLive(t, ctx, e, "the callback taken over, bridged with KTV1", func(l ivr.LiveCall) bool {
		return l.ID == tryID && l.Callback && l.State == "bridged" && l.Target != nil && l.Target.Staff == "KTV1"
	})
	br, err := first.killable.rest.GetBridge(ctx, tryID+"-br")
	require.NoError(t, err, "the bridge survived the restart")
	require.ElementsMatch(t, legs, br.Channels)
	// KTV1 hangs up on their own; the café is hung up with them.
	done := e.waitCallback("the callback done", func(r callbackRow) bool { return r.State == "done" })
	require.Equal(t, reqID, done.ID)
	require.Equal(t, 1, done.Tries)
	require.Equal(t, tryID, done.LastCallID.String)
	var recs []callRow
	eventually(t, "the try's record", func() (bool, string) {
		recs = e.callbackRecords()
		return len(recs) == 1, fmt.Sprint(len(recs))
	})
	r := recs[0]
	require.Equal(t, tryID, r.ID)
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, "KTV1", r.AcceptedBy.String)
	require.Contains(t, r.Detail, "taken over")
	require.Equal(t, []string{"KTV1/answered", "/answered"}, r.results())
	require.ElementsMatch(t, legs, []string{r.Legs[0].ChannelID, r.Legs[1].ChannelID})
	require.Equal(t, "cafe", r.Legs[1].Role)
	require.Greater(t, r.Talk, 0.0)
	d.checkClean(t, ctx, e)
	require.Len(t, e.callbackRecords(), 1, "recorded once")
	require.Equal(t, 1.0, e.metric("hotline_calls_adopted_total", "state", "bridged"))
}
