package ivr_test

// Fault injection (issue 10): a reservation database that fails, answers
// late, or commits and then reports an error; Asterisk refusing hangups.
// Each test fails on the code before the fix it names.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
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

// faultyReserver is the real reservation store with scripted faults. The
// store's other methods (heartbeat, start-up release, rotation) pass through.
type faultyReserver struct {
	*store.Store

	// ReserveDelay holds every Reserve this long first, whatever its
	// context says (a slow database driver).
	ReserveDelay time.Duration
	// CommitThenFail makes the next n Reserves commit and then report a
	// timeout (the database did it; we did not hear).
	CommitThenFail atomic.Int32
	// ReleaseFails makes the next n Releases fail (negative: every one).
	ReleaseFails atomic.Int32
	// ReleaseDelay holds every Release this long first.
	ReleaseDelay time.Duration

	inflight  atomic.Int32 // Reserve and Release calls running
	reserves  atomic.Int32 // Reserves that returned
	releases  atomic.Int32 // Releases that were attempted
	mu        sync.Mutex
	reservedT []time.Time // when each Reserve returned
}

var errInjected = errors.New("injected database fault")

func (f *faultyReserver) Reserve(ctx context.Context, staff, callID, instance string, lease time.Duration) (bool, error) {
	f.inflight.Add(1)
	defer f.inflight.Add(-1)
	time.Sleep(f.ReserveDelay)
	ok, err := f.Store.Reserve(context.WithoutCancel(ctx), staff, callID, instance, lease)
	if err == nil && f.CommitThenFail.Add(-1) >= 0 {
		ok, err = false, fmt.Errorf("reserve %s: %w", staff, context.DeadlineExceeded)
	}
	f.mu.Lock()
	f.reservedT = append(f.reservedT, time.Now())
	f.mu.Unlock()
	f.reserves.Add(1)
	return ok, err
}

func (f *faultyReserver) Release(ctx context.Context, staff, callID string) error {
	f.inflight.Add(1)
	defer f.inflight.Add(-1)
	time.Sleep(f.ReleaseDelay)
	f.releases.Add(1)
	if n := f.ReleaseFails.Load(); n < 0 || (n > 0 && f.ReleaseFails.CompareAndSwap(n, n-1)) {
		return errInjected
	}
	return f.Store.Release(ctx, staff, callID)
}

// firstReserved is when the first Reserve returned (zero: none yet).
func (f *faultyReserver) firstReserved() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reservedT) == 0 {
		return time.Time{}
	}
	return f.reservedT[0]
}

// logEntry is one captured log record with its attributes (the logger's
// own With attributes included) as strings.
type logEntry struct {
	Level slog.Level
	Msg   string
	Attrs map[string]string
}

// logCapture is a slog.Handler keeping every record (and printing it when
// IVR_TEST_LOG is set).
type logCapture struct {
	mu    *sync.Mutex
	recs  *[]logEntry
	attrs []slog.Attr
	echo  slog.Handler
}

func newLogCapture() *logCapture {
	h := &logCapture{mu: &sync.Mutex{}, recs: &[]logEntry{}}
	if os.Getenv("IVR_TEST_LOG") != "" {
		h.echo = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})
	}
	return h
}

func (h *logCapture) Enabled(context.Context, slog.Level) bool { return true }

func (h *logCapture) Handle(ctx context.Context, r slog.Record) error {
	e := logEntry{Level: r.Level, Msg: r.Message, Attrs: map[string]string{}}
	for _, a := range h.attrs {
		e.Attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		e.Attrs[a.Key] = a.Value.String()
		return true
	})
	h.mu.Lock()
	*h.recs = append(*h.recs, e)
	h.mu.Unlock()
	if h.echo != nil {
		return h.echo.WithAttrs(h.attrs).Handle(ctx, r)
	}
	return nil
}

func (h *logCapture) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

