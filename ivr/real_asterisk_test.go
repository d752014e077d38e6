package ivr_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/ivr"
)

// Shared call scenarios: the same scenario code runs against the fake
// Asterisk on every go test (TestPhoneScenariosFake) and against a real
// Asterisk configured with deploy/asterisk/test (TestPhoneScenariosAsterisk)
// when HOTLINE_TEST_ARI_URL, HOTLINE_TEST_ARI_USER and
// HOTLINE_TEST_ARI_PASSWORD are set. The directory's staff numbers are
// numbers of the [test-phones] context of deploy/asterisk/test/
// extensions.conf, every trunk is Local/{number}@test-phones, and callers are
// Local/2@hotline channels originated with the café's caller ID; the fake is
// given phones that behave like that dialplan, with its seconds shortened.

// Numbers of [test-phones] (deploy/asterisk/test/extensions.conf).
const (
	tpBusy      = "0900000017" // Busy(2): Dial BUSY at once
	tpNever     = "0900000019" // rings forever
	tpVoicemail = "0900000099" // rings 2 s, answers, never presses a key
	// _091XXXXXXX / _096XXXXXXX: rings 2 s, answers, presses 1 a second
	// later, hangs up 3 s after that (a person who accepts and talks briefly).
	tpKTV1        = "0910000101" // Vinaphone
	tpKTV1Viettel = "0960000102" // Viettel
	tpAM1         = "0910000201"
	tpRM1         = "0910000301"
	tpOP1         = "0910000401"
	// _0917XXXXXX: busy (Vinaphone).
	tpBusyVina = "0917000101"
	// _0919XXXXXX (Vinaphone) and _0969XXXXXX (Viettel): ring forever.
	tpNeverVina    = "0919000101"
	tpNeverViettel = "0969000102"
	tpNeverAM1     = "0919000201"
	tpNeverRM1     = "0919000301"
	tpNeverOP1     = "0919000401"
	// _0912XXXXXX: like _091XXXXXXX but talks 12 s after pressing 1.
	tpLongKTV1        = "0912000101"
	tpLongKTV1Restart = "0912000199" // the same; the fake's talks longer (a hotline restarts meanwhile)
)

// Trunks of phoneConfig: every carrier reaches [test-phones]; the
// congested trunk is a context whose every number answers Congestion.
const (
	trunkPhones    = "Local/{number}@test-phones"
	trunkCongested = "Local/{number}@test-phones-congested"
	// congestedContext is the fake's name for that trunk (the Local context).
	congestedContext = "test-phones-congested"
)

// phoneDriver is where the shared scenarios run.
type phoneDriver interface {
	name() string
	// unit is the length of one of [test-phones]' seconds.
	unit() time.Duration
	// start runs the hotline with o.dir, o.cfg and o.now against this
	// Asterisk (other fields of o are the driver's).
	start(t *testing.T, o envOption) *env
	// placeCall places a call into extension 2 with number as caller ID.
	placeCall(t *testing.T, ctx context.Context, e *env, number string) phoneCaller
	// checkClean fails the test if channels or bridges of the scenario remain.
	checkClean(t *testing.T, ctx context.Context, e *env)
	// cutWebSocket cuts the hotline's events WebSocket (the client is left
	// to reconnect on its own).
	cutWebSocket(t *testing.T, e *env)
	// startKillable runs the hotline (o.cfg; o.dir in this process, KTV1
	// with the numbers ktv1 in the child) in a child process against this
	// Asterisk, on a fresh database; the env has no Server until restart.
	startKillable(t *testing.T, o envOption, ktv1 []string) *env
	// restart kills that child with SIGKILL and starts the hotline in this
	// process on the same Asterisk, database, record spool and instance.
	restart(t *testing.T, first *env) *env
}

// phoneCaller is the caller's side of a call.
type phoneCaller interface {
	press(ctx context.Context, digits string) error
	hangup(ctx context.Context) error
	// waitEnded waits until the caller's channel is gone.
	waitEnded(t *testing.T, ctx context.Context)
}

