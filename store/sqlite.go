package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // driver "sqlite"
)

// sqlitePragmas are run on every new connection. busy_timeout comes first (the
// driver orders it so) so that the others, and every later statement, wait
// for a lock held by another process instead of failing with SQLITE_BUSY.
// WAL lets readers run beside the writer; synchronous=FULL makes a commit
// durable (fsynced) before Insert returns. wal_autocheckpoint is 4 times
// SQLite's default of 1000 pages: a checkpoint copies each page once
// however often the WAL holds it, and the pages group commits write most
// (the right edges of the tables and indexes, the outbox's rows as they are
// leased and marked) are written again in nearly every commit, so a longer
// WAL copies fewer pages per record. It stays bounded (16 MiB at 4 KiB pages).
var sqlitePragmas = []string{
	"busy_timeout(5000)",
	"journal_mode(WAL)",
	"synchronous(FULL)",
	"wal_autocheckpoint(4000)",
	"foreign_keys(1)",
}

// sqliteStore keeps two pools on one file. SQLite admits one writer at a
// time, so the write pool has exactly one connection, used by one goroutine
// (see groupcommit.go): concurrent Inserts queue in Go rather than spin on
// the file lock, so no goroutine of this process can make another see
// SQLITE_BUSY. Reads go through their own pool, which WAL lets run while a
// write is in progress.
type sqliteStore struct {
	write *sql.DB
	read  *sql.DB // == write for an in-memory database

	inserts    chan insertReq // unbuffered: a request is either taken by the writer or not sent
	outbox     chan *outboxOp // webhook leases and outcomes, written by the writer too; unbuffered
	prepared   writerStmts    // the writer's statements (groupcommit.go)
	txs        atomic.Int64   // transactions the writer committed (for tests)
	quit       chan struct{}  // closed by Close
	writerDone chan struct{}  // closed when the writer goroutine has returned

	closeOnce sync.Once
	closeErr  error
}

// OpenSQLite opens (creating it if needed, but not its folder) the SQLite
// database at path, a file path or a "file:" URI, and runs the migrations.
func OpenSQLite(ctx context.Context, path string) (Store, error) {
	return openSQLite(ctx, path, Options{})
}

