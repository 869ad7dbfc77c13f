package store

import "time"

// A commit costs about as much CPU whether it holds one record or ten:
// SQLite writes each page the transaction touched to the WAL (the records'
// index pages are scattered, so several per commit) and fsyncs it. At
// saturation the records that arrive while one commit runs fill the next,
// but at a steady moderate rate (half the maximum in the load tool) each
// commit held one or two, and the callback cost nearly twice its CPU at
// saturation. So when records have been arriving faster than one per
// gatherWindow, the writer waits for the next few before it begins, as
// PostgreSQL's commit_delay does: a record then waits at most gatherWindow
// longer for its commit, and records that come slower than that are
// committed at once, as before.
const gatherWindow = time.Millisecond

// arrivals estimates how fast records reach the writer, from the records
// each transaction took and the time since the one before began.
type arrivals struct {
	last time.Time // when the previous transaction began
	rate float64   // records per second, smoothed over the last few transactions
}

// observe notes that a transaction of n records begins at now.
func (a *arrivals) observe(now time.Time, n int) {
	if !a.last.IsZero() {
		if dt := now.Sub(a.last).Seconds(); dt > 0 {
			a.rate += (float64(n)/dt - a.rate) / 4
		}
	}
	a.last = now
}

// plan says, at now, how many records a window's worth of arrivals
// holds, and how long to wait for the next one (twice the mean gap, so a
// pause in the arrivals ends the wait early). expect is 0 when records
// come slower than one per gatherWindow, or when none came for a while
// (the smoothed rate still remembers a burst that ended, and the first
// record after it should not wait).
func (a *arrivals) plan(now time.Time) (expect int, gap time.Duration) {
	expect = int(a.rate * gatherWindow.Seconds())
	if expect < 1 || now.Sub(a.last) > 4*gatherWindow {
		return 0, 0
	}
	return expect, min(time.Duration(2*float64(time.Second)/a.rate), gatherWindow)
}

// gather adds to batch (and ops) the records that arrive within
// gatherWindow, until the batch holds expect records (or maxBatch), a gap
// between two arrivals is longer than gap, or the store closes. A batch
// that already holds expect records does not wait: at saturation the
// records ready at once fill it, and the clients that could send more may
// all be waiting on this commit.
func (s *sqliteStore) gather(batch *[]insertReq, ops *[]*outboxOp, expect int, gap time.Duration, timer *time.Timer) {
	deadline := time.Now().Add(gatherWindow)
	want := min(expect, maxBatch)
	for len(*batch) < want && len(*ops) < maxBatch {
		wait := min(gap, time.Until(deadline))
		if wait <= 0 {
			return
		}
		timer.Reset(wait)
		select {
		case req := <-s.inserts:
			*batch = append(*batch, req)
		case op := <-s.outbox:
			*ops = append(*ops, op)
		case <-timer.C:
			return
		case <-s.quit:
			timer.Stop()
			return
		}
		timer.Stop()
	}
}
