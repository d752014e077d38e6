package ivr_test

// Fault injection in the call flow (issue 10, points 2 and 5): a caller who
// is gone before the hotline has looked, a bridge Asterisk will not make, an
// announcement Asterisk will not play. Each test fails on the code before
// the fix it names.

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/ivr"
)

// gapARI is the ARI client with the gap of point 2 held open: the caller's
// own subscription (made by the call once Run has taken its StasisStart)
// waits until the test lets it go, so the caller can hang up — and the
// client dispatch the hangup's events — in between, as when the socket
// reader runs ahead of Run on a loaded machine. With loseEnds the caller's
// end events are also kept from every type subscription (as if the link
// had lost them): the answers to the hotline's requests are all it has.
type gapARI struct {
	*ari.Client
	loseEnds bool

	once    sync.Once
	held    chan string   // the caller channel whose subscription waits
	release chan struct{} // closed by the test
}

func newGapARI(c *ari.Client, loseEnds bool) *gapARI {
	return &gapARI{Client: c, loseEnds: loseEnds, held: make(chan string, 1), release: make(chan struct{})}
}

func (g *gapARI) Subscribe(keys ...ari.Key) *ari.Subscription {
	var kept []ari.Key
	for _, k := range keys {
		if k.Kind == ari.KeyChannel && !strings.Contains(k.ID, "-leg") {
			g.once.Do(func() {
				g.held <- k.ID
				<-g.release
			})
		}
		if g.loseEnds && k.Kind == ari.KeyType && k.ID != ari.TypeStasisStart {
			continue
		}
		kept = append(kept, k)
	}
	return g.Client.Subscribe(kept...)
}

// A caller who hangs up right after entering Stasis rings nobody and is
// recorded abandoned (point 2), however Asterisk tells it: the hangup's
// events arriving before the call's own subscription exists (whatever the
// requests answer), or only the answer to the caller's answer request (404
// gone, 409 no longer in Stasis, 500 and then 404 to a GET). Before: the events were dropped and
// the answer's error ignored, so KTV1 (both numbers), the area manager, the
// regional manager and the operator were all rung for nobody, and the call
// was recorded no_answer.
func TestFaultCallerGoneAtStasisStartRingsNobody(t *testing.T) {
	tests := []struct {
		name     string
		loseEnds bool
		answer   int // status injected for the caller's answer; 0: Asterisk's own (404: gone)
		get      int // status injected for GET of the caller's channel; 0: Asterisk's own
	}{
		{name: "hangup events before the call's subscription"},
		{name: "hangup events before the call's subscription, answer and GET 500",
			answer: http.StatusInternalServerError, get: http.StatusInternalServerError},
		{name: "events lost, answer 404", loseEnds: true},
		{name: "events lost, answer 409 not in Stasis", loseEnds: true, answer: http.StatusConflict},
		{name: "events lost, answer 500 then GET 404", loseEnds: true, answer: http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gap *gapARI
			e, _ := newFaultEnv(t, faultOptions{wrap: func(c *ari.Client) ivr.ARI {
				gap = newGapARI(c, tt.loseEnds)
				return gap
			}})
			if tt.answer != 0 {
				e.fake.FailNext(http.MethodPost, "/ari/channels/*/answer", tt.answer, 0)
			}
			if tt.get != 0 {
				e.fake.FailNext(http.MethodGet, "/ari/channels/*", tt.get, 0)
			}
			destroyed := e.client.Subscribe(ari.TypeKey(ari.TypeChannelDestroyed))
			defer destroyed.Close()

			c := e.call(cafe1Phone)
			select {
			case id := <-gap.held:
				require.Equal(t, c.ID(), id)
			case <-time.After(waitTimeout):
				t.Fatal("the call never subscribed to its caller's channel")
			}
			require.NoError(t, c.Hangup())
			// Every event of the hangup has been dispatched once its last,
			// ChannelDestroyed, has.
			for {
				ev, err := destroyed.Next(e.ctx())
				require.NoError(t, err)
				if ev.(*ari.ChannelDestroyed).Channel.ID == c.ID() {
					break
				}
			}
			close(gap.release)

			r := e.record(c.ID())
			require.Equal(t, "abandoned", r.Outcome, "legs: %v", r.results())
			require.Empty(t, r.Legs)
			require.Empty(t, e.fake.Dials(), "somebody was rung for a caller already gone")
			require.Empty(t, e.requests("POST /ari/channels/create"))
			e.requireNoReservation(3 * time.Second)
		})
	}
}