func (h *logCapture) WithGroup(string) slog.Handler { return h }

// find returns the records of level whose message contains msg.
func (h *logCapture) find(level slog.Level, msg string) []logEntry {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []logEntry
	for _, e := range *h.recs {
		if e.Level == level && strings.Contains(e.Msg, msg) {
			out = append(out, e)
		}
	}
	return out
}

// faultOptions configure newFaultEnv.
type faultOptions struct {
	envOption
	// db is a database shared with another instance; nil: a fresh one.
	db *sqlx.DB
	// res wraps the store; nil: the store itself.
	res *faultyReserver
	// wrap wraps the ARI client the hotline uses; nil: the client itself.
	wrap func(*ari.Client) ivr.ARI
}

// fastTeardown retries teardown steps quickly.
func fastTeardown(c *ivr.Config) {
	c.TeardownTries = 5
	c.TeardownBackoff = 20 * time.Millisecond
}

// newFaultEnv is newEnv with a faulty reservation store, a shared database
// if given, and captured logs.
func newFaultEnv(t *testing.T, o faultOptions) (*env, *logCapture) {
	t.Helper()
	fo := aritest.Options{Second: time.Second, DefaultPhone: aritest.NeverAnswers()}
	if o.fake != nil {
		o.fake(&fo)
	}
	// A person who accepts talks from the moment they are bridged (as in
	// the phone scenarios): a talk counted from the answer could end
	// before a loaded machine has made the bridge, and the call would go on
	// to the next person.
	talks := map[string]time.Duration{}
	for n, p := range fo.Phones {
		if p.Keys != "" && p.HangupAfter > 0 {
			talks[n], p.HangupAfter = p.HangupAfter, 0
			fo.Phones[n] = p
		}
	}
	if p := fo.DefaultPhone; p.Keys != "" && p.HangupAfter > 0 {
		talks[""], fo.DefaultPhone.HangupAfter = p.HangupAfter, 0
	}
	fake := aritest.Start(t, fo)
	fake.RequireCleanAtEnd(t, 3*time.Second)
	hangUpAfterTalking(t, fake, talks)

	db := o.db
	if db == nil {
		db, _ = pgtest.Open(t)
		require.NoError(t, store.Migrate(context.Background(), db))
	}
	ctx, cancel := context.WithCancel(context.Background())
	st := store.New(db)
	var res ivr.Reserver = st
	if o.res != nil {
		o.res.Store = st
		res = o.res
	}
	rec, err := store.NewRecorder(db, store.RecorderOptions{SpoolPath: filepath.Join(t.TempDir(), "spool.jsonl"),
		RetryInterval: 100 * time.Millisecond})
	require.NoError(t, err)
	client, err := ari.New(ari.Config{URL: fake.URL(), User: "asterisk", Password: "asterisk", App: "hotline",
		BackoffMin: 10 * time.Millisecond, BackoffMax: 20 * time.Millisecond, RequestTimeout: 5 * time.Second})
	require.NoError(t, err)
	clientDone := make(chan struct{})
	go func() {
		defer close(clientDone)
		_ = client.Run(ctx)
	}()
	cfg := testConfig()
	fastTeardown(&cfg)
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	dir := o.dir
	if dir == nil {
		dir = testDirectory(t)
	}
	reg := prometheus.NewRegistry()
	met := metrics.New(reg, metrics.Options{Regions: []string{"MN"},
		Staff: []string{"KTV1", "KTV2", "KTV3", "KTV4", "AM1", "RM1", "OP1"}})
	logs := newLogCapture()
	var asterisk ivr.ARI = client
	if o.wrap != nil {
		asterisk = o.wrap(client)
	}
	srv, err := ivr.New(cfg, ivr.Deps{ARI: asterisk, Directory: func() *dialplan.Directory { return dir },
		Reserver: res, Recorder: rec, Metrics: met, Now: func() time.Time { return weekday10 },
		Logger: slog.New(logs)})
	require.NoError(t, err)
	e := &env{t: t, fake: fake, client: client, srv: srv, db: db, store: st, rec: rec, reg: reg,
		cancel: cancel, runErr: make(chan error, 1)}
	go func() { e.runErr <- srv.Run(ctx) }()
	t.Cleanup(func() {
		if err := e.stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
		<-clientDone
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer ccancel()
		require.NoError(t, rec.Close(cctx))
	})
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	require.NoError(t, client.WaitConnected(wctx))
	require.NoError(t, fake.WaitConnected(wctx, "hotline"))
	return e, logs
}

