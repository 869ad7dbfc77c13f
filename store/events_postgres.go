package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Several instances may poll one database: FOR UPDATE SKIP LOCKED lets each
// lease take rows no other lease is taking, without waiting for it, and the
// lease time in next_attempt_at keeps them off the rows afterwards.

const pgInsertEvent = `INSERT INTO webhook_events (id, type, upload_id, data, created_at, next_attempt_at)
	VALUES ($1, $2, $3, $4, $5, $5)`

func (s *postgresStore) leaseEvents(ctx context.Context, now, until time.Time, token string, limit int) ([]Event, error) {
	rows, err := s.pool.Query(ctx, `UPDATE webhook_events e
		SET next_attempt_at = $1, lease = $2, attempts = e.attempts + 1
		FROM (SELECT id FROM webhook_events
			WHERE state = 'pending' AND next_attempt_at <= $3
			ORDER BY next_attempt_at LIMIT $4
			FOR UPDATE SKIP LOCKED) due
		WHERE e.id = due.id
		RETURNING `+qualified("e.", eventColumns), until, token, now, limit)
	if err != nil {
		return nil, err
	}
	return collectPostgresEvents(rows)
}

// pgFinishDelivered marks many delivered events in one statement: the
// arrays are unnested side by side into rows (id, lease, at, status).
const pgFinishDelivered = `UPDATE webhook_events e
	SET state = 'delivered', next_attempt_at = v.at, finished_at = v.at, last_status = v.status, last_error = '', lease = NULL
	FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::integer[]) AS v(id, lease, at, status)
	WHERE e.id = v.id AND e.lease = v.lease
	RETURNING e.id`

// finishAttempts writes the delivered outcomes with pgFinishDelivered and
// the others (retries, give-ups: rare) one statement each, all in one
// transaction: one round trip and one commit for the usual batch.
func (s *postgresStore) finishAttempts(ctx context.Context, items []finishItem) ([]bool, error) {
	oks := make([]bool, len(items))
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // no-op after Commit
	var ids, leases []string
	var ats []time.Time
	var statuses []int32
	at := map[string]int{} // delivered id -> index in items
	for i, it := range items {
		if it.state == EventDelivered {
			ids, leases, ats, statuses = append(ids, it.id), append(leases, it.lease), append(ats, it.r.At), append(statuses, int32(it.r.Status))
			at[it.id] = i
			continue
		}
		next, finished := it.nextAndFinished()
		tag, err := tx.Exec(ctx, `UPDATE webhook_events
			SET state = $1, next_attempt_at = $2, finished_at = $3, last_status = $4, last_error = $5, lease = NULL
			WHERE id = $6 AND lease = $7`, string(it.state), next, finished, it.r.Status, it.r.Error, it.id, it.lease)
		if err != nil {
			return nil, err
		}
		oks[i] = tag.RowsAffected() == 1
	}
	if len(ids) > 0 {
		rows, err := tx.Query(ctx, pgFinishDelivered, ids, leases, ats, statuses)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			oks[at[id]] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return oks, tx.Commit(ctx)
}

// As on SQLite (events_sqlite.go), each read and write names one state, so
// that it can use the partial index over it.

func (s *postgresStore) events(ctx context.Context, state EventState, limit int) ([]Event, error) {
	var rows pgx.Rows
	var err error
	if state == "" {
		rows, err = s.pool.Query(ctx, `SELECT `+eventColumns+` FROM webhook_events
			ORDER BY created_at DESC, id DESC LIMIT $1`, limit)
	} else {
		rows, err = s.pool.Query(ctx, `SELECT `+eventColumns+` FROM webhook_events
			WHERE state = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, string(state), limit)
	}
	if err != nil {
		return nil, err
	}
	return collectPostgresEvents(rows)
}

func (s *postgresStore) retryEvents(ctx context.Context, id string, now time.Time) (int, error) {
	const set = `UPDATE webhook_events
		SET state = 'pending', attempts = 0, next_attempt_at = $1, finished_at = NULL, lease = NULL`
	var tag pgconn.CommandTag
	var err error
	if id == "" {
		tag, err = s.pool.Exec(ctx, set+` WHERE state = 'failed'`, now)
	} else {
		tag, err = s.pool.Exec(ctx, set+` WHERE id = $2 AND state IN ('failed', 'pending')`, now, id)
	}
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

func (s *postgresStore) pendingEvents(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM webhook_events WHERE state = 'pending'`).Scan(&n)
	return n, err
}

func (s *postgresStore) pruneEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM webhook_events WHERE id IN (
		SELECT id FROM webhook_events WHERE state = 'delivered' AND finished_at < $1 LIMIT $2)`, before, limit)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

func (s *postgresStore) delete(ctx context.Context, user, id string, mk func(Record) (newEvent, error)) (Record, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return Record{}, fmt.Errorf("store: delete: %w", err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // no-op after Commit
	r, err := scanPostgres(tx.QueryRow(ctx, `DELETE FROM uploads WHERE id = $1 AND user_id = $2 RETURNING `+recordColumns, id, user))
	if errors.Is(err, pgx.ErrNoRows) {
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
		if _, err := tx.Exec(ctx, pgInsertEvent, ev.id, ev.typ, ev.uploadID, ev.data, ev.at); err != nil {
			return Record{}, fmt.Errorf("store: delete: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return Record{}, fmt.Errorf("store: delete: %w", err)
	}
	return r, nil
}

// qualified prefixes every column of the list with p ("e.").
func qualified(p, columns string) string {
	return p + strings.ReplaceAll(columns, ", ", ", "+p)
}

func collectPostgresEvents(rows pgx.Rows) ([]Event, error) {
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var (
			e             Event
			data, state   string
			created, next time.Time
			finished      *time.Time
			lease         *string
		)
		if err := rows.Scan(&e.ID, &e.Type, &e.UploadID, &data, &created, &state, &e.Attempts, &next,
			&e.LastStatus, &e.LastError, &finished, &lease); err != nil {
			return nil, err
		}
		e.Data, e.State = []byte(data), EventState(state)
		e.CreatedAt, e.NextAttemptAt = created.UTC(), next.UTC()
		if finished != nil {
			e.FinishedAt = finished.UTC()
		}
		if lease != nil {
			e.Lease = *lease
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