func openSQLite(ctx context.Context, path string, o Options) (Store, error) {
	if path == "" {
		return nil, errors.New("store: empty SQLite path")
	}
	// Each connection to ":memory:" is a database of its own, so an
	// in-memory store must read through its one write connection.
	memory := path == ":memory:" || strings.Contains(path, "mode=memory")

	// _txlock=immediate: transactions (the migration's, the group commits)
	// take the write lock at BEGIN, so two processes writing at once wait on
	// busy_timeout instead of one failing to upgrade a read lock.
	write, err := sql.Open("sqlite", sqliteDSN(path, sqlitePragmas, "_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	s := &sqliteStore{write: write, read: write}
	if err := retryBusy(ctx, func() error { return migrateSQLite(ctx, write) }); err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	if !memory {
		// query_only: a read connection that tried to write would be a bug.
		read, err := sql.Open("sqlite", sqliteDSN(path, slices.Concat(sqlitePragmas, []string{"query_only(1)"})))
		if err != nil {
			write.Close()
			return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
		}
		n := max(4, 2*runtime.NumCPU())
		read.SetMaxOpenConns(n)
		read.SetMaxIdleConns(n)
		if err := read.PingContext(ctx); err != nil {
			read.Close()
			write.Close()
			return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
		}
		s.read = read
	}
	if err := s.prepareWriter(ctx); err != nil {
		if s.read != s.write {
			s.read.Close()
		}
		write.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	s.inserts = make(chan insertReq)
	s.outbox = make(chan *outboxOp)
	s.quit = make(chan struct{})
	s.writerDone = make(chan struct{})
	go s.writeLoop()
	return checked[*sqliteStore]{b: s, events: o.Events, wake: make(chan struct{}, 1)}, nil
}

// sqliteBusy is SQLITE_BUSY, the primary result code (extended codes add
// bits above the low byte).
const sqliteBusy = 5

// retryBusy runs f again while SQLite answers SQLITE_BUSY, for up to 10 s.
// busy_timeout covers most contention, but SQLite skips the busy handler in
// some cases (a connection switching a new file to WAL while another opens
// it), which processes opening one file at the same time can hit.
func retryBusy(ctx context.Context, f func() error) error {
	deadline := time.Now().Add(10 * time.Second)
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		err := f()
		var coded interface{ Code() int }
		if err == nil || !errors.As(err, &coded) || coded.Code()&0xff != sqliteBusy || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// sqliteDSN turns path into a "file:" URI for the modernc driver with the
// pragmas and extra driver parameters appended. A plain path is escaped, so
// a '?' or '#' in a file name cannot be taken for the start of parameters.
func sqliteDSN(path string, pragmas []string, extra ...string) string {
	uri := path
	if !strings.HasPrefix(path, "file:") {
		uri = "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	}
	params := make([]string, 0, len(pragmas)+len(extra))
	for _, p := range pragmas {
		params = append(params, "_pragma="+p)
	}
	params = append(params, extra...)
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
	}
	return uri + sep + strings.Join(params, "&")
}

func (s *sqliteStore) insert(ctx context.Context, r Record, vars string, ev *newEvent) (Record, bool, error) {
	// Records are never changed, so the row that won a conflict is still
	// there and committed, unless a Delete removed it in between: then the
	// insert is tried once more.
	for try := 0; ; try++ {
		created, err := s.submit(ctx, insertReq{ctx: ctx, r: r, vars: vars, ev: ev})
		if err != nil {
			return Record{}, false, err
		}
		if created {
			return r, true, nil
		}
		row := s.read.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM uploads WHERE bucket = ? AND object_key = ?`, r.Bucket, r.Key)
		existing, err := scanSQLite(row)
		switch {
		case errors.Is(err, sql.ErrNoRows) && try == 0:
			continue
		case errors.Is(err, sql.ErrNoRows):
			return Record{}, false, errIDTaken(r.ID)
		case err != nil:
			return Record{}, false, fmt.Errorf("store: insert: read existing record: %w", err)
		}
		return existing, false, nil
	}
}

func (s *sqliteStore) get(ctx context.Context, user, id string) (Record, error) {
	row := s.read.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM uploads WHERE id = ? AND user_id = ?`, id, user)
	r, err := scanSQLite(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("store: get: %w", err)
	}
	return r, nil
}

func (s *sqliteStore) list(ctx context.Context, user string, limit int, after *position) ([]Record, error) {
	var rows *sql.Rows
	var err error
	if after == nil {
		rows, err = s.read.QueryContext(ctx, `SELECT `+recordColumns+` FROM uploads
			WHERE user_id = ?
			ORDER BY created_at DESC, id DESC LIMIT ?`, user, limit+1)
	} else {
		rows, err = s.read.QueryContext(ctx, `SELECT `+recordColumns+` FROM uploads
			WHERE user_id = ? AND (created_at, id) < (?, ?)
			ORDER BY created_at DESC, id DESC LIMIT ?`, user, after.createdAt.UnixMicro(), after.id, limit+1)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return collect(rows, func() (Record, error) { return scanSQLite(rows) }, limit)
}

func (s *sqliteStore) Ping(ctx context.Context) error {
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	if err := s.read.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

func (s *sqliteStore) Close() error {
	s.closeOnce.Do(func() {
		close(s.quit)
		<-s.writerDone // no write in flight once it returns
		s.closeWriterStmts()
		var errs []error
		if s.read != s.write {
			errs = append(errs, s.read.Close())
		}
		errs = append(errs, s.write.Close())
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

type rowScanner interface{ Scan(dest ...any) error }

func scanSQLite(row rowScanner) (Record, error) {
	var (
		r       Record
		vars    string
		created int64
		image   sql.NullString
	)
	if err := row.Scan(&r.ID, &r.User, &r.Bucket, &r.Key, &r.Size, &r.ContentType, &r.ETag, &r.Filename, &vars, &created, &image); err != nil {
		return Record{}, err
	}
	var err error
	if r.Vars, err = decodeVars([]byte(vars)); err != nil {
		return Record{}, fmt.Errorf("record %s: %w", r.ID, err)
	}
	if image.Valid {
		if r.Image, err = decodeImage([]byte(image.String)); err != nil {
			return Record{}, fmt.Errorf("record %s: %w", r.ID, err)
		}
	}
	r.CreatedAt = time.UnixMicro(created).UTC()
	return r, nil
}

// decodeVars parses a stored vars document, never returning a nil map (the
// API shows {} for no vars, not null).
func decodeVars(b []byte) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("vars: %w", err)
	}
	if m == nil {
		m = map[string]string{}
	}
	return m, nil
}
