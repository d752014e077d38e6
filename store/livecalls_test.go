package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The journal of calls in progress: a row per call until its record is
// written (in the same transaction, also when the record was stored
// before), listed per instance.
func TestLiveCallsUntilTheRecordIsWritten(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	s := New(db)
	t0 := time.Date(2026, 3, 11, 10, 0, 0, 0, time.UTC)
	for _, c := range []LiveCall{
		{ID: "c1", Instance: "n1", Run: "r1", ChannelID: "1.1", CallerRaw: "0945551001", StartedAt: t0},
		{ID: "c2", Instance: "n1", Run: "r1", ChannelID: "1.2", StartedAt: t0.Add(time.Second)},
		{ID: "c3", Instance: "n2", Run: "r9", ChannelID: "1.3", StartedAt: t0},
	} {
		require.NoError(t, s.BeginCall(ctx, c))
	}
	require.NoError(t, s.BeginCall(ctx, LiveCall{ID: "c1", Instance: "n1", Run: "r2", StartedAt: t0}), "again: nothing changes")
	require.Error(t, s.BeginCall(ctx, LiveCall{ID: "c4", Instance: "n1"}))

	ids := func(instance string) []string {
		t.Helper()
		calls, err := s.LiveCalls(ctx, instance)
		require.NoError(t, err)
		var out []string
		for _, c := range calls {
			out = append(out, c.ID+"/"+c.Run)
		}
		return out
	}
	require.Equal(t, []string{"c1/r1", "c2/r1"}, ids("n1"))
	require.Equal(t, []string{"c3/r9"}, ids("n2"))

	rec := CallRecord{ID: "c1", ChannelID: "1.1", StartedAt: t0, EndedAt: t0.Add(time.Minute), Outcome: OutcomeAbandoned}
	inserted, err := WriteCall(ctx, db, &rec)
	require.NoError(t, err)
	require.True(t, inserted)
	require.Equal(t, []string{"c2/r1"}, ids("n1"))
	// A record stored before (a replay) still ends the call's row.
	require.NoError(t, s.BeginCall(ctx, LiveCall{ID: "c1", Instance: "n1", Run: "r3", StartedAt: t0}))
	inserted, err = WriteCall(ctx, db, &rec)
	require.NoError(t, err)
	require.False(t, inserted)
	require.Equal(t, []string{"c2/r1"}, ids("n1"))
}
