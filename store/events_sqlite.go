package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
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

// finishAttempt records an attempt's outcome. Outcomes arrive one per
// delivery, each on its own, and every write on SQLite's one writer costs
// an fsync: so concurrent outcomes are combined, the first caller writing
// all that are waiting in one transaction (and the others' too, while it is
// at it), which leaves the writer to the callbacks' group commits.
func (s *sqliteStore) finishAttempt(ctx context.Context, id, lease string, state EventState, r AttemptResult) (bool, error) {
	op := &finishOp{id: id, lease: lease, state: state, r: r, done: make(chan finishRes, 1)}
	b := &s.finishes
	b.mu.Lock()
	b.pending = append(b.pending, op)
	if !b.flushing {
		b.flushing = true
		for len(b.pending) > 0 {
			batch := b.pending
			b.pending = nil
			b.mu.Unlock()
			s.finishTx(batch)
			b.mu.Lock()
		}
		b.flushing = false
	}
	b.mu.Unlock()
	select {
	case res := <-op.done:
		return res.ok, res.err
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// finishBatcher combines concurrent finishAttempt calls.
type finishBatcher struct {
	mu       sync.Mutex
	pending  []*finishOp
	flushing bool
}

type finishOp struct {
	id, lease string
	state     EventState
	r         AttemptResult
	done      chan finishRes
}

type finishRes struct {
	ok  bool
	err error
}

const sqliteFinish = `UPDATE webhook_events
	SET state = ?, next_attempt_at = ?, finished_at = ?, last_status = ?, last_error = ?, lease = NULL
	WHERE id = ? AND lease = ?`

// finishTx writes batch in one transaction; should that fail, each op
// alone, so one cannot fail the others.
func (s *sqliteStore) finishTx(batch []*finishOp) {
	if len(batch) > 1 {
		if oks, err := s.finishIn(batch); err == nil {
			for i, op := range batch {
				op.done <- finishRes{ok: oks[i]}
			}
			return
		}
	}
	for _, op := range batch {
		oks, err := s.finishIn([]*finishOp{op})
		if err != nil {
			op.done <- finishRes{err: err}
			continue
		}
		op.done <- finishRes{ok: oks[0]}
	}
}

func (s *sqliteStore) finishIn(batch []*finishOp) ([]bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	stmt, err := tx.PrepareContext(ctx, sqliteFinish)
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	oks := make([]bool, len(batch))
	for i, op := range batch {
		next, finished := op.r.RetryAt.UnixMicro(), sql.NullInt64{}
		if op.state != EventPending {
			next, finished = op.r.At.UnixMicro(), sql.NullInt64{Int64: op.r.At.UnixMicro(), Valid: true}
		}
		res, err := stmt.ExecContext(ctx, string(op.state), next, finished, op.r.Status, op.r.Error, op.id, op.lease)
		if err != nil {
			return nil, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, err
		}
		oks[i] = n == 1
	}
	return oks, tx.Commit()
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
