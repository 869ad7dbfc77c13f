package store

import (
	"context"
	"fmt"
	"time"
)

// Delivery writes come in batches: the worker records the outcomes of
// every attempt that ended while its last write ran in one call
// (FinishAttempts), and the delivered ones in one UPDATE for many ids. On
// SQLite both leases and outcomes go through the group-commit writer, so
// under load they ride in the callbacks' transactions instead of costing
// fsyncs of their own. A delivered mark lost in a crash means a duplicate
// delivery, which at-least-once allows; the events themselves are still
// written only with their records.

// Finish is one leased attempt and what became of it.
type Finish struct {
	Event  Event
	Result AttemptResult
}

// finishItem is a Finish as the backends write it: checked has already
// decided the state and normalised the times and the error.
type finishItem struct {
	id, lease string
	state     EventState
	r         AttemptResult
}

// maxFinishBatch bounds one UPDATE's rows (4 parameters each).
const maxFinishBatch = 200

// FinishAttempts records the outcomes of many leased attempts in one
// write. recorded[i] is false when fs[i]'s lease was no longer the event's
// (FinishAttempt's ErrLeaseLost). An error means none was recorded.
func (c checked[B]) FinishAttempts(ctx context.Context, fs []Finish) (recorded []bool, err error) {
	items := make([]finishItem, len(fs))
	for i, f := range fs {
		if f.Event.ID == "" || f.Event.Lease == "" {
			return nil, fmt.Errorf("%w: event %q holds no lease", ErrInvalid, f.Event.ID)
		}
		res := f.Result
		state := EventPending
		switch {
		case res.Delivered:
			state = EventDelivered
		case res.RetryAt.IsZero():
			state = EventFailed
		}
		res.At = res.At.UTC().Truncate(time.Microsecond)
		res.RetryAt = res.RetryAt.UTC().Truncate(time.Microsecond)
		res.Error = cutText(res.Error, MaxEventErrorLen)
		items[i] = finishItem{id: f.Event.ID, lease: f.Event.Lease, state: state, r: res}
	}
	recorded = make([]bool, 0, len(items))
	for len(items) > 0 {
		n := min(len(items), maxFinishBatch)
		oks, err := c.b.finishAttempts(ctx, items[:n])
		if err != nil {
			return nil, fmt.Errorf("store: finish attempts: %w", err)
		}
		recorded = append(recorded, oks...)
		items = items[n:]
	}
	return recorded, nil
}

// FinishAttempt: see Outbox.
func (c checked[B]) FinishAttempt(ctx context.Context, ev Event, res AttemptResult) error {
	ok, err := c.FinishAttempts(ctx, []Finish{{ev, res}})
	if err != nil {
		return err
	}
	if !ok[0] {
		return ErrLeaseLost
	}
	return nil
}

// EventsWritten receives a value after events were committed by this
// process (coalesced: one value stands for any number of commits), so the
// worker can lease them at once instead of polling for them.
func (c checked[B]) EventsWritten() <-chan struct{} { return c.wake }

// eventsWritten wakes the worker, never waiting.
func (c checked[B]) eventsWritten() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// nextAndFinished are the next_attempt_at and finished_at an outcome
// writes: a pending event is due at RetryAt; a finished one keeps At in
// both.
func (f finishItem) nextAndFinished() (next time.Time, finished *time.Time) {
	if f.state == EventPending {
		return f.r.RetryAt, nil
	}
	return f.r.At, &f.r.At
}