// phonePlan says which test phones the staff of phoneDirectory have.
type phonePlan struct {
	ktv1          []string // KTV1's numbers, in order
	ktv1Hours     string   // a dialplan schedule; "" is 24/7
	ktv1Suspended bool
	am, rm, op    string // default tpAM1, tpRM1, tpOP1 (accept and talk briefly)
}

// phoneDirectory is testDirectory's region, area and cafés KG001 and KG002
// (Kiên Giang) with staff whose numbers are test phones: KTV1 covers Kiên
// Giang with p.ktv1, the area manager AM1, the regional manager RM1 and the
// operator OP1 have one number each.
func phoneDirectory(t *testing.T, p phonePlan) *dialplan.Directory {
	t.Helper()
	always := dialplan.Schedule{Always: true}
	hours := always
	if p.ktv1Hours != "" {
		var err error
		hours, err = dialplan.ParseSchedule(p.ktv1Hours)
		require.NoError(t, err)
	}
	status := dialplan.StatusActive
	if p.ktv1Suspended {
		status = dialplan.StatusSuspended
	}
	or := func(n, def string) string {
		if n == "" {
			return def
		}
		return n
	}
	e164 := func(n string) dialplan.Phone { return dialplan.Phone{E164: "+84" + strings.TrimPrefix(n, "0")} }
	var phones []dialplan.Phone
	for _, n := range p.ktv1 {
		phones = append(phones, e164(n))
	}
	dir, err := dialplan.NewDirectory(dialplan.DirectoryData{
		Regions: []dialplan.Region{{Code: "MN", Name: "Miền Nam", Manager: "RM1"}},
		Areas: []dialplan.Area{{Code: "TNB", Name: "Tây Nam Bộ", Region: "MN", Manager: "AM1",
			Provinces: []string{"kien-giang", "an-giang", "hau-giang"}}},
		Staff: []dialplan.Staff{
			{Code: "KTV1", Name: "KTV Một", Role: dialplan.RoleTechnician, Status: status, Hours: hours,
				Phones: phones, Provinces: []string{"kien-giang"}},
			{Code: "AM1", Name: "Quản lý TNB", Role: dialplan.RoleAreaManager, Status: dialplan.StatusActive, Hours: always,
				Phones: []dialplan.Phone{e164(or(p.am, tpAM1))}},
			{Code: "RM1", Name: "Vùng MN", Role: dialplan.RoleRegionalManager, Status: dialplan.StatusActive, Hours: always,
				Phones: []dialplan.Phone{e164(or(p.rm, tpRM1))}},
			{Code: "OP1", Name: "Tổng đài", Role: dialplan.RoleOperator, Status: dialplan.StatusActive, Hours: always,
				Phones: []dialplan.Phone{e164(or(p.op, tpOP1))}},
		},
		Cafes: []dialplan.Cafe{
			{Code: "KG001", Name: "Net Cỏ Mây", Province: "kien-giang", Status: dialplan.StatusActive, Phones: []string{"+84945551001"}},
			{Code: "KG002", Name: "Net Rạch Giá", Province: "kien-giang", Status: dialplan.StatusActive, Phones: []string{"+84945551002"}},
		},
	}, dialplan.WithoutPublicHolidays())
	require.NoError(t, err)
	return dir
}

// phoneConfig scales the call flow's timeouts to the driver's unit: phones
// answer after 2 units, so a target rings for 4; a person has 2 units after
// the announcement to press 1 (the test phones press it 1 unit after
// answering, during the announcement).
func phoneConfig(u time.Duration) func(*ivr.Config) {
	return func(c *ivr.Config) {
		for _, r := range []dialplan.Role{dialplan.RoleTechnician, dialplan.RoleAreaManager,
			dialplan.RoleRegionalManager, dialplan.RoleOperator} {
			c.Ring[r] = 4 * u
		}
		c.ConfirmTimeout = 2 * u
		c.RatingTimeout = 3 * u
		c.VoicemailMax = 2 * u
		c.MaxCall = 30 * u
		c.MaxLeg = 30 * u
		// Real prompts last seconds; the bound only guards a lost event.
		c.MaxPrompt = 30 * time.Second
		// A café code is typed within 3 units, each next digit within 2.
		c.CodeFirstDigit, c.CodeInterDigit, c.CodeOverall, c.CodeTries = 3*u, 2*u, 10*u, 2
		c.Trunks = dialplan.Trunks{"vinaphone": trunkPhones, "viettel": trunkPhones, "default": trunkPhones}
	}
}

