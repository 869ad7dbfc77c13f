package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// recordColumns are the uploads table's columns, in the order both
// backends select and insert them.
const recordColumns = `id, user_id, bucket, object_key, size, content_type, etag, filename, vars, created_at, image`

// backend is one database's half of Store: checked has already refused and
// normalised the arguments, so a backend holds only its SQL.
type backend interface {
	// insert stores r (normalised, vars its JSON) or returns the record
	// that already holds r's bucket+key; a new record's event ev (when not
	// nil) is written in the same transaction.
	insert(ctx context.Context, r Record, vars string, ev *newEvent) (Record, bool, error)
	get(ctx context.Context, user, id string) (Record, error)
	// list returns at most limit+1 rows newest first, after the position
	// when it is not nil; checked pages them.
	list(ctx context.Context, user string, limit int, after *position) ([]Record, error)
	sessionBackend
	eventBackend
	Ping(ctx context.Context) error
	Close() error
}

// position is where a List page starts: the row after (createdAt, id).
type position struct {
	createdAt time.Time
	id        string
}

// checked is the Store both backends are used through: it applies the
// input rules once, for both.
type checked[B backend] struct {
	b      B
	events bool          // Options.Events
	wake   chan struct{} // EventsWritten; capacity 1
}

func (c checked[B]) Ping(ctx context.Context) error { return c.b.Ping(ctx) }
func (c checked[B]) Close() error                   { return c.b.Close() }

func (c checked[B]) Insert(ctx context.Context, r Record) (Record, bool, error) {
	r, err := normalize(r)
	if err != nil {
		return Record{}, false, err
	}
	vars, err := json.Marshal(r.Vars)
	if err != nil {
		return Record{}, false, fmt.Errorf("store: insert: %w", err)
	}
	var ev *newEvent
	if c.events {
		e, err := eventFor(EventUploadCompleted, r, r.CreatedAt)
		if err != nil {
			return Record{}, false, err
		}
		ev = &e
	}
	rec, created, err := c.b.insert(ctx, r, string(vars), ev)
	if created && ev != nil {
		c.eventsWritten()
	}
	return rec, created, err
}

func (c checked[B]) Get(ctx context.Context, user, id string) (Record, error) {
	// Such values can name no record (normalize refuses them).
	if !storable(user) || !storable(id) || len(id) > MaxIDLen || len(user) > MaxUserLen {
		return Record{}, ErrNotFound
	}
	return c.b.get(ctx, user, id)
}

func (c checked[B]) List(ctx context.Context, user string, limit int, cursor string) ([]Record, string, error) {
	limit, err := checkLimit(limit)
	if err != nil {
		return nil, "", err
	}
	var after *position
	if cursor != "" {
		at, id, err := decodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		after = &position{at, id}
	}
	if !storable(user) || len(user) > MaxUserLen {
		return []Record{}, "", nil
	}
	recs, err := c.b.list(ctx, user, limit, after)
	if err != nil {
		return nil, "", fmt.Errorf("store: list: %w", err)
	}
	return page(recs, limit)
}

// page trims the one extra row list fetched to learn whether another page
// exists, and makes the cursor for it.
func page(recs []Record, limit int) ([]Record, string, error) {
	if len(recs) <= limit {
		return recs, "", nil
	}
	recs = recs[:limit]
	last := recs[limit-1]
	return recs, encodeCursor(last.CreatedAt, last.ID), nil
}