// reservations lists the live reservations.
func (e *env) reservations() []store.Reservation {
	e.t.Helper()
	res, err := e.store.Reservations(e.ctx())
	require.NoError(e.t, err)
	return res
}

// requireNoReservation waits until nobody is reserved.
func (e *env) requireNoReservation(within time.Duration) {
	e.t.Helper()
	require.Eventually(e.t, func() bool { return len(e.reservations()) == 0 }, within, 20*time.Millisecond,
		"reservations left: %+v", e.reservations())
}

// A release the database refuses is retried (point 1): the KTV is free
// again at once, not when the lease runs out. Before: one try, a warning,
// and the row stayed (renewed by the heartbeat until the process restarted).
func TestFaultReleaseFailureIsRetried(t *testing.T) {
	res := &faultyReserver{}
	res.ReleaseFails.Store(2)
	e, _ := newFaultEnv(t, faultOptions{res: res, envOption: envOption{fake: func(o *aritest.Options) {
		o.Phones = map[string]aritest.Phone{ktv1Vina: talkThenHangUp(20*time.Millisecond, 100*time.Millisecond)}
	}}})
	c := e.call(cafe1Phone)
	e.waitEnded(c)
	require.Equal(t, "answered", e.record(c.ID()).Outcome)
	e.requireNoReservation(3 * time.Second)
	require.GreaterOrEqual(t, res.releases.Load(), int32(3))
	require.Zero(t, e.metric("hotline_reservation_releases_given_up_total"))
}

// A reserve that committed in the database but failed on our side (the
// answer timed out) is followed by a release (point 1). Before: an errored
// reserve was never released, the KTV stayed busy for other instances.
func TestFaultReserveCommittedButTimedOutIsReleased(t *testing.T) {
	res := &faultyReserver{}
	res.CommitThenFail.Store(1)
	e, logs := newFaultEnv(t, faultOptions{res: res, envOption: envOption{fake: func(o *aritest.Options) {
		o.Phones = map[string]aritest.Phone{ktv1Vina: talkThenHangUp(20*time.Millisecond, 100*time.Millisecond)}
	}}})
	c := e.call(cafe1Phone)
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome)
	require.Equal(t, []string{"KTV1/answered"}, r.results(), "a database error does not silence the hotline")
	e.requireNoReservation(3 * time.Second)
	// Dialled on this instance's reservation alone: logged and counted.
	require.Equal(t, 1.0, e.metric("hotline_reservations_memory_only_total"))
	warns := logs.find(slog.LevelWarn, "in-memory reservation")
	require.NotEmpty(t, warns)
	require.Equal(t, "KTV1", warns[0].Attrs["staff"])
	require.Equal(t, r.ID, warns[0].Attrs["call_id"])
}