// --- the fake ---

type fakePhones struct{ u time.Duration }

func (d fakePhones) name() string        { return "fake" }
func (d fakePhones) unit() time.Duration { return d.u }

func (d fakePhones) start(t *testing.T, o envOption) *env {
	o.fake = d.phones
	e := newEnv(t, o)
	hangUpAfterTalking(t, e.fake, d.talks())
	return e
}

// phones are the fake's test phones, like deploy/asterisk/test's.
func (d fakePhones) phones(fo *aritest.Options) {
	u := d.u
	talker := aritest.AnswersAndPresses(2*u, "1", u)
	fo.Phones = map[string]aritest.Phone{
		tpBusy: aritest.Busy(), tpNever: aritest.NeverAnswers(), tpVoicemail: aritest.Voicemail(2 * u),
		tpKTV1: talker, tpKTV1Viettel: talker, tpAM1: talker, tpRM1: talker, tpOP1: talker,
		tpBusyVina: aritest.Busy(), tpNeverVina: aritest.NeverAnswers(), tpNeverViettel: aritest.NeverAnswers(),
		tpNeverAM1: aritest.NeverAnswers(), tpNeverRM1: aritest.NeverAnswers(), tpNeverOP1: aritest.NeverAnswers(),
		tpLongKTV1: talker, tpLongKTV1Restart: talker,
	}
	xferPhones, _ := fakeTransferPhones(u)
	maps.Copy(fo.Phones, xferPhones) // real_asterisk_transfer_test.go
	fo.DefaultPhone = aritest.AnswersAndPresses(2*u, "1", u)
	// [test-phones-congested] answers Congestion to every number.
	fo.Trunks = map[string]aritest.TrunkState{congestedContext: aritest.TrunkCongested}
}

// talks is how long each person talks once bridged (hangUpAfterTalking). A
// person: answers after 2 units, presses 1 a unit later, hangs up 3 units
// after that; the long one talks 12 units. Here the talk counts from the
// moment they are bridged with the caller, not from the answer: a loaded
// machine may take longer than that to set the bridge up. KTV1 talks at
// least a second (the long one 3 s, the one of the restart scenario 8 s),
// time for a scenario to see the bridged call on the board (or to restart
// the hotline).
func (d fakePhones) talks() map[string]time.Duration {
	u := d.u
	talks := map[string]time.Duration{tpKTV1: max(3*u, time.Second), tpKTV1Viettel: 3 * u, tpAM1: 3 * u,
		tpRM1: 3 * u, tpOP1: 3 * u, tpLongKTV1: max(12*u, 3*time.Second), tpLongKTV1Restart: max(12*u, 8*time.Second)}
	_, xferTalks := fakeTransferPhones(u)
	maps.Copy(talks, xferTalks) // real_asterisk_transfer_test.go
	return talks
}

