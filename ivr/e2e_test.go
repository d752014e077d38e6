package ivr_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/ivr"
)

// accepts is a person who answers after ring and presses 1 at once. They
// talk until the test hangs up their leg (hangUpWhenBridged): a talk of a
// fixed length could end before a loaded machine has set the bridge up.
func accepts(ring time.Duration) aritest.Phone {
	return aritest.AnswersAndPresses(ring, "1", 10*time.Millisecond)
}

func TestKnownCafeAnsweredBridgedRated(t *testing.T) {
	e := newEnv(t, envOption{cfg: expect{tech: true, confirm: true, rate: true}.cfg(), fake: func(o *aritest.Options) {
		// Presses 1 after the whole announcement.
		o.Phones = map[string]aritest.Phone{ktv1Vina: aritest.AnswersAndPresses(30*time.Millisecond, "1", 250*time.Millisecond)}
	}})
	c := e.call(cafe1Phone)
	e.waitHeard(c, "bridged", "")
	e.hangUpWhenBridged(ktv1Vina)
	e.waitHeard(c, "playback", "vi/rate")
	require.NoError(t, c.Press(e.ctx(), "4"))
	e.waitHeard(c, "playback", "vi/thanks")
	e.waitEnded(c)

	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
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
	// Asterisk's own hard limit: ring + MaxLeg + MaxCall (10 s + 5 s + 10 s), rounded up.
	require.Contains(t, creates[0].Body, `"TIMEOUT(absolute)":"26"`)
	require.Equal(t, l.ChannelID, creates[0].Query["channelId"][0])
	dials := e.requests("/dial")
	require.Len(t, dials, 1)
	require.Equal(t, "10", dials[0].Query["timeout"][0]) // the ring timeout, in seconds
	require.Len(t, e.requests("POST /ari/bridges/"), 2)  // create + addChannel
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

	e.expectKTV1AcceptedAndRated(r, 4)
}

func TestBusyOnVinaphoneAnswersOnViettel(t *testing.T) {
	e := newEnv(t, envOption{cfg: expect{tech: true, confirm: true}.cfg(), fake: func(o *aritest.Options) {
		o.Phones = map[string]aritest.Phone{
			ktv1Vina:    aritest.Busy(),
			ktv1Viettel: accepts(20 * time.Millisecond),
		}
	}})
	c := e.call(cafe1Phone)
	e.hangUpWhenBridged(ktv1Viettel)
	e.waitEnded(c) // no rating given: the prompt times out
	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, []string{"KTV1/busy", "KTV1/answered"}, r.results())
	require.Equal(t, int64(17), r.Legs[0].Cause.Int64)
	require.Equal(t, "+84965550102", r.Legs[1].Number)
	require.Equal(t, "viettel", r.Legs[1].Trunk)
	require.Nil(t, r.Rating)
	e.waitHeard(c, "playback", "vi/rate")
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                           1,
		ended("answered", "caller_id", "MN"):                 1,
		legs("technician", "vinaphone", "vinaphone", "busy"): 1,
		legs("technician", "viettel", "viettel", "answered"): 1,
		staffLegs("KTV1", "busy"):                            1,
		staffLegs("KTV1", "answered"):                        1,
		answerWaits("MN"):                                    1,
		talks("MN", "technician"):                            1,
		routed:                                               1,
	})
	e.expectAnswerWait("MN", r)
	e.expectTalk("MN", "technician", r)
}

