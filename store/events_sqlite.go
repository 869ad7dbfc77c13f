package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Leases and outcomes are written by the group-commit writer (see
// groupcommit.go), in the transaction of the records waiting at that
// moment: under load they share the callbacks' fsyncs instead of queueing
// writes of their own in front of them. The operator's writes (retry,
// prune) and Delete are rare and use the write connection directly; its
// pool of one connection serialises them with the writer. One process has
// one writer, so a lease needs no row locks: the UPDATE that picks the due
// rows also takes them.

const eventColumns = `id, type, upload_id, data, created_at, state, attempts, next_attempt_at, last_status, last_error, finished_at, lease`

// sqliteLease picks the due rows by webhook_events_due, named: without
// statistics SQLite's planner prefers webhook_events_state (state = ?) and
// sorts every pending row, leased ones included, in a temporary B-tree, so
// each lease read the whole backlog (pages and all) instead of the limit.
const sqliteLease = `UPDATE webhook_events
	SET next_attempt_at = ?, lease = ?, attempts = attempts + 1
	WHERE id IN (SELECT id FROM webhook_events INDEXED BY webhook_events_due
		WHERE state = 'pending' AND next_attempt_at <= ?
		ORDER BY next_attempt_at LIMIT ?)
	RETURNING ` + eventColumns

func (s *sqliteStore) leaseEvents(ctx context.Context, now, until time.Time, token string, limit int) ([]Event, error) {
	res, err := s.outboxWrite(ctx, &outboxOp{lease: &leaseArgs{now: now, until: until, token: token, limit: limit}})
	return res.evs, err
}

func (s *sqliteStore) finishAttempts(ctx context.Context, items []finishItem) ([]bool, error) {
	res, err := s.outboxWrite(ctx, &outboxOp{finish: items})
	return res.oks, err
}

// leaseIn runs a lease in the writer's transaction.
func (s *sqliteStore) leaseIn(ctx context.Context, tx *sql.Tx, a *leaseArgs) ([]Event, error) {
	stmt := tx.StmtContext(ctx, s.prepared.lease)
	defer stmt.Close()
	rows, err := stmt.QueryContext(ctx, a.until.UnixMicro(), a.token, a.now.UnixMicro(), a.limit)
	if err != nil {
		return nil, err
	}
	return collectSQLiteEvents(rows)
}

const sqliteFinish = `UPDATE webhook_events
	SET state = ?, next_attempt_at = ?, finished_at = ?, last_status = ?, last_error = ?, lease = NULL
	WHERE id = ? AND lease = ?`

// sqliteFinishDelivered is the one UPDATE that marks n delivered events:
// rows (id, lease, at, status) from a VALUES list.
func sqliteFinishDelivered(n int) string {
	var b strings.Builder
	b.WriteString("WITH v(id, lease, at, status) AS (VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?)")
	}
	b.WriteString(`)
	UPDATE webhook_events SET state = 'delivered', next_attempt_at = v.at, finished_at = v.at, last_status = v.status, last_error = '', lease = NULL
	FROM v WHERE webhook_events.id = v.id AND webhook_events.lease = v.lease
	RETURNING webhook_events.id`)
	return b.String()
}

// finishIn writes outcomes in the writer's transaction: the delivered ones
// in one statement, the others (rare) one each.
func finishIn(ctx context.Context, tx *sql.Tx, items []finishItem) ([]bool, error) {
	oks := make([]bool, len(items))
	var args []any
	at := map[string]int{} // delivered id -> index in items
	for i, it := range items {
		if it.state == EventDelivered {
			args = append(args, it.id, it.lease, it.r.At.UnixMicro(), it.r.Status)
			at[it.id] = i
			continue
		}
		next, finished := it.nextAndFinished()
		fin := sql.NullInt64{}
		if finished != nil {
			fin = sql.NullInt64{Int64: finished.UnixMicro(), Valid: true}
		}
		res, err := tx.ExecContext(ctx, sqliteFinish, string(it.state), next.UnixMicro(), fin, it.r.Status, it.r.Error, it.id, it.lease)
		if err != nil {
			return nil, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, err
		}
		oks[i] = n == 1
	}
	if len(at) == 0 {
		return oks, nil
	}
	rows, err := tx.QueryContext(ctx, sqliteFinishDelivered(len(args)/4), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		oks[at[id]] = true
	}
	return oks, rows.Err()
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