// hangUpAfterTalking hangs up every leg to a number of talks that long
// after it entered a bridge, until the test ends; talks[""] applies to
// every other number.
func hangUpAfterTalking(t *testing.T, fake *aritest.Server, talks map[string]time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		due := map[string]time.Time{} // leg → when its person hangs up
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			now := time.Now()
			for _, d := range fake.Dials() {
				talk, ok := talks[d.Number]
				if !ok {
					talk, ok = talks[""]
				}
				if _, seen := due[d.ChannelID]; !ok || seen || d.Ended || !slices.ContainsFunc(d.Heard,
					func(h aritest.Heard) bool { return h.Kind == "bridged" }) {
					continue
				}
				due[d.ChannelID] = now.Add(talk)
			}
			for id, at := range due {
				if !at.IsZero() && now.After(at) {
					_ = fake.HangupLeg(id) // an error: the leg ended meanwhile
					due[id] = time.Time{}
				}
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

func (d fakePhones) cutWebSocket(t *testing.T, e *env) {
	t.Helper()
	require.True(t, e.fake.CutWebSocket("hotline"), "no WebSocket of the hotline to cut")
}

type fakePhoneCaller struct{ c *aritest.Call }

func (f fakePhoneCaller) press(ctx context.Context, digits string) error {
	return f.c.Press(ctx, digits)
}
func (f fakePhoneCaller) hangup(context.Context) error { return f.c.Hangup() }
func (f fakePhoneCaller) waitEnded(t *testing.T, ctx context.Context) {
	t.Helper()
	select {
	case <-f.c.Done():
	case <-ctx.Done():
		t.Fatalf("call %s did not end; heard %v", f.c.ID(), f.c.Heard())
	}
}

func (d fakePhones) placeCall(t *testing.T, _ context.Context, e *env, number string) phoneCaller {
	t.Helper()
	c, err := e.fake.PlaceCall(aritest.CallSpec{Number: number, Tech: "Local"})
	require.NoError(t, err)
	return fakePhoneCaller{c}
}

func (d fakePhones) checkClean(t *testing.T, ctx context.Context, e *env) {
	t.Helper()
	require.NoError(t, e.fake.CheckClean(ctx))
	// Every leg went to a test phone the way a real Asterisk would be asked.
	creates := e.requests("POST /ari/channels/create")
	require.NotEmpty(t, creates)
	for _, r := range creates {
		require.Regexp(t, `^Local/09\d{8}@test-phones(-congested)?$`, r.Query["endpoint"][0])
	}
}

// --- a real Asterisk ---

// realHarnessApp owns the callers' side (the ;1 half of Local/2@hotline),
// which enters it once the hotline answers, so the test can press keys and
// hang up as the caller.
const realHarnessApp = "hotline-test-callers"

type realPhones struct {
	url, user, password string
	harness             *ari.Client

	mu    sync.Mutex
	proxy *wsProxy // the running scenario's
}

func newRealPhones(t *testing.T) *realPhones {
	url, user, pass := os.Getenv("HOTLINE_TEST_ARI_URL"), os.Getenv("HOTLINE_TEST_ARI_USER"), os.Getenv("HOTLINE_TEST_ARI_PASSWORD")
	if url == "" || user == "" || pass == "" {
		if os.Getenv("HOTLINE_TEST_REQUIRE_ASTERISK") != "" {
			t.Fatal("HOTLINE_TEST_REQUIRE_ASTERISK is set but HOTLINE_TEST_ARI_URL/USER/PASSWORD are not")
		}
		t.Skip("real Asterisk scenarios: set HOTLINE_TEST_ARI_URL, HOTLINE_TEST_ARI_USER and HOTLINE_TEST_ARI_PASSWORD " +
			"to an Asterisk configured with deploy/asterisk/test (see its README.md)")
	}
	h, err := ari.New(ari.Config{URL: url, User: user, Password: pass, App: realHarnessApp,
		BackoffMin: 50 * time.Millisecond, BackoffMax: time.Second, RequestTimeout: 5 * time.Second})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = h.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	require.NoError(t, h.WaitConnected(wctx), "harness app %s", realHarnessApp)
	return &realPhones{url: url, user: user, password: pass, harness: h}
}

func (d *realPhones) name() string        { return "asterisk" }
func (d *realPhones) unit() time.Duration { return time.Second }

func (d *realPhones) start(t *testing.T, o envOption) *env {
	// The hotline reaches Asterisk through a loopback proxy that can cut
	// its events WebSocket (cutWebSocket).
	p := startWSProxy(t, d.url)
	d.mu.Lock()
	d.proxy = p
	d.mu.Unlock()
	e := startHotline(t, p.url(), d.user, d.password, envOption{dir: o.dir, dirFunc: o.dirFunc, cfg: o.cfg, now: o.now,
		db: o.db, spool: o.spool})
	// Registered after startHotline's cleanup, so it runs before the
	// hotline stops: what the scenario left behind is still there to see.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		d.checkClean(t, ctx, e)
	})
	return e
}

