package ivr_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/ivr"
	"github.com/csm-vn/hotline/store"
)

// Transfers by the person who accepted (`*<area code>#`, `*0#`), against
// the fake Asterisk and a real Postgres. The people's keys are pressed by
// the test on their legs (aritest PressOnLeg) once the legs are in the
// state the scenario needs, so no scenario depends on timing.

// bridgedLeg waits until the leg to number is in the bridge with the caller
// and returns it.
func (e *env) bridgedLeg(number string) aritest.Dialled {
	e.t.Helper()
	var got aritest.Dialled
	eventually(e.t, number+" bridged", func() (bool, string) {
		for _, d := range e.dialsTo(number) {
			if !d.Ended && slices.ContainsFunc(d.Heard, func(h aritest.Heard) bool { return h.Kind == "bridged" }) {
				got = d
				return true, ""
			}
		}
		return false, ""
	})
	return got
}

// waitDialled waits until the hotline has dialled a leg to number (its
// POST /channels/{id}/dial was served) and returns it: from then on a
// hangup of that leg is its person's, never a leg that could not be
// dialled.
func (e *env) waitDialled(number string) aritest.Dialled {
	e.t.Helper()
	d := e.waitDial(number)
	require.NoError(e.t, e.fake.WaitFor(e.ctx(), func() bool {
		return slices.ContainsFunc(e.requests("POST /ari/channels/"+d.ChannelID+"/dial"),
			func(r aritest.Request) bool { return r.Status == http.StatusNoContent })
	}), "%s never dialled; requests: %v", number, e.requests(d.ChannelID))
	return d
}

// answeredLeg waits until a leg to number has answered (and is still up).
func (e *env) answeredLeg(number string) aritest.Dialled {
	e.t.Helper()
	var got aritest.Dialled
	eventually(e.t, number+" answered", func() (bool, string) {
		for _, d := range e.dialsTo(number) {
			if d.Answered && !d.Ended {
				got = d
				return true, ""
			}
		}
		return false, ""
	})
	return got
}

// personTypes makes the person on leg type keys one by one, each once the
// previous one has reached the caller through the bridge (so that keys
// pressed in two goes do not interleave).
func (e *env) personTypes(c *aritest.Call, leg aritest.Dialled, keys string) {
	e.t.Helper()
	for _, k := range keys {
		n := len(e.heardKinds(c, "dtmf"))
		require.NoError(e.t, e.fake.PressOnLeg(leg.ChannelID, string(k)))
		eventually(e.t, "the caller hearing "+string(k), func() (bool, string) {
			return len(e.heardKinds(c, "dtmf")) > n, ""
		})
	}
}

// heardMedia lists the media a channel's far end was played, item by item.
func heardMedia(heard []aritest.Heard) []string {
	var out []string
	for _, h := range heard {
		if h.Kind == "playback" {
			out = append(out, h.Detail)
		}
	}
	return out
}

// lastMedia is the last n media a channel's far end was played.
func lastMedia(heard []aritest.Heard, n int) []string {
	m := heardMedia(heard)
	return m[max(0, len(m)-n):]
}

// legOf returns the leg with channel id now (its Heard up to date).
func (e *env) legOf(id string) aritest.Dialled {
	e.t.Helper()
	for _, d := range e.fake.Dials() {
		if d.ChannelID == id {
			return d
		}
	}
	e.t.Fatalf("no leg %s", id)
	return aritest.Dialled{}
}

// reasons lists the legs' call_legs.reason in order.
func (e *env) reasons(r callRow) []string {
	e.t.Helper()
	var out []string
	require.NoError(e.t, e.db.Select(&out, `SELECT reason FROM call_legs WHERE call_id = $1 ORDER BY seq`, r.ID))
	return out
}

func transfersRequested(to string) string {
	return `hotline_transfers_requested_total{to="` + to + `"}`
}

func transfersEnded(result string) string {
	return `hotline_transfers_ended_total{result="` + result + `"}`
}

