package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"time"
)

// SQLite's durable commit (synchronous=FULL) costs an fsync, about a
// millisecond, whatever it holds. So one writer goroutine takes the Inserts
// waiting at that moment and commits them together: under load many records
// share one fsync, and a lone Insert is still committed at once. Each caller
// gets its answer only after the commit that holds its record. The webhook
// worker's leases and outcomes (outboxOp) join the same transactions.

// maxBatch bounds one transaction, so a burst cannot hold the write lock long.
const maxBatch = 128

// errClosed answers an Insert made on a closed store.
var errClosed = errors.New("store: closed")

type insertReq struct {
	ctx  context.Context
	r    Record    // normalized
	vars string    // r.Vars as JSON
	ev   *newEvent // written with the record when it is new; nil for none
	done chan insertRes
}

type insertRes struct {
	created bool
	err     error
}

const sqliteInsert = `INSERT INTO uploads (` + recordColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT DO NOTHING` // no target: a repeated id is "do nothing" too, not an error

// sqliteInsertEvent writes a new record's event in the record's transaction.
const sqliteInsertEvent = `INSERT INTO webhook_events (id, type, upload_id, data, created_at, next_attempt_at)
	VALUES (?, ?, ?, ?, ?, ?)`

// writerStmts are the writer's statements, prepared once on the write
// connection at open (prepareWriter) and taken into each transaction with
// Tx.StmtContext, which reuses the connection's prepared statement: parsing
// and planning them again in every group commit cost as much as an insert.
type writerStmts struct {
	insert, insertEvent, lease, finish *sql.Stmt
	// delivered[i] marks up to deliveredClasses[i] delivered events
	// (sqliteFinishDelivered): a batch is padded to the next class.
	delivered [len(deliveredClasses)]*sql.Stmt
}

// all is every statement of w, nil ones included.
func (w *writerStmts) all() []**sql.Stmt {
	out := []**sql.Stmt{&w.insert, &w.insertEvent, &w.lease, &w.finish}
	for i := range w.delivered {
		out = append(out, &w.delivered[i])
	}
	return out
}

// prepareWriter prepares the writer's statements on s.write.
func (s *sqliteStore) prepareWriter(ctx context.Context) error {
	queries := []string{sqliteInsert, sqliteInsertEvent, sqliteLease, sqliteFinish}
	for _, n := range deliveredClasses {
		queries = append(queries, sqliteFinishDelivered(n))
	}
	for i, to := range s.prepared.all() {
		st, err := s.write.PrepareContext(ctx, queries[i])
		if err != nil {
			s.closeWriterStmts()
			return err
		}
		*to = st
	}
	return nil
}

// closeWriterStmts closes the statements prepareWriter made.
func (s *sqliteStore) closeWriterStmts() {
	for _, st := range s.prepared.all() {
		if *st != nil {
			(*st).Close()
		}
	}
}

// outboxOp is a webhook lease or a batch of outcomes for the writer.
type outboxOp struct {
	lease  *leaseArgs
	finish []finishItem
	done   chan outboxRes
}

type leaseArgs struct {
	now, until time.Time
	token      string
	limit      int
}

type outboxRes struct {
	evs []Event // a lease's events
	oks []bool  // per outcome: the lease still held
	err error
}

// outboxWrite hands op to the writer and waits for the commit that holds it.
func (s *sqliteStore) outboxWrite(ctx context.Context, op *outboxOp) (outboxRes, error) {
	op.done = make(chan outboxRes, 1)
	select {
	case s.outbox <- op:
	case <-s.quit:
		return outboxRes{}, errClosed
	case <-ctx.Done():
		return outboxRes{}, ctx.Err()
	}
	select {
	case res := <-op.done:
		return res, res.err
	case <-ctx.Done():
		// A lease may still be committed: its events fall due when it runs out.
		return outboxRes{}, ctx.Err()
	}
}

// submit hands req to the writer and waits for its commit.
func (s *sqliteStore) submit(ctx context.Context, req insertReq) (bool, error) {
	req.done = make(chan insertRes, 1) // the writer never waits for a caller that gave up
	select {
	case s.inserts <- req:
	case <-s.quit:
		return false, errClosed
	case <-ctx.Done():
		return false, fmt.Errorf("store: insert: %w", ctx.Err())
	}
	select {
	case res := <-req.done:
		return res.created, res.err
	case <-ctx.Done():
		// The record may still be committed; a retry then finds it (created=false).
		return false, fmt.Errorf("store: insert: %w", ctx.Err())
	}
}

// writeLoop is the only user of s.write after Open, but for the rare
// writes named in events_sqlite.go.
func (s *sqliteStore) writeLoop() {
	defer close(s.writerDone)
	var rate arrivals
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		var batch []insertReq
		var ops []*outboxOp
		select {
		case req := <-s.inserts:
			batch = append(batch, req)
		case op := <-s.outbox:
			ops = append(ops, op)
		case <-s.quit:
			return
		}
		for n := 0; len(batch) < maxBatch && len(ops) < maxBatch; {
			// Let the goroutines that are ready run up to their submit
			// before the transaction starts. Without this, on one core
			// (GOMAXPROCS=1) the writer runs right after the first submit
			// wakes it, before any other handler gets a turn, and nearly
			// every commit held one record: an fsync per callback.
			runtime.Gosched()
			n = s.takeWaiting(&batch, &ops)
			if n == 0 {
				break
			}
		}
		// The webhook worker's leases and outcomes wait too: while records
		// arrive they share the records' commits instead of adding their own.
		if expect, gap := rate.plan(time.Now()); len(batch) < expect {
			s.gather(&batch, &ops, expect, gap, timer)
		}
		rate.observe(time.Now(), len(batch))
		s.commitWith(batch, ops)
	}
}

// takeWaiting appends the inserts and ops waiting to be taken, up to
// maxBatch of each, and says how many it took.
func (s *sqliteStore) takeWaiting(batch *[]insertReq, ops *[]*outboxOp) int {
	n := 0
	for len(*batch) < maxBatch && len(*ops) < maxBatch {
		select {
		case req := <-s.inserts:
			*batch = append(*batch, req)
		case op := <-s.outbox:
			*ops = append(*ops, op)
		default:
			return n
		}
		n++
	}
	return n
}

// commit stores batch in one transaction (commitWith, without ops).
func (s *sqliteStore) commit(batch []insertReq) { s.commitWith(batch, nil) }

// commitWith stores batch and runs ops in one transaction. Should that
// fail, each request and each op is retried alone, so one bad record cannot
// fail its neighbours.
func (s *sqliteStore) commitWith(batch []insertReq, ops []*outboxOp) {
	live := batch[:0]
	for _, req := range batch {
		if err := req.ctx.Err(); err != nil {
			req.done <- insertRes{err: fmt.Errorf("store: insert: %w", err)}
			continue
		}
		live = append(live, req)
	}
	if len(live)+len(ops) > 1 {
		// The callers' contexts are not used: one caller giving up must
		// not roll back the others' records.
		if created, res, err := s.insertTx(context.Background(), live, ops); err == nil {
			for i, req := range live {
				req.done <- insertRes{created: created[i]}
			}
			for i, op := range ops {
				op.done <- res[i]
			}
			return
		}
	}
	for _, req := range live {
		created, _, err := s.insertTx(req.ctx, []insertReq{req}, nil)
		if err != nil {
			req.done <- insertRes{err: fmt.Errorf("store: insert: %w", err)}
			continue
		}
		req.done <- insertRes{created: created[0]}
	}
	for _, op := range ops {
		_, res, err := s.insertTx(context.Background(), nil, []*outboxOp{op})
		if err != nil {
			op.done <- outboxRes{err: err}
			continue
		}
		op.done <- res[0]
	}
}

// insertTx runs the batch in one transaction: each record, the event of
// each one that is new, then the ops (so a lease may take events the same
// transaction wrote).
func (s *sqliteStore) insertTx(ctx context.Context, batch []insertReq, ops []*outboxOp) ([]bool, []outboxRes, error) {
	tx, err := s.write.BeginTx(ctx, nil) // BEGIN IMMEDIATE (see OpenSQLite)
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	created, err := s.insertIn(ctx, tx, batch)
	if err != nil {
		return nil, nil, err
	}
	res := make([]outboxRes, len(ops))
	for i, op := range ops {
		if op.lease != nil {
			res[i].evs, err = s.leaseIn(ctx, tx, op.lease)
		} else {
			res[i].oks, err = s.finishIn(ctx, tx, op.finish)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, err
	}
	s.txs.Add(1)
	return created, res, nil
}

// insertIn writes the records of batch, and the events of the new ones, in tx.
func (s *sqliteStore) insertIn(ctx context.Context, tx *sql.Tx, batch []insertReq) ([]bool, error) {
	if len(batch) == 0 {
		return nil, nil
	}
	stmt := tx.StmtContext(ctx, s.prepared.insert)
	defer stmt.Close()
	var evStmt *sql.Stmt // taken into tx once a batch holds an event
	created := make([]bool, len(batch))
	for i, req := range batch {
		r := req.r
		res, err := stmt.ExecContext(ctx, r.ID, r.User, r.Bucket, r.Key, r.Size, r.ContentType, r.ETag, r.Filename, req.vars, r.CreatedAt.UnixMicro(), imageJSON(r.Image))
		if err != nil {
			return nil, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, err
		}
		if created[i] = n == 1; !created[i] || req.ev == nil {
			continue
		}
		if evStmt == nil {
			evStmt = tx.StmtContext(ctx, s.prepared.insertEvent)
			defer evStmt.Close()
		}
		ev := req.ev
		if _, err := evStmt.ExecContext(ctx, ev.id, ev.typ, ev.uploadID, ev.data, ev.at.UnixMicro(), ev.at.UnixMicro()); err != nil {
			return nil, err
		}
	}
	return created, nil
}
