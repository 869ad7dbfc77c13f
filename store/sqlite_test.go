package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func openSQLiteTest(t testing.TB, path string) checked[*sqliteStore] {
	t.Helper()
	s, err := OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatalf("OpenSQLite(%q): %v", path, err)
	}
	return s.(checked[*sqliteStore])
}

// openSQLiteEvents opens a store in a fresh file that writes webhook
// events, and closes it when the test ends.
func openSQLiteEvents(t testing.TB) checked[*sqliteStore] {
	t.Helper()
	s, err := openSQLite(context.Background(), filepath.Join(t.TempDir(), "ossgate.db"), Options{Events: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.(checked[*sqliteStore])
}

func TestSQLite(t *testing.T) {
	runSuite(t, func(t *testing.T) Store {
		return openSQLiteTest(t, filepath.Join(t.TempDir(), "ossgate.db"))
	})
}

func TestSQLiteInMemory(t *testing.T) {
	runSuite(t, func(t *testing.T) Store { return openSQLiteTest(t, ":memory:") })
}

func TestSQLiteReopenDurable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ossgate.db")
	r := rec("durable", "alice", "uploads/durable.jpg", at(0))
	r.Vars = map[string]string{"caption": "kept"}

	s := openSQLiteTest(t, path)
	if _, created, err := s.Insert(ctx, r); err != nil || !created {
		t.Fatalf("Insert: created=%v err=%v", created, err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for i := 1; i <= 2; i++ { // every Open re-runs the migrations: they must be no-ops
		t.Run(fmt.Sprintf("reopen %d", i), func(t *testing.T) {
			s := openSQLiteTest(t, path)
			defer s.Close()
			got, err := s.Get(ctx, "alice", "durable")
			if err != nil {
				t.Fatalf("Get after reopen: %v", err)
			}
			if d := diffRecord(got, wantStored(r)); d != "" {
				t.Errorf("after reopen %s", d)
			}
			if got, want := migrationRows(t, s.b), allMigrations(t, "sqlite"); got != want {
				t.Errorf("schema_migrations = %q, want %q", got, want)
			}
		})
	}
}

func migrationRows(t *testing.T, s *sqliteStore) string {
	t.Helper()
	rows, err := s.read.Query(`SELECT version, name FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d:%s", v, name))
	}
	return strings.Join(out, ",")
}

// TestSQLitePragmas checks what durability and concurrency rest on, on both pools.
func TestSQLitePragmas(t *testing.T) {
	s := openSQLiteTest(t, filepath.Join(t.TempDir(), "ossgate.db"))
	defer s.Close()
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"busy_timeout", "5000"},
		{"foreign_keys", "1"},
		{"wal_autocheckpoint", "4000"},
	}
	for _, tt := range tests {
		for _, pool := range []struct {
			name string
			db   *sql.DB
		}{{"write", s.b.write}, {"read", s.b.read}} {
			t.Run(pool.name+"/"+tt.pragma, func(t *testing.T) {
				if got := queryString(t, pool.db.QueryRow("PRAGMA "+tt.pragma).Scan); got != tt.want {
					t.Errorf("PRAGMA %s = %q, want %q", tt.pragma, got, tt.want)
				}
			})
		}
	}
	t.Run("read pool is query_only", func(t *testing.T) {
		if _, err := s.b.read.Exec(`DELETE FROM uploads`); err == nil {
			t.Error("DELETE on the read pool succeeded, want an error")
		}
	})
	t.Run("list uses the index", func(t *testing.T) {
		got := sqlitePlan(t, s.b.read, `SELECT `+recordColumns+` FROM uploads
			WHERE user_id = ? AND (created_at, id) < (?, ?)
			ORDER BY created_at DESC, id DESC LIMIT ?`, "u", 1, "x", 10)
		if !strings.Contains(got, "USING INDEX uploads_user_created (user_id=? AND (created_at,id)<(?,?))") || strings.Contains(got, "TEMP B-TREE") {
			t.Errorf("plan = %q, want a range search of uploads_user_created and no sort", got)
		}
	})
}

func queryString(t *testing.T, scan func(...any) error) string {
	t.Helper()
	var v string
	if err := scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// openConcurrently opens n stores at once, as n instances starting
// together would, and closes them when the test ends.
func openConcurrently(t *testing.T, n int, open func() (Store, error)) []Store {
	t.Helper()
	stores := make([]Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = open()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	return stores
}

// TestSQLiteConcurrentOpen: instances starting together on a new file all
// succeed and the migration is recorded once.
func TestSQLiteConcurrentOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ossgate.db")
	stores := openConcurrently(t, 8, func() (Store, error) { return OpenSQLite(context.Background(), path) })
	if got, want := migrationRows(t, stores[0].(checked[*sqliteStore]).b), allMigrations(t, "sqlite"); got != want {
		t.Errorf("schema_migrations = %q, want %q", got, want)
	}
}

// TestSQLiteTwoStoresOneFile stands in for two processes sharing a file: their
// writers contend on SQLite's lock, which busy_timeout must absorb.
func TestSQLiteTwoStoresOneFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ossgate.db")
	a, b := openSQLiteTest(t, path), openSQLiteTest(t, path)
	defer a.Close()
	defer b.Close()
	var wg sync.WaitGroup
	errc := make(chan error, 400)
	for g := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := Store(a)
			if g%2 == 1 {
				s = b
			}
			for i := range 10 {
				id := fmt.Sprintf("two-%02d-%02d", g, i)
				if _, _, err := s.Insert(ctx, rec(id, "alice", id, at(i))); err != nil {
					errc <- err
				}
				// and the same object from both stores
				if _, _, err := s.Insert(ctx, rec("shared-"+id[len(id)-2:], "alice", "shared"+id[len(id)-2:], at(i))); err != nil {
					errc <- err
				}
				if _, _, err := s.List(ctx, "alice", 5, ""); err != nil {
					errc <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	assertCount(t, a, "alice", 200+10)
}

func TestOpenSQLitePaths(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tests := []struct {
		name     string
		dsn      string
		wantFile string // "" = no file to check
	}{
		{"plain path", filepath.Join(dir, "plain.db"), filepath.Join(dir, "plain.db")},
		{"path with ? # % and space", filepath.Join(dir, "we?ird #1 100%.db"), filepath.Join(dir, "we?ird #1 100%.db")},
		{"file: URI", "file:" + filepath.Join(dir, "uri.db"), filepath.Join(dir, "uri.db")},
		{"file: URI with a parameter", "file:" + filepath.Join(dir, "uriparam.db") + "?cache=private", filepath.Join(dir, "uriparam.db")},
		{"Open routes a path to SQLite", filepath.Join(dir, "routed.db"), filepath.Join(dir, "routed.db")},
		{"in memory", ":memory:", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(ctx, tt.dsn)
			if err != nil {
				t.Fatalf("Open(%q): %v", tt.dsn, err)
			}
			defer s.Close()
			if _, ok := s.(checked[*sqliteStore]); !ok {
				t.Fatalf("Open(%q) = %T, want *sqliteStore", tt.dsn, s)
			}
			if _, created, err := s.Insert(ctx, rec("p", "alice", "k", at(0))); err != nil || !created {
				t.Fatalf("Insert: created=%v err=%v", created, err)
			}
			if tt.wantFile != "" {
				if _, err := os.Stat(tt.wantFile); err != nil {
					t.Errorf("database file: %v", err)
				}
			}
		})
	}
	bad := []struct{ name, dsn string }{
		{"empty", ""},
		{"missing folder", filepath.Join(dir, "no", "such", "dir", "x.db")},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if s, err := Open(ctx, tt.dsn); err == nil {
				s.Close()
				t.Errorf("Open(%q) = nil error, want one", tt.dsn)
			}
		})
	}
}

// BenchmarkInsertSQLite measures durable (synchronous=FULL) inserts of
// distinct records from parallel goroutines.
func BenchmarkInsertSQLite(b *testing.B) {
	s := openSQLiteTest(b, filepath.Join(b.TempDir(), "bench.db"))
	defer s.Close()
	benchInsert(b, s)
}

func benchInsert(b *testing.B, s Store) {
	ctx := context.Background()
	var n atomic.Int64
	now := time.Now()
	b.SetParallelism(8) // 8 goroutines per GOMAXPROCS, like a busy callback endpoint
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			id := fmt.Sprintf("bench-%d-%d", now.UnixNano(), i)
			r := rec(id, fmt.Sprintf("user-%d", i%100), "uploads/"+id, now.Add(time.Duration(i)))
			if _, _, err := s.Insert(ctx, r); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "inserts/s")
}

// TestSQLiteBatchIsolation: a record that fails inside a group commit fails
// alone; the others of its batch are stored.
func TestSQLiteBatchIsolation(t *testing.T) {
	ctx := context.Background()
	s := openSQLiteTest(t, filepath.Join(t.TempDir(), "ossgate.db"))
	defer s.Close()
	var batch []insertReq
	for i, vars := range []string{`{}`, `{"a":"1"}`, `not json`, `{}`} { // the CHECK (json_valid(vars)) refuses the third
		r, err := normalize(rec(fmt.Sprintf("iso-%d", i), "alice", fmt.Sprintf("k%d", i), at(i)))
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, insertReq{ctx: ctx, r: r, vars: vars, done: make(chan insertRes, 1)})
	}
	s.b.commit(batch)
	for i, req := range batch {
		res := <-req.done
		wantErr := i == 2
		if (res.err != nil) != wantErr || res.created == wantErr {
			t.Errorf("request %d: created=%v err=%v; want error %v", i, res.created, res.err, wantErr)
		}
	}
	assertCount(t, s, "alice", 3)
}

func TestSQLiteInsertCanceled(t *testing.T) {
	s := openSQLiteTest(t, filepath.Join(t.TempDir(), "ossgate.db"))
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 20 { // submit races the writer against ctx.Done: try both outcomes
		id := fmt.Sprintf("c%d", i)
		if _, created, err := s.Insert(ctx, rec(id, "alice", id, at(i))); !errors.Is(err, context.Canceled) || created {
			t.Fatalf("Insert with canceled ctx: created=%v err=%v, want false, context.Canceled", created, err)
		}
	}
	assertCount(t, s, "alice", 0)
}

// TestSQLiteCloseDuringInserts: Close while Inserts run neither hangs nor
// loses an Insert that reported success.
func TestSQLiteCloseDuringInserts(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ossgate.db")
	s := openSQLiteTest(t, path)
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		ok  []string
		bad []error
	)
	for g := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				id := fmt.Sprintf("cl-%02d-%04d", g, i)
				_, _, err := s.Insert(ctx, rec(id, "alice", id, at(i)))
				mu.Lock()
				if err == nil {
					ok = append(ok, id)
				} else if !errors.Is(err, errClosed) {
					bad = append(bad, err)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	for _, err := range bad {
		t.Errorf("Insert during Close: %v, want nil or errClosed", err)
	}
	s = openSQLiteTest(t, path)
	defer s.Close()
	for _, id := range ok {
		if _, err := s.Get(ctx, "alice", id); err != nil {
			t.Fatalf("Get(%s) after reopen: %v (its Insert had succeeded)", id, err)
		}
	}
	t.Logf("%d inserts succeeded before Close", len(ok))
}