// The heartbeat renews only the reservations of calls that still live
// (point 1): a row we gave up releasing frees the person when its lease
// ends. Before: every row of the instance was renewed, so the person stayed
// busy until the process restarted. Giving up is logged at ERROR and counted.
func TestFaultHeartbeatRenewsOnlyLiveCalls(t *testing.T) {
	res := &faultyReserver{}
	res.ReleaseFails.Store(-1)
	e, logs := newFaultEnv(t, faultOptions{res: res, envOption: envOption{
		cfg: func(c *ivr.Config) {
			c.Lease = 600 * time.Millisecond // heartbeat every 200 ms
			c.TeardownTries = 3
		},
		fake: func(o *aritest.Options) {
			o.Phones = map[string]aritest.Phone{ktv1Vina: talkThenHangUp(20*time.Millisecond, 400*time.Millisecond)}
		}}})
	c := e.call(cafe1Phone)
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome, "the heartbeat kept the reservation during the call")
	require.Eventually(t, func() bool { return e.metric("hotline_reservation_releases_given_up_total") == 1 },
		3*time.Second, 10*time.Millisecond)
	errs := logs.find(slog.LevelError, "gave up releasing")
	require.Len(t, errs, 1)
	require.Equal(t, "KTV1", errs[0].Attrs["staff"])
	require.Equal(t, r.ID, errs[0].Attrs["call_id"])
	require.Equal(t, int32(3), res.releases.Load(), "TeardownTries attempts")
	// Nobody renews the row of the finished call: it expires.
	e.requireNoReservation(3 * time.Second)
}

// Every reservation goroutine belongs to its call: when Run returns no
// database request of a call is still running, and everything reserved was
// released (point 1). Before: the goroutines were not tracked and could
// outlive Run, racing the database's Close.
func TestFaultRunWaitsForReservations(t *testing.T) {
	res := &faultyReserver{ReserveDelay: 400 * time.Millisecond, ReleaseDelay: 200 * time.Millisecond}
	e, _ := newFaultEnv(t, faultOptions{res: res, envOption: envOption{}})
	c := e.call(cafe1Phone)
	e.waitDial(ktv1Vina) // rung on the in-memory reservation: the database is slow
	require.NoError(t, e.stop())
	require.Zero(t, res.inflight.Load(), "a reservation request outlived Run")
	require.Equal(t, int32(1), res.reserves.Load())
	require.Equal(t, int32(1), res.releases.Load(), "what was reserved was released before Run returned")
	require.Empty(t, e.reservations())
	e.waitEnded(c)
}

// A person another instance holds is never rung (point 8): the database is
// asked before the leg is created. Before: the leg was created (and could
// ring) while the database was asked, then cancelled.
func TestFaultReservedBeforeDialling(t *testing.T) {
	res := &faultyReserver{ReserveDelay: 50 * time.Millisecond}
	e, _ := newFaultEnv(t, faultOptions{res: res, envOption: envOption{
		cfg: func(c *ivr.Config) { c.ReserveBudget = 2 * time.Second }, // within it, however loaded the machine
		fake: func(o *aritest.Options) {
			o.Phones = map[string]aritest.Phone{
				ktv1Vina: talkThenHangUp(20*time.Millisecond, 100*time.Millisecond),
				am1:      talkThenHangUp(20*time.Millisecond, 100*time.Millisecond),
			}
		}}})
	ok, err := e.store.Reserve(e.ctx(), "KTV1", "another-call", "test-2", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	c := e.call(cafe1Phone)
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome)
	require.Equal(t, []string{"AM1/answered"}, r.results(), "KTV1 was not rung, so has no leg")
	for _, q := range e.requests("POST /ari/channels/create") {
		require.NotContains(t, fmt.Sprint(q.Query), "0945550101", "a channel to KTV1 was created")
		require.NotContains(t, fmt.Sprint(q.Query), "0965550102", "a channel to KTV1 was created")
	}
	// AM1's leg was created after AM1's reservation was confirmed.
	am := e.waitDial(am1)
	require.False(t, res.firstReserved().IsZero())
	require.True(t, am.Started.After(res.firstReserved()), "dialled before the database answered")
	require.Zero(t, e.metric("hotline_reservations_memory_only_total"))
	require.Eventually(t, func() bool {
		l := e.reservations()
		return len(l) == 1 && l[0].CallID == "another-call"
	}, 3*time.Second, 10*time.Millisecond)
}

