package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// postgresStore keeps records in Postgres. Every statement is a single
// autocommitted one, so Insert's record is committed when it returns.
type postgresStore struct {
	pool *pgxpool.Pool
}

// OpenPostgres connects to the database at url (a postgres:// URL or a
// keyword/value string; pool settings such as pool_max_conns may be given in
// it) and runs the migrations. Its errors never hold the password.
func OpenPostgres(ctx context.Context, url string) (Store, error) {
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
	return checked[*postgresStore]{&postgresStore{pool: pool}}, nil
}

func (s *postgresStore) insert(ctx context.Context, r Record, vars string) (Record, bool, error) {
	// No conflict target: every unique index is an arbiter, so a concurrent
	// insert of the same record (same id too) waits and does nothing instead
	// of failing on the primary key.
	tag, err := s.pool.Exec(ctx, `INSERT INTO uploads (`+recordColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT DO NOTHING`,
		r.ID, r.User, r.Bucket, r.Key, r.Size, r.ContentType, r.ETag, r.Filename, vars, r.CreatedAt)
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
	if errors.Is(err, pgx.ErrNoRows) {
		return Record{}, false, errIDTaken(r.ID)
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("store: insert: read existing record: %w", err)
	}
	return existing, false, nil
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
	)
	if err := row.Scan(&r.ID, &r.User, &r.Bucket, &r.Key, &r.Size, &r.ContentType, &r.ETag, &r.Filename, &vars, &created); err != nil {
		return Record{}, err
	}
	var err error
	if r.Vars, err = decodeVars(vars); err != nil {
		return Record{}, fmt.Errorf("record %s: %w", r.ID, err)
	}
	r.CreatedAt = created.UTC()
	return r, nil
}
