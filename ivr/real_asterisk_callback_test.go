package ivr_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/ivr"
)

// A café's caller gives up while its technician's phone rings: the café is
// called back. The technician (reachable again, on another number) hears
// "callback to café K G 0 0 1, Kiên Giang, press 1" and presses 1; the
// number that called is dialled through its trunk and both are bridged
// until the technician hangs up. The try is a call record of direction
// callback with both legs, and the inbound call's metrics are untouched by
// it.
func scenarioMissedCallCalledBack(t *testing.T, d phoneDriver) {
	ctx := scenarioCtx(t, d)
	u := d.unit()
	var dir atomic.Pointer[dialplan.Directory]
	dir.Store(phoneDirectory(t, phonePlan{ktv1: []string{tpNeverVina}}))
	e := d.start(t, envOption{dirFunc: dir.Load,
		cfg: expect{tech: true, confirm: true}.cfg(phoneConfig(u), func(c *ivr.Config) {
			c.Callback = ivr.CallbackConfig{Enabled: true, MinWait: time.Millisecond, Tries: 1, Retry: time.Hour,
				Poll: 100 * time.Millisecond, Ring: 4 * u}
			c.Prompts.Callback, c.Prompts.CallbackNoAnswer = "vi/callback", "vi/callback-no-answer"
		})})
	m := watchMedia(t, e)
	c := d.placeCall(t, ctx, e, cafe1Phone)
	waitLive(t, ctx, e, "ringing KTV1", func(l ivr.LiveCall) bool {
		return l.State == "ringing" && l.Target != nil && l.Target.Staff == "KTV1"
	})
	// From now on KTV1 answers (on their other phone): the callback rings it.
	dir.Store(phoneDirectory(t, phonePlan{ktv1: []string{tpLongKTV1}}))
	require.NoError(t, c.hangup(ctx))
	c.waitEnded(t, ctx)
	missed := e.recordOf(cafe1Phone)
	require.Equal(t, "abandoned", missed.Outcome)

	waitLive(t, ctx, e, "calling the café back, bridged with KTV1", func(l ivr.LiveCall) bool {
		return l.Callback && l.State == "bridged" && l.Target != nil && l.Target.Staff == "KTV1"
	})
	// KTV1 hangs up after talking; the café is hung up with them.
	done := e.waitCallback("the callback done", func(r callbackRow) bool { return r.State == "done" })
	require.Equal(t, missed.ID, done.CallID)
	require.Equal(t, 1, done.Tries)
	var recs []callRow
	eventually(t, "the callback's record", func() (bool, string) {
		recs = e.callbackRecords()
		return len(recs) == 1, fmt.Sprint(len(recs))
	})
	r := recs[0]
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, "KG001", r.Cafe.String)
	require.Equal(t, "KTV1", r.AcceptedBy.String)
	require.Equal(t, "+84945551001", r.Caller)
	require.Greater(t, r.Talk, 0.0)
	require.Equal(t, []string{"KTV1/answered", "/answered"}, r.results())
	require.Equal(t, "+84912000101", r.Legs[0].Number)
	require.Equal(t, "cafe", r.Legs[1].Role)
	require.Equal(t, "+84945551001", r.Legs[1].Number)
	require.True(t, r.Legs[1].AnsweredAt.Valid)
	// KTV1 heard the callback announcement (their 1 cut it short), not a
	// café's call's.
	require.NotEmpty(t, m.playbackStartingWith("sound:vi/callback"), "the callback announcement")
	require.Empty(t, m.playbackStartingWith("sound:vi/announce"), "no inbound announcement")
	d.checkClean(t, ctx, e)
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                                1,
		ended("abandoned", "caller_id", "MN"):                     1,
		legs("technician", "vinaphone", "vinaphone", "cancelled"): 1,
		legs("technician", "vinaphone", "vinaphone", "answered"):  1,
		staffLegs("KTV1", "cancelled"):                            1,
		staffLegs("KTV1", "answered"):                             1,
		abandonWaits("MN"):                                        1,
		routed:                                                    1,
	})
	require.Equal(t, 1.0, e.metric("hotline_callbacks_attempted_total"))
	require.Equal(t, 1.0, e.metric("hotline_callbacks_connected_total"))
}
