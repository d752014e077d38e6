package store

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/store/pgtest"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/stretchr/testify/require"
)

type fakeObserver struct {
	mu       sync.Mutex
	spooled  []int
	dbErrors map[string]int
}

func (o *fakeObserver) SetSpooled(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.spooled = append(o.spooled, n)
}

func (o *fakeObserver) DBError(op string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dbErrors == nil {
		o.dbErrors = map[string]int{}
	}
	o.dbErrors[op]++
}

func (o *fakeObserver) errors() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, v := range o.dbErrors {
		n += v
	}
	return n
}

func (o *fakeObserver) maxSpooled() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := 0
	for _, v := range o.spooled {
		m = max(m, v)
	}
	return m
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func sampleCall(id string) CallRecord {
	return CallRecord{
		ID: id, Node: "node-1", ChannelID: "1700000000.1", CallerRaw: "0945550101", Caller: "+84945550101",
		CallerKind: "mobile", Cafe: "KG001", MatchedBy: dialplan.MatchedByCallerID, Province: "kien-giang",
		Area: "MT", Region: "MN", StartedAt: t0, AcceptedAt: t0.Add(20 * time.Second), EndedAt: t0.Add(3 * time.Minute),
		Outcome: OutcomeAnswered, AcceptedBy: "KTV01", Wait: 20 * time.Second, Talk: 160 * time.Second,
		Legs: []LegRecord{
			{Staff: "KTV01", Role: dialplan.RoleTechnician, Number: "+84945550201", Carrier: dialplan.CarrierVinaphone,
				Trunk: "PJSIP/gw-vinaphone", RingAt: t0.Add(5 * time.Second), EndedAt: t0.Add(12 * time.Second),
				Result: LegBusy, HangupCause: 17},
			{Staff: "KTV01", Role: dialplan.RoleTechnician, Number: "+84965550202", Carrier: dialplan.CarrierViettel,
				Trunk: "PJSIP/gw-viettel", RingAt: t0.Add(12 * time.Second), AnsweredAt: t0.Add(18 * time.Second),
				AcceptedAt: t0.Add(20 * time.Second), EndedAt: t0.Add(3 * time.Minute), Result: LegAnswered, HangupCause: 16},
		},
		Rating: &Rating{Score: 5, Staff: "KTV01"},
	}
}

func voicemailCall(id string) CallRecord {
	return CallRecord{
		ID: id, Node: "node-1", Caller: "+842973555001", CallerKind: "landline", Cafe: "KG002",
		MatchedBy: dialplan.MatchedByCallerID, StartedAt: t0, EndedAt: t0.Add(time.Minute), Outcome: OutcomeVoicemail,
		Wait: time.Minute,
		Legs: []LegRecord{{Staff: "KTV01", Role: dialplan.RoleTechnician, Number: "+84945550201",
			RingAt: t0.Add(5 * time.Second), EndedAt: t0.Add(35 * time.Second), Result: LegNoAnswer}},
		Voicemail: &Voicemail{Recording: "vm-" + id, CallbackNumber: "+842973555001"},
	}
}

func countRows(t *testing.T, db *sqlx.DB, q string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, db.GetContext(context.Background(), &n, q, args...))
	return n
}

func TestWriteCallStoresEverythingOnce(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	rec := sampleCall("01J00000000000000000000001")
	ok, err := WriteCall(ctx, db, &rec)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = WriteCall(ctx, db, &rec)
	require.NoError(t, err)
	require.False(t, ok, "second write is a no-op")

	var got struct {
		Outcome    string    `db:"outcome"`
		AcceptedBy string    `db:"accepted_by"`
		Wait       float64   `db:"wait_seconds"`
		Accepted   time.Time `db:"accepted_at"`
	}
	require.NoError(t, db.GetContext(ctx, &got,
		"SELECT outcome, accepted_by, wait_seconds, accepted_at FROM calls WHERE id = $1", rec.ID))
	require.Equal(t, "answered", got.Outcome)
	require.Equal(t, "KTV01", got.AcceptedBy)
	require.InDelta(t, 20.0, got.Wait, 1e-9)
	require.True(t, got.Accepted.Equal(rec.AcceptedAt))
	require.Equal(t, 2, countRows(t, db, "SELECT count(*) FROM call_legs WHERE call_id = $1", rec.ID))
	require.Equal(t, 1, countRows(t, db, "SELECT count(*) FROM call_legs WHERE call_id = $1 AND seq = 2 AND result = 'answered' AND carrier = 'viettel'", rec.ID))
	require.Equal(t, 1, countRows(t, db, "SELECT count(*) FROM ratings WHERE call_id = $1 AND score = 5", rec.ID))

	vm := voicemailCall("01J00000000000000000000002")
	_, err = WriteCall(ctx, db, &vm)
	require.NoError(t, err)
	require.Equal(t, 1, countRows(t, db, "SELECT count(*) FROM voicemails WHERE call_id = $1 AND handled_at IS NULL", vm.ID))
	require.Equal(t, 1, countRows(t, db, "SELECT count(*) FROM calls WHERE id = $1 AND accepted_by IS NULL AND accepted_at IS NULL", vm.ID))
}

