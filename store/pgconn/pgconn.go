// Package pgconn opens the hotline's PostgreSQL handles (serve's, and the
// tests' through pgtest) with lib/pq in one configuration.
package pgconn

import (
	"database/sql"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Open returns a handle (not yet connected) to the database at dsn (a
// postgres:// URL or a lib/pq key=value string).
//
// Unless dsn says otherwise, statements with parameters go to PostgreSQL in
// one round trip (lib/pq's binary_parameters: Parse, Bind, Execute and Sync
// sent together) instead of two (Parse and Describe, then Bind and Execute):
// half the network writes, reads and wake-ups per statement. PostgreSQL
// infers the parameters' types from the statement either way; the only
// difference is that a []byte parameter is sent in binary, and the hotline
// passes none (no bytea or jsonb column).
func Open(dsn string) (*sqlx.DB, error) {
	cfg, err := pq.NewConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("pgconn: %w", err)
	}
	if !strings.Contains(dsn, "binary_parameters") {
		cfg.BinaryParameters = true
	}
	c, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("pgconn: %w", err)
	}
	return sqlx.NewDb(sql.OpenDB(c), "postgres"), nil
}