// cutWebSocket closes the connection of the hotline's events WebSocket at
// the proxy, as a network cut would; REST connections are left alone.
func (d *realPhones) cutWebSocket(t *testing.T, _ *env) {
	t.Helper()
	d.mu.Lock()
	p := d.proxy
	d.mu.Unlock()
	require.NotNil(t, p)
	require.Positive(t, p.cutWebSockets(), "no WebSocket of the hotline to cut")
}

// realPhoneCaller is the ;1 half of Local/2@hotline.
type realPhoneCaller struct {
	d  *realPhones
	id string
}

// press sends digits from the caller, once the hotline has answered (the
// ;1 half enters the harness app then; before, Asterisk refuses DTMF).
func (r realPhoneCaller) press(ctx context.Context, digits string) error {
	for {
		ch, err := r.d.harness.GetChannel(ctx, r.id)
		if err == nil && ch.State == "Up" {
			// Up a moment before it is in the harness app: 409 until then.
			if err = r.d.harness.SendDTMF(ctx, r.id, digits); !errors.Is(err, ari.ErrNotInStasis) {
				return err
			}
		}
		if err != nil && !ari.IsNotFound(err) && !errors.Is(err, ari.ErrNotInStasis) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("press %s on %s: caller not answered: %w", digits, r.id, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (r realPhoneCaller) hangup(ctx context.Context) error {
	return r.d.harness.Hangup(ctx, r.id, ari.HangupNormal)
}

func (r realPhoneCaller) waitEnded(t *testing.T, ctx context.Context) {
	t.Helper()
	for {
		_, err := r.d.harness.GetChannel(ctx, r.id)
		if ari.IsNotFound(err) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("caller %s did not end: %v", r.id, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (d *realPhones) placeCall(t *testing.T, ctx context.Context, _ *env, number string) phoneCaller {
	t.Helper()
	ch, err := d.harness.Originate(ctx, ari.OriginateParams{Endpoint: "Local/2@hotline", App: realHarnessApp,
		AppArgs: "caller", CallerID: number, Timeout: 30 * time.Second})
	require.NoError(t, err, "originate the caller")
	return realPhoneCaller{d: d, id: ch.ID}
}

// checkClean fails when test channels (callers, test phones) or bridges of
// our shape ("<call ULID>-br") remain.
func (d *realPhones) checkClean(t *testing.T, ctx context.Context, _ *env) {
	t.Helper()
	waitAsteriskClean(t, ctx, d.harness, func(name string) bool {
		return strings.HasPrefix(name, "Local/2@hotline") || strings.Contains(name, "@test-phones")
	})
}

// --- the scenarios ---

type phoneScenario struct {
	name string
	run  func(t *testing.T, d phoneDriver)
}

var phoneScenarios = []phoneScenario{
	{"KnownCafeAnsweredBridgedRated", scenarioAnsweredRated},
	{"KTVBusyOnVinaphoneAnswersOnViettel", scenarioBusyOnVinaphoneAnswersOnViettel},
	{"NoAnswerOnBothNumbersThenAreaManager", scenarioNoAnswerOnBothThenManager},
	{"NobodyAnswersVoicemailRecorded", scenarioNobodyVoicemail},
	{"VoicemailWithoutOneThenNext", scenarioVoicemailThenNext},
	{"CallerHangsUpWhileKTVRings", scenarioCallerLeavesWhileRinging},
	{"CafeCodeByDTMFAfterUnknownCallerID", scenarioCafeCodeByDTMF},
	{"AnonymousCallerWithoutDigitsGoesToOperators", scenarioAnonymousToOperators},
	{"KienGiangLandlineGoesToProvinceKTV", scenarioLandlineToProvinceKTV},
	{"KTVOffDutyAtThreeInTheMorningIsSkipped", scenarioOffDutySkipped},
	{"SuspendedKTVIsSkipped", scenarioSuspendedSkipped},
	{"TwoCafesOfTheSameKTVAtOnce", scenarioTwoCafesAtOnce},
	{"WebSocketCutWhileBridgedCallGoesOn", scenarioWebSocketCutWhileBridged},
	{"CongestionOnOneTrunkTriesTheOther", scenarioCongestedTrunk},
	{"MissedCallCalledBack", scenarioMissedCallCalledBack}, // real_asterisk_callback_test.go
	{"KilledWhileBridgedTakenOverByANewProcess", scenarioKilledWhileBridgedTakenOver},
	{"KilledWhileRingingRungAgainByANewProcess", scenarioKilledWhileRingingRungAgain}, // restart_scenario_test.go
	{"KilledWhileCallbackTalkingTakenOverByANewProcess", scenarioKilledWhileCallbackTalkingTakenOver},
}

func TestPhoneScenariosFake(t *testing.T) {
	d := fakePhones{u: 60 * time.Millisecond}
	for _, s := range phoneScenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			s.run(t, d)
		})
	}
}

func TestPhoneScenariosAsterisk(t *testing.T) {
	d := newRealPhones(t)
	// One at a time: they share the Asterisk and its hotline application.
	for _, s := range phoneScenarios {
		t.Run(s.name, func(t *testing.T) { s.run(t, d) })
	}
}

// scenarioCtx bounds a scenario: a few dozen of the driver's seconds.
func scenarioCtx(t *testing.T, d phoneDriver) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second+60*d.unit())
	t.Cleanup(cancel)
	return ctx
}

// waitLive waits until the one live call satisfies ok.
func waitLive(t *testing.T, ctx context.Context, e *env, what string, ok func(ivr.LiveCall) bool) {
	t.Helper()
	for {
		l := e.srv.Snapshot()
		if len(l) == 1 && ok(l[0]) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for the call to be %s; live: %+v", what, l)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// recordOf waits for the one record of a call from callerRaw.
func (e *env) recordOf(callerRaw string) callRow {
	e.t.Helper()
	var ids []string
	deadline := time.Now().Add(waitTimeout)
	for {
		ids = nil
		require.NoError(e.t, e.db.Select(&ids, `SELECT channel_id FROM calls WHERE caller_raw = $1`, callerRaw))
		if len(ids) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.Len(e.t, ids, 1, "exactly one record of a call from %s", callerRaw)
	return e.record(ids[0])
}

// Known café → the KTV answers and presses 1 → bridged → the KTV hangs up
// → the caller rates 4.
func scenarioAnsweredRated(t *testing.T, d phoneDriver) {
	ctx := scenarioCtx(t, d)
	e := d.start(t, envOption{dir: phoneDirectory(t, phonePlan{ktv1: []string{tpKTV1}}),
		cfg: expect{tech: true, confirm: true, rate: true}.cfg(phoneConfig(d.unit()))})
	c := d.placeCall(t, ctx, e, cafe1Phone)
	waitLive(t, ctx, e, "bridged with KTV1", func(l ivr.LiveCall) bool {
		return l.State == "bridged" && l.Target != nil && l.Target.Staff == "KTV1"
	})
	waitLive(t, ctx, e, "asking for a rating", func(l ivr.LiveCall) bool { return l.State == "ivr" && l.Target == nil })
	require.NoError(t, c.press(ctx, "4"))
	c.waitEnded(t, ctx)
	r := e.recordOf(cafe1Phone)
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, "caller_id", r.MatchedBy)
	require.Equal(t, "KG001", r.Cafe.String)
	require.Equal(t, "KTV1", r.AcceptedBy.String)
	require.Equal(t, []string{"KTV1/answered"}, r.results())
	require.Equal(t, "+84910000101", r.Legs[0].Number)
	require.True(t, r.Legs[0].AnsweredAt.Valid)
	require.True(t, r.Legs[0].AcceptedAt.Valid)
	require.Greater(t, r.Talk, 0.0)
	require.NotNil(t, r.Rating)
	require.Equal(t, int64(4), r.Rating.Score.Int64)
	require.Equal(t, "KTV1", r.Rating.Staff)
	d.checkClean(t, ctx, e)
	e.expectKTV1AcceptedAndRated(r, 4)
}

// The KTV is busy on the Vinaphone number and answers on the Viettel one.
func scenarioBusyOnVinaphoneAnswersOnViettel(t *testing.T, d phoneDriver) {
	ctx := scenarioCtx(t, d)
	e := d.start(t, envOption{dir: phoneDirectory(t, phonePlan{ktv1: []string{tpBusyVina, tpKTV1Viettel}}),
		cfg: expect{tech: true, confirm: true}.cfg(phoneConfig(d.unit()))})
	c := d.placeCall(t, ctx, e, cafe1Phone)
	c.waitEnded(t, ctx) // no rating given: the prompt times out
	r := e.recordOf(cafe1Phone)
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, []string{"KTV1/busy", "KTV1/answered"}, r.results())
	require.Equal(t, "+84917000101", r.Legs[0].Number)
	require.Equal(t, "vinaphone", r.Legs[0].Trunk)
	require.Equal(t, "+84960000102", r.Legs[1].Number)
	require.Equal(t, "viettel", r.Legs[1].Trunk)
	require.Equal(t, "KTV1", r.AcceptedBy.String)
	require.Nil(t, r.Rating)
	d.checkClean(t, ctx, e)
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

// The KTV answers on neither number: the area manager does.
func scenarioNoAnswerOnBothThenManager(t *testing.T, d phoneDriver) {
	ctx := scenarioCtx(t, d)
	e := d.start(t, envOption{dir: phoneDirectory(t, phonePlan{ktv1: []string{tpNeverVina, tpNeverViettel}}),
		cfg: expect{am: true, confirm: true}.cfg(phoneConfig(d.unit()))})
	c := d.placeCall(t, ctx, e, cafe1Phone)
	c.waitEnded(t, ctx)
	r := e.recordOf(cafe1Phone)
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, []string{"KTV1/no_answer", "KTV1/no_answer", "AM1/answered"}, r.results())
	require.Equal(t, "+84919000101", r.Legs[0].Number)
	require.Equal(t, "+84969000102", r.Legs[1].Number)
	require.False(t, r.Legs[0].AnsweredAt.Valid)
	require.False(t, r.Legs[1].AnsweredAt.Valid)
	require.Equal(t, "area_manager", r.Legs[2].Role)
	require.Equal(t, "AM1", r.AcceptedBy.String)
	d.checkClean(t, ctx, e)
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                                 1,
		ended("answered", "caller_id", "MN"):                       1,
		legs("technician", "vinaphone", "vinaphone", "no_answer"):  1,
		legs("technician", "viettel", "viettel", "no_answer"):      1,
		legs("area_manager", "vinaphone", "vinaphone", "answered"): 1,
		staffLegs("KTV1", "no_answer"):                             2,
		staffLegs("AM1", "answered"):                               1,
		streak("KTV1"):                                             2,
		fallback("technician", "area_manager"):                     1,
		answerWaits("MN"):                                          1,
		talks("MN", "area_manager"):                                1,
		routed:                                                     1,
	})
	e.expectAnswerWait("MN", r)
	e.expectTalk("MN", "area_manager", r)
}

