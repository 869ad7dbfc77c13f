package store

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func session(id, user string, expires time.Time) Session {
	return Session{UploadID: id, User: user, Bucket: "examplebucket", Key: "uploads/" + user + "/" + id + ".mp4",
		Size: 300 << 20, ContentType: "video/mp4", Filename: "clip.mp4", Vars: map[string]string{"album": "猫"},
		PartSize: 8 << 20, PartCount: 38, CreatedAt: expires.Add(-24 * time.Hour), ExpiresAt: expires}
}

func testSessions(t *testing.T, s Store) {
	ctx := context.Background()
	m := session("0004B9894A22E5B1888A1E29F823XXXX", "alice", at(0).Add(time.Hour))
	if err := s.CreateSession(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, m); err == nil {
		t.Error("the same upload id twice: no error")
	}
	got, err := s.Session(ctx, "alice", m.UploadID)
	want := m
	want.State = SessionOpen
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Session = %+v, %v\nwant %+v", got, err, want)
	}
	for _, tc := range []struct{ user, id string }{{"bob", m.UploadID}, {"alice", "nope"}, {"alice", "\x00"}, {"alice", strings.Repeat("a", 100)}} {
		if _, err := s.Session(ctx, tc.user, tc.id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Session(%q, %q) = %v, want ErrNotFound", tc.user, tc.id, err)
		}
	}

	// Exactly one of many concurrent closes wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, closed := 0, 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			to := SessionCompleted
			if i%2 == 1 {
				to = SessionAborted
			}
			err := s.CloseSession(ctx, m.UploadID, to)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, ErrSessionClosed):
				closed++
			default:
				t.Errorf("CloseSession: %v", err)
			}
		}(i)
	}
	wg.Wait()
	if wins != 1 || closed != 7 {
		t.Errorf("8 concurrent closes: %d won, %d closed, want 1 and 7", wins, closed)
	}
	if err := s.CloseSession(ctx, "missing", SessionAborted); !errors.Is(err, ErrNotFound) {
		t.Errorf("closing a missing session: %v", err)
	}
	if err := s.CloseSession(ctx, m.UploadID, SessionOpen); !errors.Is(err, ErrInvalid) {
		t.Errorf("closing as open: %v", err)
	}

	// The sweeper sees open sessions past their expiry only, oldest first.
	for i, exp := range []time.Time{at(0).Add(-2 * time.Minute), at(0).Add(-time.Minute), at(0).Add(time.Minute)} {
		if err := s.CreateSession(ctx, session("sweep-"+string(rune('a'+i)), "carol", exp)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CloseSession(ctx, "sweep-b", SessionAborted); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, session("sweep-d", "carol", at(0).Add(-3*time.Minute))); err != nil {
		t.Fatal(err)
	}
	exp, err := s.ExpiredSessions(ctx, at(0), 10)
	var ids []string
	for _, e := range exp {
		ids = append(ids, e.UploadID)
	}
	if err != nil || strings.Join(ids, ",") != "sweep-d,sweep-a" {
		t.Errorf("ExpiredSessions = %v, %v; want sweep-d,sweep-a", ids, err)
	}

	bad := []func(*Session){
		func(m *Session) { m.UploadID = "" },
		func(m *Session) { m.User = "" },
		func(m *Session) { m.Size = 0 },
		func(m *Session) { m.PartCount = 10001 },
		func(m *Session) { m.PartSize = 0 },
		func(m *Session) { m.ExpiresAt = m.CreatedAt.Add(-time.Second) },
		func(m *Session) { m.Filename = "a\x00b" },
		func(m *Session) { m.UploadID = strings.Repeat("x", MaxUploadIDLen+1) },
	}
	for i, f := range bad {
		m := session("bad-"+string(rune('a'+i)), "dave", at(0).Add(time.Hour))
		f(&m)
		if err := s.CreateSession(ctx, m); !errors.Is(err, ErrInvalid) {
			t.Errorf("bad session %d: %v, want ErrInvalid", i, err)
		}
	}
}

// allMigrations is "version:name,…" of every migration of the dialect, as
// schema_migrations lists them once all are applied.
func allMigrations(t *testing.T, dialect string) string {
	t.Helper()
	ms, err := loadMigrations(dialect)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, m := range ms {
		parts = append(parts, strconv.Itoa(m.version)+":"+m.name)
	}
	return strings.Join(parts, ",")
}
