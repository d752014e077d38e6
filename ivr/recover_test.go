package ivr_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/ivr"
)

// waitReconnected waits until our client connected n times.
func (e *env) waitReconnected(n uint64) {
	e.t.Helper()
	eventually(e.t, fmt.Sprintf("connection %d of the client", n), func() (bool, string) {
		st, _ := e.client.State()
		return st.Connected && st.Connects >= n, fmt.Sprintf("%+v", st)
	})
}

// cutWebSocketWhile cuts the hotline's events WebSocket and keeps it down
// while do runs (the events of that time are lost, as on a real cut), then
// lets the client reconnect and waits for it.
func (e *env) cutWebSocketWhile(do func()) {
	e.t.Helper()
	st, _ := e.client.State()
	e.proxy.hold()
	require.Positive(e.t, e.proxy.cutWebSockets(), "no WebSocket of the hotline to cut")
	e.waitDisconnected()
	do()
	e.proxy.release()
	e.waitReconnected(st.Connects + 1)
}

// waitDisconnected waits until our client saw its WebSocket go.
func (e *env) waitDisconnected() {
	e.t.Helper()
	eventually(e.t, "the client to see the cut", func() (bool, string) {
		st, _ := e.client.State()
		return !st.Connected, fmt.Sprintf("%+v", st)
	})
}

func TestWebSocketCutWhileBridgedCallGoesOn(t *testing.T) {
	e := newEnv(t, envOption{backoff: 100 * time.Millisecond, cfg: expect{tech: true, confirm: true, rate: true}.cfg(),
		fake: func(o *aritest.Options) {
			o.Phones = map[string]aritest.Phone{ktv1Vina: aritest.AnswersAndPresses(20*time.Millisecond, "1", 10*time.Millisecond)}
		}})
	c := e.call(cafe1Phone)
	leg := e.waitDial(ktv1Vina)
	e.waitHeard(c, "bridged", "")
	checks := len(e.requests("GET /ari/channels/" + leg.ChannelID))
	lists := len(e.requests("GET /ari/applications/hotline"))
	require.True(t, e.fake.CutWebSocket("hotline"))
	e.waitReconnected(2)
	// Reconciliation ran (the bridged call asked Asterisk about its leg)
	// and the call is still bridged.
	eventually(t, "the bridged call to check its leg", func() (bool, string) {
		n := len(e.requests("GET /ari/channels/" + leg.ChannelID))
		return n > checks, fmt.Sprintf("%d GET of the leg, %d before the cut", n, checks)
	})
	live := e.srv.Snapshot()
	require.Len(t, live, 1)
	require.Equal(t, "bridged", live[0].State)
	require.Len(t, e.fake.Bridges(), 1)
	// Reconciliation listed the application after the cut (start-up's
	// listing was before it).
	require.Greater(t, len(e.requests("GET /ari/applications/hotline")), lists)

	// The KTV hangs up: events flow on the new socket; the caller rates.
	require.NoError(t, e.fake.HangupLeg(leg.ChannelID))
	e.waitHeard(c, "playback", "vi/rate")
	require.NoError(t, c.Press(e.ctx(), "5"))
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, []string{"KTV1/answered"}, r.results())
	require.NotNil(t, r.Rating)
	require.Equal(t, int64(5), r.Rating.Score.Int64)
	e.expectKTV1AcceptedAndRated(r, 5)
}

func TestKTVHangsUpWhileWebSocketIsDown(t *testing.T) {
	e := newEnv(t, envOption{backoff: 50 * time.Millisecond, proxy: true, cfg: expect{tech: true, confirm: true}.cfg(),
		fake: func(o *aritest.Options) {
			o.Phones = map[string]aritest.Phone{ktv1Vina: aritest.AnswersAndPresses(20*time.Millisecond, "1", 10*time.Millisecond)}
		}})
	c := e.call(cafe1Phone)
	leg := e.waitDial(ktv1Vina)
	e.waitHeard(c, "bridged", "")
	e.cutWebSocketWhile(func() {
		// Nobody sees this hangup: the events are lost for good.
		require.NoError(t, e.fake.HangupLeg(leg.ChannelID))
	})
	// Reconciliation finds the leg gone: the caller is asked to rate.
	e.waitHeard(c, "playback", "vi/rate")
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, []string{"KTV1/answered"}, r.results())
	require.Empty(t, e.fake.Bridges())
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                               1,
		ended("answered", "caller_id", "MN"):                     1,
		legs("technician", "vinaphone", "vinaphone", "answered"): 1,
		staffLegs("KTV1", "answered"):                            1,
		answerWaits("MN"):                                        1,
		talks("MN", "technician"):                                1,
		routed:                                                   1,
	})
	e.expectAnswerWait("MN", r)
	e.expectTalk("MN", "technician", r)
}