func TestNoAnswerOnBothNumbersThenAreaManager(t *testing.T) {
	e := newEnv(t, envOption{cfg: expect{am: true, confirm: true}.cfg(), fake: func(o *aritest.Options) {
		o.Phones = map[string]aritest.Phone{am1: accepts(20 * time.Millisecond)}
	}})
	c := e.call(cafe1Phone)
	e.hangUpWhenBridged(am1)
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, []string{"KTV1/no_answer", "KTV1/no_answer", "AM1/answered"}, r.results())
	require.Equal(t, int64(19), r.Legs[0].Cause.Int64)
	require.Equal(t, "area_manager", r.Legs[2].Role)
	require.Equal(t, "default", r.Legs[2].Trunk) // Mobifone has no gateway of its own
	require.Equal(t, "AM1", r.AcceptedBy.String)
	// Both unanswered legs were hung up by us at the ring timeout.
	for _, d := range e.dialsTo(ktv1Vina) {
		require.True(t, d.Ended)
		require.False(t, d.Answered)
	}
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                                1,
		ended("answered", "caller_id", "MN"):                      1,
		legs("technician", "vinaphone", "vinaphone", "no_answer"): 1,
		legs("technician", "viettel", "viettel", "no_answer"):     1,
		legs("area_manager", "mobifone", "default", "answered"):   1,
		staffLegs("KTV1", "no_answer"):                            2,
		staffLegs("AM1", "answered"):                              1,
		streak("KTV1"):                                            2,
		fallback("technician", "area_manager"):                    1,
		answerWaits("MN"):                                         1,
		talks("MN", "area_manager"):                               1,
		routed:                                                    1,
	})
	e.expectAnswerWait("MN", r)
	e.expectTalk("MN", "area_manager", r)
}

func TestNobodyAnswersVoicemailRecorded(t *testing.T) {
	e := newEnv(t, envOption{cfg: expect{message: true}.cfg()})
	c := e.call(cafe1Phone)
	e.waitHeard(c, "playback", "vi/voicemail")
	e.waitHeard(c, "recording", "")
	require.NoError(t, c.Press(e.ctx(), "#"))
	e.waitHeard(c, "playback", "vi/goodbye")
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, "voicemail", r.Outcome)
	require.Equal(t, []string{"KTV1/no_answer", "KTV1/no_answer", "AM1/no_answer", "RM1/no_answer", "OP1/no_answer"},
		r.results())
	require.Equal(t, "regional_manager", r.Legs[3].Role)
	require.Equal(t, "operator", r.Legs[4].Role)
	require.NotNil(t, r.Voicemail)
	require.Equal(t, "+84945551001", r.Voicemail.Callback)
	require.Equal(t, "KG001", r.Voicemail.Cafe.String)
	require.NotEmpty(t, r.Voicemail.Recording)
	rec := e.requests("/record")
	require.Len(t, rec, 1)
	require.Equal(t, "#", rec[0].Query["terminateOn"][0])
	require.Equal(t, "true", rec[0].Query["beep"][0])
	require.Equal(t, "overwrite", rec[0].Query["ifExists"][0])
	found := false
	for _, s := range e.fake.StoredRecordings() {
		found = found || s.Name == r.Voicemail.Recording
	}
	require.True(t, found, "recording %s stored by Asterisk", r.Voicemail.Recording)
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                                  1,
		ended("voicemail", "caller_id", "MN"):                       1,
		legs("technician", "vinaphone", "vinaphone", "no_answer"):   1,
		legs("technician", "viettel", "viettel", "no_answer"):       1,
		legs("area_manager", "mobifone", "default", "no_answer"):    1,
		legs("regional_manager", "viettel", "viettel", "no_answer"): 1,
		legs("operator", "viettel", "viettel", "no_answer"):         1,
		staffLegs("KTV1", "no_answer"):                              2,
		staffLegs("AM1", "no_answer"):                               1,
		staffLegs("RM1", "no_answer"):                               1,
		staffLegs("OP1", "no_answer"):                               1,
		streak("KTV1"):                                              2,
		streak("AM1"):                                               1,
		streak("RM1"):                                               1,
		streak("OP1"):                                               1,
		fallback("technician", "area_manager"):                      1,
		fallback("area_manager", "regional_manager"):                1,
		fallback("regional_manager", "operator"):                    1,
		routed:                                                      1,
	})
}

