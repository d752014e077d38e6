package ivr_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/ivr"
	"github.com/csm-vn/hotline/metrics"
	"github.com/csm-vn/hotline/store"
	"github.com/csm-vn/hotline/store/pgtest"
)

// Compile-time checks: the real collaborators satisfy ivr's interfaces.
var (
	_ ivr.ARI      = (*ari.Client)(nil)
	_ ivr.Reserver = (*store.Store)(nil)
	_ ivr.Recorder = (*store.Recorder)(nil)
)

// Numbers of the test directory (national form, as the fake matches them).
const (
	ktv1Vina    = "0945550101" // KTV1, Vinaphone
	ktv1Viettel = "0965550102" // KTV1, Viettel
	ktv3        = "0945550103" // KTV3 (suspended), An Giang
	ktv4        = "0975550104" // KTV4, Hậu Giang, office hours
	am1         = "0935550201" // area manager (Mobifone: default trunk)
	rm1         = "0975550301" // regional manager
	op1         = "0385550401" // operator

	cafe1Phone = "0945551001" // café KG001, Kiên Giang
	cafe2Phone = "0945551002" // café KG002, Kiên Giang
	cafe3Phone = "0945552003" // café AG003, An Giang
	cafe4Phone = "0945553004" // café HG004, Hậu Giang
	hotlineCID = "19001000"
)

// testDirectory: Kiên Giang, An Giang and Hậu Giang in area TNB of region
// MN; KTV1 (24/7) covers Kiên Giang, KTV3 (suspended) An Giang, KTV4
// (office hours) Hậu Giang.
func testDirectory(t testing.TB) *dialplan.Directory {
	t.Helper()
	office, err := dialplan.ParseSchedule("Mon-Sat 08:00-17:00")
	require.NoError(t, err)
	always := dialplan.Schedule{Always: true}
	dir, err := dialplan.NewDirectory(dialplan.DirectoryData{
		Regions: []dialplan.Region{{Code: "MN", Name: "Miền Nam", Manager: "RM1"}},
		Areas: []dialplan.Area{{Code: "TNB", Name: "Tây Nam Bộ", Region: "MN", Manager: "AM1",
			Provinces: []string{"kien-giang", "an-giang", "hau-giang"}}},
		Staff: []dialplan.Staff{
			{Code: "KTV1", Name: "KTV Một", Role: dialplan.RoleTechnician, Status: dialplan.StatusActive, Hours: always,
				Phones: []dialplan.Phone{{E164: "+84945550101", Carrier: dialplan.CarrierVinaphone},
					{E164: "+84965550102", Carrier: dialplan.CarrierViettel}},
				Provinces: []string{"kien-giang"}},
			{Code: "KTV3", Name: "KTV Ba", Role: dialplan.RoleTechnician, Status: dialplan.StatusSuspended, Hours: always,
				Phones: []dialplan.Phone{{E164: "+84945550103"}}, Provinces: []string{"an-giang"}},
			{Code: "KTV4", Name: "KTV Bốn", Role: dialplan.RoleTechnician, Status: dialplan.StatusActive, Hours: office,
				Phones: []dialplan.Phone{{E164: "+84975550104"}}, Provinces: []string{"hau-giang"}},
			{Code: "AM1", Name: "Quản lý TNB", Role: dialplan.RoleAreaManager, Status: dialplan.StatusActive, Hours: always,
				Phones: []dialplan.Phone{{E164: "+84935550201"}}},
			{Code: "RM1", Name: "Vùng MN", Role: dialplan.RoleRegionalManager, Status: dialplan.StatusActive, Hours: always,
				Phones: []dialplan.Phone{{E164: "+84975550301"}}},
			{Code: "OP1", Name: "Tổng đài", Role: dialplan.RoleOperator, Status: dialplan.StatusActive, Hours: always,
				Phones: []dialplan.Phone{{E164: "+84385550401"}}},
		},
		Cafes: []dialplan.Cafe{
			{Code: "KG001", Name: "Net Cỏ Mây", Province: "kien-giang", Status: dialplan.StatusActive, Phones: []string{"+84945551001"}},
			{Code: "KG002", Name: "Net Rạch Giá", Province: "kien-giang", Status: dialplan.StatusActive, Phones: []string{"+84945551002"}},
			{Code: "AG003", Name: "Net Long Xuyên", Province: "an-giang", Status: dialplan.StatusActive, Phones: []string{"+84945552003"}},
			{Code: "HG004", Name: "Net Vị Thanh", Province: "hau-giang", Status: dialplan.StatusActive, Phones: []string{"+84945553004"}},
		},
	}, dialplan.WithoutPublicHolidays())
	require.NoError(t, err)
	return dir
}