// KTV1 passes the call to Hậu Giang (*0293#) and stays on the line while
// KTV4 is rung; the caller hears music. KTV4 presses 1: KTV1 is dropped,
// the caller talks with KTV4, then rates KTV4.
func TestTransferAttendedToAProvince(t *testing.T) {
	e := newEnv(t, envOption{
		cfg: expect{tech: true, confirm: true, rate: true}.cfg(func(c *ivr.Config) {
			c.Hold, c.MOHClass = ivr.HoldRinging, "hold-music"
			c.CodeInterDigit = patient
		}),
		fake: func(o *aritest.Options) {
			o.Phones = map[string]aritest.Phone{
				ktv1Vina: accepts(20 * time.Millisecond),
				ktv4:     aritest.Answers(20 * time.Millisecond), // presses 1 when the test says
			}
		}})
	c := e.call(cafe1Phone)
	first := e.bridgedLeg(ktv1Vina)
	require.NoError(t, e.fake.PressOnLeg(first.ChannelID, "*0293#"))
	ctx := e.ctx()
	waitLive(t, ctx, e, "transferring to Hậu Giang, ringing KTV4", func(l ivr.LiveCall) bool {
		return l.State == "transferring" && l.TransferTo == "Hậu Giang" && l.TransferFrom != nil &&
			l.TransferFrom.Staff == "KTV1" && !l.TransferFromGone && l.Target != nil && l.Target.Staff == "KTV4"
	})
	eventually(t, "the call counted as transferring", func() (bool, string) {
		return e.metric("hotline_calls_active", "state", "transferring") == 1, ""
	})
	e.waitHeard(c, "moh", "hold-music") // music on hold, even with call.hold ringing
	eventually(t, "KTV1 told who is rung", func() (bool, string) {
		return slices.Contains(heardMedia(e.legOf(first.ChannelID).Heard), "sound:vi/province-0293"), ""
	})
	second := e.answeredLeg(ktv4)
	require.NoError(t, e.fake.PressOnLeg(second.ChannelID, "1"))
	e.hangUpWhenBridged(ktv4)
	e.waitHeard(c, "playback", "vi/rate")
	require.NoError(t, c.Press(e.ctx(), "5"))
	e.waitEnded(c)

	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome)
	require.Equal(t, []string{"KTV1/answered", "KTV4/answered"}, r.results())
	require.Equal(t, []string{"", "transfer"}, e.reasons(r))
	require.Equal(t, "KTV4", r.AcceptedBy.String, "the call is the last person's")
	require.Equal(t, "transferred to KTV4", r.Legs[0].Detail)
	require.Equal(t, "technician", r.Legs[1].Role)
	require.Equal(t, "+84975550104", r.Legs[1].Number)
	require.True(t, r.AcceptedAt.Time.Equal(r.Legs[0].AcceptedAt.Time), "the caller waited for the first 1")
	require.True(t, r.Legs[1].RingAt.After(r.Legs[0].AcceptedAt.Time))
	require.False(t, r.Legs[0].EndedAt.After(r.Legs[1].EndedAt), "KTV1 was dropped before KTV4 hung up")
	require.NotNil(t, r.Rating)
	require.Equal(t, "KTV4", r.Rating.Staff)
	require.Equal(t, int64(5), r.Rating.Score.Int64)

	// KTV1 heard who was being rung; the caller heard music, then KTV4.
	require.Equal(t, []string{"sound:vi/transfer", "sound:vi/role-technician", "sound:vi/province", "sound:vi/province-0293"},
		lastMedia(e.legOf(first.ChannelID).Heard, 4))
	var kinds []string
	for _, h := range c.Heard() {
		if slices.Contains([]string{"bridged", "unbridged", "moh", "moh-stop"}, h.Kind) {
			kinds = append(kinds, h.Kind)
		}
	}
	require.Equal(t, []string{"bridged", "unbridged", "moh", "moh-stop", "bridged", "unbridged"}, kinds)
	require.True(t, e.legOf(first.ChannelID).Ended)
	require.Len(t, e.requests("/removeChannel"), 1)

	// The monthly report reads these rows: KTV1 gave a transfer, KTV4
	// received it and handled the call.
	rep, err := e.store.MonthlyReport(e.ctx(), store.ReportFilter{Month: store.MonthOf(weekday10)})
	require.NoError(t, err)
	require.True(t, rep.TransfersRecorded)
	byStaff := map[string]store.PersonFigures{}
	for _, p := range rep.People {
		byStaff[p.Staff] = p
	}
	require.Equal(t, 1, byStaff["KTV1"].TransfersGiven)
	require.Equal(t, 0, byStaff["KTV1"].TransfersReceived)
	require.Equal(t, 0, byStaff["KTV1"].CallsHandled)
	require.Equal(t, 1, byStaff["KTV4"].TransfersReceived)
	require.Equal(t, 1, byStaff["KTV4"].CallsHandled)
	require.Equal(t, 1, byStaff["KTV4"].LegsAccepted)

	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                               1,
		ended("answered", "caller_id", "MN"):                     1,
		legs("technician", "vinaphone", "vinaphone", "answered"): 1,
		legs("technician", "viettel", "viettel", "answered"):     1,
		staffLegs("KTV1", "answered"):                            1,
		staffLegs("KTV4", "answered"):                            1,
		answerWaits("MN"):                                        1,
		talks("MN", "technician"):                                1,
		routed:                                                   2,
		`hotline_ratings_total{region="MN",score="5"}`:           1,
		`hotline_staff_ratings_total{staff="KTV4"}`:              1,
		`hotline_staff_rating_points_total{staff="KTV4"}`:        5,
		transfersRequested("province"):                           1,
		transfersEnded("connected"):                              1,
	})
	e.expectAnswerWait("MN", r)
}