func TestVoicemailOfKTVAnswersWithoutOne(t *testing.T) {
	// The same confirmation timeout runs out for the voicemail box and not
	// for the KTV, who presses 1 during the announcement: a second leaves
	// the KTV's 1 a wide margin on a loaded machine.
	e := newEnv(t, envOption{cfg: expect{tech: true}.cfg(func(c *ivr.Config) {
		c.ConfirmTimeout = time.Second
	}), fake: func(o *aritest.Options) {
		o.Phones = map[string]aritest.Phone{
			ktv1Vina:    aritest.Voicemail(20 * time.Millisecond),
			ktv1Viettel: accepts(20 * time.Millisecond),
		}
	}})
	c := e.call(cafe1Phone)
	e.hangUpWhenBridged(ktv1Viettel)
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, []string{"KTV1/answered_unconfirmed", "KTV1/answered"}, r.results())
	require.True(t, r.Legs[0].AnsweredAt.Valid)
	require.False(t, r.Legs[0].AcceptedAt.Valid)
	// The voicemail box was never bridged with the caller.
	for _, h := range e.dialsTo(ktv1Vina)[0].Heard {
		require.NotEqual(t, "bridged", h.Kind)
	}
	// The caller heard ringback all along, not the voicemail box.
	require.NotEmpty(t, e.heardKinds(c, "ringing"))
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                                           1,
		ended("answered", "caller_id", "MN"):                                 1,
		legs("technician", "vinaphone", "vinaphone", "answered_unconfirmed"): 1,
		legs("technician", "viettel", "viettel", "answered"):                 1,
		staffLegs("KTV1", "answered_unconfirmed"):                            1,
		staffLegs("KTV1", "answered"):                                        1,
		answerWaits("MN"):                                                    1,
		talks("MN", "technician"):                                            1,
		routed:                                                               1,
	})
	e.expectAnswerWait("MN", r)
	e.expectTalk("MN", "technician", r)
}

func TestCallerHangsUpWhileKTVRings(t *testing.T) {
	e := newEnv(t, envOption{cfg: func(c *ivr.Config) { c.Ring[dialplan.RoleTechnician] = 5 * time.Second }})
	c := e.call(cafe1Phone)
	d := e.waitDial(ktv1Vina)
	require.NoError(t, e.fake.WaitFor(e.ctx(), func() bool { return len(e.requests("/dial")) == 1 }))
	require.NoError(t, c.Hangup())
	require.NoError(t, e.fake.WaitFor(e.ctx(), func() bool {
		for _, x := range e.fake.Dials() {
			if x.ChannelID == d.ChannelID {
				return x.Ended
			}
		}
		return false
	}))
	r := e.record(c.ID())
	require.Equal(t, "abandoned", r.Outcome)
	require.Equal(t, []string{"KTV1/cancelled"}, r.results())
	require.Len(t, e.dialsTo(ktv1Viettel), 0)
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                                1,
		ended("abandoned", "caller_id", "MN"):                     1,
		legs("technician", "vinaphone", "vinaphone", "cancelled"): 1,
		staffLegs("KTV1", "cancelled"):                            1,
		abandonWaits("MN"):                                        1,
		routed:                                                    1,
	})
	e.expectAbandonWait("MN", r)
}

func TestCafeCodeByDTMFAfterUnknownCallerID(t *testing.T) {
	e := newEnv(t, envOption{cfg: expect{tech: true, confirm: true, code: true}.cfg(), fake: func(o *aritest.Options) {
		o.Phones = map[string]aritest.Phone{ktv1Vina: accepts(20 * time.Millisecond)}
	}})
	c := e.call("0909999999")
	e.waitHeard(c, "playback", "vi/enter-code")
	require.Empty(t, e.fake.Dials(), "nobody is rung before the café is known")
	require.NoError(t, c.Press(e.ctx(), "001#"))
	e.hangUpWhenBridged(ktv1Vina)
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, "dtmf", r.MatchedBy)
	require.Equal(t, "KG001", r.Cafe.String)
	require.Equal(t, []string{"KTV1/answered"}, r.results())
	e.expectMetrics(map[string]float64{
		offered("dtmf", "MN"):                                    1,
		ended("answered", "dtmf", "MN"):                          1,
		legs("technician", "vinaphone", "vinaphone", "answered"): 1,
		staffLegs("KTV1", "answered"):                            1,
		answerWaits("MN"):                                        1,
		talks("MN", "technician"):                                1,
		routed:                                                   1,
	})
	e.expectAnswerWait("MN", r)
	e.expectTalk("MN", "technician", r)
}