// The KTV's first number is a voicemail box: it answers, nobody presses 1;
// it is hung up and the next number answers.
func scenarioVoicemailThenNext(t *testing.T, d phoneDriver) {
	ctx := scenarioCtx(t, d)
	u := d.unit()
	// The same confirmation timeout runs out for the voicemail box and not
	// for the KTV, who presses 1 during the announcement: at least a second
	// leaves the KTV's 1 a wide margin on a loaded machine.
	e := d.start(t, envOption{dir: phoneDirectory(t, phonePlan{ktv1: []string{tpVoicemail, tpKTV1}}),
		cfg: expect{tech: true}.cfg(phoneConfig(u), func(c *ivr.Config) { c.ConfirmTimeout = max(2*u, time.Second) })})
	m := watchMedia(t, e)
	c := d.placeCall(t, ctx, e, cafe1Phone)
	c.waitEnded(t, ctx)
	r := e.recordOf(cafe1Phone)
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, []string{"KTV1/answered_unconfirmed", "KTV1/answered"}, r.results())
	// The voicemail box never pressed 1, so it heard the whole announcement:
	// one playback whose media moved through every sound in order (café
	// K G 0 0 1 with the Vietnamese letter and digit prompts, province Kiên Giang by its area code, press 1).
	require.Equal(t, []string{"sound:vi/announce", "sound:vi/letter-k", "sound:vi/letter-g", "sound:vi/digit-0", "sound:vi/digit-0",
		"sound:vi/digit-1", "sound:vi/province", "sound:vi/province-0297", "sound:vi/press-one"},
		m.playbackStartingWith("sound:vi/announce"), "the announcement the unconfirmed leg heard")
	require.True(t, r.Legs[0].AnsweredAt.Valid)
	require.False(t, r.Legs[0].AcceptedAt.Valid)
	d.checkClean(t, ctx, e)
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                                        1,
		ended("answered", "caller_id", "MN"):                              1,
		legs("technician", "mobifone", "default", "answered_unconfirmed"): 1,
		legs("technician", "vinaphone", "vinaphone", "answered"):          1,
		staffLegs("KTV1", "answered_unconfirmed"):                         1,
		staffLegs("KTV1", "answered"):                                     1,
		answerWaits("MN"):                                                 1,
		talks("MN", "technician"):                                         1,
		routed:                                                            1,
	})
	e.expectAnswerWait("MN", r)
	e.expectTalk("MN", "technician", r)
}

