package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx", for the rolled-back write

	"github.com/ossgate/ossgate/store"
)

// checkDatabase opens the database as the server does (store.Open, which
// brings the schema up to date), pings it, and writes and reads back one
// record in a transaction that is rolled back.
func (d *doctor) checkDatabase(ctx context.Context) []finding {
	const check = "database"
	dsn := d.cfg.DB
	backend := store.Backend(dsn)
	shown := redactURL(dsn)
	if backend == "sqlite" && !strings.HasPrefix(dsn, "file:") && !strings.Contains(dsn, ":memory:") {
		if _, err := os.Stat(dsn); errors.Is(err, fs.ErrNotExist) {
			dir := filepath.Dir(dsn)
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				return []finding{failed(check, fmt.Sprintf("SQLite file %s does not exist and its folder %s is missing", dsn, dir), "create the folder (the server creates the file), or fix OSSGATE_DB")}
			}
			// Opening it would create it: leave that to the server.
			return []finding{warned(check, fmt.Sprintf("SQLite file %s does not exist yet: the server creates it at start", dsn), "")}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		return []finding{failed(check, backend+" "+shown+": "+err.Error(), "check OSSGATE_DB: the server opens it the same way and exits if it cannot")}
	}
	defer s.Close()
	if err := s.Ping(ctx); err != nil {
		return []finding{failed(check, backend+" "+shown+" does not answer: "+err.Error(), "check that the database is up and reachable from this host")}
	}
	if err := rolledBackWrite(ctx, backend, dsn); err != nil {
		return []finding{failed(check, backend+" "+shown+": a write and read of a record (rolled back) failed: "+err.Error(),
			"give ossgate's database user INSERT and SELECT on uploads")}
	}
	return []finding{passed(check, "%s %s: reachable, migrations current, a record written and read back in a transaction, rolled back", backend, shown)}
}

// rolledBackWrite inserts a record with the server's columns and reads it
// back, in a transaction that is then rolled back: the grants and the
// schema are those the server writes with.
func rolledBackWrite(ctx context.Context, backend, dsn string) error {
	driver, conn := "sqlite", sqliteConn(dsn)
	insert := `INSERT INTO uploads (id, user_id, bucket, object_key, size, content_type, etag, filename, vars, created_at)
		VALUES (?, ?, ?, ?, 1, 'text/plain', 'D41D8CD98F00B204E9800998ECF8427E', 'probe.txt', '{}', ?)`
	read := `SELECT object_key FROM uploads WHERE id = ?`
	created := any(time.Now().UnixMicro())
	if backend == "postgres" {
		driver, conn = "pgx", dsn
		insert = `INSERT INTO uploads (id, user_id, bucket, object_key, size, content_type, etag, filename, vars, created_at)
		VALUES ($1, $2, $3, $4, 1, 'text/plain', 'D41D8CD98F00B204E9800998ECF8427E', 'probe.txt', '{}', $5)`
		read = `SELECT object_key FROM uploads WHERE id = $1`
		created = time.Now()
	}
	db, err := sql.Open(driver, conn)
	if err != nil {
		return err
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // the point: nothing is kept
	id, key := "doctor-"+randomHex(8), "ossgate-doctor-probe/"+randomHex(8)
	if _, err := tx.ExecContext(ctx, insert, id, "ossgate-doctor", "ossgate-doctor-probe", key, created); err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	var got string
	if err := tx.QueryRowContext(ctx, read, id).Scan(&got); err != nil {
		return fmt.Errorf("read back: %w", err)
	}
	if got != key {
		return fmt.Errorf("read back %q, wrote %q", got, key)
	}
	return tx.Rollback()
}

// sqliteConn waits for the server's locks instead of failing at once.
func sqliteConn(dsn string) string {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	if !strings.HasPrefix(dsn, "file:") {
		dsn = "file:" + dsn
	}
	return dsn + sep + "_pragma=busy_timeout(5000)"
}