// weekday10 is a Wednesday 10:00 in Ho Chi Minh City: everybody works.
var weekday10 = time.Date(2026, 3, 11, 10, 0, 0, 0, dialplan.Location())

// waitTimeout bounds every wait of a test for something asynchronous (an
// event, a state, a record). A passing test never waits it out, so it is
// generous: under -race on a busy 2-core machine, what takes milliseconds
// idle can take seconds.
const waitTimeout = 20 * time.Second

// patient is a call-flow timeout that a scenario expects never to run out,
// because an event ends the wait first (a phone answers, a person presses 1,
// the caller rates): it only bounds a bug, so it is long enough for a loaded
// machine. The timeouts a scenario expects to run out stay testConfig's
// short ones.
const patient = 10 * time.Second

// eventually waits until cond holds. On timeout it fails the test with what
// cond last said about the state it saw (why).
func eventually(t testing.TB, what string, cond func() (ok bool, why string)) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %s", what, why)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// expect names the waits of a scenario that end by an event; their
// timeouts become patient. The others keep testConfig's short timeouts,
// which the scenario expects to run out.
type expect struct {
	// Every person rung in the role answers: technician, area manager,
	// regional manager, operator.
	tech, am, rm, op bool
	confirm          bool // every person who answers presses 1
	rate             bool // the caller rates the call
	code             bool // the caller types the café code
	message          bool // the caller ends the voicemail message with #
}

// cfg is an envOption.cfg: base (optional) change the config first.
func (x expect) cfg(base ...func(*ivr.Config)) func(*ivr.Config) {
	return func(c *ivr.Config) {
		for _, f := range base {
			f(c)
		}
		for r, answers := range map[dialplan.Role]bool{dialplan.RoleTechnician: x.tech, dialplan.RoleAreaManager: x.am,
			dialplan.RoleRegionalManager: x.rm, dialplan.RoleOperator: x.op} {
			if answers {
				c.Ring[r] = patient
			}
		}
		if x.confirm {
			c.ConfirmTimeout = patient
		}
		if x.rate {
			c.RatingTimeout = patient
		}
		if x.code {
			c.CodeFirstDigit, c.CodeInterDigit, c.CodeOverall = patient, patient, patient
		}
		if x.message {
			c.VoicemailMax = patient
		}
	}
}

// testConfig uses short timeouts everywhere: the scenarios make patient
// (expect) the ones they expect an event to end. The fake's "second" is a
// real second, so Asterisk-side dial timeouts are only a backstop: ours
// decide.
func testConfig() ivr.Config {
	return ivr.Config{
		CallerID: hotlineCID,
		Ring: map[dialplan.Role]time.Duration{
			dialplan.RoleTechnician: 150 * time.Millisecond, dialplan.RoleAreaManager: 150 * time.Millisecond,
			dialplan.RoleRegionalManager: 150 * time.Millisecond, dialplan.RoleOperator: 150 * time.Millisecond,
		},
		ConfirmTimeout: 150 * time.Millisecond,
		MaxCall:        10 * time.Second,
		MaxLeg:         5 * time.Second,
		Hold:           ivr.HoldRinging,
		CodeFirstDigit: 150 * time.Millisecond, CodeInterDigit: 150 * time.Millisecond,
		CodeOverall: time.Second, CodeTries: 2,
		VoicemailMax: 2 * time.Second, RatingTimeout: 150 * time.Millisecond,
		Trunks: dialplan.Trunks{"vinaphone": "PJSIP/{number}@gw-vinaphone", "viettel": "PJSIP/{number}@gw-viettel",
			"default": "PJSIP/{number}@gw-viettel"},
		Prompts: ivr.Prompts{Greeting: "vi/greeting", EnterCode: "vi/enter-code", Connecting: "vi/connecting",
			Announce: "vi/announce", Province: "vi/province", ProvincePrefix: "vi/province-", PressOne: "vi/press-one",
			Rate: "vi/rate", Thanks: "vi/thanks", Voicemail: "vi/voicemail", Goodbye: "vi/goodbye", DigitPrefix: "vi/digit-", LetterPrefix: "vi/letter-",
			Transfer: "vi/transfer", RolePrefix: "vi/role-", TransferFailed: "vi/transfer-failed", TransferInvalid: "vi/transfer-invalid"},
		Instance:        "test-1",
		Lease:           30 * time.Second,
		MaxPrompt:       5 * time.Second,
		RequestTimeout:  2 * time.Second,
		ShutdownTimeout: 3 * time.Second,
		// Start-up reconciliation takes the application's channels that sent
		// no StasisStart within this grace for a previous process's: a call a
		// scenario places right after connecting must never look like one.
		ReconcileGrace: ivr.DefaultReconcileGrace,
		// The call flow needs none of these (ivr.Events); the media log of
		// the phone and SIP scenarios (watchMedia) follows the hotline's
		// prompts and recordings by them.
		ExtraEvents: []string{ari.TypePlaybackStarted, ari.TypePlaybackContinuing, ari.TypeRecordingStarted},
	}
}

