package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSQLiteLeasePlan holds the lease to the due index: a plan that sorts
// the pending rows reads the whole backlog on every lease.
func TestSQLiteLeasePlan(t *testing.T) {
	s := openSQLiteTest(t, filepath.Join(t.TempDir(), "ossgate.db"))
	got := sqlitePlan(t, s.b.write, sqliteLease, 1, "t", 1, 10)
	if !strings.Contains(got, "USING INDEX webhook_events_due") || strings.Contains(got, "TEMP B-TREE") {
		t.Errorf("lease plan:\n%s\nwant a search of webhook_events_due and no temporary B-tree", got)
	}
}

// TestSQLiteLeaseAfterBacklog: a lease takes the oldest due events by
// next_attempt_at, passing over the leased ones, with a backlog in place.
func TestSQLiteLeaseAfterBacklog(t *testing.T) {
	ctx := context.Background()
	s := openSQLiteEvents(t)
	for i := range 50 {
		if _, _, err := s.Insert(ctx, rec(fmt.Sprintf("r%02d", i), "alice", fmt.Sprintf("uploads/%02d", i), at(i))); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().Add(time.Minute)
	seen := map[string]bool{}
	for range 3 { // 20, 20, then the last 10
		evs, err := s.LeaseEvents(ctx, now, time.Hour, 20)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if seen[ev.ID] {
				t.Fatalf("event %s leased twice", ev.ID)
			}
			seen[ev.ID] = true
		}
	}
	if len(seen) != 50 {
		t.Fatalf("leased %d distinct events, want 50", len(seen))
	}
	if evs, err := s.LeaseEvents(ctx, now, time.Hour, 20); err != nil || len(evs) != 0 {
		t.Fatalf("lease with every event leased = %d events, %v; want none", len(evs), err)
	}
}

// TestEventIDsSortByTime: event ids keep their documented shape and sort
// in the order they were made, so that one commit's events share the
// index's last page.
func TestEventIDsSortByTime(t *testing.T) {
	const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 200 {
		id := newEventID(t0.Add(time.Duration(i) * time.Millisecond))
		if len(id) != 30 || !strings.HasPrefix(id, "evt_") || strings.Trim(id[4:], alphabet) != "" {
			t.Fatalf("id %q: want evt_ and 26 characters of %s", id, alphabet)
		}
		ids = append(ids, id)
	}
	if !slices.IsSorted(ids) {
		t.Errorf("ids made 1 ms apart do not sort in time order: %v", ids[:5])
	}
	same := map[string]bool{}
	for range 1000 {
		id := newEventID(t0)
		if same[id] {
			t.Fatalf("id %s made twice in one millisecond", id)
		}
		same[id] = true
	}
	if a, b := newEventID(time.Unix(0, 0)), newEventID(time.Unix(-5, 0)); a[:14] != b[:14] || a[:14] != "evt_0000000000" {
		t.Errorf("ids at and before 1970: %s, %s; want the time part all zero", a, b)
	}
}

// TestSQLiteGroupCommitOneCore: on one core, concurrent Inserts share
// transactions: the writer lets the ready handlers reach their Insert
// before it begins one.
func TestSQLiteGroupCommitOneCore(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	ctx := context.Background()
	s := openSQLiteEvents(t)
	const workers, each = 32, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	before := s.b.txs.Load()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 32<<10)
			for i := range each {
				// Work between Inserts, as a handler verifies a callback
				// before it records it.
				for range 4 {
					sha256.Sum256(buf)
				}
				id := fmt.Sprintf("w%02d-%02d", w, i)
				if _, _, err := s.Insert(ctx, rec(id, "alice", "uploads/"+id, at(i))); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	txs := s.b.txs.Load() - before
	if n, _ := s.PendingEvents(ctx); n != workers*each {
		t.Fatalf("%d events pending, want %d", n, workers*each)
	}
	// With the yield, each round of the workers is one transaction (20);
	// without it, 41 or 42 here, and one per Insert in the load test.
	if txs > 3*each/2 {
		t.Errorf("%d inserts by %d workers took %d transactions; want at most %d", workers*each, workers, txs, 3*each/2)
	}
	t.Logf("%d inserts, %d transactions", workers*each, txs)
}