// When the database does not answer within the budget the person is rung
// on this instance's reservation alone (point 8), with a warning naming the
// call and a count; the late answer still holds (and is released).
func TestFaultReserveBudgetFallsBackToMemory(t *testing.T) {
	res := &faultyReserver{ReserveDelay: 600 * time.Millisecond}
	e, logs := newFaultEnv(t, faultOptions{res: res, envOption: envOption{fake: func(o *aritest.Options) {
		o.Phones = map[string]aritest.Phone{ktv1Vina: talkThenHangUp(20*time.Millisecond, 800*time.Millisecond)}
	}}})
	c := e.call(cafe1Phone)
	d := e.waitDial(ktv1Vina)
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome)
	require.True(t, d.Started.Before(res.firstReserved()), "the dial did not wait for the slow database")
	require.Equal(t, 1.0, e.metric("hotline_reservations_memory_only_total"))
	warns := logs.find(slog.LevelWarn, "in-memory reservation")
	require.Len(t, warns, 1)
	require.Equal(t, "KTV1", warns[0].Attrs["staff"])
	require.Equal(t, r.ID, warns[0].Attrs["call_id"])
	require.Equal(t, cafe1Phone, warns[0].Attrs["caller"])
	e.requireNoReservation(3 * time.Second)
}

// rotationDirectory: KTV1 and KTV2 both cover Kiên Giang, and café KG001
// has no technician of its own: the least recently rung goes first.
func rotationDirectory(t testing.TB) *dialplan.Directory {
	t.Helper()
	always := dialplan.Schedule{Always: true}
	dir, err := dialplan.NewDirectory(dialplan.DirectoryData{
		Regions: []dialplan.Region{{Code: "MN", Name: "Miền Nam", Manager: "RM1"}},
		Areas: []dialplan.Area{{Code: "TNB", Name: "Tây Nam Bộ", Region: "MN", Manager: "AM1",
			Provinces: []string{"kien-giang"}}},
		Staff: []dialplan.Staff{
			{Code: "KTV1", Name: "KTV Một", Role: dialplan.RoleTechnician, Status: dialplan.StatusActive, Hours: always,
				Phones: []dialplan.Phone{{E164: "+84945550101", Carrier: dialplan.CarrierVinaphone}}, Provinces: []string{"kien-giang"}},
			{Code: "KTV2", Name: "KTV Hai", Role: dialplan.RoleTechnician, Status: dialplan.StatusActive, Hours: always,
				Phones: []dialplan.Phone{{E164: "+84945550105", Carrier: dialplan.CarrierVinaphone}}, Provinces: []string{"kien-giang"}},
			{Code: "AM1", Name: "Quản lý TNB", Role: dialplan.RoleAreaManager, Status: dialplan.StatusActive, Hours: always,
				Phones: []dialplan.Phone{{E164: "+84935550201"}}},
			{Code: "RM1", Name: "Vùng MN", Role: dialplan.RoleRegionalManager, Status: dialplan.StatusActive, Hours: always,
				Phones: []dialplan.Phone{{E164: "+84975550301"}}},
			{Code: "OP1", Name: "Tổng đài", Role: dialplan.RoleOperator, Status: dialplan.StatusActive, Hours: always,
				Phones: []dialplan.Phone{{E164: "+84385550401"}}},
		},
		Cafes: []dialplan.Cafe{
			{Code: "KG001", Name: "Net Cỏ Mây", Province: "kien-giang", Status: dialplan.StatusActive, Phones: []string{"+84945551001"}},
		},
	}, dialplan.WithoutPublicHolidays())
	require.NoError(t, err)
	return dir
}

const ktv2Vina = "0945550105"