// env is one hotline under test: a fake Asterisk, our ARI client, the call
// flow, and a real Postgres for records and reservations.
type env struct {
	t      *testing.T
	fake   *aritest.Server
	client *ari.Client
	srv    *ivr.Server
	db     *sqlx.DB
	store  *store.Store
	rec    *store.Recorder
	reg    *prometheus.Registry
	cancel context.CancelFunc
	runErr chan error
	proxy  *wsProxy // between the hotline and the fake, with envOption.proxy
	// killable is the hotline of a child process (phoneDriver.startKillable),
	// until restart; srv is nil then.
	killable *killable

	stopOnce sync.Once
	stopErr  error
}

// stop ends Run (as SIGINT would) and returns its error.
func (e *env) stop() error {
	e.stopOnce.Do(func() {
		e.cancel()
		select {
		case e.stopErr = <-e.runErr:
		case <-time.After(waitTimeout):
			e.stopErr = errors.New("Run did not return")
		}
	})
	return e.stopErr
}

type envOption struct {
	cfg     func(*ivr.Config)
	fake    func(*aritest.Options)
	now     func() time.Time
	backoff time.Duration
	// before runs once the fake is up, before our client connects.
	before func(*aritest.Server)
	// dir replaces testDirectory; dirFunc replaces both (a directory
	// that changes during the test).
	dir     *dialplan.Directory
	dirFunc func() *dialplan.Directory
	// proxy puts a wsProxy between the hotline and the fake (env.proxy),
	// so a test can keep the events WebSocket down.
	proxy bool
	// log, when set, is the hotline's logger.
	log *slog.Logger
	// db and spool, when set, are the (migrated) database and the record
	// spool of a previous process, for a hotline that takes its calls over;
	// by default a fresh database and spool.
	db    *sqlx.DB
	spool string
}

// newEnv starts everything; it is stopped (and checked clean) at the end.
func newEnv(t *testing.T, o envOption) *env {
	t.Helper()
	fo := aritest.Options{Second: time.Second, DefaultPhone: aritest.NeverAnswers()}
	if o.fake != nil {
		o.fake(&fo)
	}
	fake := aritest.Start(t, fo)
	// Registered first, so it runs last: after the server stopped.
	fake.RequireCleanAtEnd(t, waitTimeout)
	if o.before != nil {
		o.before(fake)
	}
	url := fake.URL()
	var p *wsProxy
	if o.proxy {
		p = startWSProxy(t, url)
		url = p.url()
	}
	e := startHotline(t, url, "asterisk", "asterisk", o)
	e.fake, e.proxy = fake, p
	wctx, wcancel := context.WithTimeout(context.Background(), waitTimeout)
	defer wcancel()
	require.NoError(t, fake.WaitConnected(wctx, "hotline"))
	return e
}

