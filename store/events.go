package store

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Webhook events live in an outbox table (webhook_events) beside the
// records: Insert writes a new record's upload.completed event, and Delete
// the upload.deleted event, in the transaction that changes the record, so
// neither exists without the other and both survive a crash. The webhook
// worker leases due events, delivers them and reports the outcome with
// FinishAttempt. docs/ARCHITECTURE.md says why an outbox and not a queue
// library.

// Event types.
const (
	EventUploadCompleted = "upload.completed"
	EventUploadDeleted   = "upload.deleted"
)

// EventState is where an event is in its life.
type EventState string

const (
	EventPending   EventState = "pending"   // waiting for its next attempt (or being attempted)
	EventDelivered EventState = "delivered" // a receiver answered 2xx
	EventFailed    EventState = "failed"    // given up: retries exhausted, or 410 Gone
)

// Event is one webhook event.
type Event struct {
	ID       string // the webhook-id: the same on every attempt
	Type     string
	UploadID string
	// Data is the record, with its user, as it was when the event
	// happened (a deleted record is gone from uploads).
	Data          json.RawMessage
	CreatedAt     time.Time
	State         EventState
	Attempts      int       // attempts leased so far, a running one included
	NextAttemptAt time.Time // pending: when it is due; leased: when the lease runs out
	LastStatus    int       // HTTP status of the last attempt; 0 for none or no answer
	LastError     string
	FinishedAt    time.Time // delivered or given up; zero while pending

	// Lease is the token of the attempt running, "" when none is: the
	// events LeaseEvents returns carry theirs, for FinishAttempt.
	Lease string
}

// AttemptResult is what became of one leased attempt.
type AttemptResult struct {
	At        time.Time
	Delivered bool
	// RetryAt is when to try again; zero (and not Delivered) gives up.
	RetryAt time.Time
	Status  int    // the receiver's HTTP status, 0 for none
	Error   string // why the attempt failed; cut to MaxEventErrorLen
}

// MaxEventErrorLen bounds the error text kept per event.
const MaxEventErrorLen = 512

// ErrLeaseLost: the event's lease ran out and another worker (or an
// operator's retry) took it over; the outcome was not recorded.
var ErrLeaseLost = errors.New("store: webhook event lease lost")

// Outbox is the webhook worker's and the operator's view of the events.
type Outbox interface {
	// LeaseEvents takes at most limit pending events due at now, oldest due
	// first, for lease: none is handed to another caller, in this process
	// or another sharing the database, until the lease runs out. Each
	// lease counts as an attempt.
	LeaseEvents(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Event, error)
	// FinishAttempt records the outcome of a leased attempt; ErrLeaseLost
	// when ev's lease is no longer the event's.
	FinishAttempt(ctx context.Context, ev Event, res AttemptResult) error
	// FinishAttempts records many outcomes in one write (events_batch.go).
	FinishAttempts(ctx context.Context, fs []Finish) (recorded []bool, err error)
	// EventsWritten receives a value after this process committed events.
	EventsWritten() <-chan struct{}
	// Events lists events newest first, those in state only unless it is
	// "", at most limit (1..MaxListLimit).
	Events(ctx context.Context, state EventState, limit int) ([]Event, error)
	// RetryEvent makes a failed or pending event due at now with a fresh
	// retry schedule; ErrNotFound for a missing or delivered one.
	RetryEvent(ctx context.Context, id string, now time.Time) error
	// RetryFailedEvents does RetryEvent for every failed event and says how many.
	RetryFailedEvents(ctx context.Context, now time.Time) (int, error)
	// PendingEvents counts the events not yet delivered or given up.
	PendingEvents(ctx context.Context) (int, error)
	// PruneEvents deletes up to limit delivered events finished before
	// before, and says how many.
	PruneEvents(ctx context.Context, before time.Time, limit int) (int, error)
}

// Options are the choices made at Open.
type Options struct {
	// Events: Insert and Delete write webhook events. Off (the zero value),
	// nothing is written to the outbox, so that a deployment without a
	// webhook URL does not grow a table nobody drains; records made while
	// it is off never get an event.
	Events bool
}

// OpenWithOptions is Open with the choices in o.
func OpenWithOptions(ctx context.Context, dsn string, o Options) (Store, error) {
	if isPostgresURL(dsn) {
		return openPostgres(ctx, dsn, o)
	}
	// A libpq keyword/value string would otherwise become an SQLite file
	// named after it, password and all (and be echoed in errors).
	if looksLikeConninfo(dsn) {
		return nil, errors.New("store: database setting looks like a Postgres keyword/value string; use a postgres:// URL")
	}
	return openSQLite(ctx, dsn, o)
}

// newEvent is an event to write beside a record change.
type newEvent struct {
	id, typ, uploadID, data string
	at                      time.Time
}

