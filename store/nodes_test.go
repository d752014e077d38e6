package store

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Serving a node is exclusive: of two instances claiming one node at once
// exactly one wins, the loser learns who holds it, the holder renews, a
// release frees the node at once, an expired lease is taken over, and a
// restart of the same instance takes its node back at once.
func TestClaimNode(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	s := New(db)

	for i := range 200 {
		key := fmt.Sprintf("hotline@02:00:00:00:00:%02x", i%256)
		var won [2]bool
		var holders [2]NodeOwner
		var errs [2]error
		var wg sync.WaitGroup
		start := make(chan struct{})
		for j := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				won[j], holders[j], errs[j] = s.ClaimNode(ctx, key, fmt.Sprintf("node-%d", j), fmt.Sprintf("serve-%d", j), time.Minute)
			}()
		}
		close(start)
		wg.Wait()
		require.NoError(t, errs[0])
		require.NoError(t, errs[1])
		require.True(t, won[0] != won[1], "round %d: exactly one owner, got %v", i, won)
		w, l := 0, 1
		if won[1] {
			w, l = 1, 0
		}
		require.Equal(t, fmt.Sprintf("serve-%d", w), holders[l].Instance, "the loser is told who holds the node")
		require.Equal(t, fmt.Sprintf("node-%d", w), holders[l].Node)
		require.NoError(t, s.ReleaseNode(ctx, key, fmt.Sprintf("serve-%d", w)))
	}

	const key = "hotline@02:fc:00:00:00:01"
	ok, _, err := s.ClaimNode(ctx, key, "a", "serve-1", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	ok, holder, err := s.ClaimNode(ctx, key, "other-name", "serve-2", time.Minute)
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, "serve-1", holder.Instance)
	require.Equal(t, "a", holder.Node)
	// A renewal, and a restart of the same instance, keep it.
	ok, _, err = s.ClaimNode(ctx, key, "a", "serve-1", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	// Releasing what another instance holds does nothing.
	require.NoError(t, s.ReleaseNode(ctx, key, "serve-2"))
	owners, err := s.NodeOwners(ctx)
	require.NoError(t, err)
	require.Len(t, owners, 1)
	require.Equal(t, "serve-1", owners[0].Instance)
	// A clean stop frees it at once.
	require.NoError(t, s.ReleaseNode(ctx, key, "serve-1"))
	ok, _, err = s.ClaimNode(ctx, key, "b", "serve-2", time.Millisecond)
	require.NoError(t, err)
	require.True(t, ok)
	// An expired lease (its instance died) is taken over.
	require.Eventually(t, func() bool {
		ok, _, err := s.ClaimNode(ctx, key, "a", "serve-1", time.Minute)
		require.NoError(t, err)
		return ok
	}, 10*time.Second, 5*time.Millisecond)
	owners, err = s.NodeOwners(ctx)
	require.NoError(t, err)
	require.Equal(t, "serve-1", owners[0].Instance)
}
