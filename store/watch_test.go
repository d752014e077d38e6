package store

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/store/pgtest"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/stretchr/testify/require"
)

func cafeName(d *dialplan.Directory, code string) string {
	c, ok := d.CafeByCode(code)
	if !ok {
		return ""
	}
	return c.Name
}

func TestWatchDirectoryRefreshesOnAnyChange(t *testing.T) {
	t.Parallel()
	db, url := migratedDB(t)
	importSample(t, db)
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()

	var changes atomic.Int32
	w, err := WatchDirectory(ctx, db, url, func(*dialplan.Directory) { changes.Add(1) },
		WatchOptions{Debounce: 20 * time.Millisecond})
	require.NoError(t, err)
	require.Equal(t, "Net Cỏ Mây", cafeName(w.Current(), "KG001"))
	require.Zero(t, changes.Load(), "onChange is for changes after the first load")

	// A change made by hand in SQL, not by the importer.
	_, err = db.ExecContext(ctx, "UPDATE cafes SET name = 'Net Cỏ Mây 2' WHERE code = 'KG001'")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return cafeName(w.Current(), "KG001") == "Net Cỏ Mây 2" },
		10*time.Second, 10*time.Millisecond)
	// onChange runs just after the new directory is swapped in.
	require.Eventually(t, func() bool { return changes.Load() > 0 }, 10*time.Second, time.Millisecond, "onChange called")

	// An import.
	_, err = Import(ctx, db, []ImportFile{{Name: "cafes.csv", Reader: strings.NewReader(
		cafesHeader + "NEW1,Net Mới,0945550990,Cà Mau,,\n")}}, ImportOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return cafeName(w.Current(), "NEW1") == "Net Mới" },
		10*time.Second, 10*time.Millisecond)

	// A phone added to a café table directly.
	_, err = db.ExecContext(ctx, "INSERT INTO cafe_phones (e164, cafe_code, seq) VALUES ('+84945550991', 'NEW1', 2)")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		c, ok := w.Current().CafeByPhone("+84945550991")
		return ok && c.Code == "NEW1"
	}, 10*time.Second, 10*time.Millisecond)

	cancel()
	w.Wait()
}

func TestWatchDirectoryReconnects(t *testing.T) {
	t.Parallel()
	db, url := migratedDB(t)
	importSample(t, db)
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	w, err := WatchDirectory(ctx, db, url, nil, WatchOptions{Debounce: 20 * time.Millisecond})
	require.NoError(t, err)
	before := w.Reloads()

	// Kill every connection to the test database, the listener's included.
	admin, err := sqlx.Connect("postgres", pgtest.AdminURL(t))
	require.NoError(t, err)
	defer admin.Close()
	_, err = admin.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
		pgtest.DatabaseName(url))
	require.NoError(t, err)

	// The reconnect itself triggers a reload (changes may have been missed)...
	require.Eventually(t, func() bool { return w.Reloads() > before }, 20*time.Second, 20*time.Millisecond)
	// ...and changes are seen again.
	require.Eventually(t, func() bool {
		_, err := db.ExecContext(ctx, "UPDATE cafes SET name = 'after reconnect' WHERE code = 'HN001'")
		return err == nil
	}, 10*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool { return cafeName(w.Current(), "HN001") == "after reconnect" },
		20*time.Second, 20*time.Millisecond)
	cancel()
	w.Wait()
}

func TestWatcherCoalescesBursts(t *testing.T) {
	release := make(chan struct{})
	var loads atomic.Int32
	dir, err := dialplan.NewDirectory(dialplan.DirectoryData{})
	require.NoError(t, err)
	w := newWatcher(WatchOptions{Debounce: 200 * time.Millisecond, Resync: -1}, nil,
		func(ctx context.Context) (*dialplan.Directory, error) {
			if loads.Add(1) == 1 {
				<-release // the first reload is slow
			}
			return dir, nil
		})
	notify := make(chan *pq.Notification, 64)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.run(ctx, notify)
	}()

	notify <- &pq.Notification{Channel: DirectoryChannel}
	require.Eventually(t, func() bool { return loads.Load() == 1 }, 10*time.Second, time.Millisecond)
	// A burst arrives while the first reload runs: it must cost one reload, not 30.
	for range 30 {
		notify <- &pq.Notification{Channel: DirectoryChannel}
	}
	close(release)
	require.Eventually(t, func() bool { return loads.Load() == 2 }, 10*time.Second, time.Millisecond)
	notify <- &pq.Notification{Channel: DirectoryChannel}
	require.Eventually(t, func() bool { return loads.Load() == 3 }, 10*time.Second, time.Millisecond)
	require.Equal(t, int32(3), loads.Load())
	require.Same(t, dir, w.Current())
	cancel()
	wg.Wait()
}

func TestWatcherKeepsSnapshotWhenReloadFails(t *testing.T) {
	good, err := dialplan.NewDirectory(dialplan.DirectoryData{})
	require.NoError(t, err)
	var fail atomic.Bool
	var errs atomic.Int32
	w := newWatcher(WatchOptions{Debounce: time.Millisecond, Resync: -1, OnError: func(error) { errs.Add(1) }}, nil,
		func(ctx context.Context) (*dialplan.Directory, error) {
			if fail.Load() {
				return nil, context.DeadlineExceeded
			}
			return good, nil
		})
	w.cur.Store(good)
	fail.Store(true)
	notify := make(chan *pq.Notification, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.run(ctx, notify) }()
	notify <- nil // a reconnect
	require.Eventually(t, func() bool { return errs.Load() >= 1 }, 10*time.Second, time.Millisecond)
	require.Same(t, good, w.Current())
	fail.Store(false)
	// Retried after a delay without any new notification.
	require.Eventually(t, func() bool { return w.Reloads() >= 1 }, 10*time.Second, 10*time.Millisecond)
	cancel()
	<-done
}

func TestWatchDirectoryFailsWithoutDatabase(t *testing.T) {
	t.Parallel()
	db, url := pgtest.Open(t) // not migrated: the first load fails
	_, err := WatchDirectory(testCtx(t), db, url, nil, WatchOptions{})
	require.Error(t, err)
	require.ErrorContains(t, err, "load directory")
}