func TestValidateRejectsBadRecords(t *testing.T) {
	good := sampleCall("x")
	require.NoError(t, good.Validate())
	for name, mut := range map[string]func(r *CallRecord){
		"no id":         func(r *CallRecord) { r.ID = "" },
		"bad outcome":   func(r *CallRecord) { r.Outcome = "lost" },
		"bad matched":   func(r *CallRecord) { r.MatchedBy = "psychic" },
		"no end":        func(r *CallRecord) { r.EndedAt = time.Time{} },
		"end < start":   func(r *CallRecord) { r.EndedAt = r.StartedAt.Add(-time.Second) },
		"bad role":      func(r *CallRecord) { r.Legs[0].Role = "boss" },
		"bad result":    func(r *CallRecord) { r.Legs[0].Result = "maybe" },
		"bad carrier":   func(r *CallRecord) { r.Legs[0].Carrier = "Viettel" },
		"bad reason":    func(r *CallRecord) { r.Legs[1].Reason = "callback" },
		"dup seq":       func(r *CallRecord) { r.Legs[0].Seq, r.Legs[1].Seq = 1, 1 },
		"rating 7":      func(r *CallRecord) { r.Rating.Score = 7 },
		"empty vm":      func(r *CallRecord) { r.Voicemail = &Voicemail{} },
		"negative wait": func(r *CallRecord) { r.Wait = -time.Second },
	} {
		t.Run(name, func(t *testing.T) {
			r := sampleCall("x")
			r.Legs = append([]LegRecord(nil), r.Legs...)
			r.Rating = &Rating{Score: 5, Staff: "KTV01"}
			mut(&r)
			require.Error(t, r.Validate())
		})
	}
	complaintOnly := sampleCall("y")
	complaintOnly.Rating = &Rating{Complaint: true, Staff: "KTV01"}
	require.NoError(t, complaintOnly.Validate())
}

func TestPermanentErrors(t *testing.T) {
	require.True(t, permanent(fmt.Errorf("x: %w", &pq.Error{Code: "23514"})))
	require.True(t, permanent(fmt.Errorf("x: %w", &pq.Error{Code: "22007"})))
	require.False(t, permanent(fmt.Errorf("x: %w", &pq.Error{Code: "57P01"})), "admin shutdown is transient")
	require.False(t, permanent(context.DeadlineExceeded))
	require.True(t, permanent(validationError{fmt.Errorf("bad")}))
}

func TestRecorderWritesAndCloseDrains(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	obs := &fakeObserver{}
	r, err := NewRecorder(db, RecorderOptions{SpoolPath: filepath.Join(t.TempDir(), "spool.jsonl"),
		RetryInterval: 50 * time.Millisecond, Observer: obs})
	require.NoError(t, err)
	const n = 50
	for i := range n {
		r.Submit(sampleCall(fmt.Sprintf("call-%03d", i)))
	}
	r.Submit(voicemailCall("call-vm"))
	require.NoError(t, r.Close(ctx))
	require.Equal(t, n+1, countRows(t, db, "SELECT count(*) FROM calls"))
	require.Equal(t, 2*n+1, countRows(t, db, "SELECT count(*) FROM call_legs"))
	require.Zero(t, r.Spooled())
	require.Zero(t, obs.errors())

	// After Close a record is not lost: it lands in the spool, replayed by the next recorder.
	r.Submit(sampleCall("late"))
	require.Equal(t, 1, r.Spooled())
}