func TestAnonymousCallerWithoutDigitsGoesToOperators(t *testing.T) {
	e := newEnv(t, envOption{cfg: expect{op: true, confirm: true}.cfg(), fake: func(o *aritest.Options) {
		o.Phones = map[string]aritest.Phone{op1: accepts(20 * time.Millisecond)}
	}})
	c := e.call("")
	e.hangUpWhenBridged(op1)
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, "none", r.MatchedBy)
	require.False(t, r.Cafe.Valid)
	require.Equal(t, []string{"OP1/answered"}, r.results())
	// The code was asked for twice.
	n := 0
	for _, h := range c.Heard() {
		if h.Kind == "playback" && h.Detail == "sound:vi/enter-code" {
			n++
		}
	}
	require.Equal(t, 2, n)
	e.expectMetrics(map[string]float64{
		offered("none", "none"):                            1,
		ended("answered", "none", "none"):                  1,
		legs("operator", "viettel", "viettel", "answered"): 1,
		staffLegs("OP1", "answered"):                       1,
		answerWaits("none"):                                1,
		talks("none", "operator"):                          1,
		routed:                                             1,
	})
	e.expectAnswerWait("none", r)
	e.expectTalk("none", "operator", r)
}

func TestKienGiangLandlineGoesToProvinceKTV(t *testing.T) {
	e := newEnv(t, envOption{cfg: expect{tech: true, confirm: true}.cfg(), fake: func(o *aritest.Options) {
		o.Phones = map[string]aritest.Phone{ktv1Vina: accepts(20 * time.Millisecond)}
	}})
	c := e.call("02973812345")
	e.hangUpWhenBridged(ktv1Vina)
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, "area_code", r.MatchedBy)
	require.Equal(t, "kien-giang", r.Province.String)
	require.False(t, r.Cafe.Valid)
	require.Equal(t, []string{"KTV1/answered"}, r.results())
	e.expectMetrics(map[string]float64{
		offered("area_code", "MN"):                               1,
		ended("answered", "area_code", "MN"):                     1,
		legs("technician", "vinaphone", "vinaphone", "answered"): 1,
		staffLegs("KTV1", "answered"):                            1,
		answerWaits("MN"):                                        1,
		talks("MN", "technician"):                                1,
		routed:                                                   1,
	})
	e.expectAnswerWait("MN", r)
	e.expectTalk("MN", "technician", r)
}

func TestKTVOffDutyAtThreeInTheMorningIsSkipped(t *testing.T) {
	night := time.Date(2026, 3, 11, 3, 0, 0, 0, weekday10.Location())
	e := newEnv(t, envOption{now: func() time.Time { return night },
		cfg: expect{am: true, confirm: true}.cfg(), fake: func(o *aritest.Options) {
			o.Phones = map[string]aritest.Phone{am1: accepts(20 * time.Millisecond)}
		}})
	c := e.call(cafe4Phone)
	e.hangUpWhenBridged(am1)
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, "HG004", r.Cafe.String)
	require.Equal(t, []string{"AM1/answered"}, r.results())
	require.Empty(t, e.dialsTo(ktv4))
	require.Equal(t, 3, r.StartedAt.In(weekday10.Location()).Hour())
	// The skipped KTV was never rung: no fallback from a technician.
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                              1,
		ended("answered", "caller_id", "MN"):                    1,
		legs("area_manager", "mobifone", "default", "answered"): 1,
		staffLegs("AM1", "answered"):                            1,
		answerWaits("MN"):                                       1,
		talks("MN", "area_manager"):                             1,
		routed:                                                  1,
	})
	e.expectAnswerWait("MN", r)
	e.expectTalk("MN", "area_manager", r)
}

func TestSuspendedKTVIsSkipped(t *testing.T) {
	e := newEnv(t, envOption{cfg: expect{am: true, confirm: true}.cfg(), fake: func(o *aritest.Options) {
		o.Phones = map[string]aritest.Phone{am1: accepts(20 * time.Millisecond)}
	}})
	c := e.call(cafe3Phone)
	e.hangUpWhenBridged(am1)
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, "AG003", r.Cafe.String)
	require.Equal(t, []string{"AM1/answered"}, r.results())
	require.Empty(t, e.dialsTo(ktv3))
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                              1,
		ended("answered", "caller_id", "MN"):                    1,
		legs("area_manager", "mobifone", "default", "answered"): 1,
		staffLegs("AM1", "answered"):                            1,
		answerWaits("MN"):                                       1,
		talks("MN", "area_manager"):                             1,
		routed:                                                  1,
	})
	e.expectAnswerWait("MN", r)
	e.expectTalk("MN", "area_manager", r)
}