// played lists the media a leg was given to hear.
func played(d aritest.Dialled) []string {
	var out []string
	for _, h := range d.Heard {
		if h.Kind == "playback" {
			out = append(out, h.Detail)
		}
	}
	return out
}

// ringbackAfterRefusal reports whether the caller was given ringback
// after the first bridge request Asterisk refused.
func ringbackAfterRefusal(reqs []aritest.Request, caller string) bool {
	refused := false
	for _, r := range reqs {
		switch {
		case strings.HasPrefix(r.Path, "/ari/bridges/") && r.Status >= 500:
			refused = true
		case refused && r.Method == http.MethodPost && r.Path == "/ari/channels/"+caller+"/ring":
			return true
		}
	}
	return false
}

// A bridge Asterisk refuses after someone pressed 1 does not drop the
// caller (point 5a): that person's leg is hung up and recorded cancelled
// (not their fault) with what happened, their other number is not rung (they did answer), the
// caller hears ringback again, and the call goes on to the next person —
// then voicemail, then, when not even a message can be recorded, the
// dialplan's fallback. Before: both were hung up and the call recorded
// failed.
func TestFaultBridgeRefusedGoesOnToTheNextPerson(t *testing.T) {
	tests := []struct {
		name   string
		faults []aritest.Fault
		// everyone: every person accepts (else only KTV1 and AM1).
		everyone bool
		results  []string
		detail   string // of KTV1's leg
		outcome  string
		failures float64 // hotline_bridge_failures_total
	}{{
		name:    "create refused once",
		faults:  []aritest.Fault{{Method: http.MethodPost, Path: "/ari/bridges/*", Status: 500, Times: 1}},
		results: []string{"KTV1/cancelled", "AM1/answered"}, detail: "bridge failed: create bridge: ",
		outcome: "answered", failures: 1,
	}, {
		name:    "adding the channels refused once",
		faults:  []aritest.Fault{{Method: http.MethodPost, Path: "/ari/bridges/*/addChannel", Status: 500, Times: 1}},
		results: []string{"KTV1/cancelled", "AM1/answered"}, detail: "bridge failed: bridge channels: ",
		outcome: "answered", failures: 1,
	}, {
		name:     "never bridged: voicemail",
		faults:   []aritest.Fault{{Method: http.MethodPost, Path: "/ari/bridges/*", Status: 503}},
		everyone: true,
		results:  []string{"KTV1/cancelled", "AM1/cancelled", "RM1/cancelled", "OP1/cancelled"}, detail: "bridge failed: create bridge: ",
		outcome: "voicemail", failures: 4,
	}, {
		name: "never bridged, no message: the dialplan's fallback",
		faults: []aritest.Fault{{Method: http.MethodPost, Path: "/ari/bridges/*", Status: 503},
			{Method: http.MethodPost, Path: "/ari/channels/*/record", Status: 500}},
		everyone: true,
		results:  []string{"KTV1/cancelled", "AM1/cancelled", "RM1/cancelled", "OP1/cancelled"}, detail: "bridge failed: create bridge: ",
		outcome: "no_answer", failures: 4,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, logs := newFaultEnv(t, faultOptions{envOption: envOption{
				cfg: expect{tech: true, am: true, rm: true, op: true, confirm: true, message: true}.cfg(),
				fake: func(o *aritest.Options) {
					o.Phones = map[string]aritest.Phone{ktv1Vina: accepts(20 * time.Millisecond), ktv1Viettel: accepts(20 * time.Millisecond), am1: accepts(20 * time.Millisecond)}
					if tt.everyone {
						o.DefaultPhone = accepts(20 * time.Millisecond)
					}
				}}})
			for _, f := range tt.faults {
				e.fake.AddFault(f)
			}
			c := e.call(cafe1Phone)
			switch tt.outcome {
			case "answered":
				e.hangUpWhenBridged(am1)
			case "voicemail":
				e.waitHeard(c, "recording", "")
				require.NoError(t, c.Press(e.ctx(), "#"))
			}
			e.waitEnded(c)

			r := e.record(c.ID())
			require.Equal(t, tt.outcome, r.Outcome, "detail %q, legs %v", r.Detail, r.results())
			require.Equal(t, tt.results, r.results())
			ktv := r.Legs[0]
			require.Contains(t, ktv.Detail, tt.detail)
			require.True(t, ktv.AcceptedAt.Valid, "KTV1 did press 1")
			require.Empty(t, e.dialsTo(ktv1Viettel), "KTV1 answered: their other number is not rung")
			d := e.dialsTo(ktv1Vina)[0]
			require.True(t, d.Ended)
			require.GreaterOrEqual(t, e.hangups(d.ChannelID), 1, "the hotline hung KTV1's leg up")
			for _, h := range d.Heard {
				require.NotEqual(t, "bridged", h.Kind, "KTV1 was never talking to the caller")
			}
			require.True(t, ringbackAfterRefusal(e.fake.Requests(), c.ID()), "the caller hears ringback again")
			require.Equal(t, tt.failures, e.metric("hotline_bridge_failures_total"))
			errs := logs.find(slog.LevelError, "could not bridge")
			require.Len(t, errs, int(tt.failures))
			require.Equal(t, "KTV1", errs[0].Attrs["staff"])
			require.Equal(t, r.ID, errs[0].Attrs["call_id"])
			// The caller never got into the bridge: nothing to wait for.
			require.Empty(t, logs.find(slog.LevelWarn, "did not leave the destroyed bridge"))
			switch tt.outcome {
			case "answered":
				require.Equal(t, "AM1", r.AcceptedBy.String)
				require.False(t, c.Continued())
			case "voicemail":
				require.NotNil(t, r.Voicemail)
				require.False(t, c.Continued())
			case "no_answer":
				require.True(t, c.Continued(), "the caller goes to the dialplan's fallback, not a silent hang-up")
				require.Contains(t, r.Detail, "voicemail: ")
				require.Contains(t, r.Detail, "handed to the dialplan's fallback")
				require.Zero(t, e.hangups(c.ID()))
			}
		})
	}
}

