package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// postgresTestURL is the server the Postgres tests use; they skip without it.
// POSTGRES_TESTING.md says how to start a throwaway one.
func postgresTestURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("OSSGATE_TEST_POSTGRES")
	if u == "" {
		t.Skip("OSSGATE_TEST_POSTGRES not set; see store/POSTGRES_TESTING.md")
	}
	return u
}

// freshSchema creates an empty schema, dropped when t ends, and returns a
// URL whose connections use it: every test gets tables of its own.
func freshSchema(t testing.TB) string {
	t.Helper()
	base := postgresTestURL(t)
	ctx := context.Background()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "ossgate_test_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to OSSGATE_TEST_POSTGRES: %v", err)
	}
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close(ctx)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("OSSGATE_TEST_POSTGRES is not a URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema) // pgx sends unknown parameters as run-time settings
	u.RawQuery = q.Encode()
	return u.String()
}

func openPostgresTest(t testing.TB) checked[*postgresStore] {
	t.Helper()
	s, err := Open(context.Background(), freshSchema(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ps, ok := s.(checked[*postgresStore])
	if !ok {
		t.Fatalf("Open(postgres URL) = %T, want *postgresStore", s)
	}
	return ps
}

func TestPostgres(t *testing.T) {
	postgresTestURL(t)
	runSuite(t, func(t *testing.T) Store { return openPostgresTest(t) })
}

// TestPostgresConcurrentOpen: instances starting together on an empty
// database all succeed (the advisory lock queues them), the migration is
// recorded once, and reopening changes nothing.
func TestPostgresConcurrentOpen(t *testing.T) {
	ctx := context.Background()
	u := freshSchema(t)
	stores := openConcurrently(t, 8, func() (Store, error) { return OpenPostgres(ctx, u) })
	r := rec("pg-durable", "alice", "k", at(0))
	if _, _, err := stores[0].Insert(ctx, r); err != nil {
		t.Fatal(err)
	}
	stores[0].Close()
	again, err := OpenPostgres(ctx, u)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer again.Close()
	if got, err := again.Get(ctx, "alice", "pg-durable"); err != nil || got.ID != r.ID {
		t.Errorf("Get after reopen = %v, %v", got.ID, err)
	}
	var got string
	err = again.(checked[*postgresStore]).b.pool.QueryRow(ctx,
		`SELECT string_agg(version || ':' || name, ',' ORDER BY version) FROM schema_migrations`).Scan(&got)
	if err != nil {
		t.Fatal(err)
	}
	if want := allMigrations(t, "postgres"); got != want {
		t.Errorf("schema_migrations = %q, want %q", got, want)
	}
}

func BenchmarkInsertPostgres(b *testing.B) {
	s := openPostgresTest(b)
	defer s.Close()
	benchInsert(b, s)
}
