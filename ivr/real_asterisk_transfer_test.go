package ivr_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/ivr"
)

// Transfers on the shared phone scenarios (real_asterisk_test.go): the
// technician types *0# while talking, as [test-phones] 0913… and 0914… do
// with SendDTMF (deploy/asterisk/test/extensions.conf), and the operators'
// plan is rung.

// Numbers of [test-phones].
const (
	// _0913XXXXXX: rings 2 s, answers, presses 1 a second later, talks 3 s,
	// presses *0#, stays on the line (60 s): an attended transfer.
	tpXferKTV1 = "0913000101"
	// _0914XXXXXX: the same, but hangs up 1 s after *0#: a blind transfer.
	tpXferBlindKTV1 = "0914000101"
	// An operator who answers and presses 1 like tpOP1 (_091XXXXXXX); on
	// the fake they ring at least a second, as on Asterisk: long enough to
	// see the transfer on the board, and for a blind transfer to be blind.
	tpSlowOP1 = "0910000402"
)

func init() {
	phoneScenarios = append(phoneScenarios,
		phoneScenario{"KTVTransfersToOperatorsAttended", scenarioTransferAttended},
		phoneScenario{"KTVTransfersToOperatorsAndHangsUpBlind", scenarioTransferBlind},
		phoneScenario{"TransferNobodyAcceptsBackToTheKTV", scenarioTransferBackToKTV},
		phoneScenario{"TransferNobodyAcceptsKTVGoneVoicemail", scenarioTransferVoicemail},
	)
}

// fakeTransferPhones are the fake's versions of the transferring test
// phones, the times scaled by u. On the fake, *0# counts from the moment
// the leg is bridged (a loaded machine may take a while to bridge), and the
// blind one hangs up after its # on the same timeline as its keys
// (Press.HangupAfter), as SendDTMF then Wait(1) do on Asterisk: the hangup
// never overtakes the keys, however loaded the machine.
func fakeTransferPhones(u time.Duration) (phones map[string]aritest.Phone, talks map[string]time.Duration) {
	after := max(3*u, time.Second)
	xfer := func(hangupAfter time.Duration) aritest.Phone {
		return aritest.Phone{Outcome: aritest.OutcomeAnswer, RingFor: 2 * u, Keys: "1", KeysAfter: u,
			Later: []aritest.Press{{Digits: "*0#", After: after, InBridge: true, HangupAfter: hangupAfter}}}
	}
	return map[string]aritest.Phone{
			tpXferKTV1: xfer(0), tpXferBlindKTV1: xfer(u),
			tpSlowOP1: aritest.AnswersAndPresses(max(10*u, time.Second), "1", u),
		}, map[string]time.Duration{
			tpSlowOP1: 3 * u,
		}
}

// transferConfig is what every transfer scenario shares: the call is not
// cut while it is passed on, and the KTV's *0# is one code however loaded
// the machine (the inter-digit timeout only bounds a bug here; the keys
// that do not make a code are transfer_test.go's).
func transferConfig(d phoneDriver) func(*ivr.Config) {
	return func(c *ivr.Config) {
		c.MaxCall = max(60*d.unit(), patient)
		c.CodeInterDigit = max(2*d.unit(), patient)
	}
}

