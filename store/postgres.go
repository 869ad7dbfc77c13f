package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// postgresStore keeps records in Postgres. Insert is a single autocommitted
// statement (its event included), so its record is committed when it
// returns; Delete is one transaction.
type postgresStore struct {
	pool *pgxpool.Pool
}

// OpenPostgres connects to the database at url (a postgres:// URL or a
// keyword/value string; pool settings such as pool_max_conns may be given in
// it) and runs the migrations. Its errors never hold the password.
func OpenPostgres(ctx context.Context, url string) (Store, error) {
	return openPostgres(ctx, url, Options{})
}

func openPostgres(ctx context.Context, url string, o Options) (Store, error) {
	secrets := dsnSecrets(url)
	fail := func(err error) error {
		return scrubError(fmt.Errorf("store: open postgres %s: %w", RedactDSN(url), err), secrets)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fail(err)
	}
	// The password may also come from PGPASSWORD or a .pgpass file.
	if pw := cfg.ConnConfig.Password; pw != "" {
		secrets = append(secrets, pw)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fail(err)
	}
	if err := migratePostgres(ctx, pool); err != nil {
		pool.Close()
		return nil, fail(err)
	}
	return checked[*postgresStore]{b: &postgresStore{pool: pool}, events: o.Events, wake: make(chan struct{}, 1)}, nil
}

const pgInsert = `INSERT INTO uploads (` + recordColumns + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
	ON CONFLICT DO NOTHING`

// pgInsertWithEvent is pgInsert that also writes the event of a new record,
// in the same statement (so the same transaction): the event row is made
// from what the INSERT returned, that is only when the record is new.
const pgInsertWithEvent = `WITH ins AS (` + pgInsert + ` RETURNING id)
	INSERT INTO webhook_events (id, type, upload_id, data, created_at, next_attempt_at)
	SELECT $12, $13, ins.id, $14, $15, $15 FROM ins`

func (s *postgresStore) insert(ctx context.Context, r Record, vars string, ev *newEvent) (Record, bool, error) {
	// No conflict target: every unique index is an arbiter, so a concurrent
	// insert of the same record (same id too) waits and does nothing instead
	// of failing on the primary key.
	query, args := pgInsert, []any{r.ID, r.User, r.Bucket, r.Key, r.Size, r.ContentType, r.ETag, r.Filename, vars, r.CreatedAt, imageJSON(r.Image)}
	if ev != nil {
		query, args = pgInsertWithEvent, append(args, ev.id, ev.typ, ev.data, ev.at)
	}
	// Records are never changed, so the row that won a conflict is still
	// there, unless a Delete removed it in between: then the insert is
	// tried once more.
	for try := 0; ; try++ {
		tag, err := s.pool.Exec(ctx, query, args...)
		if err != nil {
			return Record{}, false, fmt.Errorf("store: insert: %w", err)
		}
		if tag.RowsAffected() == 1 {
			return r, true, nil
		}
		// A conflicting insert still in flight makes ours wait for its commit
		// before DO NOTHING, so the winner's row is visible to this new statement.
		row := s.pool.QueryRow(ctx, `SELECT `+recordColumns+` FROM uploads WHERE bucket = $1 AND object_key = $2`, r.Bucket, r.Key)
		existing, err := scanPostgres(row)
		switch {
		case errors.Is(err, pgx.ErrNoRows) && try == 0:
			continue
		case errors.Is(err, pgx.ErrNoRows):
			return Record{}, false, errIDTaken(r.ID)
		case err != nil:
			return Record{}, false, fmt.Errorf("store: insert: read existing record: %w", err)
		}
		return existing, false, nil
	}
}

func (s *postgresStore) get(ctx context.Context, user, id string) (Record, error) {
	row := s.pool.QueryRow(ctx, `SELECT `+recordColumns+` FROM uploads WHERE id = $1 AND user_id = $2`, id, user)
	r, err := scanPostgres(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("store: get: %w", err)
	}
	return r, nil
}

func (s *postgresStore) list(ctx context.Context, user string, limit int, after *position) ([]Record, error) {
	var rows pgx.Rows
	var err error
	if after == nil {
		rows, err = s.pool.Query(ctx, `SELECT `+recordColumns+` FROM uploads
			WHERE user_id = $1
			ORDER BY created_at DESC, id DESC LIMIT $2`, user, limit+1)
	} else {
		rows, err = s.pool.Query(ctx, `SELECT `+recordColumns+` FROM uploads
			WHERE user_id = $1 AND (created_at, id) < ($2, $3)
			ORDER BY created_at DESC, id DESC LIMIT $4`, user, after.createdAt, after.id, limit+1)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return collect(rows, func() (Record, error) { return scanPostgres(rows) }, limit)
}

func (s *postgresStore) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Close waits for connections in use to be returned, then closes them all.
func (s *postgresStore) Close() error {
	s.pool.Close()
	return nil
}

func scanPostgres(row pgx.Row) (Record, error) {
	var (
		r       Record
		vars    []byte
		created time.Time
		image   []byte
	)
	if err := row.Scan(&r.ID, &r.User, &r.Bucket, &r.Key, &r.Size, &r.ContentType, &r.ETag, &r.Filename, &vars, &created, &image); err != nil {
		return Record{}, err
	}
	var err error
	if r.Vars, err = decodeVars(vars); err != nil {
		return Record{}, fmt.Errorf("record %s: %w", r.ID, err)
	}
	r.CreatedAt = created.UTC()
	if r.Image, err = decodeImage(image); err != nil {
		return Record{}, fmt.Errorf("record %s: %w", r.ID, err)
	}
	return r, nil
}