func TestCallerHangsUpWhileWebSocketIsDown(t *testing.T) {
	e := newEnv(t, envOption{backoff: 50 * time.Millisecond, proxy: true,
		cfg: func(c *ivr.Config) { c.Ring[dialplan.RoleTechnician] = patient }})
	c := e.call(cafe1Phone)
	leg := e.waitDial(ktv1Vina)
	require.NoError(t, e.fake.WaitFor(e.ctx(), func() bool { return len(e.requests("/dial")) == 1 }))
	e.cutWebSocketWhile(func() { require.NoError(t, c.Hangup()) })
	r := e.record(c.ID())
	require.Equal(t, "interrupted", r.Outcome)
	require.Contains(t, r.Detail, "vanished")
	require.Equal(t, []string{"KTV1/cancelled"}, r.results())
	require.NoError(t, e.fake.WaitFor(e.ctx(), func() bool {
		for _, d := range e.fake.Dials() {
			if d.ChannelID == leg.ChannelID {
				return d.Ended
			}
		}
		return false
	}))
	// Interrupted, not abandoned: no abandoned wait is counted.
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                                1,
		ended("interrupted", "caller_id", "MN"):                   1,
		legs("technician", "vinaphone", "vinaphone", "cancelled"): 1,
		staffLegs("KTV1", "cancelled"):                            1,
		routed:                                                    1,
	})
}

func TestStartUpHandlesLeftoversOfAPreviousProcess(t *testing.T) {
	const oldCall = "01KAB7Y1Q3F7T8M2XW6N4P9R5S" // a previous process's call id
	var old *aritest.Call
	// Nothing new arrives at start-up here: a short grace is enough.
	e := newEnv(t, envOption{cfg: func(c *ivr.Config) { c.ReconcileGrace = 100 * time.Millisecond }, before: func(fake *aritest.Server) {
		// A previous process: a caller in the app, one of its legs ringing,
		// and its bridge; then it dies.
		ctx, cancel := context.WithCancel(context.Background())
		prev, err := ari.New(ari.Config{URL: fake.URL(), User: "asterisk", Password: "asterisk", App: "hotline"})
		require.NoError(t, err)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = prev.Run(ctx)
		}()
		require.NoError(t, fake.WaitConnected(ctx, "hotline"))
		old, err = fake.PlaceCall(aritest.CallSpec{Number: cafe1Phone})
		require.NoError(t, err)
		legStart := prev.Subscribe(ari.ChannelKey(oldCall + "-leg1"))
		_, err = prev.CreateChannel(ctx, ari.CreateChannelParams{ChannelID: oldCall + "-leg1", Endpoint: "PJSIP/" + ktv1Vina + "@gw-vinaphone"})
		require.NoError(t, err)
		for ev := range legStart.Events() { // dialled once in Stasis, as Asterisk requires
			if _, ok := ev.(*ari.StasisStart); ok {
				break
			}
		}
		legStart.Close()
		require.NoError(t, prev.Dial(ctx, oldCall+"-leg1", "", 0))
		_, err = prev.CreateBridge(ctx, ari.CreateBridgeParams{ID: oldCall + "-br", Type: "mixing"})
		require.NoError(t, err)
		cancel()
		<-done
	}})
	require.NoError(t, e.fake.WaitFor(e.ctx(), old.Continued))
	require.NoError(t, e.fake.CheckClean(e.ctx()))
	r := e.record(old.ID())
	require.Equal(t, "interrupted", r.Outcome)
	require.Equal(t, cafe1Phone, r.CallerRaw)
	require.Contains(t, r.Detail, "previous process")
	require.Empty(t, r.Legs)
	e.expectMetrics(map[string]float64{
		offered("none", "none"):              1,
		ended("interrupted", "none", "none"): 1,
		"hotline_adoption_fallbacks_total":   1,
	})
}

func TestShutdownEndsLiveCalls(t *testing.T) {
	e := newEnv(t, envOption{cfg: func(c *ivr.Config) { c.Ring[dialplan.RoleTechnician] = patient }})
	c := e.call(cafe1Phone)
	e.waitDial(ktv1Vina)
	require.NoError(t, e.fake.WaitFor(e.ctx(), func() bool { return len(e.requests("/dial")) == 1 }))
	require.NoError(t, e.stop())
	e.waitEnded(c)
	require.NoError(t, e.fake.CheckClean(e.ctx()))
	r := e.record(c.ID())
	require.Equal(t, "interrupted", r.Outcome)
	require.Equal(t, []string{"KTV1/cancelled"}, r.results())
	require.Empty(t, e.srv.Snapshot())
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                                1,
		ended("interrupted", "caller_id", "MN"):                   1,
		legs("technician", "vinaphone", "vinaphone", "cancelled"): 1,
		staffLegs("KTV1", "cancelled"):                            1,
		routed:                                                    1,
	})
}