func TestTwoCafesOfTheSameKTVAtOnce(t *testing.T) {
	e := newEnv(t, envOption{cfg: expect{tech: true, am: true, confirm: true}.cfg(),
		fake: func(o *aritest.Options) {
			o.Phones = map[string]aritest.Phone{ktv1Vina: accepts(50 * time.Millisecond), am1: accepts(20 * time.Millisecond)}
		}})
	a := e.call(cafe1Phone)
	b := e.call(cafe2Phone)
	// One call gets KTV1, the other the area manager; both talk at once.
	e.hangUpWhenBridged(am1)
	e.hangUpWhenBridged(ktv1Vina)
	e.waitEnded(a)
	e.waitEnded(b)
	ra, rb := e.record(a.ID()), e.record(b.ID())
	got := []string{ra.results()[0], rb.results()[0]}
	require.ElementsMatch(t, []string{"KTV1/answered", "AM1/answered"}, got)
	require.Len(t, ra.Legs, 1)
	require.Len(t, rb.Legs, 1)
	require.Len(t, e.dialsTo(ktv1Vina), 1, "the KTV is never rung twice")
	require.Empty(t, e.dialsTo(ktv1Viettel))
	// The busy KTV is not a fallback: the second call starts with the manager.
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                               2,
		ended("answered", "caller_id", "MN"):                     2,
		legs("technician", "vinaphone", "vinaphone", "answered"): 1,
		legs("area_manager", "mobifone", "default", "answered"):  1,
		staffLegs("KTV1", "answered"):                            1,
		staffLegs("AM1", "answered"):                             1,
		answerWaits("MN"):                                        2,
		talks("MN", "technician"):                                1,
		talks("MN", "area_manager"):                              1,
		routed:                                                   2,
	})
	e.expectAnswerWait("MN", ra, rb)
	ktv, am := ra, rb
	if ra.AcceptedBy.String == "AM1" {
		ktv, am = rb, ra
	}
	e.expectTalk("MN", "technician", ktv)
	e.expectTalk("MN", "area_manager", am)
}

func TestSecondCafeWhileKTVIsBridged(t *testing.T) {
	e := newEnv(t, envOption{cfg: expect{tech: true, am: true, confirm: true}.cfg(),
		fake: func(o *aritest.Options) {
			o.Phones = map[string]aritest.Phone{ktv1Vina: accepts(20 * time.Millisecond), am1: accepts(20 * time.Millisecond)}
		}})
	a := e.call(cafe1Phone)
	e.waitHeard(a, "bridged", "")
	require.True(t, e.srv.Busy("KTV1"))
	// The board's line (state, then target) and the gauge follow the
	// bridge: wait for each to show it.
	var live ivr.LiveCall
	eventually(t, "the call bridged with KTV1 on the board", func() (bool, string) {
		l := e.srv.Snapshot()
		if len(l) != 1 {
			return false, fmt.Sprintf("live calls %+v", l)
		}
		live = l[0]
		return live.State == "bridged" && live.Target != nil && live.Target.Bridged,
			fmt.Sprintf("live call %+v, target %+v", live, live.Target)
	})
	require.Equal(t, "KTV1", live.Target.Staff)
	require.Equal(t, "KG001", live.CafeCode)
	require.Equal(t, "Kiên Giang", live.Province)
	eventually(t, "one bridged call in hotline_calls_active", func() (bool, string) {
		v := e.metric("hotline_calls_active", "state", "bridged")
		return v == 1, fmt.Sprintf(`hotline_calls_active{state="bridged"} = %v`, v)
	})

	b := e.call(cafe2Phone)
	e.hangUpWhenBridged(am1)
	e.waitEnded(b)
	rb := e.record(b.ID())
	require.Equal(t, []string{"AM1/answered"}, rb.results())
	e.hangUpWhenBridged(ktv1Vina) // still talking with the first café
	e.waitEnded(a)
	ra := e.record(a.ID())
	require.Equal(t, []string{"KTV1/answered"}, ra.results())
	require.Len(t, e.dialsTo(ktv1Vina), 1)
	require.NoError(t, e.srv.Wait(e.ctx()))
	require.False(t, e.srv.Busy("KTV1"))
	require.Equal(t, 0.0, e.metric("hotline_calls_active"))
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                               2,
		ended("answered", "caller_id", "MN"):                     2,
		legs("technician", "vinaphone", "vinaphone", "answered"): 1,
		legs("area_manager", "mobifone", "default", "answered"):  1,
		staffLegs("KTV1", "answered"):                            1,
		staffLegs("AM1", "answered"):                             1,
		answerWaits("MN"):                                        2,
		talks("MN", "technician"):                                1,
		talks("MN", "area_manager"):                              1,
		routed:                                                   2,
	})
	e.expectAnswerWait("MN", ra, rb)
	e.expectTalk("MN", "technician", ra)
	e.expectTalk("MN", "area_manager", rb)
}