// transferMetrics are the metrics every transfer scenario shares: KTV1 (a
// Vinaphone number) took the call, the operators' plan was made.
func transferMetrics(extra map[string]float64) map[string]float64 {
	m := map[string]float64{
		offered("caller_id", "MN"):                               1,
		ended("answered", "caller_id", "MN"):                     1,
		legs("technician", "vinaphone", "vinaphone", "answered"): 1,
		staffLegs("KTV1", "answered"):                            1,
		answerWaits("MN"):                                        1,
		routed:                                                   2,
		transfersRequested("operators"):                          1,
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// KTV1 talks, types *0# and stays on the line; the operator presses 1:
// KTV1 is dropped and the caller talks with the operator.
func scenarioTransferAttended(t *testing.T, d phoneDriver) {
	ctx := scenarioCtx(t, d)
	e := d.start(t, envOption{dir: phoneDirectory(t, phonePlan{ktv1: []string{tpXferKTV1}, op: tpSlowOP1}),
		cfg: expect{tech: true, op: true, confirm: true, rate: true}.cfg(phoneConfig(d.unit()), transferConfig(d))})
	m := watchMedia(t, e)
	c := d.placeCall(t, ctx, e, cafe1Phone)
	waitLive(t, ctx, e, "transferring to the operators", func(l ivr.LiveCall) bool {
		return l.State == ivr.StateTransferring && l.TransferTo == "operators" && l.TransferFrom != nil &&
			l.TransferFrom.Staff == "KTV1"
	})
	waitLive(t, ctx, e, "bridged with OP1", func(l ivr.LiveCall) bool {
		return l.State == ivr.StateBridged && l.Target != nil && l.Target.Staff == "OP1"
	})
	// OP1 hangs up; the caller rates OP1 during the prompt.
	waitLive(t, ctx, e, "asking for a rating", func(l ivr.LiveCall) bool { return l.State == "ivr" && l.Target == nil })
	require.NoError(t, c.press(ctx, "5"))
	c.waitEnded(t, ctx)
	r := e.recordOf(cafe1Phone)
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, []string{"KTV1/answered", "OP1/answered"}, r.results())
	require.Equal(t, []string{"", "transfer"}, e.reasons(r))
	require.Equal(t, "OP1", r.AcceptedBy.String)
	require.Equal(t, "transferred to OP1", r.Legs[0].Detail)
	require.Equal(t, "operator", r.Legs[1].Role)
	require.Equal(t, "+84910000402", r.Legs[1].Number)
	require.NotNil(t, r.Rating)
	require.Equal(t, "OP1", r.Rating.Staff, "the rating is about the person who took the call last")
	require.Equal(t, []string{"sound:vi/transfer", "sound:vi/role-operator"}, m.playbackStartingWith("sound:vi/transfer"),
		"KTV1 heard who was being rung")
	d.checkClean(t, ctx, e)
	e.expectMetrics(transferMetrics(map[string]float64{
		legs("operator", "vinaphone", "vinaphone", "answered"): 1,
		staffLegs("OP1", "answered"):                           1,
		talks("MN", "operator"):                                1,
		transfersEnded("connected"):                            1,
		`hotline_ratings_total{region="MN",score="5"}`:         1,
		`hotline_staff_ratings_total{staff="OP1"}`:             1,
		`hotline_staff_rating_points_total{staff="OP1"}`:       5,
	}))
}

// KTV1 types *0# and hangs up a second later, before the operator answers:
// the transfer goes on and connects the caller with the operator.
func scenarioTransferBlind(t *testing.T, d phoneDriver) {
	ctx := scenarioCtx(t, d)
	e := d.start(t, envOption{dir: phoneDirectory(t, phonePlan{ktv1: []string{tpXferBlindKTV1}, op: tpSlowOP1}),
		cfg: expect{tech: true, op: true, confirm: true}.cfg(phoneConfig(d.unit()), transferConfig(d))})
	c := d.placeCall(t, ctx, e, cafe1Phone)
	waitLive(t, ctx, e, "transferring without KTV1", func(l ivr.LiveCall) bool {
		return l.State == ivr.StateTransferring && l.TransferFromGone
	})
	waitLive(t, ctx, e, "bridged with OP1", func(l ivr.LiveCall) bool {
		return l.State == ivr.StateBridged && l.Target != nil && l.Target.Staff == "OP1"
	})
	require.NoError(t, c.hangup(ctx)) // the caller hangs up while talking with OP1
	c.waitEnded(t, ctx)
	r := e.recordOf(cafe1Phone)
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, []string{"KTV1/answered", "OP1/answered"}, r.results())
	require.Equal(t, []string{"", "transfer"}, e.reasons(r))
	require.Equal(t, "OP1", r.AcceptedBy.String)
	require.Empty(t, r.Legs[0].Detail, "KTV1 hung up by themselves")
	require.Equal(t, "+84910000402", r.Legs[1].Number)
	d.checkClean(t, ctx, e)
	e.expectMetrics(transferMetrics(map[string]float64{
		legs("operator", "vinaphone", "vinaphone", "answered"): 1,
		staffLegs("OP1", "answered"):                           1,
		talks("MN", "operator"):                                1,
		transfersEnded("connected_blind"):                      1,
	}))
}

