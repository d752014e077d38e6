package app

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/store"
)

// A restarted instance frees, at start-up, the people its previous run still
// held (issue 10, point 1): the instance identity is stable (host name +
// "/" + app name by default), not the process id. Before: every run had a
// new identity, so the previous run's rows stayed until their lease ended
// (and were renewed meanwhile if anything of that identity still ran).
func TestServeReleasesPredecessorsReservationsAtOnce(t *testing.T) {
	dbURL := sampleDatabase(t)
	ctx := ctxFor(t, 30*time.Second)
	db, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	st := store.New(db)
	host, err := os.Hostname()
	require.NoError(t, err)
	// The previous run of this instance died holding KTV01 for an hour.
	ok, err := st.Reserve(ctx, "KTV01", "01HZX3Q4M8V6W2N9K7T5R1Y0PB", host+"/hotline", time.Hour)
	require.NoError(t, err)
	require.True(t, ok)
	// Another instance's row is not ours to free.
	ok, err = st.Reserve(ctx, "KTV02", "01HZX3Q4M8V6W2N9K7T5R1Y0PC", "other-host/hotline", time.Hour)
	require.NoError(t, err)
	require.True(t, ok)

	ast := aritest.Start(t, aritest.Options{User: "hotline", Password: "s3cret", App: "hotline", Second: time.Second,
		DefaultPhone: aritest.NeverAnswers()})
	startApp(t, dbURL, ast.URL(), time.Second)
	require.Eventually(t, func() bool {
		res, err := st.Reservations(context.Background())
		return err == nil && len(res) == 1 && res[0].Staff == "KTV02"
	}, 5*time.Second, 20*time.Millisecond, "the previous run's reservation is still held")
}
