package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"
)

// WriteCalls stores a batch as WriteCall stores each record: new calls with
// their legs, ratings and voicemails; a call already stored, or repeated in
// the batch, once.
func TestWriteCallsBatch(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	old := sampleCall("batch-old")
	_, err := WriteCall(ctx, db, &old)
	require.NoError(t, err)

	var recs []*CallRecord
	for i := range 40 {
		var r CallRecord
		if i%2 == 0 {
			r = sampleCall(fmt.Sprintf("batch-%02d", i))
		} else {
			r = voicemailCall(fmt.Sprintf("batch-%02d", i))
		}
		recs = append(recs, &r)
	}
	again := sampleCall("batch-00")
	recs = append(recs, &old, &again)
	ins, err := WriteCalls(ctx, db, recs)
	require.NoError(t, err)
	for i := range 40 {
		require.True(t, ins[i], "record %d is new", i)
	}
	require.False(t, ins[40], "already stored")
	require.False(t, ins[41], "repeated in the batch")
	require.Equal(t, 41, countRows(t, db, "SELECT count(*) FROM calls"))
	require.Equal(t, 2+20*2+20, countRows(t, db, "SELECT count(*) FROM call_legs"))
	require.Equal(t, 1+20, countRows(t, db, "SELECT count(*) FROM ratings"))
	require.Equal(t, 20, countRows(t, db, "SELECT count(*) FROM voicemails"))
	require.Equal(t, 1, countRows(t, db,
		"SELECT count(*) FROM call_legs WHERE call_id = 'batch-02' AND seq = 2 AND result = 'answered' AND hangup_cause = 16"))
	require.Equal(t, 1, countRows(t, db,
		"SELECT count(DISTINCT xmin::text) FROM calls WHERE id LIKE 'batch-__'"), "one transaction")

	ins, err = WriteCalls(ctx, db, recs)
	require.NoError(t, err)
	require.NotContains(t, ins, true, "a second write is a no-op")
	require.Equal(t, 62, countRows(t, db, "SELECT count(*) FROM call_legs"))

	bad := sampleCall("batch-bad")
	bad.EndedAt = bad.StartedAt.Add(-time.Second)
	_, err = WriteCalls(ctx, db, []*CallRecord{recs[0], &bad})
	require.ErrorContains(t, err, "batch-bad")
	require.True(t, permanent(err))
}

// holdWriter locks the calls table and submits one record, whose write then
// waits for release: records submitted meanwhile queue up behind it.
func holdWriter(t *testing.T, db *sqlx.DB, r *Recorder) (release func()) {
	t.Helper()
	ctx := testCtx(t)
	tx, err := db.BeginTxx(ctx, nil)
	require.NoError(t, err)
	_, err = tx.ExecContext(ctx, "LOCK TABLE calls IN ACCESS EXCLUSIVE MODE")
	require.NoError(t, err)
	r.Submit(sampleCall("first"))
	require.Eventually(t, func() bool {
		var n int
		err := db.GetContext(ctx, &n, "SELECT count(*) FROM pg_locks WHERE relation = 'calls'::regclass AND NOT granted")
		return err == nil && n > 0
	}, 20*time.Second, 10*time.Millisecond, "the writer waits for the lock")
	return func() { require.NoError(t, tx.Rollback()) }
}

// Records that pile up while a write is slow are written together, in one
// transaction.
func TestRecorderBatchesQueuedRecords(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	r, err := NewRecorder(db, RecorderOptions{SpoolPath: filepath.Join(t.TempDir(), "spool.jsonl"), QueueSize: 100,
		WriteTimeout: 30 * time.Second})
	require.NoError(t, err)
	release := holdWriter(t, db, r)
	for i := range 30 {
		r.Submit(sampleCall(fmt.Sprintf("queued-%02d", i)))
	}
	release()
	require.Eventually(t, func() bool { return countRows(t, db, "SELECT count(*) FROM calls") == 31 },
		20*time.Second, 10*time.Millisecond)
	require.NoError(t, r.Close(ctx))
	require.Equal(t, 62, countRows(t, db, "SELECT count(*) FROM call_legs"))
	require.Equal(t, 1, countRows(t, db, "SELECT count(DISTINCT xmin::text) FROM calls WHERE id LIKE 'queued-%'"),
		"the 30 queued records in one transaction")
}

// A record the database refuses in a batch is set aside alone: the others
// are written.
func TestRecorderBatchWithRefusedRecord(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	spoolPath := filepath.Join(t.TempDir(), "spool.jsonl")
	r, err := NewRecorder(db, RecorderOptions{SpoolPath: spoolPath, QueueSize: 100, WriteTimeout: 30 * time.Second})
	require.NoError(t, err)
	release := holdWriter(t, db, r)
	for i := range 30 {
		rec := sampleCall(fmt.Sprintf("queued-%02d", i))
		if i == 17 {
			rec.Detail = "a NUL \x00 the database refuses" // passes Validate; PostgreSQL refuses it (22021)
		}
		r.Submit(rec)
	}
	release()
	require.Eventually(t, func() bool { return countRows(t, db, "SELECT count(*) FROM calls") == 30 },
		20*time.Second, 10*time.Millisecond)
	require.NoError(t, r.Close(ctx))
	require.Equal(t, 0, countRows(t, db, "SELECT count(*) FROM calls WHERE id = 'queued-17'"))
	require.Equal(t, 58, countRows(t, db, "SELECT count(*) FROM call_legs WHERE call_id LIKE 'queued-%'"))
	rejected, err := os.ReadFile(spoolPath + ".rejected")
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(string(rejected), `"id":"queued-`), "only the refused record is set aside")
	require.Contains(t, string(rejected), "queued-17")
	require.Equal(t, 0, r.Spooled())
}

// A record with a callback request ends its batch: the request sees the
// café's calls recorded before it, never one queued after it, as when
// records are written one by one.
func TestRecorderBatchEndsAtCallbackRequest(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	r, err := NewRecorder(db, RecorderOptions{SpoolPath: filepath.Join(t.TempDir(), "spool.jsonl"), QueueSize: 100,
		WriteTimeout: 30 * time.Second})
	require.NoError(t, err)
	release := holdWriter(t, db, r)
	r.Submit(missedCall("missed", t0))
	// The café called again later: recorded after the missed call.
	again := missedCall("again", t0.Add(time.Minute))
	again.Callback = nil
	r.Submit(again)
	release()
	require.Eventually(t, func() bool { return countRows(t, db, "SELECT count(*) FROM calls") == 3 },
		20*time.Second, 10*time.Millisecond)
	require.NoError(t, r.Close(ctx))
	require.Equal(t, 1, countRows(t, db, "SELECT count(*) FROM callbacks WHERE call_id = 'missed'"),
		"the request is kept: the later call was recorded after it")
}