// An announcement Asterisk refuses to play is tried once more, then the
// plain "press 1" prompt is played; when nothing plays, the time to press
// 1 starts at once (point 5b). Each is logged and counted. Before: one
// try, then silence until MaxPrompt (here longer than the test waits) and
// the whole confirmation time.
func TestFaultAnnouncementRefused(t *testing.T) {
	tests := []struct {
		name     string
		refusals int // plays refused on the legs; 0: every one
		fallback string
		heard    string   // media KTV1's leg was given
		notHeard string   // media it was not
		results  []string // "" : KTV1 accepts, the caller is bridged
	}{
		{name: "refused once: played on the second try", refusals: 1, fallback: "retry",
			heard: "sound:vi/announce"},
		{name: "refused twice: the plain press 1", refusals: 2, fallback: "press_one",
			heard: "sound:vi/press-one", notHeard: "sound:vi/announce"},
		{name: "always refused: the time to press 1 starts at once", fallback: "none",
			results: []string{"KTV1/answered_unconfirmed", "KTV1/answered_unconfirmed", "AM1/answered_unconfirmed",
				"RM1/answered_unconfirmed", "OP1/answered_unconfirmed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			silent := tt.refusals == 0
			e, logs := newFaultEnv(t, faultOptions{envOption: envOption{
				cfg: func(c *ivr.Config) {
					x := expect{tech: true, am: true, rm: true, op: true, message: true}
					x.confirm = !silent // a voicemail box never presses 1: the short confirmation time runs out
					x.cfg()(c)
					c.MaxPrompt = time.Minute // more than the test waits: only a confirmation started at once ends
					c.MaxLeg = time.Minute
				},
				fake: func(o *aritest.Options) {
					o.Phones = map[string]aritest.Phone{ktv1Vina: aritest.AnswersAndPresses(20*time.Millisecond, "1", 200*time.Millisecond)}
					if silent {
						o.DefaultPhone = aritest.Voicemail(20 * time.Millisecond)
						o.Phones = nil
					}
				}}})
			e.fake.FailNext(http.MethodPost, "/ari/channels/*-leg*/play/*", http.StatusInternalServerError, tt.refusals)
			c := e.call(cafe1Phone)
			if silent {
				e.waitHeard(c, "recording", "")
				require.NoError(t, c.Press(e.ctx(), "#"))
			} else {
				e.hangUpWhenBridged(ktv1Vina)
			}
			e.waitEnded(c)

			r := e.record(c.ID())
			if silent {
				require.Equal(t, "voicemail", r.Outcome)
				require.Equal(t, tt.results, r.results())
				require.Equal(t, 5.0, e.metric("hotline_announcement_fallbacks_total", "fallback", "none"))
				require.Len(t, logs.find(slog.LevelError, "could not play anything"), 5)
				for _, d := range e.fake.Dials() {
					require.Empty(t, played(d), "Asterisk played nothing")
				}
				return
			}
			require.Equal(t, "answered", r.Outcome)
			require.Equal(t, []string{"KTV1/answered"}, r.results())
			heard := played(e.dialsTo(ktv1Vina)[0])
			require.Contains(t, heard, tt.heard)
			if tt.notHeard != "" {
				require.NotContains(t, heard, tt.notHeard)
			}
			require.Equal(t, 1.0, e.metric("hotline_announcement_fallbacks_total", "fallback", tt.fallback))
			require.Equal(t, 1.0, e.metric("hotline_announcement_fallbacks_total"), "one fallback in all")
			warns := logs.find(slog.LevelWarn, "announcement played after a refusal")
			require.Len(t, warns, 1)
			require.Equal(t, tt.fallback, warns[0].Attrs["fallback"])
			require.Equal(t, r.ID, warns[0].Attrs["call_id"])
			require.Len(t, logs.find(slog.LevelWarn, "could not play the announcement"), tt.refusals)
		})
	}
}

