package store

import (
	"context"
	"testing"

	"github.com/ossgate/ossgate/internal/pgtest"
)

// postgresTestURL is the server the Postgres tests use; they skip without it.
func postgresTestURL(t testing.TB) string { return pgtest.URL(t) }

// freshSchema is an empty schema of this test's own (internal/pgtest).
func freshSchema(t testing.TB) string { return pgtest.SchemaURL(t, "ossgate_test") }

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