// KTV1 types *0# and hangs up before the operator answers: the transfer goes
// on (blind) and the operator's 1 connects the caller.
func TestTransferBlindWhenTheFirstPersonHangsUp(t *testing.T) {
	e := newEnv(t, envOption{
		cfg: expect{tech: true, op: true, confirm: true}.cfg(func(c *ivr.Config) { c.CodeInterDigit = patient }),
		fake: func(o *aritest.Options) {
			o.Phones = map[string]aritest.Phone{
				ktv1Vina: accepts(20 * time.Millisecond),
				op1:      aritest.Answers(20 * time.Millisecond),
			}
		}})
	c := e.call(cafe1Phone)
	first := e.bridgedLeg(ktv1Vina)
	require.NoError(t, e.fake.PressOnLeg(first.ChannelID, "*0#"))
	op := e.answeredLeg(op1)
	require.NoError(t, e.fake.HangupLeg(first.ChannelID))
	ctx := e.ctx()
	waitLive(t, ctx, e, "transferring without KTV1", func(l ivr.LiveCall) bool {
		return l.State == "transferring" && l.TransferTo == "operators" && l.TransferFromGone
	})
	require.NoError(t, e.fake.PressOnLeg(op.ChannelID, "1"))
	e.hangUpWhenBridged(op1)
	e.waitEnded(c) // the rating times out

	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome)
	require.Equal(t, []string{"KTV1/answered", "OP1/answered"}, r.results())
	require.Equal(t, []string{"", "transfer"}, e.reasons(r))
	require.Equal(t, "OP1", r.AcceptedBy.String)
	require.Equal(t, "operator", r.Legs[1].Role)
	require.Empty(t, r.Legs[0].Detail, "KTV1 hung up: not dropped by the hotline")
	require.Nil(t, r.Rating)
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                               1,
		ended("answered", "caller_id", "MN"):                     1,
		legs("technician", "vinaphone", "vinaphone", "answered"): 1,
		legs("operator", "viettel", "viettel", "answered"):       1,
		staffLegs("KTV1", "answered"):                            1,
		staffLegs("OP1", "answered"):                             1,
		answerWaits("MN"):                                        1,
		talks("MN", "operator"):                                  1,
		routed:                                                   2,
		transfersRequested("operators"):                          1,
		transfersEnded("connected_blind"):                        1,
	})
}

