package store

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReserveExactlyOneWinner(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	s := New(db)
	const rounds = 1000
	for i := range rounds {
		calls := [2]string{fmt.Sprintf("call-a-%d", i), fmt.Sprintf("call-b-%d", i)}
		var won [2]bool
		var errs [2]error
		var wg sync.WaitGroup
		start := make(chan struct{})
		for j := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				won[j], errs[j] = s.Reserve(ctx, "KTV1", calls[j], fmt.Sprintf("node-%d", j), time.Minute)
			}()
		}
		close(start)
		wg.Wait()
		require.NoError(t, errs[0])
		require.NoError(t, errs[1])
		require.True(t, won[0] != won[1], "round %d: exactly one winner, got %v", i, won)
		winner := 0
		if won[1] {
			winner = 1
		}
		require.NoError(t, s.Release(ctx, "KTV1", calls[winner]))
	}
}

func TestReserveIdempotentAndRelease(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	s := New(db)

	ok, err := s.Reserve(ctx, "KTV1", "c1", "n1", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	// Same call, same instance: idempotent.
	ok, err = s.Reserve(ctx, "KTV1", "c1", "n1", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	// Another call, even of the same instance: busy.
	ok, err = s.Reserve(ctx, "KTV1", "c2", "n1", time.Minute)
	require.NoError(t, err)
	require.False(t, ok)
	// Same call id from another instance: busy too.
	ok, err = s.Reserve(ctx, "KTV1", "c1", "n2", time.Minute)
	require.NoError(t, err)
	require.False(t, ok)
	// Another person is free.
	ok, err = s.Reserve(ctx, "KTV2", "c2", "n1", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)

	list, err := s.Reservations(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)

	// Releasing with the wrong call does nothing.
	require.NoError(t, s.Release(ctx, "KTV1", "c2"))
	ok, err = s.Reserve(ctx, "KTV1", "c3", "n2", time.Minute)
	require.NoError(t, err)
	require.False(t, ok)

	require.NoError(t, s.Release(ctx, "KTV1", "c1"))
	ok, err = s.Reserve(ctx, "KTV1", "c3", "n2", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)

	require.NoError(t, s.ReleaseCall(ctx, "c2"))
	n, err := s.ReleaseInstance(ctx, "n2")
	require.NoError(t, err)
	require.Equal(t, 1, n)
	list, err = s.Reservations(ctx)
	require.NoError(t, err)
	require.Empty(t, list)
}

func TestLeaseExpiryLetsAnotherInstanceTakeOver(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	s := New(db)

	ok, err := s.Reserve(ctx, "KTV1", "c1", "dead-node", 20*time.Millisecond)
	require.NoError(t, err)
	require.True(t, ok)
	// The dead node never heartbeats; once the lease is over the person is free.
	require.Eventually(t, func() bool {
		ok, err := s.Reserve(ctx, "KTV1", "c2", "live-node", time.Minute)
		require.NoError(t, err)
		return ok
	}, 10*time.Second, 10*time.Millisecond)

	// The dead node coming back cannot revive its expired lease by heartbeat...
	n, err := s.ExtendLeases(ctx, "dead-node", time.Minute)
	require.NoError(t, err)
	require.Zero(t, n)
	// ...nor take the person back.
	ok, err = s.Reserve(ctx, "KTV1", "c1", "dead-node", time.Minute)
	require.NoError(t, err)
	require.False(t, ok)
}

func TestHeartbeatKeepsLiveReservations(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	s := New(db)

	// Long enough not to run out before the heartbeat, however slow the
	// machine: an expired lease cannot be extended.
	const lease = time.Minute
	ok, err := s.Reserve(ctx, "KTV1", "c1", "n1", lease)
	require.NoError(t, err)
	require.True(t, ok)
	var first time.Time
	require.NoError(t, db.GetContext(ctx, &first, "SELECT expires_at FROM reservations WHERE staff_code = 'KTV1'"))

	n, err := s.ExtendLeases(ctx, "n1", time.Hour)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	var later time.Time
	require.NoError(t, db.GetContext(ctx, &later, "SELECT expires_at FROM reservations WHERE staff_code = 'KTV1'"))
	require.True(t, later.After(first.Add(30*time.Minute)), "lease extended: %v -> %v", first, later)

	// Another instance's heartbeat does not touch it.
	n, err = s.ExtendLeases(ctx, "n2", time.Hour)
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestReserveRejectsBadArguments(t *testing.T) {
	s := New(nil)
	ctx := testCtx(t)
	_, err := s.Reserve(ctx, "", "c", "n", time.Second)
	require.Error(t, err)
	_, err = s.Reserve(ctx, "s", "c", "n", 0)
	require.Error(t, err)
}