// The operator never answers: the caller is back with KTV1 (who stays on
// the line); the caller then hangs up.
func scenarioTransferBackToKTV(t *testing.T, d phoneDriver) {
	ctx := scenarioCtx(t, d)
	e := d.start(t, envOption{dir: phoneDirectory(t, phonePlan{ktv1: []string{tpXferKTV1}, op: tpNeverOP1}),
		cfg: expect{tech: true, confirm: true}.cfg(phoneConfig(d.unit()), transferConfig(d), func(c *ivr.Config) {
			// Rung for at least a second: time to see the transfer on the board.
			c.Ring[dialplan.RoleOperator] = max(4*d.unit(), time.Second)
		})})
	m := watchMedia(t, e)
	c := d.placeCall(t, ctx, e, cafe1Phone)
	waitLive(t, ctx, e, "transferring", func(l ivr.LiveCall) bool { return l.State == ivr.StateTransferring })
	waitLive(t, ctx, e, "bridged with KTV1 again", func(l ivr.LiveCall) bool {
		return l.State == ivr.StateBridged && l.Target != nil && l.Target.Staff == "KTV1" && l.TransferFrom == nil
	})
	m.waitPlayback(t, ctx, "vi/transfer-failed")
	require.NoError(t, c.hangup(ctx))
	c.waitEnded(t, ctx)
	r := e.recordOf(cafe1Phone)
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, []string{"KTV1/answered", "OP1/no_answer"}, r.results())
	require.Equal(t, []string{"", "transfer"}, e.reasons(r))
	require.Equal(t, "KTV1", r.AcceptedBy.String)
	d.checkClean(t, ctx, e)
	e.expectMetrics(transferMetrics(map[string]float64{
		legs("operator", "vinaphone", "vinaphone", "no_answer"): 1,
		staffLegs("OP1", "no_answer"):                           1,
		streak("OP1"):                                           1,
		talks("MN", "technician"):                               1,
		transfersEnded("returned"):                              1,
	}))
}

// KTV1 types *0# and hangs up; the operator never answers: the caller is
// offered voicemail and leaves a message.
func scenarioTransferVoicemail(t *testing.T, d phoneDriver) {
	ctx := scenarioCtx(t, d)
	e := d.start(t, envOption{dir: phoneDirectory(t, phonePlan{ktv1: []string{tpXferBlindKTV1}, op: tpNeverOP1}),
		cfg: expect{tech: true, confirm: true, message: true}.cfg(phoneConfig(d.unit()), transferConfig(d))})
	m := watchMedia(t, e)
	c := d.placeCall(t, ctx, e, cafe1Phone)
	name := m.waitRecording(t, ctx)
	require.NoError(t, c.press(ctx, "#"))
	c.waitEnded(t, ctx)
	r := e.recordOf(cafe1Phone)
	require.Equal(t, "answered", r.Outcome, "KTV1 took the call: %+v", r.Legs)
	require.Equal(t, []string{"KTV1/answered", "OP1/no_answer"}, r.results())
	require.Equal(t, []string{"", "transfer"}, e.reasons(r))
	require.NotNil(t, r.Voicemail)
	require.Equal(t, name, r.Voicemail.Recording)
	require.Equal(t, "+84945551001", r.Voicemail.Callback)
	require.Nil(t, r.Rating)
	require.Zero(t, m.playbacksOf("vi/rate"))
	m.waitPlayback(t, ctx, "vi/goodbye")
	d.checkClean(t, ctx, e)
	e.expectMetrics(transferMetrics(map[string]float64{
		legs("operator", "vinaphone", "vinaphone", "no_answer"): 1,
		staffLegs("OP1", "no_answer"):                           1,
		streak("OP1"):                                           1,
		talks("MN", "technician"):                               1,
		transfersEnded("voicemail"):                             1,
	}))
}