// Nobody takes the transfer: the caller is back with KTV1, who is told so;
// the conversation goes on and the caller rates KTV1.
func TestTransferNobodyAcceptsBackToTheFirstPerson(t *testing.T) {
	e := newEnv(t, envOption{
		cfg: expect{tech: true, confirm: true, rate: true}.cfg(func(c *ivr.Config) { c.CodeInterDigit = patient }),
		fake: func(o *aritest.Options) {
			o.Phones = map[string]aritest.Phone{ktv1Vina: accepts(20 * time.Millisecond)} // OP1 never answers
		}})
	c := e.call(cafe1Phone)
	first := e.bridgedLeg(ktv1Vina)
	require.NoError(t, e.fake.PressOnLeg(first.ChannelID, "*0#"))
	eventually(t, "KTV1 told nobody took the call", func() (bool, string) {
		return slices.Contains(heardMedia(e.legOf(first.ChannelID).Heard), "sound:vi/transfer-failed"), ""
	})
	ctx := e.ctx()
	waitLive(t, ctx, e, "bridged with KTV1 again", func(l ivr.LiveCall) bool {
		return l.State == "bridged" && l.Target != nil && l.Target.Staff == "KTV1" && l.TransferFrom == nil
	})
	require.NoError(t, e.fake.HangupLeg(first.ChannelID))
	e.waitHeard(c, "playback", "vi/rate")
	require.NoError(t, c.Press(e.ctx(), "3"))
	e.waitEnded(c)

	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome)
	require.Equal(t, []string{"KTV1/answered", "OP1/no_answer"}, r.results())
	require.Equal(t, []string{"", "transfer"}, e.reasons(r))
	require.Equal(t, "KTV1", r.AcceptedBy.String)
	require.NotNil(t, r.Rating)
	require.Equal(t, "KTV1", r.Rating.Staff)
	bridged := 0
	for _, h := range c.Heard() {
		if h.Kind == "bridged" {
			bridged++
		}
	}
	require.Equal(t, 2, bridged, "the caller went back into the bridge")
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                               1,
		ended("answered", "caller_id", "MN"):                     1,
		legs("technician", "vinaphone", "vinaphone", "answered"): 1,
		legs("operator", "viettel", "viettel", "no_answer"):      1,
		staffLegs("KTV1", "answered"):                            1,
		staffLegs("OP1", "no_answer"):                            1,
		streak("OP1"):                                            1,
		answerWaits("MN"):                                        1,
		talks("MN", "technician"):                                1,
		routed:                                                   2,
		`hotline_ratings_total{region="MN",score="3"}`:           1,
		`hotline_staff_ratings_total{staff="KTV1"}`:              1,
		`hotline_staff_rating_points_total{staff="KTV1"}`:        3,
		transfersRequested("operators"):                          1,
		transfersEnded("returned"):                               1,
	})
}