// The caller hangs up while the KTV's phone rings: the leg is hung up.
func scenarioCallerLeavesWhileRinging(t *testing.T, d phoneDriver) {
	ctx := scenarioCtx(t, d)
	e := d.start(t, envOption{dir: phoneDirectory(t, phonePlan{ktv1: []string{tpNever}}),
		cfg: expect{tech: true}.cfg(phoneConfig(d.unit()))}) // rings until the caller hangs up
	c := d.placeCall(t, ctx, e, cafe1Phone)
	waitLive(t, ctx, e, "ringing KTV1", func(l ivr.LiveCall) bool {
		return l.State == "ringing" && l.Target != nil && l.Target.Staff == "KTV1" && !l.Target.Bridged
	})
	require.NoError(t, c.hangup(ctx))
	c.waitEnded(t, ctx)
	r := e.recordOf(cafe1Phone)
	require.Equal(t, "abandoned", r.Outcome)
	require.Equal(t, []string{"KTV1/cancelled"}, r.results())
	require.False(t, r.Legs[0].AnsweredAt.Valid)
	d.checkClean(t, ctx, e)
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                             1,
		ended("abandoned", "caller_id", "MN"):                  1,
		legs("technician", "mobifone", "default", "cancelled"): 1,
		staffLegs("KTV1", "cancelled"):                         1,
		abandonWaits("MN"):                                     1,
		routed:                                                 1,
	})
	e.expectAbandonWait("MN", r)
}

// waitAsteriskClean waits until no channel whose name ours accepts and no
// bridge of our shape ("<call ULID>-br") remains on a real Asterisk, and
// fails the test with what is left when ctx ends.
func waitAsteriskClean(t *testing.T, ctx context.Context, c *ari.Client, ours func(name string) bool) {
	t.Helper()
	for {
		var left []string
		chs, err := c.ListChannels(ctx)
		require.NoError(t, err)
		for _, ch := range chs {
			if ours(ch.Name) {
				left = append(left, "channel "+ch.ID+" "+ch.Name)
			}
		}
		brs, err := c.ListBridges(ctx)
		require.NoError(t, err)
		for _, b := range brs {
			if strings.HasSuffix(b.ID, "-br") {
				left = append(left, "bridge "+b.ID)
			}
		}
		if len(left) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("left behind on Asterisk: %v", left)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