func TestRecorderRejectsInvalidRecord(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	dir := t.TempDir()
	r, err := NewRecorder(db, RecorderOptions{SpoolPath: filepath.Join(dir, "spool.jsonl")})
	require.NoError(t, err)
	bad := sampleCall("bad-1")
	bad.Outcome = "lost"
	r.Submit(bad)
	require.NoError(t, r.Close(testCtx(t)))
	require.Zero(t, countRows(t, db, "SELECT count(*) FROM calls"))
	data, err := os.ReadFile(filepath.Join(dir, "spool.jsonl.rejected"))
	require.NoError(t, err)
	require.Contains(t, string(data), `"id":"bad-1"`)
	require.Contains(t, string(data), `unknown outcome`)
}

// setConnections switches connections to the test database on or off, and
// when off closes the ones that exist: the database is "down".
func setConnections(t *testing.T, dbURL string, allow bool) {
	t.Helper()
	admin, err := sqlx.Connect("postgres", pgtest.AdminURL(t))
	require.NoError(t, err)
	defer admin.Close()
	name := pgtest.DatabaseName(dbURL)
	_, err = admin.Exec(fmt.Sprintf("ALTER DATABASE %s ALLOW_CONNECTIONS %t", pq.QuoteIdentifier(name), allow))
	require.NoError(t, err)
	if !allow {
		_, err = admin.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)
		require.NoError(t, err)
	}
}

func TestRecorderSpoolsWhileDatabaseDownAndReplays(t *testing.T) {
	t.Parallel()
	db, dbURL := migratedDB(t)
	ctx := testCtx(t)
	// The recorder gets its own pool, as in production.
	rdb, err := sqlx.Connect("postgres", dbURL)
	require.NoError(t, err)
	defer rdb.Close()
	spoolPath := filepath.Join(t.TempDir(), "spool.jsonl")
	obs := &fakeObserver{}
	r, err := NewRecorder(rdb, RecorderOptions{SpoolPath: spoolPath, RetryInterval: 50 * time.Millisecond,
		WriteTimeout: 2 * time.Second, Observer: obs})
	require.NoError(t, err)

	r.Submit(sampleCall("before"))
	require.Eventually(t, func() bool {
		return countRows(t, db, "SELECT count(*) FROM calls WHERE id = 'before'") == 1
	}, 10*time.Second, 10*time.Millisecond)

	setConnections(t, dbURL, false)
	restored := false
	t.Cleanup(func() {
		if !restored {
			setConnections(t, dbURL, true)
		}
	})

	ids := []string{"down-1", "down-2", "down-3", "down-4"}
	for _, id := range ids {
		r.Submit(sampleCall(id))
	}
	r.Submit(voicemailCall("down-vm"))
	r.Submit(sampleCall("before")) // a duplicate of a stored call: must not be stored twice
	require.Eventually(t, func() bool { return r.Spooled() == 6 }, 10*time.Second, 10*time.Millisecond)
	require.Positive(t, obs.errors(), "database errors are reported")

	// The spool is on disk, one JSON record per line.
	data, err := os.ReadFile(spoolPath)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	require.Len(t, lines, 6)
	var first CallRecord
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &first))
	require.Equal(t, "down-1", first.ID)
	require.Len(t, first.Legs, 2)

	setConnections(t, dbURL, true)
	restored = true
	require.Eventually(t, func() bool { return r.Spooled() == 0 }, 20*time.Second, 20*time.Millisecond)
	require.NoError(t, r.Close(ctx))

	for _, id := range append(ids, "before") {
		require.Equal(t, 1, countRows(t, db, "SELECT count(*) FROM calls WHERE id = $1", id), id)
		require.Equal(t, 2, countRows(t, db, "SELECT count(*) FROM call_legs WHERE call_id = $1", id), id)
		require.Equal(t, 1, countRows(t, db, "SELECT count(*) FROM ratings WHERE call_id = $1", id), id)
	}
	require.Equal(t, 1, countRows(t, db, "SELECT count(*) FROM voicemails WHERE call_id = 'down-vm'"))
	require.Equal(t, 6, countRows(t, db, "SELECT count(*) FROM calls"))
	info, err := os.Stat(spoolPath)
	require.NoError(t, err)
	require.Zero(t, info.Size(), "spool truncated after the replay")
	require.GreaterOrEqual(t, obs.maxSpooled(), 6)
}