// KTV1 hangs up during the transfer and nobody takes it: the caller is
// offered voicemail and leaves a message.
func TestTransferFirstGoneAndNobodyAcceptsVoicemail(t *testing.T) {
	e := newEnv(t, envOption{
		cfg: expect{tech: true, op: true, confirm: true, message: true}.cfg(func(c *ivr.Config) { c.CodeInterDigit = patient }),
		fake: func(o *aritest.Options) {
			o.Phones = map[string]aritest.Phone{ktv1Vina: accepts(20 * time.Millisecond)} // OP1 rings until it gives up
		}})
	c := e.call(cafe1Phone)
	first := e.bridgedLeg(ktv1Vina)
	require.NoError(t, e.fake.PressOnLeg(first.ChannelID, "*0#"))
	op := e.waitDialled(op1) // rung: the operator's hangup is theirs, not a failed dial
	require.NoError(t, e.fake.HangupLeg(first.ChannelID))
	ctx := e.ctx()
	waitLive(t, ctx, e, "transferring without KTV1", func(l ivr.LiveCall) bool {
		return l.State == "transferring" && l.TransferFromGone
	})
	require.NoError(t, e.fake.HangupLeg(op.ChannelID)) // the operator declines
	e.waitHeard(c, "recording", "")
	require.NoError(t, c.Press(e.ctx(), "#"))
	e.waitHeard(c, "playback", "vi/goodbye")
	e.waitEnded(c)

	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome, "KTV1 took the call")
	require.Equal(t, []string{"KTV1/answered", "OP1/no_answer"}, r.results())
	require.Equal(t, []string{"", "transfer"}, e.reasons(r))
	require.Equal(t, "KTV1", r.AcceptedBy.String)
	require.NotNil(t, r.Voicemail, "the message is in the inbox")
	require.Equal(t, "+84945551001", r.Voicemail.Callback)
	require.Nil(t, r.Rating)
	for _, h := range c.Heard() {
		require.NotEqual(t, "sound:vi/rate", h.Detail, "no rating after a transfer nobody took")
	}
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                               1,
		ended("answered", "caller_id", "MN"):                     1,
		legs("technician", "vinaphone", "vinaphone", "answered"): 1,
		legs("operator", "viettel", "viettel", "no_answer"):      1,
		staffLegs("KTV1", "answered"):                            1,
		staffLegs("OP1", "no_answer"):                            1,
		streak("OP1"):                                            1,
		answerWaits("MN"):                                        1,
		talks("MN", "technician"):                                1,
		routed:                                                   2,
		transfersRequested("operators"):                          1,
		transfersEnded("voicemail"):                              1,
	})
}

// Keys that are not a complete code from the person who accepted change
// nothing, and neither do the caller's: a complete *0# afterwards is the one
// and only transfer. An area code of no province is "invalid" to the person
// only.
func TestTransferOnlyTheAcceptingSidesCompleteCodes(t *testing.T) {
	const interDigit = time.Second
	for _, tc := range []struct {
		name    string
		caller  string // the caller types this while bridged
		person  string // then the person who accepted types this
		pause   string // and after a pause longer than the inter-digit timeout, this
		invalid bool   // the person heard "invalid"
	}{
		{name: "the caller types *0#", caller: "*0#"},
		{name: "the caller types *0# then the person only #", caller: "*0", person: "#"},
		{name: "the person types digits without *", person: "0293#"},
		{name: "the person types *#", person: "*#"},
		{name: "the person types * and stops", person: "*", pause: "0#"},
		{name: "the person types *029 and goes on too late", person: "*029", pause: "3#"},
		{name: "an area code of no province", person: "*0999#", invalid: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOption{
				cfg: expect{tech: true, op: true, confirm: true}.cfg(func(c *ivr.Config) { c.CodeInterDigit = interDigit }),
				fake: func(o *aritest.Options) {
					o.Phones = map[string]aritest.Phone{ktv1Vina: accepts(20 * time.Millisecond), op1: accepts(20 * time.Millisecond)}
				}})
			c := e.call(cafe1Phone)
			first := e.bridgedLeg(ktv1Vina)
			if tc.caller != "" {
				require.NoError(t, c.Press(e.ctx(), tc.caller))
			}
			e.personTypes(c, first, tc.person)
			if tc.pause != "" {
				time.Sleep(interDigit + interDigit/2) // the keys are apart by more than the timeout
				e.personTypes(c, first, tc.pause)
			}
			if tc.invalid {
				eventually(t, "KTV1 told the code is invalid", func() (bool, string) {
					return slices.Contains(heardMedia(e.legOf(first.ChannelID).Heard), "sound:vi/transfer-invalid"), ""
				})
			}
			// Then a complete code: the only transfer of the call.
			e.personTypes(c, first, "*0#")
			e.hangUpWhenBridged(op1)
			e.waitEnded(c)

			r := e.record(c.ID())
			require.Equal(t, []string{"KTV1/answered", "OP1/answered"}, r.results())
			require.Len(t, e.dialsTo(op1), 1)
			for _, h := range c.Heard() {
				require.NotEqual(t, "sound:vi/transfer-invalid", h.Detail, "the caller never hears the person's prompts")
			}
			want := map[string]float64{
				offered("caller_id", "MN"):                               1,
				ended("answered", "caller_id", "MN"):                     1,
				legs("technician", "vinaphone", "vinaphone", "answered"): 1,
				legs("operator", "viettel", "viettel", "answered"):       1,
				staffLegs("KTV1", "answered"):                            1,
				staffLegs("OP1", "answered"):                             1,
				answerWaits("MN"):                                        1,
				talks("MN", "operator"):                                  1,
				routed:                                                   2,
				transfersRequested("operators"):                          1,
				transfersEnded("connected"):                              1,
			}
			if tc.invalid {
				want[transfersRequested("invalid")] = 1
			}
			e.expectMetrics(want)
		})
	}
}