func TestCongestionOnOneTrunkTriesTheOther(t *testing.T) {
	e := newEnv(t, envOption{cfg: expect{tech: true, confirm: true}.cfg(), fake: func(o *aritest.Options) {
		o.Trunks = map[string]aritest.TrunkState{"gw-vinaphone": aritest.TrunkCongested}
		o.Phones = map[string]aritest.Phone{ktv1Vina: accepts(20 * time.Millisecond)}
	}})
	c := e.call(cafe1Phone)
	e.hangUpWhenBridged(ktv1Vina)
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, []string{"KTV1/congestion", "KTV1/answered"}, r.results(), "%+v", r.Legs)
	require.Equal(t, r.Legs[0].Number, r.Legs[1].Number, "the same number")
	require.Equal(t, "vinaphone", r.Legs[0].Trunk)
	require.NotEqual(t, "vinaphone", r.Legs[1].Trunk)
	require.Equal(t, "default", r.Legs[1].Trunk, "the default trunk (gw-viettel) is the other one")
	ds := e.dialsTo(ktv1Vina)
	require.Len(t, ds, 2)
	require.Equal(t, "gw-vinaphone", ds[0].Trunk)
	require.Equal(t, "gw-viettel", ds[1].Trunk)
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                                 1,
		ended("answered", "caller_id", "MN"):                       1,
		legs("technician", "vinaphone", "vinaphone", "congestion"): 1,
		legs("technician", "vinaphone", "default", "answered"):     1,
		staffLegs("KTV1", "congestion"):                            1,
		staffLegs("KTV1", "answered"):                              1,
		answerWaits("MN"):                                          1,
		talks("MN", "technician"):                                  1,
		routed:                                                     1,
	})
	e.expectAnswerWait("MN", r)
	e.expectTalk("MN", "technician", r)
}

func TestCallerHangsUpDuringGreeting(t *testing.T) {
	// The greeting lasts longer than any test waits (the caller hangs up
	// during it).
	e := newEnv(t, envOption{cfg: func(c *ivr.Config) { c.MaxPrompt = 2 * waitTimeout }, fake: func(o *aritest.Options) {
		o.MediaLength = func(uri string) time.Duration {
			if uri == "sound:vi/greeting" {
				return 2 * waitTimeout
			}
			return 0
		}
	}})
	c := e.call("0909999999")
	e.waitHeard(c, "playback", "vi/greeting")
	require.NoError(t, c.Hangup())
	r := e.record(c.ID())
	require.Equal(t, "abandoned", r.Outcome)
	require.Empty(t, r.Legs)
	// Never identified, never planned.
	e.expectMetrics(map[string]float64{
		offered("none", "none"):            1,
		ended("abandoned", "none", "none"): 1,
		abandonWaits("none"):               1,
	})
	e.expectAbandonWait("none", r)
}

