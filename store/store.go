// Package store is the hotline's PostgreSQL layer (sqlx + lib/pq): the schema
// and its embedded migrations, the CSV import of the company's directory
// spreadsheets, the directory snapshot handed to dialplan (refreshed through
// LISTEN/NOTIFY), call records with their legs, ratings and voicemails written
// asynchronously with a local spool, and the cross-instance reservations that
// stop two instances ringing the same person at once.
//
// Entry points: Open, Migrate, CheckSchema, Import/ImportPaths, LoadDirectory,
// WatchDirectory, NewRecorder, and New for the Store (reservations, voicemail,
// ratings and refusal queries).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/csm-vn/hotline/store/pgconn"
	_ "github.com/lib/pq" // the postgres driver
)

// ErrNotFound is returned (wrapped) when a looked-up row does not exist.
var ErrNotFound = errors.New("store: not found")

// DirectoryChannel is the LISTEN/NOTIFY channel that triggers on every
// directory table notify when a transaction changing them commits.
const DirectoryChannel = "hotline_directory"

// Pool settings used by Open. Idle connections are kept up to the pool's
// size: under load a smaller idle limit closed connections only to open new
// ones a moment later (a new PostgreSQL backend per open).
const (
	maxOpenConns    = 20
	maxIdleConns    = maxOpenConns
	connMaxLifetime = 30 * time.Minute
	connMaxIdleTime = 5 * time.Minute
)

// Open connects to the database at url (a postgres:// URL or a lib/pq
// key=value string), sets the pool limits and pings it.
func Open(ctx context.Context, url string) (*sqlx.DB, error) {
	db, err := pgconn.Open(url)
	if err != nil {
		return nil, fmt.Errorf("store: open database: %w", err)
	}
	db.SetMaxOpenConns(maxOpenConns)
	db.SetMaxIdleConns(maxIdleConns)
	db.SetConnMaxLifetime(connMaxLifetime)
	db.SetConnMaxIdleTime(connMaxIdleTime)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: connect to database: %w", err)
	}
	return db, nil
}

// Store holds the database handle for the run-time queries: reservations,
// voicemails, ratings and refusals.
type Store struct {
	db  *sqlx.DB
	log *slog.Logger
	// rung caches RungTimes for up to rotationMaxAge (WithRotationCache).
	rotationMaxAge time.Duration
	rung           rungCache
}

// Option configures a Store.
type Option func(*Store)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(s *Store) {
		if l != nil {
			s.log = l
		}
	}
}

// WithRotationCache lets RungTimes answer from a copy of the table at most
// maxAge old, read once for all the calls that ask meanwhile, instead of
// reading the whole table for every call (0, the default: always read).
// Who rang whom last is then known to this instance up to maxAge late —
// the reservations, not this order, stop two calls ringing one person.
func WithRotationCache(maxAge time.Duration) Option {
	return func(s *Store) { s.rotationMaxAge = maxAge }
}

// New returns a Store on db.
func New(db *sqlx.DB, opts ...Option) *Store {
	s := &Store{db: db, log: discardLogger()}
	for _, o := range opts {
		o(s)
	}
	s.log = s.log.With("component", "store")
	return s
}

// DB returns the underlying handle.
func (s *Store) DB() *sqlx.DB { return s.db }

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// sqlTxReadOnlySnapshot is the options for reads that must see one
// consistent state of several tables.
var sqlTxReadOnlySnapshot = sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