// startHotline runs the hotline (ARI client, call flow, records in a fresh
// test database) against the Asterisk at url, and stops it at the end of
// the test. It returns once the client is connected.
func startHotline(t *testing.T, url, user, password string, o envOption) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db := o.db
	if db == nil {
		db, _ = pgtest.Open(t)
		require.NoError(t, store.Migrate(ctx, db))
	}
	spool := o.spool
	if spool == "" {
		spool = filepath.Join(t.TempDir(), "spool.jsonl")
	}
	st := store.New(db)
	rec, err := store.NewRecorder(db, store.RecorderOptions{SpoolPath: spool, RetryInterval: 100 * time.Millisecond})
	require.NoError(t, err)

	backoff := o.backoff
	if backoff == 0 {
		backoff = 10 * time.Millisecond
	}
	client, err := ari.New(ari.Config{URL: url, User: user, Password: password, App: "hotline",
		BackoffMin: backoff, BackoffMax: 2 * backoff, RequestTimeout: 5 * time.Second})
	require.NoError(t, err)
	clientDone := make(chan struct{})
	go func() {
		defer close(clientDone)
		_ = client.Run(ctx)
	}()

	cfg := testConfig()
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	now := o.now
	if now == nil {
		now = func() time.Time { return weekday10 }
	}
	dir := o.dir
	if dir == nil && o.dirFunc == nil {
		dir = testDirectory(t)
	}
	dirFunc := o.dirFunc
	if dirFunc == nil {
		dirFunc = func() *dialplan.Directory { return dir }
	}
	reg := prometheus.NewRegistry()
	met := metrics.New(reg, metrics.Options{Regions: []string{"MN"},
		Staff: []string{"KTV1", "KTV3", "KTV4", "AM1", "RM1", "OP1"}})
	log := o.log
	if log == nil && os.Getenv("IVR_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv, err := ivr.New(cfg, ivr.Deps{ARI: client, Directory: dirFunc,
		Reserver: st, Recorder: rec, Metrics: met, Now: now, Logger: log, Callbacks: st})
	require.NoError(t, err)
	e := &env{t: t, client: client, srv: srv, db: db, store: st, rec: rec, reg: reg,
		cancel: cancel, runErr: make(chan error, 1)}
	go func() { e.runErr <- srv.Run(ctx) }()
	t.Cleanup(func() {
		if err := e.stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
		<-clientDone
		cctx, ccancel := context.WithTimeout(context.Background(), waitTimeout)
		defer ccancel()
		require.NoError(t, rec.Close(cctx))
	})
	wctx, wcancel := context.WithTimeout(ctx, waitTimeout)
	defer wcancel()
	require.NoError(t, client.WaitConnected(wctx))
	return e
}

// ctx is a bounded context for one test step.
func (e *env) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	e.t.Cleanup(cancel)
	return ctx
}

// call places an incoming call from number.
func (e *env) call(number string) *aritest.Call {
	e.t.Helper()
	c, err := e.fake.PlaceCall(aritest.CallSpec{Number: number})
	require.NoError(e.t, err)
	return c
}

// waitEnded waits until the caller's channel is gone.
func (e *env) waitEnded(c *aritest.Call) {
	e.t.Helper()
	select {
	case <-c.Done():
	case <-time.After(waitTimeout):
		e.t.Fatalf("call %s did not end; heard %v", c.ID(), c.Heard())
	}
}

// waitHeard waits until the caller was given kind/detail.
func (e *env) waitHeard(c *aritest.Call, kind, detail string) {
	e.t.Helper()
	_, err := c.WaitHeard(e.ctx(), kind, detail)
	require.NoError(e.t, err, "waiting for %s %s; heard %v", kind, detail, c.Heard())
}

// dialsTo returns the legs dialled to a number so far.
func (e *env) dialsTo(number string) []aritest.Dialled {
	var out []aritest.Dialled
	for _, d := range e.fake.Dials() {
		if d.Number == number {
			out = append(out, d)
		}
	}
	return out
}

// waitDial waits until a leg to number exists and returns it.
func (e *env) waitDial(number string) aritest.Dialled {
	e.t.Helper()
	var got aritest.Dialled
	err := e.fake.WaitFor(e.ctx(), func() bool {
		for _, d := range e.fake.Dials() {
			if d.Number == number {
				got = d
				return true
			}
		}
		return false
	})
	require.NoError(e.t, err, "no dial to %s; dials: %+v", number, e.fake.Dials())
	return got
}

// hangUpWhenBridged waits until the person at number talks with the caller
// (their leg is in the bridge), then hangs their leg up, as they would after
// talking.
func (e *env) hangUpWhenBridged(number string) {
	e.t.Helper()
	var leg aritest.Dialled
	eventually(e.t, number+" bridged with the caller", func() (bool, string) {
		for _, d := range e.dialsTo(number) {
			for _, h := range d.Heard {
				if h.Kind == "bridged" && !d.Ended {
					leg = d
					return true, ""
				}
			}
		}
		return false, fmt.Sprintf("legs to %s: %+v", number, e.dialsTo(number))
	})
	require.NoError(e.t, e.fake.HangupLeg(leg.ChannelID))
}