// Two instances (two Asterisk nodes, one database) agree on who was rung
// least recently (point 8): after instance A rang KTV1, instance B rings
// KTV2 first. Before: the order lived in each process's memory, so B rang
// KTV1 again.
func TestFaultLeastRecentlyRungSharedBetweenInstances(t *testing.T) {
	db, _ := pgtest.Open(t)
	require.NoError(t, store.Migrate(context.Background(), db))
	dir := rotationDirectory(t)
	answers := func(o *aritest.Options) {
		o.DefaultPhone = talkThenHangUp(20*time.Millisecond, 100*time.Millisecond)
	}
	node := func(name string) func(*ivr.Config) {
		return func(c *ivr.Config) { c.Instance, c.ReserveBudget = name, 2*time.Second }
	}
	a, _ := newFaultEnv(t, faultOptions{db: db, envOption: envOption{dir: dir, fake: answers, cfg: node("node-a")}})
	b, _ := newFaultEnv(t, faultOptions{db: db, envOption: envOption{dir: dir, fake: answers, cfg: node("node-b")}})

	c1 := a.call(cafe1Phone)
	a.waitEnded(c1)
	require.Equal(t, []string{"KTV1/answered"}, nodeLegs(t, db, "node-a", c1.ID()), "never rung: ties go by code")

	c2 := b.call(cafe1Phone)
	b.waitEnded(c2)
	require.Equal(t, []string{"KTV2/answered"}, nodeLegs(t, db, "node-b", c2.ID()), "KTV1 was rung last (by node A)")
	require.Empty(t, b.dialsTo(ktv1Vina))
	require.Zero(t, b.metric("hotline_rotation_memory_only_total"))
}

// nodeLegs waits for the record of the call on channelID handled by node
// (two fake Asterisks may reuse channel ids) and lists its legs'
// "staff/result".
func nodeLegs(t *testing.T, db *sqlx.DB, node, channelID string) []string {
	t.Helper()
	var legs []string
	require.Eventually(t, func() bool {
		legs = nil
		err := db.Select(&legs, `SELECT l.staff_code || '/' || l.result FROM call_legs l JOIN calls c ON c.id = l.call_id
			WHERE c.node = $1 AND c.channel_id = $2 ORDER BY l.seq`, node, channelID)
		require.NoError(t, err)
		return len(legs) > 0
	}, 10*time.Second, 20*time.Millisecond)
	return legs
}

// A hangup Asterisk refuses (500) is retried until Asterisk confirms the
// end (point 3): the voicemail box that answered does not stay connected.
// Before: the leg was marked ended, its watchdog stopped, and it stayed up.
func TestFaultLegHangupIsRetried(t *testing.T) {
	e, _ := newFaultEnv(t, faultOptions{envOption: envOption{cfg: longTechnicianRing, fake: func(o *aritest.Options) {
		o.Phones = map[string]aritest.Phone{
			ktv1Vina: aritest.Voicemail(20 * time.Millisecond),
			am1:      talkThenHangUp(20*time.Millisecond, 100*time.Millisecond),
		}
	}}})
	e.fake.FailNext(http.MethodDelete, "/ari/channels/*-leg*", http.StatusInternalServerError, 2)
	c := e.call(cafe1Phone)
	vm := e.waitDial(ktv1Vina)
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, []string{"KTV1/answered_unconfirmed", "KTV1/no_answer", "AM1/answered"}, r.results())
	require.NoError(t, e.fake.WaitFor(e.ctx(), func() bool { return !e.channelUp(vm.ChannelID) }),
		"the voicemail leg is still up")
	require.Equal(t, 2, e.fake.FaultHits())
	require.Equal(t, 3, e.hangups(vm.ChannelID))
	require.Zero(t, e.metric("hotline_hangups_given_up_total"))
}

