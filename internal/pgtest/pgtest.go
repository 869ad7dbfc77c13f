// Package pgtest gives a test tables of its own on the PostgreSQL server
// named by OSSGATE_TEST_POSTGRES (store/POSTGRES_TESTING.md says how to
// start a throwaway one). Only tests import it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// URL is OSSGATE_TEST_POSTGRES; without it the test is skipped.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("OSSGATE_TEST_POSTGRES")
	if u == "" {
		t.Skip("OSSGATE_TEST_POSTGRES not set; see store/POSTGRES_TESTING.md")
	}
	return u
}

// SchemaURL creates an empty schema named prefix_<random hex>, dropped when
// t ends, and returns a URL whose connections use it.
func SchemaURL(t testing.TB, prefix string) string {
	t.Helper()
	base := URL(t)
	ctx := context.Background()
	b := make([]byte, 6)
	rand.Read(b)
	schema := prefix + "_" + hex.EncodeToString(b)
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
