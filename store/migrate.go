package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// versionTable is goose's bookkeeping table.
const versionTable = "goose_db_version"

// Schema version errors returned (wrapped) by CheckSchema.
var (
	ErrSchemaOutdated = errors.New("database schema is out of date")
	ErrSchemaTooNew   = errors.New("database schema is newer than this binary")
)

// SchemaVersion is the schema version this binary needs: the number of its
// newest embedded migration.
func SchemaVersion() int64 {
	v, err := latestMigration()
	if err != nil {
		panic(err) // the embedded files are fixed at build time; a test covers this
	}
	return v
}

func latestMigration() (int64, error) {
	versions, err := embeddedVersions()
	if err != nil {
		return 0, err
	}
	return versions[len(versions)-1], nil
}

// embeddedVersions lists the numbers of the embedded migrations, in order.
func embeddedVersions() ([]int64, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var versions []int64
	for _, n := range names {
		num, _, ok := strings.Cut(path.Base(n), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("store: migration %s: name must start with a number and _", n)
		}
		versions = append(versions, v)
	}
	if len(versions) == 0 {
		return nil, errors.New("store: no embedded migrations")
	}
	sort.Slice(versions, func(i, j int) bool { return versions[i] < versions[j] })
	return versions, nil
}

func newProvider(db *sqlx.DB) (*goose.Provider, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	// A session-level advisory lock: two instances running migrate at once
	// take turns instead of racing.
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, fmt.Errorf("store: migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db.DB, sub,
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
		// Branches developed side by side land migrations out of number
		// order: a database that already has 8 still gets 7 when it arrives
		// (CheckSchema refuses to serve on a database missing one).
		goose.WithAllowOutofOrder(true),
	)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	return p, nil
}

// Migrate brings the schema up to SchemaVersion, each migration in its own
// transaction, then brings the provinces table in line with
// dialplan.Provinces(). Running it again is a no-op.
func Migrate(ctx context.Context, db *sqlx.DB) error {
	return migrateTo(ctx, db, SchemaVersion())
}

func migrateTo(ctx context.Context, db *sqlx.DB, version int64) error {
	p, err := newProvider(db)
	if err != nil {
		return err
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if err := syncProvinces(ctx, db); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// CurrentSchemaVersion returns the version recorded in the database, 0 for a
// database that was never migrated.
func CurrentSchemaVersion(ctx context.Context, db *sqlx.DB) (int64, error) {
	var exists bool
	if err := db.GetContext(ctx, &exists, "SELECT to_regclass($1) IS NOT NULL", versionTable); err != nil {
		return 0, fmt.Errorf("store: read schema version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var v int64
	if err := db.GetContext(ctx, &v, "SELECT coalesce(max(version_id), 0) FROM "+versionTable); err != nil {
		return 0, fmt.Errorf("store: read schema version: %w", err)
	}
	return v, nil
}

// SchemaError says the database schema is not the version this binary
// needs. errors.Is matches ErrSchemaOutdated or ErrSchemaTooNew.
type SchemaError struct {
	Have, Need int64
	// Missing lists embedded migrations older than Have that the database
	// never applied (it was migrated before they were added).
	Missing []int64
}

// Error tells the operator what to do.
func (e *SchemaError) Error() string {
	if len(e.Missing) > 0 && e.Have <= e.Need {
		return fmt.Sprintf("database schema is at version %d but lacks migration %s: run \"hotline migrate\"",
			e.Have, joinVersions(e.Missing))
	}
	if e.Have < e.Need {
		return fmt.Sprintf("database schema is at version %d, this binary needs %d: run \"hotline migrate\"", e.Have, e.Need)
	}
	return fmt.Sprintf("database schema is at version %d, this binary knows only up to %d: run a newer hotline",
		e.Have, e.Need)
}

// Is makes errors.Is(err, ErrSchemaOutdated / ErrSchemaTooNew) work.
func (e *SchemaError) Is(target error) bool {
	outdated := e.Have < e.Need || (len(e.Missing) > 0 && e.Have <= e.Need)
	return (target == ErrSchemaOutdated && outdated) || (target == ErrSchemaTooNew && e.Have > e.Need)
}

func joinVersions(vs []int64) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = strconv.FormatInt(v, 10)
	}
	return strings.Join(s, ", ")
}

// CheckSchema returns nil when the database schema is exactly the version this
// binary needs, else a *SchemaError (matching ErrSchemaOutdated or
// ErrSchemaTooNew) that tells the operator what to do. It changes nothing.
func CheckSchema(ctx context.Context, db *sqlx.DB) error {
	have, err := CurrentSchemaVersion(ctx, db)
	if err != nil {
		return err
	}
	if need := SchemaVersion(); have != need {
		return &SchemaError{Have: have, Need: need}
	}
	missing, err := missingMigrations(ctx, db)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return &SchemaError{Have: have, Need: have, Missing: missing}
	}
	return nil
}

// missingMigrations lists the embedded migrations the database has not
// applied.
func missingMigrations(ctx context.Context, db *sqlx.DB) ([]int64, error) {
	var applied []int64
	if err := db.SelectContext(ctx, &applied,
		"SELECT DISTINCT version_id FROM "+versionTable+" WHERE is_applied AND version_id > 0"); err != nil {
		return nil, fmt.Errorf("store: read applied migrations: %w", err)
	}
	have := make(map[int64]bool, len(applied))
	for _, v := range applied {
		have[v] = true
	}
	all, err := embeddedVersions()
	if err != nil {
		return nil, err
	}
	var missing []int64
	for _, v := range all {
		if !have[v] {
			missing = append(missing, v)
		}
	}
	return missing, nil
}

// syncProvinces writes dialplan.Provinces() into the provinces table,
// touching only rows that differ (so an unchanged run notifies nobody).
func syncProvinces(ctx context.Context, db *sqlx.DB) error {
	var have []provinceRow
	if err := db.SelectContext(ctx, &have,
		"SELECT code, name, ascii_name, area_code, merged_into FROM provinces"); err != nil {
		return fmt.Errorf("read provinces: %w", err)
	}
	byCode := make(map[string]provinceRow, len(have))
	for _, p := range have {
		byCode[p.Code] = p
	}
	var changed []provinceRow
	for _, p := range dialplan.Provinces() {
		r := provinceRow{Code: p.Code, Name: p.Name, ASCII: p.ASCII, AreaCode: p.AreaCode, MergedInto: p.MergedInto}
		if old, ok := byCode[r.Code]; !ok || old != r {
			changed = append(changed, r)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("seed provinces: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, r := range changed {
		if _, err := tx.NamedExecContext(ctx, `
INSERT INTO provinces (code, name, ascii_name, area_code, merged_into)
VALUES (:code, :name, :ascii_name, :area_code, :merged_into)
ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, ascii_name = EXCLUDED.ascii_name,
	area_code = EXCLUDED.area_code, merged_into = EXCLUDED.merged_into`, r); err != nil {
			return fmt.Errorf("seed province %s: %w", r.Code, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("seed provinces: %w", err)
	}
	return nil
}

type provinceRow struct {
	Code       string `db:"code"`
	Name       string `db:"name"`
	ASCII      string `db:"ascii_name"`
	AreaCode   string `db:"area_code"`
	MergedInto string `db:"merged_into"`
}