// When every retry fails the hotline gives up loudly (ERROR log, counter)
// and the leg's watchdog stays armed: once Asterisk accepts hangups again,
// the hard limit ends the leg (point 3).
func TestFaultLegHangupGivenUpLoudlyWatchdogStays(t *testing.T) {
	e, logs := newFaultEnv(t, faultOptions{envOption: envOption{
		cfg: func(c *ivr.Config) {
			longTechnicianRing(c)
			c.TeardownTries = 3
			c.MaxLeg = 2 * time.Second
		},
		fake: func(o *aritest.Options) {
			o.Phones = map[string]aritest.Phone{
				// Answers late enough for the fault to be in place first.
				ktv1Vina: aritest.Voicemail(300 * time.Millisecond),
				am1:      talkThenHangUp(20*time.Millisecond, 100*time.Millisecond),
			}
		}}})
	c := e.call(cafe1Phone)
	vm := e.waitDial(ktv1Vina)
	remove := e.fake.AddFault(aritest.Fault{Method: http.MethodDelete, Path: "/ari/channels/" + vm.ChannelID,
		Status: http.StatusServiceUnavailable})
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, []string{"KTV1/answered_unconfirmed", "KTV1/no_answer", "AM1/answered"}, r.results())
	require.Eventually(t, func() bool { return e.metric("hotline_hangups_given_up_total") == 1 },
		3*time.Second, 10*time.Millisecond)
	errs := logs.find(slog.LevelError, "gave up hanging up")
	require.Len(t, errs, 1)
	require.Equal(t, vm.ChannelID, errs[0].Attrs["leg"])
	require.Equal(t, r.ID, errs[0].Attrs["call_id"])
	require.True(t, e.channelUp(vm.ChannelID), "Asterisk refused every hangup")
	// TeardownTries, and the watchdog's own tries if its limit has come.
	require.GreaterOrEqual(t, e.hangups(vm.ChannelID), 3)

	remove()
	require.NoError(t, e.fake.WaitFor(e.ctx(), func() bool { return !e.channelUp(vm.ChannelID) }),
		"the watchdog did not end the leg")
}

// longTechnicianRing lets a technician's phone ring 500 ms: a voicemail
// box answering after a few hundred milliseconds is answered, not timed
// out, even on a loaded machine.
func longTechnicianRing(c *ivr.Config) { c.Ring[dialplan.RoleTechnician] = 500 * time.Millisecond }

// The caller's hangup at teardown is retried too (point 3).
func TestFaultCallerHangupIsRetried(t *testing.T) {
	e, _ := newFaultEnv(t, faultOptions{envOption: envOption{fake: func(o *aritest.Options) {
		o.Phones = map[string]aritest.Phone{ktv1Vina: talkThenHangUp(20*time.Millisecond, 100*time.Millisecond)}
	}}})
	c := e.call(cafe1Phone)
	e.fake.FailNext(http.MethodDelete, "/ari/channels/"+c.ID(), http.StatusInternalServerError, 2)
	e.waitEnded(c)
	require.Equal(t, "answered", e.record(c.ID()).Outcome)
	require.Equal(t, 3, e.hangups(c.ID()))
	require.Zero(t, e.metric("hotline_hangups_given_up_total"))
}

// hangups counts the hangup requests (DELETE /ari/channels/{id}) of a channel.
func (e *env) hangups(id string) int {
	n := 0
	for _, r := range e.fake.Requests() {
		if r.Method == http.MethodDelete && r.Path == "/ari/channels/"+id {
			n++
		}
	}
	return n
}

// channelUp reports whether the fake still has the channel.
func (e *env) channelUp(id string) bool {
	for _, ch := range e.fake.Channels() {
		if ch.ID == id {
			return true
		}
	}
	return false
}

// talkThenHangUp is a person who answers after ring, presses 1 at once and
// hangs up talk after answering (newFaultEnv: after being bridged).
func talkThenHangUp(ring, talk time.Duration) aritest.Phone {
	return aritest.Phone{Outcome: aritest.OutcomeAnswer, RingFor: ring, Keys: "1", KeysAfter: 10 * time.Millisecond,
		HangupAfter: talk}
}
