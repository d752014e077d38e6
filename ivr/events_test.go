package ivr_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/ivr"
)

// The hotline asks Asterisk for the events its call flow handles and no
// others (ivr.Events, set at every connect), and a whole answered, bridged,
// rated call works on them alone: the fake Asterisk applies the filter as
// Asterisk does, so an event the flow needs and the filter drops would
// break this call (and every other scenario).
func TestOnlyTheEventsTheCallFlowHandles(t *testing.T) {
	e := newEnv(t, envOption{cfg: expect{tech: true, confirm: true, rate: true}.cfg(func(c *ivr.Config) {
		c.ExtraEvents = nil // production
	}), fake: func(o *aritest.Options) {
		o.Phones = map[string]aritest.Phone{ktv1Vina: aritest.AnswersAndPresses(30*time.Millisecond, "1", 250*time.Millisecond)}
	}})
	filterSet := func() bool {
		for _, r := range e.requests("PUT /ari/applications/hotline/eventFilter") {
			if r.Status == 200 {
				return true
			}
		}
		return false
	}
	require.NoError(t, e.fake.WaitFor(e.ctx(), filterSet))
	app, err := e.client.GetApplication(e.ctx(), "")
	require.NoError(t, err)
	var allowed []string
	for _, f := range app.EventsAllowed {
		allowed = append(allowed, f["type"].(string))
	}
	require.Equal(t, ivr.Events(), allowed)
	require.Empty(t, app.EventsDisallowed)

	before := len(e.fake.Events())
	c := e.call(cafe1Phone)
	e.waitHeard(c, "bridged", "")
	e.hangUpWhenBridged(ktv1Vina)
	e.waitHeard(c, "playback", "vi/rate")
	require.NoError(t, c.Press(e.ctx(), "4"))
	e.waitHeard(c, "playback", "vi/thanks")
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, []string{"KTV1/answered"}, r.results())
	e.expectKTV1AcceptedAndRated(r, 4)

	sent := map[string]int{}
	for _, ev := range e.fake.Events()[before:] {
		if ev.App == "hotline" {
			sent[ev.Type]++
		}
	}
	for typ := range sent {
		require.True(t, slices.Contains(ivr.Events(), typ), "Asterisk sent the hotline %s (%v)", typ, sent)
	}
	// What the call flow waits for did arrive.
	for _, typ := range []string{"StasisStart", "Dial", "ChannelDtmfReceived", "PlaybackFinished", "ChannelLeftBridge", "StasisEnd"} {
		require.Positive(t, sent[typ], "%s (%v)", typ, sent)
	}
}
