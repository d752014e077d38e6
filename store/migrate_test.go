package store

import (
	"errors"
	"testing"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/store/pgtest"
	"github.com/stretchr/testify/require"
)

func TestMigrateFromEmptyAndAgain(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.Open(t)
	ctx := testCtx(t)

	v, err := CurrentSchemaVersion(ctx, db)
	require.NoError(t, err)
	require.Zero(t, v)
	require.ErrorIs(t, CheckSchema(ctx, db), ErrSchemaOutdated)

	require.NoError(t, Migrate(ctx, db))
	require.NoError(t, CheckSchema(ctx, db))
	v, err = CurrentSchemaVersion(ctx, db)
	require.NoError(t, err)
	require.Equal(t, SchemaVersion(), v)

	var n int
	require.NoError(t, db.GetContext(ctx, &n, "SELECT count(*) FROM provinces"))
	require.Equal(t, len(dialplan.Provinces()), n)
	var name, area string
	require.NoError(t, db.QueryRowContext(ctx,
		"SELECT name, area_code FROM provinces WHERE code = 'kien-giang'").Scan(&name, &area))
	require.Equal(t, "Kiên Giang", name)
	require.Equal(t, "0297", area)

	// Re-running is a no-op: same version, same provinces, no error.
	require.NoError(t, Migrate(ctx, db))
	require.NoError(t, CheckSchema(ctx, db))
	require.NoError(t, db.GetContext(ctx, &n, "SELECT count(*) FROM provinces"))
	require.Equal(t, len(dialplan.Provinces()), n)

	// A province edited by hand is put back by the next migrate.
	_, err = db.ExecContext(ctx, "UPDATE provinces SET name = 'x' WHERE code = 'kien-giang'")
	require.NoError(t, err)
	require.NoError(t, Migrate(ctx, db))
	require.NoError(t, db.GetContext(ctx, &name, "SELECT name FROM provinces WHERE code = 'kien-giang'"))
	require.Equal(t, "Kiên Giang", name)
}

func TestCheckSchemaOnOldSchema(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.Open(t)
	ctx := testCtx(t)
	require.NoError(t, migrateTo(ctx, db, 2))

	err := CheckSchema(ctx, db)
	require.ErrorIs(t, err, ErrSchemaOutdated)
	require.EqualError(t, err, `database schema is at version 2, this binary needs 10: run "hotline migrate"`)
	var se *SchemaError
	require.ErrorAs(t, err, &se)
	require.Equal(t, int64(2), se.Have)

	require.NoError(t, Migrate(ctx, db))
	require.NoError(t, CheckSchema(ctx, db))
}

func TestCheckSchemaOnNewerSchema(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	_, err := db.ExecContext(ctx,
		"INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, true)", SchemaVersion()+1)
	require.NoError(t, err)
	err = CheckSchema(ctx, db)
	require.True(t, errors.Is(err, ErrSchemaTooNew), "got %v", err)
	require.False(t, errors.Is(err, ErrSchemaOutdated))
	require.Contains(t, err.Error(), "run a newer hotline")
}

// A database migrated before a lower-numbered migration landed (branches
// merged out of number order) is refused by CheckSchema and completed by
// Migrate.
func TestMigrationLandedOutOfOrder(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	// Pretend migration 7 arrived after the database reached the newest:
	// take it down by hand, leaving the rest.
	p, err := newProvider(db)
	require.NoError(t, err)
	var versions []int64 // the embedded migrations from 7 up (numbers may be missing)
	for _, src := range p.ListSources() {
		if src.Version >= 7 {
			versions = append(versions, src.Version)
		}
	}
	for i := len(versions) - 1; i >= 0; i-- {
		_, err := p.ApplyVersion(ctx, versions[i], false)
		require.NoError(t, err)
	}
	for _, v := range versions[1:] {
		_, err := p.ApplyVersion(ctx, v, true)
		require.NoError(t, err)
	}
	err = CheckSchema(ctx, db)
	require.ErrorIs(t, err, ErrSchemaOutdated)
	require.Contains(t, err.Error(), "lacks migration 7")
	require.NoError(t, Migrate(ctx, db))
	require.NoError(t, CheckSchema(ctx, db))
}

func TestSchemaVersionMatchesEmbeddedFiles(t *testing.T) {
	require.Equal(t, int64(10), SchemaVersion(), "update TestCheckSchemaOnOldSchema when adding a migration")
}

func TestCheckConstraintsRejectUnknownVocabulary(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	for _, q := range []string{
		"INSERT INTO staff (code, name, role) VALUES ('X', 'x', 'boss')",
		"INSERT INTO staff (code, name, role, status) VALUES ('X', 'x', 'operator', 'sleeping')",
		"INSERT INTO calls (id, started_at, ended_at, outcome) VALUES ('c', now(), now(), 'lost')",
		"INSERT INTO calls (id, started_at, ended_at, outcome, matched_by) VALUES ('c', now(), now(), 'failed', 'psychic')",
		"INSERT INTO calls (id, started_at, ended_at, outcome, direction) VALUES ('c', now(), now(), 'failed', 'outbound')",
	} {
		_, err := db.ExecContext(ctx, q)
		require.Error(t, err, q)
		require.Contains(t, err.Error(), "check constraint", q)
	}
}
