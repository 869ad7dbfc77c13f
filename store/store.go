// Package store keeps ossgate's upload records: one row per verified OSS
// callback, unique per bucket+key, listed per user newest first.
//
// Two backends sit behind the Store interface: SQLite (modernc.org/sqlite, a
// file path) and Postgres (pgx, a postgres:// URL). Both keep their schema in
// embedded SQL files applied by a small migration runner on every Open.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Record is one stored upload.
type Record struct {
	ID          string            `json:"id"`
	User        string            `json:"-"` // owner (JWT sub); not in API JSON
	Bucket      string            `json:"bucket"`
	Key         string            `json:"key"`
	Size        int64             `json:"size"`
	ContentType string            `json:"contentType"`
	ETag        string            `json:"etag"`
	Filename    string            `json:"filename"`
	Vars        map[string]string `json:"vars"`            // never nil from Insert, Get or List
	CreatedAt   time.Time         `json:"createdAt"`       // UTC, microsecond precision once stored
	Image       *Image            `json:"image,omitempty"` // for images only
}

// Image is an image's size and format, as OSS reported them.
type Image struct {
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Format string `json:"format"`
}

// Bounds of an Image (OSS processes images of at most 30 000 pixels a side).
const (
	MaxImageSide      = 30000
	MaxImageFormatLen = 8
)

// imageJSON is how an Image is stored: JSON, or NULL for none.
func imageJSON(img *Image) any {
	if img == nil {
		return nil
	}
	b, _ := json.Marshal(img) // cannot fail: ints and a string
	return string(b)
}

func decodeImage(b []byte) (*Image, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var img Image
	if err := json.Unmarshal(b, &img); err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	return &img, nil
}

var (
	// ErrNotFound: no record with that id for that user.
	ErrNotFound = errors.New("store: not found")
	// ErrBadCursor: a List cursor that this package did not make (web: 400 invalid_request).
	ErrBadCursor = errors.New("store: bad cursor")
	// ErrInvalid wraps every argument Insert or List refuses (a caller bug, not bad data in the database).
	ErrInvalid = errors.New("store: invalid argument")
)

// Bounds of a record's fields, in bytes (Vars: entries). They are OSS's
// own limits where it has one (keys, bucket names), and what ossgate's
// policies allow elsewhere.
const (
	MaxIDLen          = 64
	MaxUserLen        = 255
	MaxBucketLen      = 63
	MaxKeyLen         = 1023
	MaxContentTypeLen = 255
	MaxETagLen        = 64
	MaxFilenameLen    = 255
	MaxVars           = 10
	MaxVarNameLen     = 64
	MaxVarValueLen    = 256
)

// MaxListLimit caps List's page size so one call cannot load a whole table.
const MaxListLimit = 1000

// Store holds upload records. Implementations are safe for concurrent use.
type Store interface {
	// Insert stores r once per (Bucket, Key). If a record for that bucket+key
	// exists, it returns the EXISTING record and created=false, changing
	// nothing. The caller sets ID (unique) and CreatedAt. The record is
	// durable when Insert returns.
	Insert(ctx context.Context, r Record) (rec Record, created bool, err error)
	// Get returns the user's record with that id; another user's or a
	// missing one is ErrNotFound.
	Get(ctx context.Context, user, id string) (Record, error)
	// List returns the user's records newest first (CreatedAt desc, ID
	// desc), at most limit (1..MaxListLimit; more is capped), and an opaque
	// cursor for the next page ("" when there is none). cursor "" is the
	// first page; a cursor List did not make is ErrBadCursor.
	List(ctx context.Context, user string, limit int, cursor string) ([]Record, string, error)
	// Delete removes the user's record with that id and returns it (with
	// Options.Events, its upload.deleted event is written in the same
	// transaction); another user's or a missing one is ErrNotFound.
	Delete(ctx context.Context, user, id string) (Record, error)

	Sessions
	Outbox // webhook events (events.go)

	Ping(ctx context.Context) error
	Close() error
}