func TestRecorderReplaysSpoolOfEarlierRun(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	dir := t.TempDir()
	spoolPath := filepath.Join(dir, "spool.jsonl")

	stored := sampleCall("already-stored")
	_, err := WriteCall(ctx, db, &stored)
	require.NoError(t, err)

	var buf strings.Builder
	for _, rec := range []CallRecord{sampleCall("spooled-1"), stored, voicemailCall("spooled-2")} {
		line, err := json.Marshal(rec)
		require.NoError(t, err)
		buf.Write(line)
		buf.WriteByte('\n')
	}
	buf.WriteString(`{"id":"torn","node":"no`) // a crash in the middle of an append
	require.NoError(t, os.WriteFile(spoolPath, []byte(buf.String()), 0o600))

	r, err := NewRecorder(db, RecorderOptions{SpoolPath: spoolPath, RetryInterval: 20 * time.Millisecond})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return r.Spooled() == 0 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, r.Close(ctx))

	require.Equal(t, 3, countRows(t, db, "SELECT count(*) FROM calls"))
	require.Equal(t, 1, countRows(t, db, "SELECT count(*) FROM calls WHERE id = 'already-stored'"))
	require.Equal(t, 2, countRows(t, db, "SELECT count(*) FROM call_legs WHERE call_id = 'already-stored'"))
	rejected, err := os.ReadFile(spoolPath + ".rejected")
	require.NoError(t, err)
	require.Contains(t, string(rejected), `{"id":"torn","node":"no`)
}

func TestRecorderQueueFullGoesToSpool(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	spoolPath := filepath.Join(t.TempDir(), "spool.jsonl")

	// Hold a lock on calls so the writer blocks on its first insert.
	tx, err := db.BeginTxx(ctx, nil)
	require.NoError(t, err)
	_, err = tx.ExecContext(ctx, "LOCK TABLE calls IN ACCESS EXCLUSIVE MODE")
	require.NoError(t, err)

	r, err := NewRecorder(db, RecorderOptions{SpoolPath: spoolPath, QueueSize: 2,
		RetryInterval: 20 * time.Millisecond, WriteTimeout: 30 * time.Second})
	require.NoError(t, err)
	const n = 10
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			r.Submit(sampleCall(fmt.Sprintf("burst-%02d", i)))
		}
	}()
	select {
	case <-done: // Submit never waited for the locked database
	case <-time.After(20 * time.Second):
		t.Fatal("Submit blocked on a stuck database")
	}
	// In flight: the first record with what was queued behind it when the
	// writer took it (a batch: at most 1 + QueueSize); then two queued.
	require.GreaterOrEqual(t, r.Spooled(), n-5, "at most one batch of three in flight and two queued")

	require.NoError(t, tx.Rollback())
	require.Eventually(t, func() bool {
		return r.Spooled() == 0 && countRows(t, db, "SELECT count(*) FROM calls") == n
	}, 20*time.Second, 20*time.Millisecond)
	require.NoError(t, r.Close(ctx))
	require.Equal(t, n, countRows(t, db, "SELECT count(DISTINCT id) FROM calls"))
}

func TestSpoolIsExclusive(t *testing.T) {
	db, _ := migratedDB(t)
	spoolPath := filepath.Join(t.TempDir(), "spool.jsonl")
	r, err := NewRecorder(db, RecorderOptions{SpoolPath: spoolPath})
	require.NoError(t, err)
	_, err = NewRecorder(db, RecorderOptions{SpoolPath: spoolPath})
	require.ErrorContains(t, err, "in use")
	require.NoError(t, r.Close(testCtx(t)))
	r2, err := NewRecorder(db, RecorderOptions{SpoolPath: spoolPath})
	require.NoError(t, err)
	require.NoError(t, r2.Close(testCtx(t)))
}
