package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"
)

func TestSQLiteEvents(t *testing.T) {
	runEventSuite(t, func(t *testing.T, o Options) Store {
		s, err := openSQLite(context.Background(), filepath.Join(t.TempDir(), "ossgate.db"), o)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestPostgresEvents(t *testing.T) {
	postgresTestURL(t)
	runEventSuite(t, func(t *testing.T, o Options) Store {
		s, err := OpenWithOptions(context.Background(), freshSchema(t), o)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// runEventSuite is the outbox contract both backends meet. open returns a
// fresh, empty store opened with o.
func runEventSuite(t *testing.T, open func(t *testing.T, o Options) Store) {
	ctx := context.Background()
	openStore := func(t *testing.T, o Options) Store {
		t.Helper()
		s := open(t, o)
		t.Cleanup(func() { s.Close() })
		return s
	}
	now := at(0).Add(time.Hour)

	t.Run("NewRecordWritesOneCompletedEvent", func(t *testing.T) {
		s := openStore(t, Options{Events: true})
		r := rec("ev-1", "alice", "uploads/a.png", at(1))
		r.Vars = map[string]string{"caption": "猫 \"q\""}
		for range 3 { // OSS repeats the callback: one record, one event
			if _, _, err := s.Insert(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		evs := allEvents(t, s)
		if len(evs) != 1 {
			t.Fatalf("%d events after 3 inserts of one record, want 1: %+v", len(evs), evs)
		}
		ev := evs[0]
		if ev.Type != EventUploadCompleted || ev.UploadID != r.ID || ev.State != EventPending || ev.Attempts != 0 ||
			!ev.CreatedAt.Equal(r.CreatedAt) || !ev.NextAttemptAt.Equal(r.CreatedAt) || len(ev.ID) != 30 {
			t.Errorf("event = %+v", ev)
		}
		var data struct {
			Record
			User string `json:"user"`
		}
		if err := json.Unmarshal(ev.Data, &data); err != nil {
			t.Fatalf("event data %s: %v", ev.Data, err)
		}
		data.Record.User = data.User
		if d := diffRecord(data.Record, wantStored(r)); d != "" {
			t.Errorf("event data %s: %s", ev.Data, d)
		}
	})

	t.Run("NoEventsWhenOff", func(t *testing.T) {
		s := openStore(t, Options{})
		s.Insert(ctx, rec("off-1", "alice", "k1", at(1)))
		if _, err := s.Delete(ctx, "alice", "off-1"); err != nil {
			t.Fatal(err)
		}
		if evs := allEvents(t, s); len(evs) != 0 {
			t.Errorf("events with Options.Events off: %+v", evs)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		s := openStore(t, Options{Events: true})
		r := rec("del-1", "alice", "k-del", at(1))
		s.Insert(ctx, r)
		for _, tt := range []struct{ name, user, id string }{
			{"another user's", "bob", "del-1"},
			{"missing", "alice", "nope"},
			{"unstorable id", "alice", "del\x00"},
		} {
			if _, err := s.Delete(ctx, tt.user, tt.id); !errors.Is(err, ErrNotFound) {
				t.Errorf("Delete %s: %v, want ErrNotFound", tt.name, err)
			}
		}
		got, err := s.Delete(ctx, "alice", "del-1")
		if err != nil {
			t.Fatal(err)
		}
		if d := diffRecord(got, wantStored(r)); d != "" {
			t.Errorf("Delete returned %s", d)
		}
		if _, err := s.Get(ctx, "alice", "del-1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get after Delete: %v", err)
		}
		if _, err := s.Delete(ctx, "alice", "del-1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("second Delete: %v, want ErrNotFound", err)
		}
		types := map[string]int{}
		for _, ev := range allEvents(t, s) {
			if ev.UploadID != "del-1" {
				t.Errorf("event of %q", ev.UploadID)
			}
			types[ev.Type]++
		}
		if types[EventUploadCompleted] != 1 || types[EventUploadDeleted] != 1 || len(types) != 2 {
			t.Errorf("event types = %v, want one completed and one deleted", types)
		}
		// The object may be recorded again after its record was deleted.
		if _, created, err := s.Insert(ctx, rec("del-2", "alice", "k-del", at(2))); err != nil || !created {
			t.Errorf("Insert after Delete: created=%v err=%v", created, err)
		}
	})

	t.Run("LeaseFinishRetry", func(t *testing.T) {
		s := openStore(t, Options{Events: true})
		for i := range 3 {
			s.Insert(ctx, rec(fmt.Sprintf("l-%d", i), "alice", fmt.Sprintf("k%d", i), at(i)))
		}
		const lease = time.Minute
		evs, err := s.LeaseEvents(ctx, now, lease, 10)
		if err != nil || len(evs) != 3 {
			t.Fatalf("LeaseEvents = %d events, %v; want 3", len(evs), err)
		}
		for i, ev := range evs {
			if ev.Lease == "" || ev.Attempts != 1 || !ev.NextAttemptAt.Equal(now.Add(lease)) {
				t.Errorf("leased event %d = %+v", i, ev)
			}
		}
		if again, _ := s.LeaseEvents(ctx, now.Add(lease-time.Second), lease, 10); len(again) != 0 {
			t.Errorf("leased %d events under a running lease", len(again))
		}
		sortEvents(evs)
		delivered, retried, failed := evs[0], evs[1], evs[2]
		check := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		check(s.FinishAttempt(ctx, delivered, AttemptResult{At: now, Delivered: true, Status: 204}))
		check(s.FinishAttempt(ctx, retried, AttemptResult{At: now, RetryAt: now.Add(5 * time.Second), Status: 503, Error: "503 Service Unavailable"}))
		check(s.FinishAttempt(ctx, failed, AttemptResult{At: now, Status: 410, Error: "410 Gone"}))
		if err := s.FinishAttempt(ctx, delivered, AttemptResult{At: now, Delivered: true}); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("second FinishAttempt: %v, want ErrLeaseLost", err)
		}
		if n, err := s.PendingEvents(ctx); err != nil || n != 1 {
			t.Errorf("PendingEvents = %d, %v; want 1", n, err)
		}
		if got, _ := s.LeaseEvents(ctx, now.Add(4*time.Second), lease, 10); len(got) != 0 {
			t.Errorf("leased %d events before the retry is due", len(got))
		}
		got, _ := s.LeaseEvents(ctx, now.Add(5*time.Second), lease, 10)
		if len(got) != 1 || got[0].ID != retried.ID || got[0].Attempts != 2 || got[0].LastStatus != 503 {
			t.Fatalf("leased at the retry time: %+v, want %s on attempt 2", got, retried.ID)
		}
		check(s.FinishAttempt(ctx, got[0], AttemptResult{At: now.Add(5 * time.Second), Delivered: true, Status: 200}))
		fails, err := s.Events(ctx, EventFailed, 10)
		if err != nil || len(fails) != 1 || fails[0].ID != failed.ID || fails[0].LastStatus != 410 ||
			fails[0].LastError != "410 Gone" || !fails[0].FinishedAt.Equal(now) {
			t.Fatalf("Events(failed) = %+v, %v", fails, err)
		}
		if err := s.RetryEvent(ctx, delivered.ID, now); !errors.Is(err, ErrNotFound) {
			t.Errorf("RetryEvent of a delivered event: %v, want ErrNotFound", err)
		}
		if err := s.RetryEvent(ctx, "evt_missing", now); !errors.Is(err, ErrNotFound) {
			t.Errorf("RetryEvent of a missing event: %v, want ErrNotFound", err)
		}
		later := now.Add(time.Hour)
		check(s.RetryEvent(ctx, failed.ID, later))
		got, _ = s.LeaseEvents(ctx, later, lease, 10)
		if len(got) != 1 || got[0].ID != failed.ID || got[0].Attempts != 1 {
			t.Fatalf("leased after RetryEvent: %+v, want %s on attempt 1", got, failed.ID)
		}
		check(s.FinishAttempt(ctx, got[0], AttemptResult{At: later, Status: 500}))
		if n, err := s.RetryFailedEvents(ctx, later); err != nil || n != 1 {
			t.Errorf("RetryFailedEvents = %d, %v; want 1", n, err)
		}
		if n, err := s.PruneEvents(ctx, now.Add(time.Second), 100); err != nil || n != 1 {
			t.Errorf("PruneEvents = %d, %v; want the 1 delivered event", n, err)
		}
		if evs := allEvents(t, s); len(evs) != 2 {
			t.Errorf("%d events after pruning, want 2 (one delivered later, one failed)", len(evs))
		}
	})

	t.Run("ExpiredLeaseIsTakenOver", func(t *testing.T) {
		s := openStore(t, Options{Events: true})
		s.Insert(ctx, rec("x-1", "alice", "k", at(1)))
		first, _ := s.LeaseEvents(ctx, now, time.Minute, 10)
		second, _ := s.LeaseEvents(ctx, now.Add(time.Minute), time.Minute, 10)
		if len(first) != 1 || len(second) != 1 || second[0].Attempts != 2 || second[0].Lease == first[0].Lease {
			t.Fatalf("leases = %+v then %+v", first, second)
		}
		if err := s.FinishAttempt(ctx, first[0], AttemptResult{At: now, Delivered: true}); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("FinishAttempt of the expired lease: %v, want ErrLeaseLost", err)
		}
		if err := s.FinishAttempt(ctx, second[0], AttemptResult{At: now, Delivered: true}); err != nil {
			t.Errorf("FinishAttempt of the current lease: %v", err)
		}
	})

	// Many concurrent inserts (SQLite's group commits, duplicates among
	// them) and concurrent leasers: exactly one event per record, and each
	// event leased by exactly one leaser.
	t.Run("ConcurrentInsertsAndLeases", func(t *testing.T) {
		s := openStore(t, Options{Events: true})
		const records, writers = 300, 12
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range records {
					if (i+w)%3 != 0 { // each record is inserted by a third of the writers
						continue
					}
					r := rec(fmt.Sprintf("c-%d-%d", i, w), "alice", fmt.Sprintf("k%d", i), at(i))
					if _, _, err := s.Insert(ctx, r); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		assertCount(t, s, "alice", records)
		byUpload := map[string]int{}
		for _, ev := range allEvents(t, s) {
			byUpload[ev.UploadID]++
		}
		recs, _ := listAll(t, s, "alice", 1000)
		for _, r := range recs {
			if byUpload[r.ID] != 1 {
				t.Errorf("record %s has %d events", r.ID, byUpload[r.ID])
			}
		}
		if len(byUpload) != records {
			t.Errorf("events name %d uploads, want %d", len(byUpload), records)
		}

		var mu sync.Mutex
		leased := map[string]int{}
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					evs, err := s.LeaseEvents(ctx, now, time.Hour, 7)
					if err != nil {
						t.Error(err)
						return
					}
					if len(evs) == 0 {
						return
					}
					mu.Lock()
					for _, ev := range evs {
						leased[ev.ID]++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(leased) != records {
			t.Errorf("%d events leased, want %d", len(leased), records)
		}
		for id, n := range leased {
			if n != 1 {
				t.Errorf("event %s leased %d times", id, n)
			}
		}
	})

	t.Run("BadArguments", func(t *testing.T) {
		s := openStore(t, Options{Events: true})
		if _, err := s.LeaseEvents(ctx, now, 0, 1); !errors.Is(err, ErrInvalid) {
			t.Errorf("LeaseEvents lease 0: %v", err)
		}
		if _, err := s.LeaseEvents(ctx, now, time.Second, 0); !errors.Is(err, ErrInvalid) {
			t.Errorf("LeaseEvents limit 0: %v", err)
		}
		if _, err := s.Events(ctx, "lost", 1); !errors.Is(err, ErrInvalid) {
			t.Errorf("Events state lost: %v", err)
		}
		if err := s.FinishAttempt(ctx, Event{ID: "x"}, AttemptResult{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("FinishAttempt without lease: %v", err)
		}
	})
}

func TestCutText(t *testing.T) {
	tests := []struct {
		name, in string
		n        int
		want     string
	}{
		{"short", "503", 10, "503"},
		{"cut", "abcdef", 3, "abc"},
		{"cut on a rune boundary", "ab猫", 4, "ab"},
		{"NUL quoted", "a\x00b", 20, `"a\x00b"`},
	}
	for _, tt := range tests {
		if got := cutText(tt.in, tt.n); got != tt.want {
			t.Errorf("%s: cutText(%q, %d) = %q, want %q", tt.name, tt.in, tt.n, got, tt.want)
		}
	}
}

func allEvents(t *testing.T, s Store) []Event {
	t.Helper()
	evs, err := s.Events(context.Background(), "", MaxListLimit)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func sortEvents(evs []Event) {
	sort.Slice(evs, func(i, j int) bool { return evs[i].UploadID < evs[j].UploadID })
}