// callRow is a stored call with its legs, rating and voicemail.
type callRow struct {
	ID         string         `db:"id"`
	ChannelID  string         `db:"channel_id"`
	CallerRaw  string         `db:"caller_raw"`
	Caller     string         `db:"caller"`
	Cafe       sql.NullString `db:"cafe_code"`
	MatchedBy  string         `db:"matched_by"`
	Province   sql.NullString `db:"province_code"`
	Region     sql.NullString `db:"region_code"`
	Outcome    string         `db:"outcome"`
	AcceptedBy sql.NullString `db:"accepted_by"`
	Detail     string         `db:"detail"`
	Talk       float64        `db:"talk_seconds"`
	StartedAt  time.Time      `db:"started_at"`
	AcceptedAt sql.NullTime   `db:"accepted_at"`
	EndedAt    time.Time      `db:"ended_at"`
	Wait       float64        `db:"wait_seconds"`
	Legs       []legRow
	Rating     *ratingRow
	Voicemail  *voicemailRow
}

type legRow struct {
	Seq        int           `db:"seq"`
	Staff      string        `db:"staff_code"`
	Role       string        `db:"role"`
	Number     string        `db:"number"`
	Carrier    string        `db:"carrier"`
	Trunk      string        `db:"trunk"`
	ChannelID  string        `db:"channel_id"`
	RingAt     time.Time     `db:"ring_at"`
	AnsweredAt sql.NullTime  `db:"answered_at"`
	AcceptedAt sql.NullTime  `db:"accepted_at"`
	EndedAt    time.Time     `db:"ended_at"`
	Result     string        `db:"result"`
	Cause      sql.NullInt64 `db:"hangup_cause"`
	Detail     string        `db:"detail"`
}

type ratingRow struct {
	Staff     string        `db:"staff_code"`
	Score     sql.NullInt64 `db:"score"`
	Complaint bool          `db:"complaint"`
}

type voicemailRow struct {
	Cafe      sql.NullString `db:"cafe_code"`
	Callback  string         `db:"callback_number"`
	Recording string         `db:"recording"`
}

// record waits for the one stored record of the caller's channel.
func (e *env) record(channelID string) callRow {
	e.t.Helper()
	var rows []callRow
	deadline := time.Now().Add(waitTimeout)
	for {
		rows = nil
		err := e.db.Select(&rows, `SELECT id, channel_id, caller_raw, caller, cafe_code, matched_by, province_code,
			region_code, outcome, accepted_by, detail, talk_seconds, started_at, accepted_at, ended_at, wait_seconds FROM calls WHERE channel_id = $1`, channelID)
		require.NoError(e.t, err)
		if len(rows) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.Len(e.t, rows, 1, "exactly one record for channel %s", channelID)
	r := rows[0]
	require.NoError(e.t, e.db.Select(&r.Legs, `SELECT seq, staff_code, role, number, carrier, trunk, channel_id, ring_at,
		answered_at, accepted_at, ended_at, result, hangup_cause, detail FROM call_legs WHERE call_id = $1 ORDER BY seq`, r.ID))
	var rt ratingRow
	err := e.db.Get(&rt, `SELECT staff_code, score, complaint FROM ratings WHERE call_id = $1`, r.ID)
	if err == nil {
		r.Rating = &rt
	} else {
		require.True(e.t, errors.Is(err, sql.ErrNoRows), "%v", err)
	}
	var vm voicemailRow
	err = e.db.Get(&vm, `SELECT cafe_code, callback_number, recording FROM voicemails WHERE call_id = $1`, r.ID)
	if err == nil {
		r.Voicemail = &vm
	} else {
		require.True(e.t, errors.Is(err, sql.ErrNoRows), "%v", err)
	}
	return r
}

// results lists the legs' "staff/result".
func (r callRow) results() []string {
	out := make([]string, 0, len(r.Legs))
	for _, l := range r.Legs {
		out = append(out, l.Staff+"/"+l.Result)
	}
	return out
}

// requests returns the fake's requests whose "METHOD path" contains s.
func (e *env) requests(s string) []aritest.Request {
	var out []aritest.Request
	for _, r := range e.fake.Requests() {
		if strings.Contains(r.Method+" "+r.Path, s) {
			out = append(out, r)
		}
	}
	return out
}

// fixedClock is a Deps.Now that can be read concurrently.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fixedClock) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

// heardKinds returns what the caller was given of kind.
func (e *env) heardKinds(c *aritest.Call, kind string) []aritest.Heard {
	var out []aritest.Heard
	for _, h := range c.Heard() {
		if h.Kind == kind {
			out = append(out, h)
		}
	}
	return out
}

// metric sums the counter or gauge name over the series whose labels
// include the given name/value pairs.
func (e *env) metric(name string, labels ...string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	require.NoError(e.t, err)
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			switch {
			case m.GetCounter() != nil:
				sum += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}
