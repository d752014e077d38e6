package store

import (
	"context"
	"testing"
	"time"

	"github.com/csm-vn/hotline/store/pgtest"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"
)

// testCtx is a per-test context bounded so a stuck database fails the test.
func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// migratedDB returns a fresh, migrated database and its URL.
func migratedDB(t testing.TB) (*sqlx.DB, string) {
	t.Helper()
	db, url := pgtest.Open(t)
	require.NoError(t, Migrate(testCtx(t), db))
	return db, url
}
