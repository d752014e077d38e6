package arifake_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/ari/arifake"
)

// watchApp is a minimal Stasis application on the fake, driven step by step
// by a detector test.
type watchApp struct {
	t   *testing.T
	ctx context.Context
	srv *arifake.Server
	cl  *ari.Client
}

func startWatchApp(t *testing.T, opts arifake.Options) *watchApp {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	srv := arifake.Start(t, opts)
	cl, err := ari.New(ari.Config{URL: srv.URL(), User: "asterisk", Password: "asterisk", App: "hotline"})
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- cl.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })
	require.NoError(t, cl.WaitConnected(ctx))
	return &watchApp{t: t, ctx: ctx, srv: srv, cl: cl}
}

// call places an incoming call and answers it.
func (a *watchApp) call() *arifake.Call {
	a.t.Helper()
	c, err := a.srv.PlaceCall(arifake.CallSpec{Number: "0945550201"})
	require.NoError(a.t, err)
	require.NoError(a.t, a.cl.Answer(a.ctx, c.ID()))
	return c
}

// dial creates leg id to number and dials it once it is in Stasis.
func (a *watchApp) dial(caller *arifake.Call, id, number string) {
	a.t.Helper()
	sub := a.cl.Subscribe(ari.ChannelKey(id))
	defer sub.Close()
	_, err := a.cl.CreateChannel(a.ctx, ari.CreateChannelParams{
		ChannelID: id, Endpoint: "PJSIP/" + number + "@gw-viettel", Originator: caller.ID(), AppArgs: "leg"})
	require.NoError(a.t, err)
	for {
		ev, err := sub.Next(a.ctx)
		require.NoError(a.t, err, "waiting for %s to enter Stasis", id)
		if _, ok := ev.(*ari.StasisStart); ok {
			break
		}
	}
	require.NoError(a.t, a.cl.Dial(a.ctx, id, caller.ID(), 30*time.Second))
}

// waitUp waits until channel id is answered.
func (a *watchApp) waitUp(id string) {
	a.t.Helper()
	require.NoError(a.t, a.srv.WaitFor(a.ctx, func() bool {
		for _, c := range a.srv.Channels() {
			if c.ID == id && c.State == "Up" {
				return true
			}
		}
		return false
	}), "%s answered", id)
}

// waitGone waits until channel id is gone.
func (a *watchApp) waitGone(id string) {
	a.t.Helper()
	require.NoError(a.t, a.srv.WaitFor(a.ctx, func() bool {
		for _, c := range a.srv.Channels() {
			if c.ID == id {
				return false
			}
		}
		return true
	}), "%s gone", id)
}