func TestDrainSendsNewCallsBackToTheDialplan(t *testing.T) {
	e := newEnv(t, envOption{cfg: expect{tech: true, confirm: true}.cfg(),
		fake: func(o *aritest.Options) {
			o.Phones = map[string]aritest.Phone{ktv1Vina: accepts(20 * time.Millisecond)}
		}})
	live := e.call(cafe1Phone)
	e.waitHeard(live, "bridged", "")
	e.srv.Drain()
	c := e.call(cafe2Phone)
	require.NoError(t, e.fake.WaitFor(e.ctx(), c.Continued))
	// Draining leaves the live call alone: it ends when KTV1 hangs up.
	require.Len(t, e.srv.Snapshot(), 1, "the live call goes on while draining")
	e.hangUpWhenBridged(ktv1Vina)
	require.NoError(t, e.srv.Wait(e.ctx()))
	r := e.record(live.ID())
	require.Equal(t, "answered", r.Outcome, "the live call finished normally")
	require.Len(t, e.dialsTo(ktv1Vina), 1)
	// The call sent back to the dialplan is not offered to the hotline.
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
}

func TestKTVReservedByAnotherInstanceIsNotKeptRinging(t *testing.T) {
	e := newEnv(t, envOption{cfg: expect{am: true, confirm: true}.cfg(), fake: func(o *aritest.Options) {
		o.Phones = map[string]aritest.Phone{am1: accepts(20 * time.Millisecond)}
	}})
	ok, err := e.store.Reserve(e.ctx(), "KTV1", "another-call", "test-2", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	c := e.call(cafe1Phone)
	e.hangUpWhenBridged(am1)
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	// The in-memory plan could not know; the database, asked before any
	// leg is created, said no: KTV1 was not rung on either number (and has
	// no leg record: nobody was rung).
	require.Equal(t, []string{"AM1/answered"}, r.results())
	require.Empty(t, e.dialsTo(ktv1Vina))
	require.Empty(t, e.dialsTo(ktv1Viettel))
	// The other instance's reservation is untouched; ours are released.
	eventually(t, "only the other instance's reservation left", func() (bool, string) {
		res, err := e.store.Reservations(e.ctx())
		return err == nil && len(res) == 1 && res[0].CallID == "another-call", fmt.Sprintf("%+v, %v", res, err)
	})
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                              1,
		ended("answered", "caller_id", "MN"):                    1,
		legs("area_manager", "mobifone", "default", "answered"): 1,
		staffLegs("AM1", "answered"):                            1,
		answerWaits("MN"):                                       1,
		talks("MN", "area_manager"):                             1,
		routed:                                                  1,
	})
	e.expectAnswerWait("MN", r)
	e.expectTalk("MN", "area_manager", r)
}

func TestMusicOnHoldAndComplaint(t *testing.T) {
	e := newEnv(t, envOption{
		cfg: expect{tech: true, confirm: true, rate: true}.cfg(func(c *ivr.Config) {
			c.Hold, c.MOHClass = ivr.HoldMOH, "hotline"
		}),
		fake: func(o *aritest.Options) {
			o.Phones = map[string]aritest.Phone{
				ktv1Vina:    aritest.Busy(),
				ktv1Viettel: accepts(100 * time.Millisecond),
			}
		}})
	c := e.call(cafe1Phone)
	e.waitHeard(c, "moh", "hotline")
	e.hangUpWhenBridged(ktv1Viettel)
	e.waitHeard(c, "playback", "vi/rate")
	require.NoError(t, c.Press(e.ctx(), "9"))
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.NotNil(t, r.Rating)
	require.True(t, r.Rating.Complaint)
	require.False(t, r.Rating.Score.Valid)
	require.Equal(t, "KTV1", r.Rating.Staff)
	require.Empty(t, e.heardKinds(c, "ringing"))
	require.NotEmpty(t, e.heardKinds(c, "moh-stop"), "music stops before the bridge")
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                           1,
		ended("answered", "caller_id", "MN"):                 1,
		legs("technician", "vinaphone", "vinaphone", "busy"): 1,
		legs("technician", "viettel", "viettel", "answered"): 1,
		staffLegs("KTV1", "busy"):                            1,
		staffLegs("KTV1", "answered"):                        1,
		answerWaits("MN"):                                    1,
		talks("MN", "technician"):                            1,
		`hotline_complaints_total{region="MN"}`:              1,
		`hotline_staff_complaints_total{staff="KTV1"}`:       1,
		routed: 1,
	})
	e.expectAnswerWait("MN", r)
	e.expectTalk("MN", "technician", r)
}
