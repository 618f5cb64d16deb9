// Package pgtest gives tests a database of their own on the PostgreSQL that
// `make test` starts (testenv/postgres/up.sh, through with-cluster.sh).
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// AdminEnv names the PostgreSQL the tests run against: a URL of a user that
// may create databases, such as
// postgres://postgres@127.0.0.1:25432/postgres?sslmode=disable.
// testenv/kube/with-cluster.sh sets it after starting a throwaway cluster.
const AdminEnv = "VIGIL_TEST_POSTGRES"

// FreshDatabase creates an empty database for t, dropped (connections and
// all) when t ends, and returns its URL. It skips t if AdminEnv is unset.
func FreshDatabase(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(AdminEnv)
	if admin == "" {
		t.Skipf("%s is not set; run through testenv/kube/with-cluster.sh, or set it to the URL of a PostgreSQL user "+
			"that may create databases, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", AdminEnv)
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", AdminEnv, err)
	}
	name := "vigil_test_" + strings.ToLower(rand.Text()[:12])
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		db.Close()
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		defer db.Close()
		// t.Context() has ended by now.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
