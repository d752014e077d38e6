package ivr_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ivr"
)

// A person whose leg Asterisk refuses to hang up stays held until the leg
// is gone: another call does not ring them meanwhile (seen in the chaos
// run: a refused hangup, the call ended and let the person go, and the next
// call rang them while the first leg still rang). Before: the person was let
// go with the call, whatever the leg.
func TestPersonHeldUntilTheirLegIsGone(t *testing.T) {
	e := newEnv(t, envOption{cfg: expect{tech: true}.cfg(func(c *ivr.Config) {
		c.TeardownTries = 5
		c.TeardownBackoff = 300 * time.Millisecond // the leg stays up ≈ 1 s
	})})
	first := e.call(cafe1Phone)
	leg := e.waitDial(ktv1Vina)
	require.NoError(t, e.fake.WaitFor(e.ctx(), func() bool { return len(e.requests("/ari/channels/"+leg.ChannelID+"/dial")) == 1 }))
	e.fake.FailNext(http.MethodDelete, "/ari/channels/"+leg.ChannelID, http.StatusInternalServerError, 2)
	require.NoError(t, first.Hangup())
	require.Equal(t, "abandoned", e.record(first.ID()).Outcome) // recorded while the leg is still being hung up
	second := e.call(cafe2Phone)                                // KTV1's café too
	require.NoError(t, e.fake.WaitFor(e.ctx(), func() bool { return e.channelGone(leg.ChannelID) }))
	gone := eventAt(t, e.fake, "ChannelDestroyed", leg.ChannelID)
	for _, r := range e.requests("POST /ari/channels/create") {
		if r.At.After(leg.Started) && slices.Contains(r.Query["endpoint"], "PJSIP/"+ktv1Vina+"@gw-vinaphone") &&
			r.Query["channelId"][0] != leg.ChannelID {
			require.True(t, r.At.After(gone), "KTV1 rung again at %v while their first leg was up until %v", r.At, gone)
		}
	}
	require.NoError(t, second.Hangup())
	e.waitEnded(second)
	e.requireNoReservation(waitTimeout)
}

// channelGone reports whether the fake no longer has the channel.
func (e *env) channelGone(id string) bool {
	for _, ch := range e.fake.Channels() {
		if ch.ID == id {
			return false
		}
	}
	return true
}
