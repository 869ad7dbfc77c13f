package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Session is a multipart upload ossgate authorised: every later step (part
// URLs, completion, abort) is checked against it, never against what the
// client claims.
type Session struct {
	UploadID    string // OSS's upload id
	User        string
	Bucket      string
	Key         string
	Size        int64 // declared: the exact size the completed object must have
	ContentType string
	Filename    string
	Vars        map[string]string
	PartSize    int64 // every part but the last has exactly this size
	PartCount   int
	State       SessionState
	CreatedAt   time.Time
	ExpiresAt   time.Time // after it, the sweeper aborts an open session
}

// SessionState is where a Session is in its life.
type SessionState string

const (
	SessionOpen      SessionState = "open"
	SessionCompleted SessionState = "completed"
	SessionAborted   SessionState = "aborted"
)

// MaxUploadIDLen bounds an OSS upload id (OSS's are 32 hex digits).
const MaxUploadIDLen = MaxIDLen

// ErrSessionClosed: the session is no longer open (completed or aborted).
var ErrSessionClosed = errors.New("store: multipart session closed")

// sessionColumns are the multipart_sessions columns, in the order both
// backends use.
const sessionColumns = `upload_id, user_id, bucket, object_key, size, content_type, filename, vars, part_size, part_count, state, created_at, expires_at`

// sessionBackend is one database's half of the Session methods.
type sessionBackend interface {
	createSession(ctx context.Context, s Session, vars string) error
	getSession(ctx context.Context, uploadID string) (Session, error)
	closeSession(ctx context.Context, uploadID string, to SessionState) error
	expiredSessions(ctx context.Context, now time.Time, limit int) ([]Session, error)
}

// CreateSession stores a new open session. Its UploadID must be new.
func (c checked[B]) CreateSession(ctx context.Context, s Session) error {
	s, err := normalizeSession(s)
	if err != nil {
		return err
	}
	vars, err := json.Marshal(s.Vars)
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return c.b.createSession(ctx, s, string(vars))
}

// Session returns the user's session with that upload id; another user's
// or a missing one is ErrNotFound.
func (c checked[B]) Session(ctx context.Context, user, uploadID string) (Session, error) {
	if !storable(user) || !storable(uploadID) || len(uploadID) > MaxUploadIDLen || len(user) > MaxUserLen {
		return Session{}, ErrNotFound
	}
	s, err := c.b.getSession(ctx, uploadID)
	if err != nil {
		return Session{}, err
	}
	if s.User != user {
		return Session{}, ErrNotFound
	}
	return s, nil
}

// CloseSession moves an open session to completed or aborted, once: a
// session that is not open is ErrSessionClosed (a missing one ErrNotFound).
func (c checked[B]) CloseSession(ctx context.Context, uploadID string, to SessionState) error {
	if to != SessionCompleted && to != SessionAborted {
		return fmt.Errorf("%w: a session closes as completed or aborted, not %q", ErrInvalid, to)
	}
	if !storable(uploadID) || len(uploadID) > MaxUploadIDLen {
		return ErrNotFound
	}
	return c.b.closeSession(ctx, uploadID, to)
}

// ExpiredSessions returns at most limit open sessions whose expiry is
// before now, oldest first, for the sweeper.
func (c checked[B]) ExpiredSessions(ctx context.Context, now time.Time, limit int) ([]Session, error) {
	limit, err := checkLimit(limit)
	if err != nil {
		return nil, err
	}
	return c.b.expiredSessions(ctx, now.UTC(), limit)
}

// normalizeSession checks s as normalize checks a Record.
func normalizeSession(s Session) (Session, error) {
	r, err := normalize(Record{ID: s.UploadID, User: s.User, Bucket: s.Bucket, Key: s.Key, Size: s.Size,
		ContentType: s.ContentType, ETag: "", Filename: s.Filename, Vars: s.Vars, CreatedAt: s.CreatedAt})
	if err != nil {
		return Session{}, err
	}
	switch {
	case len(s.UploadID) > MaxUploadIDLen:
		return Session{}, fmt.Errorf("%w: session UploadID is longer than %d bytes", ErrInvalid, MaxUploadIDLen)
	case s.Size < 1 || s.PartSize < 1 || s.PartCount < 1 || s.PartCount > 10000:
		return Session{}, fmt.Errorf("%w: session size %d, part size %d, part count %d out of range", ErrInvalid, s.Size, s.PartSize, s.PartCount)
	case s.ExpiresAt.Before(s.CreatedAt):
		return Session{}, fmt.Errorf("%w: session expires before it is created", ErrInvalid)
	}
	s.Vars, s.CreatedAt = r.Vars, r.CreatedAt
	s.ExpiresAt = s.ExpiresAt.UTC().Truncate(time.Microsecond)
	s.State = SessionOpen
	return s, nil
}