// eventBackend is one database's half of the Outbox.
type eventBackend interface {
	leaseEvents(ctx context.Context, now, until time.Time, token string, limit int) ([]Event, error)
	// finishAttempts records at most maxFinishBatch outcomes, saying of
	// each whether its lease still held.
	finishAttempts(ctx context.Context, items []finishItem) ([]bool, error)
	events(ctx context.Context, state EventState, limit int) ([]Event, error)
	retryEvents(ctx context.Context, id string, now time.Time) (int, error) // id "": every failed one
	pendingEvents(ctx context.Context) (int, error)
	pruneEvents(ctx context.Context, before time.Time, limit int) (int, error)
	// delete removes the user's record and, when ev is not nil, writes the
	// event ev makes of it, in one transaction.
	delete(ctx context.Context, user, id string, ev func(Record) (newEvent, error)) (Record, error)
}

// eventFor makes the event typ of r, happening at at.
func eventFor(typ string, r Record, at time.Time) (newEvent, error) {
	data, err := json.Marshal(struct {
		Record
		User string `json:"user"`
	}{r, r.User})
	if err != nil {
		return newEvent{}, fmt.Errorf("store: event data: %w", err)
	}
	return newEvent{id: newEventID(at), typ: typ, uploadID: r.ID, data: string(data), at: at.UTC().Truncate(time.Microsecond)}, nil
}

// newEventID is "evt_" and 26 base32 characters laid out like a ULID: the
// first 10 encode at in milliseconds since 1970 (48 bits), the other 16 are
// random (80 bits). Ids made later sort after earlier ones, so the events of
// one commit go to the right edge of the primary key's index, one page
// for many of them, instead of one random page each (a WAL frame written and
// fsynced per event on SQLite).
func newEventID(at time.Time) string {
	const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	var b [26]byte
	if _, err := rand.Read(b[10:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	ms := uint64(max(at.UnixMilli(), 0))
	for i := 9; i >= 0; i-- {
		b[i] = alphabet[ms&31]
		ms >>= 5
	}
	for i := 10; i < len(b); i++ {
		b[i] = alphabet[b[i]&31]
	}
	return "evt_" + string(b[:])
}

// Delete removes the user's record with that id and, when events are on,
// writes its upload.deleted event in the same transaction. Another user's
// or a missing record is ErrNotFound.
func (c checked[B]) Delete(ctx context.Context, user, id string) (Record, error) {
	if !storable(user) || !storable(id) || len(id) > MaxIDLen || len(user) > MaxUserLen {
		return Record{}, ErrNotFound
	}
	var mk func(Record) (newEvent, error)
	if c.events {
		at := time.Now()
		mk = func(r Record) (newEvent, error) { return eventFor(EventUploadDeleted, r, at) }
	}
	r, err := c.b.delete(ctx, user, id, mk)
	if err == nil && mk != nil {
		c.eventsWritten()
	}
	return r, err
}

// LeaseEvents: see Outbox.
func (c checked[B]) LeaseEvents(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Event, error) {
	limit, err := checkLimit(limit)
	if err != nil {
		return nil, err
	}
	if lease <= 0 {
		return nil, fmt.Errorf("%w: lease %v is not positive", ErrInvalid, lease)
	}
	now = now.UTC().Truncate(time.Microsecond)
	evs, err := c.b.leaseEvents(ctx, now, now.Add(lease), newEventID(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store: lease events: %w", err)
	}
	return evs, nil
}

// Events: see Outbox.
func (c checked[B]) Events(ctx context.Context, state EventState, limit int) ([]Event, error) {
	limit, err := checkLimit(limit)
	if err != nil {
		return nil, err
	}
	switch state {
	case "", EventPending, EventDelivered, EventFailed:
	default:
		return nil, fmt.Errorf("%w: event state %q", ErrInvalid, state)
	}
	evs, err := c.b.events(ctx, state, limit)
	if err != nil {
		return nil, fmt.Errorf("store: events: %w", err)
	}
	return evs, nil
}

// RetryEvent: see Outbox.
func (c checked[B]) RetryEvent(ctx context.Context, id string, now time.Time) error {
	if id == "" || !storable(id) || len(id) > MaxIDLen {
		return ErrNotFound
	}
	n, err := c.b.retryEvents(ctx, id, now.UTC().Truncate(time.Microsecond))
	if err != nil {
		return fmt.Errorf("store: retry event: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// RetryFailedEvents: see Outbox.
func (c checked[B]) RetryFailedEvents(ctx context.Context, now time.Time) (int, error) {
	n, err := c.b.retryEvents(ctx, "", now.UTC().Truncate(time.Microsecond))
	if err != nil {
		return 0, fmt.Errorf("store: retry events: %w", err)
	}
	return n, nil
}

// PendingEvents: see Outbox.
func (c checked[B]) PendingEvents(ctx context.Context) (int, error) {
	n, err := c.b.pendingEvents(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: pending events: %w", err)
	}
	return n, nil
}

// PruneEvents: see Outbox.
func (c checked[B]) PruneEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	limit, err := checkLimit(limit)
	if err != nil {
		return 0, err
	}
	n, err := c.b.pruneEvents(ctx, before.UTC().Truncate(time.Microsecond), limit)
	if err != nil {
		return 0, fmt.Errorf("store: prune events: %w", err)
	}
	return n, nil
}

// cutText is s cut to at most n bytes, on a rune boundary, and made
// storable (an error text may quote anything).
func cutText(s string, n int) string {
	if !storable(s) {
		s = fmt.Sprintf("%q", s)
	}
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !storable(s) {
		s = s[:len(s)-1]
	}
	return s
}
