package ivr_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari/aritest"
)

// talkThenHangUp is a person who answers, presses 1 and talks for talk.
func talkThenHangUp(ring, talk time.Duration) aritest.Phone {
	return aritest.Phone{Outcome: aritest.OutcomeAnswer, RingFor: ring, Keys: "1", KeysAfter: 10 * time.Millisecond,
		HangupAfter: talk}
}

func TestKnownCafeAnsweredBridgedRated(t *testing.T) {
	e := newEnv(t, envOption{fake: func(o *aritest.Options) {
		o.Phones = map[string]aritest.Phone{ktv1Vina: talkThenHangUp(30*time.Millisecond, 300*time.Millisecond)}
	}})
	c := e.call(cafe1Phone)
	e.waitHeard(c, "bridged", "")
	e.waitHeard(c, "playback", "vi/rate")
	require.NoError(t, c.Press(e.ctx(), "4"))
	e.waitHeard(c, "playback", "vi/thanks")
	e.waitEnded(c)

	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome)
	require.Equal(t, "caller_id", r.MatchedBy)
	require.Equal(t, "KG001", r.Cafe.String)
	require.Equal(t, "kien-giang", r.Province.String)
	require.Equal(t, "MN", r.Region.String)
	require.Equal(t, "KTV1", r.AcceptedBy.String)
	require.Equal(t, "+84945551001", r.Caller)
	require.Greater(t, r.Talk, 0.0)
	require.Equal(t, []string{"KTV1/answered"}, r.results())
	l := r.Legs[0]
	require.Equal(t, "+84945550101", l.Number)
	require.Equal(t, "vinaphone", l.Carrier)
	require.Equal(t, "vinaphone", l.Trunk)
	require.Equal(t, "technician", l.Role)
	require.True(t, l.AnsweredAt.Valid)
	require.True(t, l.AcceptedAt.Valid)
	require.False(t, l.AcceptedAt.Time.Before(l.AnsweredAt.Time))
	require.False(t, l.EndedAt.Before(l.AcceptedAt.Time))
	require.Equal(t, int64(16), l.Cause.Int64)
	require.NotNil(t, r.Rating)
	require.Equal(t, int64(4), r.Rating.Score.Int64)
	require.Equal(t, "KTV1", r.Rating.Staff)
	require.False(t, r.Rating.Complaint)

	// ARI: the leg was created with the hotline's caller ID on the
	// Vinaphone gateway, dialled with a ring timeout, then bridged.
	creates := e.requests("POST /ari/channels/create")
	require.Len(t, creates, 1)
	require.Equal(t, "PJSIP/0945550101@gw-vinaphone", creates[0].Query["endpoint"][0])
	require.Contains(t, creates[0].Body, hotlineCID)
	require.Equal(t, l.ChannelID, creates[0].Query["channelId"][0])
	dials := e.requests("/dial")
	require.Len(t, dials, 1)
	require.Equal(t, "1", dials[0].Query["timeout"][0])
	require.Len(t, e.requests("POST /ari/bridges/"), 2) // create + addChannel
	require.Len(t, e.requests("DELETE /ari/bridges/"), 1)
	// The KTV heard the announcement with the café code and the province.
	d := e.dialsTo(ktv1Vina)[0]
	var heard []string
	for _, h := range d.Heard {
		if h.Kind == "playback" {
			heard = append(heard, h.Detail)
		}
	}
	require.Contains(t, heard, "sound:vi/announce")
	require.Contains(t, heard, "sound:vi/digit-1")
	require.Contains(t, heard, "sound:vi/province-0297")
	// The caller heard ringback while waiting, never silence.
	require.NotEmpty(t, e.heardKinds(c, "ringing"))

	require.Equal(t, 1.0, e.metric("hotline_calls_ended_total", "outcome", "answered"))
	require.Equal(t, 1.0, e.metric("hotline_calls_offered_total", "method", "caller_id"))
}
