package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Event writes are few next to record inserts (a lease and an outcome per
// delivery), so, like sessions, they use the write connection directly; its
// pool of one connection serialises them with the group commit. One process
// has one writer, so a lease needs no row locks: the UPDATE that picks the
// due rows also takes them.

const eventColumns = `id, type, upload_id, data, created_at, state, attempts, next_attempt_at, last_status, last_error, finished_at, lease`

func (s *sqliteStore) leaseEvents(ctx context.Context, now, until time.Time, token string, limit int) ([]Event, error) {
	rows, err := s.write.QueryContext(ctx, `UPDATE webhook_events
		SET next_attempt_at = ?, lease = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM webhook_events
			WHERE state = 'pending' AND next_attempt_at <= ?
			ORDER BY next_attempt_at LIMIT ?)
		RETURNING `+eventColumns, until.UnixMicro(), token, now.UnixMicro(), limit)
	if err != nil {
		return nil, err
	}
	return collectSQLiteEvents(rows)
}

func (s *sqliteStore) finishAttempt(ctx context.Context, id, lease string, state EventState, r AttemptResult) (bool, error) {
	next, finished := r.RetryAt.UnixMicro(), sql.NullInt64{}
	if state != EventPending {
		next, finished = r.At.UnixMicro(), sql.NullInt64{Int64: r.At.UnixMicro(), Valid: true}
	}
	res, err := s.write.ExecContext(ctx, `UPDATE webhook_events
		SET state = ?, next_attempt_at = ?, finished_at = ?, last_status = ?, last_error = ?, lease = NULL
		WHERE id = ? AND lease = ?`, string(state), next, finished, r.Status, r.Error, id, lease)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (s *sqliteStore) events(ctx context.Context, state EventState, limit int) ([]Event, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+eventColumns+` FROM webhook_events
		WHERE ? = '' OR state = ? ORDER BY created_at DESC, id DESC LIMIT ?`, string(state), string(state), limit)
	if err != nil {
		return nil, err
	}
	return collectSQLiteEvents(rows)
}

func (s *sqliteStore) retryEvents(ctx context.Context, id string, now time.Time) (int, error) {
	res, err := s.write.ExecContext(ctx, `UPDATE webhook_events
		SET state = 'pending', attempts = 0, next_attempt_at = ?, finished_at = NULL, lease = NULL
		WHERE (? = '' AND state = 'failed') OR (id = ? AND state IN ('failed', 'pending'))`, now.UnixMicro(), id, id)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (s *sqliteStore) pendingEvents(ctx context.Context) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM webhook_events WHERE state = 'pending'`).Scan(&n)
	return n, err
}

func (s *sqliteStore) pruneEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM webhook_events WHERE id IN (
		SELECT id FROM webhook_events WHERE state = 'delivered' AND finished_at < ? LIMIT ?)`, before.UnixMicro(), limit)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (s *sqliteStore) delete(ctx context.Context, user, id string, mk func(Record) (newEvent, error)) (Record, error) {
	tx, err := s.write.BeginTx(ctx, nil) // BEGIN IMMEDIATE
	if err != nil {
		return Record{}, fmt.Errorf("store: delete: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	r, err := scanSQLite(tx.QueryRowContext(ctx, `DELETE FROM uploads WHERE id = ? AND user_id = ? RETURNING `+recordColumns, id, user))
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("store: delete: %w", err)
	}
	if mk != nil {
		ev, err := mk(r)
		if err != nil {
			return Record{}, err
		}
		if _, err := tx.ExecContext(ctx, sqliteInsertEvent, ev.id, ev.typ, ev.uploadID, ev.data, ev.at.UnixMicro(), ev.at.UnixMicro()); err != nil {
			return Record{}, fmt.Errorf("store: delete: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return Record{}, fmt.Errorf("store: delete: %w", err)
	}
	return r, nil
}

func collectSQLiteEvents(rows *sql.Rows) ([]Event, error) {
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var (
			e             Event
			data, state   string
			created, next int64
			finished      sql.NullInt64
			lease         sql.NullString
		)
		if err := rows.Scan(&e.ID, &e.Type, &e.UploadID, &data, &created, &state, &e.Attempts, &next,
			&e.LastStatus, &e.LastError, &finished, &lease); err != nil {
			return nil, err
		}
		e.Data, e.State, e.Lease = []byte(data), EventState(state), lease.String
		e.CreatedAt, e.NextAttemptAt = time.UnixMicro(created).UTC(), time.UnixMicro(next).UTC()
		if finished.Valid {
			e.FinishedAt = time.UnixMicro(finished.Int64).UTC()
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