// Sessions hold the multipart uploads ossgate authorised (sessions.go).
type Sessions interface {
	CreateSession(ctx context.Context, s Session) error
	Session(ctx context.Context, user, uploadID string) (Session, error)
	CloseSession(ctx context.Context, uploadID string, to SessionState) error
	ExpiredSessions(ctx context.Context, now time.Time, limit int) ([]Session, error)
}

// Open picks the backend from dsn: a postgres:// or postgresql:// URL is
// Postgres, anything else is an SQLite file path or "file:" URI. It runs the
// migrations. Its errors never hold a Postgres password.
func Open(ctx context.Context, dsn string) (Store, error) {
	return OpenWithOptions(ctx, dsn, Options{})
}

func looksLikeConninfo(dsn string) bool {
	for _, f := range strings.Fields(dsn) {
		k, _, ok := strings.Cut(f, "=")
		switch strings.ToLower(k) {
		case "host", "hostaddr", "port", "dbname", "user", "password", "sslmode":
			if ok {
				return true
			}
		}
	}
	return false
}

// Backend names the database a dsn selects: "postgres" or "sqlite".
func Backend(dsn string) string {
	if isPostgresURL(dsn) {
		return "postgres"
	}
	return "sqlite"
}

func isPostgresURL(dsn string) bool {
	l := strings.ToLower(dsn)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// storable reports whether s can be stored and looked up as text on both
// backends: Postgres refuses NUL and invalid UTF-8, so such a value can
// name no record.
func storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// normalize checks r and returns the form that is stored: UTC time cut to
// microseconds (Postgres' precision, so both backends answer alike) and
// non-nil Vars.
func normalize(r Record) (Record, error) {
	type field struct{ name, v string }
	for _, f := range []field{{"ID", r.ID}, {"User", r.User}, {"Bucket", r.Bucket}, {"Key", r.Key}} {
		if f.v == "" {
			return Record{}, fmt.Errorf("%w: record %s is empty", ErrInvalid, f.name)
		}
	}
	// Postgres refuses NUL and invalid UTF-8 in text; refuse them on both
	// backends so a record storable in one is storable in the other.
	fields := []field{{"ID", r.ID}, {"User", r.User}, {"Bucket", r.Bucket}, {"Key", r.Key},
		{"ContentType", r.ContentType}, {"ETag", r.ETag}, {"Filename", r.Filename}}
	for k, v := range r.Vars {
		fields = append(fields, field{"Vars name", k}, field{"Vars value", v})
	}
	for _, f := range fields {
		if !storable(f.v) {
			return Record{}, fmt.Errorf("%w: record %s is not valid UTF-8 text without NUL", ErrInvalid, f.name)
		}
	}
	// Bounds, so one record (and one page of List) has a bounded size
	// whatever a caller lets through.
	limits := map[string]int{"ID": MaxIDLen, "User": MaxUserLen, "Bucket": MaxBucketLen, "Key": MaxKeyLen,
		"ContentType": MaxContentTypeLen, "ETag": MaxETagLen, "Filename": MaxFilenameLen, "Vars name": MaxVarNameLen, "Vars value": MaxVarValueLen}
	for _, f := range fields {
		if len(f.v) > limits[f.name] {
			return Record{}, fmt.Errorf("%w: record %s is longer than %d bytes", ErrInvalid, f.name, limits[f.name])
		}
	}
	if img := r.Image; img != nil && (img.Width < 1 || img.Height < 1 || img.Width > MaxImageSide || img.Height > MaxImageSide ||
		img.Format == "" || len(img.Format) > MaxImageFormatLen || !storable(img.Format)) {
		return Record{}, fmt.Errorf("%w: record Image %dx%d %q out of range", ErrInvalid, img.Width, img.Height, img.Format)
	}
	if len(r.Vars) > MaxVars {
		return Record{}, fmt.Errorf("%w: record has %d vars, more than %d", ErrInvalid, len(r.Vars), MaxVars)
	}
	if r.Size < 0 {
		return Record{}, fmt.Errorf("%w: record Size %d is negative", ErrInvalid, r.Size)
	}
	// Year 1..9999 is what JSON (RFC 3339) can carry; it also rules out the
	// zero time, i.e. a caller that forgot to set CreatedAt.
	if y := r.CreatedAt.UTC().Year(); r.CreatedAt.IsZero() || y < 1 || y > 9999 {
		return Record{}, fmt.Errorf("%w: record CreatedAt %v is unset or out of range", ErrInvalid, r.CreatedAt)
	}
	r.CreatedAt = r.CreatedAt.UTC().Truncate(time.Microsecond)
	vars := make(map[string]string, len(r.Vars))
	for k, v := range r.Vars {
		vars[k] = v
	}
	r.Vars = vars
	return r, nil
}

// errIDTaken: nothing holds the record's bucket+key, yet the insert hit a
// conflict, so its ID already names another object's record.
func errIDTaken(id string) error {
	return fmt.Errorf("%w: record ID %q already names another object's record", ErrInvalid, id)
}

func checkLimit(limit int) (int, error) {
	if limit < 1 {
		return 0, fmt.Errorf("%w: list limit %d is below 1", ErrInvalid, limit)
	}
	return min(limit, MaxListLimit), nil
}

// RedactDSN returns dsn fit for a log line: a URL's password (in the user
// info or a password= query parameter) replaced by "xxxxx".
func RedactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		out := dsn
		for _, s := range dsnSecrets(dsn) {
			out = strings.ReplaceAll(out, s, "xxxxx")
		}
		return out
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// dsnSecrets returns every spelling of the password a connection string may
// hold, found even when the string is too malformed for url.Parse, so that
// the text can be scrubbed from errors.
func dsnSecrets(dsn string) []string {
	var raw []string
	if i := strings.Index(dsn, "://"); i >= 0 {
		rest := dsn[i+len("://"):]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
				raw = append(raw, pw)
			}
		}
	}
	if u, err := url.Parse(dsn); err == nil {
		if pw, ok := u.User.Password(); ok {
			raw = append(raw, pw)
		}
		raw = append(raw, u.Query()["password"]...)
	}
	// keyword/value form: password=secret or password='sec ret'
	for _, f := range strings.Fields(dsn) {
		if v, ok := strings.CutPrefix(f, "password="); ok {
			raw = append(raw, strings.Trim(v, "'"))
		}
	}
	if i := strings.Index(dsn, "password="); i >= 0 {
		v := dsn[i+len("password="):]
		if j := strings.IndexAny(v, "&# "); j >= 0 {
			v = v[:j]
		}
		raw = append(raw, v)
	}
	var out []string
	for _, s := range raw {
		for _, v := range []string{s, url.QueryEscape(s), url.PathEscape(s), unescape(s)} {
			if v != "" && !contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out
}

func unescape(s string) string {
	if v, err := url.QueryUnescape(s); err == nil {
		return v
	}
	return s
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// scrubError returns err unchanged unless its text holds one of secrets; then
// a new error with them replaced. The new error deliberately does not wrap
// err, since unwrapping would hand the secret back.
func scrubError(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	out := msg
	for _, s := range secrets {
		if s != "" {
			out = strings.ReplaceAll(out, s, "xxxxx")
		}
	}
	if out == msg {
		return err
	}
	return errors.New(out)
}

// rowIter is what pgx.Rows and *sql.Rows have in common for reading.
type rowIter interface {
	Next() bool
	Err() error
}

// collect reads the rows list fetched (limit+1 at most) with scan.
func collect(rows rowIter, scan func() (Record, error), limit int) ([]Record, error) {
	recs := make([]Record, 0, limit+1)
	for rows.Next() {
		r, err := scan()
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	return recs, rows.Err()
}
