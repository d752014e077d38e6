package pgtest_test

import (
	"context"
	"testing"

	"github.com/csm-vn/hotline/store/pgtest"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"
)

func TestNewGivesFreshDroppedDatabase(t *testing.T) {
	admin, err := sqlx.Connect("postgres", pgtest.AdminURL(t))
	require.NoError(t, err)
	defer admin.Close()

	var name string
	t.Run("inner", func(t *testing.T) {
		db, url := pgtest.Open(t)
		name = pgtest.DatabaseName(url)
		require.NotEmpty(t, name)
		var cur string
		require.NoError(t, db.GetContext(context.Background(), &cur, "SELECT current_database()"))
		require.Equal(t, name, cur)
		var tables int
		require.NoError(t, db.GetContext(context.Background(), &tables,
			"SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"))
		require.Zero(t, tables)
	})
	var n int
	require.NoError(t, admin.Get(&n, "SELECT count(*) FROM pg_database WHERE datname = $1", name))
	require.Zero(t, n, "database %s should be dropped after the test", name)
}

func TestTwoDatabasesDiffer(t *testing.T) {
	a := pgtest.New(t)
	b := pgtest.New(t)
	require.NotEqual(t, pgtest.DatabaseName(a), pgtest.DatabaseName(b))
}