// Reconciliation is retried until it works (issue 10, point 4): the KTV
// hangs up while the events WebSocket is down, and the first listings of the
// application after the reconnect fail. Before, the one failed attempt was
// all: the caller stayed alone in the bridge until MaxCall.
func TestReconciliationIsRetriedUntilItListsTheApplication(t *testing.T) {
	logs := newLogCapture()
	e := newEnv(t, envOption{backoff: 50 * time.Millisecond, proxy: true, log: slog.New(logs),
		cfg: expect{tech: true, confirm: true}.cfg(func(c *ivr.Config) {
			c.MaxCall = 10 * time.Minute // only reconciliation can find the hangup within the test
			c.TeardownBackoff = 50 * time.Millisecond
		}),
		fake: func(o *aritest.Options) {
			o.Phones = map[string]aritest.Phone{ktv1Vina: aritest.AnswersAndPresses(20*time.Millisecond, "1", 10*time.Millisecond)}
		}})
	c := e.call(cafe1Phone)
	leg := e.waitDial(ktv1Vina)
	e.waitHeard(c, "bridged", "")
	lists := len(e.requests("GET /ari/applications/hotline"))
	const failures = 3
	e.cutWebSocketWhile(func() {
		require.NoError(t, e.fake.HangupLeg(leg.ChannelID)) // its events are lost
		e.fake.FailNext(http.MethodGet, "/ari/applications/hotline", http.StatusInternalServerError, failures)
	})
	e.waitHeard(c, "playback", "vi/rate")
	e.waitEnded(c)
	require.Equal(t, lists+failures+1, len(e.requests("GET /ari/applications/hotline")))
	require.Len(t, logs.find(slog.LevelError, "reconciliation failed"), failures)
	require.Equal(t, float64(failures), e.metric("hotline_reconcile_failures_total"))
	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, []string{"KTV1/answered"}, r.results())
	require.Empty(t, r.Legs[0].Detail, "ended by reconciliation, not by the call's maximum length")
}

// A second process taking the application over (ApplicationReplaced) is
// logged at ERROR and shown by hotline_ari_application_replaced until our
// client connects again (issue 10, point 4).
func TestApplicationReplacedIsReported(t *testing.T) {
	logs := newLogCapture()
	e := newEnv(t, envOption{log: slog.New(logs), proxy: true})
	require.Zero(t, e.metric("hotline_ari_application_replaced"))
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	other, _, err := websocket.Dial(ctx, e.fake.EventsURL("hotline", false), nil)
	require.NoError(t, err)
	eventually(t, "the replaced gauge", func() (bool, string) {
		v := e.metric("hotline_ari_application_replaced")
		return v == 1, fmt.Sprintf("gauge %v", v)
	})
	errs := logs.find(slog.LevelError, "another process took this ARI application over")
	require.Len(t, errs, 1)
	st, _ := e.client.State()
	require.True(t, st.Replaced)
	// The other process goes; our client connects again (its socket is
	// cut) and takes the application back.
	_ = other.CloseNow()
	require.Positive(t, e.proxy.cutWebSockets())
	e.waitReconnected(2)
	eventually(t, "the replaced gauge back to 0", func() (bool, string) {
		v := e.metric("hotline_ari_application_replaced")
		return v == 0, fmt.Sprintf("gauge %v", v)
	})
}

// A StasisStart sent on a WebSocket that then drops is lost (Asterisk
// replays nothing): reconciliation after the reconnect finds the caller in
// the application and takes the call. Before, it only looked at the calls
// it knew: the caller waited unanswered, and no record was written.
func TestCallWhoseStasisStartWasLostIsTakenAfterTheReconnect(t *testing.T) {
	e := newEnv(t, envOption{backoff: 50 * time.Millisecond, proxy: true,
		cfg: expect{tech: true, confirm: true}.cfg(func(c *ivr.Config) { c.ReconcileGrace = 100 * time.Millisecond }),
		fake: func(o *aritest.Options) {
			o.Phones = map[string]aritest.Phone{ktv1Vina: aritest.AnswersAndPresses(20*time.Millisecond, "1", 10*time.Millisecond)}
		}})
	// Start-up reconciliation is over (its last step lists the bridges): a
	// caller never seen is no longer taken for a previous process's.
	require.NoError(t, e.fake.WaitFor(e.ctx(), func() bool { return len(e.requests("GET /ari/bridges")) > 0 }))
	e.proxy.mute()
	c := e.call(cafe1Phone)
	_, err := e.fake.WaitEvent(e.ctx(), "hotline", "StasisStart", 0) // sent, and lost
	require.NoError(t, err)
	e.cutWebSocketWhile(e.proxy.unmute)
	e.hangUpWhenBridged(ktv1Vina)
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, []string{"KTV1/answered"}, r.results())
}