// Nobody is rung twice in a call: AM1 took the call after KTV1 did not
// answer, and passes it to Kiên Giang (*0297#): KTV1 and AM1 are left out,
// the regional manager is rung.
func TestTransferRingsNobodyTwice(t *testing.T) {
	e := newEnv(t, envOption{
		cfg: expect{am: true, rm: true, confirm: true}.cfg(func(c *ivr.Config) { c.CodeInterDigit = patient }),
		fake: func(o *aritest.Options) {
			o.Phones = map[string]aritest.Phone{am1: accepts(20 * time.Millisecond), rm1: accepts(20 * time.Millisecond)}
		}})
	c := e.call(cafe1Phone)
	am := e.bridgedLeg(am1)
	require.NoError(t, e.fake.PressOnLeg(am.ChannelID, "*0297#"))
	e.hangUpWhenBridged(rm1)
	e.waitEnded(c)

	r := e.record(c.ID())
	require.Equal(t, []string{"KTV1/no_answer", "KTV1/no_answer", "AM1/answered", "RM1/answered"}, r.results())
	require.Equal(t, []string{"", "", "", "transfer"}, e.reasons(r))
	require.Equal(t, "RM1", r.AcceptedBy.String)
	require.Len(t, e.dialsTo(ktv1Vina), 1)
	require.Len(t, e.dialsTo(ktv1Viettel), 1)
	require.Len(t, e.dialsTo(am1), 1)
	// AM1 heard who was rung: the regional manager (RM1 pressed 1 at once,
	// which may cut the rest of the prompt).
	heard := heardMedia(e.legOf(am.ChannelID).Heard)
	i := slices.Index(heard, "sound:vi/transfer")
	require.Positive(t, i, "AM1 heard %v", heard)
	require.Equal(t, "sound:vi/role-regional_manager", heard[i+1])
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                                 1,
		ended("answered", "caller_id", "MN"):                       1,
		legs("technician", "vinaphone", "vinaphone", "no_answer"):  1,
		legs("technician", "viettel", "viettel", "no_answer"):      1,
		legs("area_manager", "mobifone", "default", "answered"):    1,
		legs("regional_manager", "viettel", "viettel", "answered"): 1,
		staffLegs("KTV1", "no_answer"):                             2,
		staffLegs("AM1", "answered"):                               1,
		staffLegs("RM1", "answered"):                               1,
		streak("KTV1"):                                             2,
		fallback("technician", "area_manager"):                     1,
		answerWaits("MN"):                                          1,
		talks("MN", "regional_manager"):                            1,
		routed:                                                     2,
		transfersRequested("province"):                             1,
		transfersEnded("connected"):                                1,
	})
}

