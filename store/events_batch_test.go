package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func TestSQLiteEventBatches(t *testing.T) {
	runBatchSuite(t, func(t *testing.T, o Options) Store {
		s, err := openSQLite(context.Background(), filepath.Join(t.TempDir(), "ossgate.db"), o)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestPostgresEventBatches(t *testing.T) {
	postgresTestURL(t)
	runBatchSuite(t, func(t *testing.T, o Options) Store {
		s, err := OpenWithOptions(context.Background(), freshSchema(t), o)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// runBatchSuite: batched outcomes, the wake-up, and a lost mark.
func runBatchSuite(t *testing.T, open func(t *testing.T, o Options) Store) {
	ctx := context.Background()
	now := at(0).Add(time.Hour)
	openStore := func(t *testing.T, o Options) Store {
		t.Helper()
		s := open(t, o)
		t.Cleanup(func() { s.Close() })
		return s
	}
	insert := func(t *testing.T, s Store, n int) {
		t.Helper()
		for i := range n {
			if _, _, err := s.Insert(ctx, rec("b-"+string(rune('a'+i)), "alice", "uploads/b"+string(rune('a'+i)), at(i))); err != nil {
				t.Fatal(err)
			}
		}
	}

	t.Run("FinishAttemptsMixedBatch", func(t *testing.T) {
		s := openStore(t, Options{Events: true})
		insert(t, s, 4)
		evs, err := s.LeaseEvents(ctx, now, time.Minute, 10)
		if err != nil || len(evs) != 4 {
			t.Fatalf("LeaseEvents = %d events, %v; want 4", len(evs), err)
		}
		stale := evs[3]
		stale.Lease = "not-the-lease"
		done := now.Add(time.Second)
		recorded, err := s.FinishAttempts(ctx, []Finish{
			{evs[0], AttemptResult{At: done, Delivered: true, Status: 204}},
			{evs[1], AttemptResult{At: done, RetryAt: done.Add(time.Minute), Status: 503, Error: "HTTP 503"}},
			{evs[2], AttemptResult{At: done, Delivered: true, Status: 200}},
			{stale, AttemptResult{At: done, Delivered: true, Status: 200}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := []bool{true, true, true, false}; len(recorded) != 4 || recorded[0] != want[0] || recorded[1] != want[1] || recorded[2] != want[2] || recorded[3] != want[3] {
			t.Fatalf("recorded = %v, want %v", recorded, want)
		}
		byID := map[string]Event{}
		for _, ev := range allEvents(t, s) {
			byID[ev.ID] = ev
		}
		for i, want := range []struct {
			state  EventState
			status int
			lease  bool
		}{{EventDelivered, 204, false}, {EventPending, 503, false}, {EventDelivered, 200, false}, {EventPending, 0, true}} {
			ev := byID[evs[i].ID]
			if ev.State != want.state || ev.LastStatus != want.status || (ev.Lease != "") != want.lease {
				t.Errorf("event %d = %+v, want state %s, status %d, leased %v", i, ev, want.state, want.status, want.lease)
			}
		}
		if ev := byID[evs[0].ID]; !ev.FinishedAt.Equal(done) || ev.LastError != "" {
			t.Errorf("delivered event = %+v, want finished at %v", ev, done)
		}
		if ev := byID[evs[1].ID]; !ev.NextAttemptAt.Equal(done.Add(time.Minute)) || ev.LastError != "HTTP 503" || !ev.FinishedAt.IsZero() {
			t.Errorf("retried event = %+v", ev)
		}
		// FinishAttempt (one) still says when the lease was lost.
		if err := s.FinishAttempt(ctx, stale, AttemptResult{At: done, Delivered: true}); err != ErrLeaseLost {
			t.Errorf("FinishAttempt with a stale lease = %v, want ErrLeaseLost", err)
		}
	})

	t.Run("FinishAttemptsMoreThanOneStatement", func(t *testing.T) {
		s := openStore(t, Options{Events: true})
		n := maxFinishBatch + 7
		for i := range n {
			id := "m-" + time.Duration(i).String()
			if _, _, err := s.Insert(ctx, rec(id, "bob", "uploads/"+id, at(i))); err != nil {
				t.Fatal(err)
			}
		}
		var fs []Finish
		for len(fs) < n {
			evs, err := s.LeaseEvents(ctx, now, time.Minute, MaxListLimit)
			if err != nil || len(evs) == 0 {
				t.Fatalf("LeaseEvents: %d, %v", len(evs), err)
			}
			for _, ev := range evs {
				fs = append(fs, Finish{ev, AttemptResult{At: now, Delivered: true, Status: 204}})
			}
		}
		recorded, err := s.FinishAttempts(ctx, fs)
		if err != nil || len(recorded) != n {
			t.Fatalf("FinishAttempts: %d recorded, %v", len(recorded), err)
		}
		if got, err := s.Events(ctx, EventDelivered, MaxListLimit); err != nil || len(got) != n {
			t.Errorf("%d delivered (%v), want %d", len(got), err, n)
		}
	})

	t.Run("EventsWrittenWakes", func(t *testing.T) {
		s := openStore(t, Options{Events: true})
		select {
		case <-s.EventsWritten():
			t.Fatal("woken before any event was written")
		default:
		}
		insert(t, s, 1)
		select {
		case <-s.EventsWritten():
		default:
			t.Fatal("no wake-up after Insert wrote an event")
		}
		if _, err := s.Delete(ctx, "alice", "b-a"); err != nil {
			t.Fatal(err)
		}
		select {
		case <-s.EventsWritten():
		default:
			t.Fatal("no wake-up after Delete wrote an event")
		}
		off := openStore(t, Options{})
		insert(t, off, 1)
		select {
		case <-off.EventsWritten():
			t.Error("woken with events off")
		default:
		}
	})

	t.Run("LostMarkMeansRedelivery", func(t *testing.T) {
		// A worker that delivered but died before its mark was written
		// leaves the event leased; when the lease runs out it is leased
		// again (a duplicate delivery, which receivers dedupe), never lost.
		s := openStore(t, Options{Events: true})
		insert(t, s, 1)
		first, err := s.LeaseEvents(ctx, now, time.Minute, 10)
		if err != nil || len(first) != 1 {
			t.Fatalf("LeaseEvents = %v, %v", first, err)
		}
		if again, err := s.LeaseEvents(ctx, now.Add(59*time.Second), time.Minute, 10); err != nil || len(again) != 0 {
			t.Fatalf("leased again while the lease holds: %v, %v", again, err)
		}
		again, err := s.LeaseEvents(ctx, now.Add(61*time.Second), time.Minute, 10)
		if err != nil || len(again) != 1 || again[0].ID != first[0].ID || again[0].Attempts != 2 || again[0].Lease == first[0].Lease {
			t.Fatalf("after the lease ran out: %+v, %v; want the same event, attempt 2, a new lease", again, err)
		}
		// The first holder's late mark is refused; the new holder's counts.
		rec, err := s.FinishAttempts(ctx, []Finish{{first[0], AttemptResult{At: now, Delivered: true}}, {again[0], AttemptResult{At: now, Delivered: true}}})
		if err != nil || rec[0] || !rec[1] {
			t.Errorf("FinishAttempts = %v, %v; want [false true]", rec, err)
		}
	})
}
