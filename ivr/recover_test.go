package ivr_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/ivr"
)

// waitReconnected waits until our client connected n times.
func (e *env) waitReconnected(n uint64) {
	e.t.Helper()
	require.Eventually(e.t, func() bool {
		st, _ := e.client.State()
		return st.Connected && st.Connects >= n
	}, 10*time.Second, 5*time.Millisecond)
}

func TestWebSocketCutWhileBridgedCallGoesOn(t *testing.T) {
	e := newEnv(t, envOption{backoff: 100 * time.Millisecond, fake: func(o *aritest.Options) {
		o.Phones = map[string]aritest.Phone{ktv1Vina: aritest.AnswersAndPresses(20*time.Millisecond, "1", 10*time.Millisecond)}
	}})
	c := e.call(cafe1Phone)
	leg := e.waitDial(ktv1Vina)
	e.waitHeard(c, "bridged", "")
	require.True(t, e.fake.CutWebSocket("hotline"))
	e.waitReconnected(2)
	// Reconciliation ran and the call is still bridged.
	time.Sleep(400 * time.Millisecond)
	live := e.srv.Snapshot()
	require.Len(t, live, 1)
	require.Equal(t, "bridged", live[0].State)
	require.Len(t, e.fake.Bridges(), 1)
	require.NotEmpty(t, e.requests("GET /ari/applications/hotline"))

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
	e := newEnv(t, envOption{backoff: 150 * time.Millisecond, fake: func(o *aritest.Options) {
		o.Phones = map[string]aritest.Phone{ktv1Vina: aritest.AnswersAndPresses(20*time.Millisecond, "1", 10*time.Millisecond)}
	}})
	c := e.call(cafe1Phone)
	leg := e.waitDial(ktv1Vina)
	e.waitHeard(c, "bridged", "")
	require.True(t, e.fake.CutWebSocket("hotline"))
	// Nobody sees this hangup: the events are lost for good.
	require.NoError(t, e.fake.HangupLeg(leg.ChannelID))
	e.waitReconnected(2)
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
	e := newEnv(t, envOption{backoff: 150 * time.Millisecond,
		cfg: func(c *ivr.Config) { c.Ring[dialplan.RoleTechnician] = 5 * time.Second }})
	c := e.call(cafe1Phone)
	leg := e.waitDial(ktv1Vina)
	require.NoError(t, e.fake.WaitFor(e.ctx(), func() bool { return len(e.requests("/dial")) == 1 }))
	require.True(t, e.fake.CutWebSocket("hotline"))
	require.NoError(t, c.Hangup())
	e.waitReconnected(2)
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
	e := newEnv(t, envOption{before: func(fake *aritest.Server) {
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
	})
}

func TestShutdownEndsLiveCalls(t *testing.T) {
	e := newEnv(t, envOption{cfg: func(c *ivr.Config) { c.Ring[dialplan.RoleTechnician] = 5 * time.Second }})
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