func TestDoubleRingDetector(t *testing.T) {
	const ktv, ktv2 = "0945550101", "0965550102"
	tests := []struct {
		name  string
		steps func(a *watchApp, c *arifake.Call)
		want  []arifake.DoubleRing // Number, Leg and Other compared
	}{
		{"two legs to one number at once", func(a *watchApp, c *arifake.Call) {
			a.dial(c, "leg-a", ktv)
			a.dial(c, "leg-b", ktv)
		}, []arifake.DoubleRing{{Number: ktv, Leg: "leg-b", Other: "leg-a"}}},
		{"the same number in its +84 form, while the first is talking", func(a *watchApp, c *arifake.Call) {
			a.srv.SetPhone(ktv, arifake.Answers(0))
			a.dial(c, "leg-a", ktv)
			a.waitUp("leg-a")
			a.dial(c, "leg-b", "+84945550101")
		}, []arifake.DoubleRing{{Number: "84945550101", Leg: "leg-b", Other: "leg-a"}}},
		{"one after the other", func(a *watchApp, c *arifake.Call) {
			a.dial(c, "leg-a", ktv)
			require.NoError(t, a.cl.Hangup(a.ctx, "leg-a", ari.HangupNormal))
			a.waitGone("leg-a")
			a.dial(c, "leg-b", ktv)
		}, nil},
		{"a person's two numbers at once", func(a *watchApp, c *arifake.Call) {
			a.dial(c, "leg-a", ktv)
			a.dial(c, "leg-b", ktv2)
		}, nil},
		{"a leg created but not dialled yet", func(a *watchApp, c *arifake.Call) {
			_, err := a.cl.CreateChannel(a.ctx, ari.CreateChannelParams{
				ChannelID: "leg-a", Endpoint: "PJSIP/" + ktv + "@gw-viettel", Originator: c.ID(), AppArgs: "leg"})
			require.NoError(t, err)
			a.dial(c, "leg-b", ktv)
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := startWatchApp(t, arifake.Options{DefaultPhone: arifake.NeverAnswers()})
			c := a.call()
			tc.steps(a, c)
			var got []arifake.DoubleRing
			for _, d := range a.srv.DoubleRings() {
				require.False(t, d.At.IsZero())
				got = append(got, arifake.DoubleRing{Number: d.Number, Leg: d.Leg, Other: d.Other})
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestAloneInBridgeDetector(t *testing.T) {
	type stretch struct {
		Channel string // "caller" or a leg id
		Caller  bool
		Open    bool
	}
	tests := []struct {
		name  string
		steps func(a *watchApp, c *arifake.Call)
		want  []stretch
	}{
		{"both stay: nobody alone", func(a *watchApp, c *arifake.Call) {
			require.NoError(t, a.cl.AddChannels(a.ctx, "br", c.ID(), "leg"))
		}, nil},
		{"the person hangs up and the caller is left in the bridge", func(a *watchApp, c *arifake.Call) {
			require.NoError(t, a.cl.AddChannels(a.ctx, "br", c.ID(), "leg"))
			require.NoError(t, a.srv.HangupLeg("leg"))
			a.waitGone("leg")
		}, []stretch{{Channel: "caller", Caller: true, Open: true}}},
		{"the caller hangs up and the person is left in the bridge", func(a *watchApp, c *arifake.Call) {
			require.NoError(t, a.cl.AddChannels(a.ctx, "br", c.ID(), "leg"))
			require.NoError(t, c.Hangup())
			<-c.Done()
		}, []stretch{{Channel: "leg", Open: true}}},
		{"the application ends it: the bridge is destroyed", func(a *watchApp, c *arifake.Call) {
			require.NoError(t, a.cl.AddChannels(a.ctx, "br", c.ID(), "leg"))
			require.NoError(t, a.srv.HangupLeg("leg"))
			a.waitGone("leg")
			require.NoError(t, a.cl.DestroyBridge(a.ctx, "br"))
		}, []stretch{{Channel: "caller", Caller: true}}},
		{"added one at a time: alone until the second comes", func(a *watchApp, c *arifake.Call) {
			require.NoError(t, a.cl.AddChannels(a.ctx, "br", c.ID()))
			require.NoError(t, a.cl.AddChannels(a.ctx, "br", "leg"))
		}, []stretch{{Channel: "caller", Caller: true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := startWatchApp(t, arifake.Options{DefaultPhone: arifake.Answers(0)})
			c := a.call()
			a.dial(c, "leg", "0945550101")
			a.waitUp("leg")
			_, err := a.cl.CreateBridge(a.ctx, ari.CreateBridgeParams{ID: "br", Type: ari.BridgeMixing})
			require.NoError(t, err)
			tc.steps(a, c)
			var got []stretch
			now := time.Now()
			for _, s := range a.srv.AloneInBridges() {
				require.Equal(t, "br", s.Bridge)
				require.False(t, s.From.IsZero())
				require.GreaterOrEqual(t, s.Duration(now), time.Duration(0))
				id := s.Channel
				if id == c.ID() {
					id = "caller"
				}
				got = append(got, stretch{Channel: id, Caller: s.Caller, Open: s.To.IsZero()})
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestConversationCutDetector(t *testing.T) {
	tests := []struct {
		name  string
		steps func(a *watchApp, c *arifake.Call)
		want  string // How of the one cut, "" for none
	}{
		{"the person hangs up, the application clears the bridge", func(a *watchApp, c *arifake.Call) {
			require.NoError(t, a.srv.HangupLeg("leg"))
			a.waitGone("leg")
			require.NoError(t, a.cl.DestroyBridge(a.ctx, "br"))
			require.NoError(t, a.cl.Hangup(a.ctx, c.ID(), ari.HangupNormal))
		}, ""},
		{"the caller hangs up, the application hangs up the person", func(a *watchApp, c *arifake.Call) {
			require.NoError(t, c.Hangup())
			<-c.Done()
			require.NoError(t, a.cl.Hangup(a.ctx, "leg", ari.HangupNormal))
		}, ""},
		{"the application hangs up the person mid-conversation", func(a *watchApp, c *arifake.Call) {
			require.NoError(t, a.cl.Hangup(a.ctx, "leg", ari.HangupNormal))
		}, "hangup"},
		{"the application hangs up the caller mid-conversation", func(a *watchApp, c *arifake.Call) {
			require.NoError(t, a.cl.Hangup(a.ctx, c.ID(), ari.HangupNormal))
		}, "hangup"},
		{"the application sends the caller back to the dialplan", func(a *watchApp, c *arifake.Call) {
			require.NoError(t, a.cl.ContinueInDialplan(a.ctx, c.ID(), ari.ContinueParams{}))
		}, "continue"},
		{"the application takes the caller out of the bridge", func(a *watchApp, c *arifake.Call) {
			require.NoError(t, a.cl.RemoveChannels(a.ctx, "br", c.ID()))
		}, "remove"},
		{"the application destroys the bridge", func(a *watchApp, c *arifake.Call) {
			require.NoError(t, a.cl.DestroyBridge(a.ctx, "br"))
		}, "destroy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := startWatchApp(t, arifake.Options{DefaultPhone: arifake.Answers(0)})
			c := a.call()
			a.dial(c, "leg", "0945550101")
			a.waitUp("leg")
			_, err := a.cl.CreateBridge(a.ctx, ari.CreateBridgeParams{ID: "br", Type: ari.BridgeMixing})
			require.NoError(t, err)
			require.NoError(t, a.cl.AddChannels(a.ctx, "br", c.ID(), "leg"))
			tc.steps(a, c)
			cuts := a.srv.ConversationsCut()
			if tc.want == "" {
				require.Empty(t, cuts)
				return
			}
			require.Len(t, cuts, 1)
			require.Equal(t, arifake.ConversationCut{Bridge: "br", Caller: c.ID(), Leg: "leg", How: tc.want, At: cuts[0].At}, cuts[0])
			require.False(t, cuts[0].At.IsZero())
		})
	}
}