// Asterisk refuses a step of the transfer: taking the caller out of the
// bridge (the conversation goes on, the person is told), or bridging the
// caller with the person who accepted (the caller goes back to the person who
// asked, or is offered voicemail when they hung up).
func TestTransferAsteriskRefuses(t *testing.T) {
	for _, tc := range []struct {
		name     string
		refuse   string // the path refused once, when the transfer reaches it
		firstoff bool   // KTV1 hangs up during the transfer
		results  []string
	}{
		{"taking the caller out of the bridge", "/ari/bridges/*/removeChannel", false,
			[]string{"KTV1/answered"}},
		{"bridging the caller with the operator: back with KTV1", "/ari/bridges/*/addChannel", false,
			[]string{"KTV1/answered", "OP1/cancelled"}},
		{"bridging the caller with the operator, KTV1 gone: voicemail", "/ari/bridges/*/addChannel", true,
			[]string{"KTV1/answered", "OP1/cancelled"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOption{
				cfg: expect{tech: true, op: true, confirm: true, message: true}.cfg(func(c *ivr.Config) { c.CodeInterDigit = patient }),
				fake: func(o *aritest.Options) {
					o.Phones = map[string]aritest.Phone{ktv1Vina: accepts(20 * time.Millisecond), op1: aritest.Answers(20 * time.Millisecond)}
				}})
			c := e.call(cafe1Phone)
			first := e.bridgedLeg(ktv1Vina)
			toldFailed := func() {
				eventually(t, "KTV1 told the transfer failed", func() (bool, string) {
					return slices.Contains(heardMedia(e.legOf(first.ChannelID).Heard), "sound:vi/transfer-failed"), ""
				})
			}
			if tc.refuse == "/ari/bridges/*/removeChannel" {
				e.fake.FailNext("POST", tc.refuse, 500, 1)
				require.NoError(t, e.fake.PressOnLeg(first.ChannelID, "*0#"))
				toldFailed()
				require.Empty(t, e.dialsTo(op1), "nobody rung")
			} else {
				require.NoError(t, e.fake.PressOnLeg(first.ChannelID, "*0#"))
				op := e.answeredLeg(op1)
				if tc.firstoff {
					require.NoError(t, e.fake.HangupLeg(first.ChannelID))
					ctx := e.ctx()
					waitLive(t, ctx, e, "transferring without KTV1", func(l ivr.LiveCall) bool { return l.TransferFromGone })
				}
				e.fake.FailNext("POST", tc.refuse, 500, 1)
				require.NoError(t, e.fake.PressOnLeg(op.ChannelID, "1"))
				if tc.firstoff {
					e.waitHeard(c, "recording", "")
					require.NoError(t, c.Press(e.ctx(), "#"))
				} else {
					toldFailed()
				}
			}
			if !tc.firstoff {
				ctx := e.ctx()
				waitLive(t, ctx, e, "bridged with KTV1", func(l ivr.LiveCall) bool {
					return l.State == "bridged" && l.Target != nil && l.Target.Staff == "KTV1"
				})
				require.NoError(t, e.fake.HangupLeg(first.ChannelID))
			}
			e.waitEnded(c)

			r := e.record(c.ID())
			require.Equal(t, "answered", r.Outcome)
			require.Equal(t, "KTV1", r.AcceptedBy.String)
			require.Equal(t, tc.results, r.results())
			if len(r.Legs) > 1 {
				require.Contains(t, r.Legs[1].Detail, "transfer: bridge failed")
				require.True(t, r.Legs[1].AcceptedAt.Valid, "they did press 1")
			}
			require.Equal(t, tc.firstoff, r.Voicemail != nil)
			want := map[string]float64{
				offered("caller_id", "MN"):                               1,
				ended("answered", "caller_id", "MN"):                     1,
				legs("technician", "vinaphone", "vinaphone", "answered"): 1,
				staffLegs("KTV1", "answered"):                            1,
				answerWaits("MN"):                                        1,
				talks("MN", "technician"):                                1,
				routed:                                                   2,
				transfersRequested("operators"):                          1,
				transfersEnded("failed"):                                 1,
			}
			if len(r.Legs) > 1 {
				want[legs("operator", "viettel", "viettel", "cancelled")] = 1
				want[staffLegs("OP1", "cancelled")] = 1
			}
			e.expectMetrics(want)
		})
	}
}
