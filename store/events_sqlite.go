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

// sqliteFinishDelivered is the one UPDATE that marks up to n delivered
// events: rows (id, lease, at, status) from a VALUES list. Rows with a NULL
// id (the padding of a smaller batch) match no event.
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

// deliveredClasses are the batch sizes sqliteFinishDelivered is prepared
// for, at open: a statement per size made the writer parse and plan a new
// VALUES list of up to 200 rows in nearly every transaction. A batch is
// padded with NULL rows to the next class (at most twice its size) or, past
// the last, split.
var deliveredClasses = [...]int{1, 2, 4, 8, 16, 32, 64, 128, 256}

// deliveredClass is the index in deliveredClasses of the smallest class
// that holds n rows, or of the last.
func deliveredClass(n int) int {
	for i, c := range deliveredClasses {
		if n <= c {
			return i
		}
	}
	return len(deliveredClasses) - 1
}

// finishIn writes outcomes in the writer's transaction: the delivered ones
// in one statement per deliveredClasses' worth, the others (rare) one each.
func (s *sqliteStore) finishIn(ctx context.Context, tx *sql.Tx, items []finishItem) ([]bool, error) {
	oks := make([]bool, len(items))
	var delivered []int // indexes in items
	for i, it := range items {
		if it.state == EventDelivered {
			delivered = append(delivered, i)
			continue
		}
		next, finished := it.nextAndFinished()
		fin := sql.NullInt64{}
		if finished != nil {
			fin = sql.NullInt64{Int64: finished.UnixMicro(), Valid: true}
		}
		res, err := tx.StmtContext(ctx, s.prepared.finish).ExecContext(ctx, string(it.state), next.UnixMicro(), fin, it.r.Status, it.r.Error, it.id, it.lease)
		if err != nil {
			return nil, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, err
		}
		oks[i] = n == 1
	}
	for len(delivered) > 0 {
		k := deliveredClass(len(delivered))
		part := delivered[:min(len(delivered), deliveredClasses[k])]
		delivered = delivered[len(part):]
		if err := s.finishDelivered(ctx, tx, k, items, part, oks); err != nil {
			return nil, err
		}
	}
	return oks, nil
}

// finishDelivered marks items[part] delivered with the statement of class
// k, setting oks of those whose lease still held.
func (s *sqliteStore) finishDelivered(ctx context.Context, tx *sql.Tx, k int, items []finishItem, part []int, oks []bool) error {
	args := make([]any, 4*deliveredClasses[k]) // the padding stays NULL
	at := make(map[string]int, len(part))      // id -> index in items
	for j, i := range part {
		it := items[i]
		args[4*j], args[4*j+1], args[4*j+2], args[4*j+3] = it.id, it.lease, it.r.At.UnixMicro(), it.r.Status
		at[it.id] = i
	}
	stmt := tx.StmtContext(ctx, s.prepared.delivered[k])
	defer stmt.Close()
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		oks[at[id]] = true
	}
	return rows.Err()
}

// The outbox's reads and the operator's writes each name one state, so
// that each can use the partial index over it (schema 005): an OR with a
// bound parameter in it is planned as a scan of the whole table.

func (s *sqliteStore) events(ctx context.Context, state EventState, limit int) ([]Event, error) {
	var rows *sql.Rows
	var err error
	if state == "" {
		rows, err = s.read.QueryContext(ctx, `SELECT `+eventColumns+` FROM webhook_events
			ORDER BY created_at DESC, id DESC LIMIT ?`, limit)
	} else {
		rows, err = s.read.QueryContext(ctx, `SELECT `+eventColumns+` FROM webhook_events
			WHERE state = ? ORDER BY created_at DESC, id DESC LIMIT ?`, string(state), limit)
	}
	if err != nil {
		return nil, err
	}
	return collectSQLiteEvents(rows)
}

func (s *sqliteStore) retryEvents(ctx context.Context, id string, now time.Time) (int, error) {
	const set = `UPDATE webhook_events
		SET state = 'pending', attempts = 0, next_attempt_at = ?, finished_at = NULL, lease = NULL`
	var res sql.Result
	var err error
	if id == "" {
		res, err = s.write.ExecContext(ctx, set+` WHERE state = 'failed'`, now.UnixMicro())
	} else {
		res, err = s.write.ExecContext(ctx, set+` WHERE id = ? AND state IN ('failed', 'pending')`, now.UnixMicro(), id)
	}
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
