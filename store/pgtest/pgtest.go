// Package pgtest gives each test a fresh, empty PostgreSQL database on the
// server named by HOTLINE_TEST_DATABASE_URL, dropped when the test ends, so
// tests and packages can run in parallel against one server.
//
// When HOTLINE_TEST_DATABASE_URL is unset the test is skipped, unless
// HOTLINE_TEST_REQUIRE_DB=1, in which case it fails: the project's test
// command sets both, so CI never skips database tests silently.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/csm-vn/hotline/store/pgconn"
	_ "github.com/lib/pq" // the postgres driver
)

// Environment variables read by New.
const (
	EnvURL     = "HOTLINE_TEST_DATABASE_URL"
	EnvRequire = "HOTLINE_TEST_REQUIRE_DB"
)

// adminTimeout bounds CREATE/DROP DATABASE so a stuck server fails the test
// instead of hanging it.
const adminTimeout = 30 * time.Second

// New creates a fresh database for t and returns its URL. The database is
// dropped (connections forcibly closed) in t.Cleanup.
func New(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("pgtest: %s is not set but %s=1", EnvURL, EnvRequire)
		}
		t.Skipf("pgtest: %s not set; skipping database test", EnvURL)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("pgtest: bad %s: %v", EnvURL, err)
	}
	name := "hotline_test_" + randomHex(8)

	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	admin, err := sqlx.ConnectContext(ctx, "postgres", base)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", redact(u), err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE template0 ENCODING 'UTF8'"); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
		defer cancel()
		admin, err := sqlx.ConnectContext(ctx, "postgres", base)
		if err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer admin.Close()
		// ALLOW_CONNECTIONS may have been switched off by the test itself.
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	v := *u
	v.Path = "/" + name
	return v.String()
}

// Open creates a fresh database like New and returns an open handle to it
// (closed at cleanup) together with its URL.
func Open(t testing.TB) (*sqlx.DB, string) {
	t.Helper()
	dbURL := New(t)
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	db, err := pgconn.Open(dbURL) // as serve opens it (store.Open)
	if err == nil {
		err = db.PingContext(ctx)
	}
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, dbURL
}

// AdminURL returns the server URL from the environment (the maintenance
// database), skipping or failing t like New when it is unset.
func AdminURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("pgtest: %s is not set but %s=1", EnvURL, EnvRequire)
		}
		t.Skipf("pgtest: %s not set; skipping database test", EnvURL)
	}
	return base
}

// DatabaseName returns the database name in a postgres URL ("" if none).
func DatabaseName(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil || len(u.Path) < 2 {
		return ""
	}
	return u.Path[1:]
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("pgtest: crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}

func redact(u *url.URL) string { return u.Redacted() }