// bridgeHookARI is the ARI client with a hook run once, before the call's
// first bridge is created.
type bridgeHookARI struct {
	*ari.Client
	once   sync.Once
	before func()
}

func (h *bridgeHookARI) CreateBridge(ctx context.Context, p ari.CreateBridgeParams) (*ari.Bridge, error) {
	h.once.Do(h.before)
	return h.Client.CreateBridge(ctx, p)
}

// A person who hangs up right after pressing 1, before the bridge is made,
// does not take the caller with them (point 5a): their leg is recorded
// failed, "hung up before being connected" — not a bridge failure — and the
// next person is rung. Before: the caller was hung up and the call
// recorded answered by the person who had left.
func TestFaultPersonHangsUpBeforeTheBridge(t *testing.T) {
	var e *env
	hook := func() {
		d := e.dialsTo(ktv1Vina)[0]
		require.NoError(t, e.fake.HangupLeg(d.ChannelID))
		require.NoError(t, e.fake.WaitFor(e.ctx(), func() bool { return !e.channelUp(d.ChannelID) }))
	}
	e, logs := newFaultEnv(t, faultOptions{
		wrap: func(c *ari.Client) ivr.ARI { return &bridgeHookARI{Client: c, before: hook} },
		envOption: envOption{cfg: expect{tech: true, am: true, confirm: true}.cfg(), fake: func(o *aritest.Options) {
			o.Phones = map[string]aritest.Phone{ktv1Vina: accepts(20 * time.Millisecond), am1: accepts(20 * time.Millisecond)}
		}}})
	c := e.call(cafe1Phone)
	e.hangUpWhenBridged(am1)
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome)
	require.Equal(t, "AM1", r.AcceptedBy.String)
	require.Equal(t, []string{"KTV1/failed", "AM1/answered"}, r.results())
	require.Equal(t, "hung up before being connected", r.Legs[0].Detail)
	require.Empty(t, e.dialsTo(ktv1Viettel))
	require.Zero(t, e.metric("hotline_bridge_failures_total"), "not Asterisk's refusal")
	require.Empty(t, logs.find(slog.LevelError, "could not bridge"))
}
