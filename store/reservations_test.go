package store

import (
	"context"
	"fmt"
	"reflect"
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
	n, err := s.ExtendLeases(ctx, "dead-node", []string{"c1"}, time.Minute)
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

	n, err := s.ExtendLeases(ctx, "n1", []string{"c1"}, time.Hour)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	var later time.Time
	require.NoError(t, db.GetContext(ctx, &later, "SELECT expires_at FROM reservations WHERE staff_code = 'KTV1'"))
	require.True(t, later.After(first.Add(30*time.Minute)), "lease extended: %v -> %v", first, later)

	// Another instance's heartbeat does not touch it.
	n, err = s.ExtendLeases(ctx, "n2", []string{"c1"}, time.Hour)
	require.NoError(t, err)
	require.Zero(t, n)
}

// Only the reservations of the calls named (those still in progress) are
// renewed: a row left by a call whose release failed expires.
func TestExtendLeasesRenewsOnlyLiveCalls(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	s := New(db)

	for staff, call := range map[string]string{"KTV1": "live", "KTV2": "dead"} {
		ok, err := s.Reserve(ctx, staff, call, "n1", 300*time.Millisecond)
		require.NoError(t, err)
		require.True(t, ok)
	}
	n, err := s.ExtendLeases(ctx, "n1", []string{"live", "gone-already"}, time.Hour)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	n, err = s.ExtendLeases(ctx, "n1", nil, time.Hour)
	require.NoError(t, err)
	require.Zero(t, n)
	require.Eventually(t, func() bool {
		list, err := s.Reservations(ctx)
		require.NoError(t, err)
		return len(list) == 1 && list[0].Staff == "KTV1"
	}, 10*time.Second, 20*time.Millisecond, "the dead call's row expires, the live one stays")
}

func TestHeartbeatRenewsWhatLiveSays(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	s := New(db)
	for staff, call := range map[string]string{"KTV1": "live", "KTV2": "dead"} {
		ok, err := s.Reserve(ctx, staff, call, "n1", 300*time.Millisecond)
		require.NoError(t, err)
		require.True(t, ok)
	}
	hctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Heartbeat(hctx, "n1", func() []string { return []string{"live"} }, 300*time.Millisecond, 50*time.Millisecond)
	}()
	time.Sleep(time.Second)
	list, err := s.Reservations(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "live", list[0].CallID)
	cancel()
	<-done
}

func TestRungTimesShared(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	a, b := New(db), New(db) // two instances

	times, err := b.RungTimes(ctx)
	require.NoError(t, err)
	require.Empty(t, times)
	require.NoError(t, a.MarkRung(ctx, "KTV1"))
	require.NoError(t, a.MarkRung(ctx, "KTV2"))
	times, err = b.RungTimes(ctx)
	require.NoError(t, err)
	require.Len(t, times, 2)
	require.True(t, times["KTV1"].Before(times["KTV2"]), "%v", times)
	first := times["KTV1"]
	require.NoError(t, b.MarkRung(ctx, "KTV1"))
	times, err = a.RungTimes(ctx)
	require.NoError(t, err)
	require.True(t, times["KTV1"].After(first))
	require.True(t, times["KTV1"].After(times["KTV2"]), "KTV2 is now the least recently rung")
}

// With a rotation cache, RungTimes answers from one read for up to its
// age (what another instance rang meanwhile shows after that), and many
// callers at once share one read.
func TestRungTimesCache(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	writer := New(db)
	require.NoError(t, writer.MarkRung(ctx, "KTV1"))

	cached := New(db, WithRotationCache(time.Hour))
	times, err := cached.RungTimes(ctx)
	require.NoError(t, err)
	require.Len(t, times, 1)
	require.NoError(t, writer.MarkRung(ctx, "KTV2"))
	times, err = cached.RungTimes(ctx)
	require.NoError(t, err)
	require.Len(t, times, 1, "within the cache's age: the read made before KTV2 was rung")

	fresh := New(db, WithRotationCache(time.Nanosecond))
	times, err = fresh.RungTimes(ctx)
	require.NoError(t, err)
	require.Len(t, times, 2)
	require.NoError(t, writer.MarkRung(ctx, "KTV3"))
	times, err = fresh.RungTimes(ctx)
	require.NoError(t, err)
	require.Len(t, times, 3, "past the cache's age: read again")

	// Many callers at once, one read: every answer is the same map.
	shared := New(db, WithRotationCache(time.Hour))
	got := make(chan map[string]time.Time, 20)
	for range 20 {
		go func() {
			times, err := shared.RungTimes(ctx)
			if err != nil {
				t.Error(err)
			}
			got <- times
		}()
	}
	first := <-got
	for range 19 {
		require.True(t, reflect.ValueOf(first).UnsafePointer() == reflect.ValueOf(<-got).UnsafePointer(),
			"one read shared by the callers")
	}

	// A caller that stops waiting gets its context's error, not the others'.
	slow := New(db, WithRotationCache(time.Hour))
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = slow.RungTimes(cctx)
	require.ErrorIs(t, err, context.Canceled)
	times, err = slow.RungTimes(ctx)
	require.NoError(t, err)
	require.Len(t, times, 3)
}

func TestReserveRejectsBadArguments(t *testing.T) {
	s := New(nil)
	ctx := testCtx(t)
	_, err := s.Reserve(ctx, "", "c", "n", time.Second)
	require.Error(t, err)
	_, err = s.Reserve(ctx, "s", "c", "n", 0)
	require.Error(t, err)
}
