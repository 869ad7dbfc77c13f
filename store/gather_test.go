package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestArrivalsPlan(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	// steady: n records per transaction, one transaction every every.
	steady := func(n int, every time.Duration) func(*arrivals) time.Time {
		return func(a *arrivals) time.Time {
			now := t0
			for range 40 {
				a.observe(now, n)
				now = now.Add(every)
			}
			return now.Add(-every).Add(every / 2) // the next record, mid-cycle
		}
	}
	tests := []struct {
		name       string
		feed       func(*arrivals) time.Time // returns when plan is asked
		wantExpect int
		wantGap    time.Duration
	}{
		{"nothing seen yet", func(*arrivals) time.Time { return t0 }, 0, 0},
		{"one record every 2 ms", steady(1, 2*time.Millisecond), 0, 0},
		{"4000 records a second", steady(2, 500*time.Microsecond), 4, 500 * time.Microsecond},
		{"10000 records a second", steady(10, time.Millisecond), 10, 200 * time.Microsecond},
		{"1500 a second: the gap is capped at the window", steady(3, 2*time.Millisecond), 1, gatherWindow},
		{"a burst that ended 10 ms ago", func(a *arrivals) time.Time {
			steady(10, time.Millisecond)(a)
			return a.last.Add(10 * time.Millisecond)
		}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a arrivals
			now := tt.feed(&a)
			expect, gap := a.plan(now)
			// The smoothed rate converges on the true one from below.
			if expect != tt.wantExpect && expect != tt.wantExpect-1 {
				t.Errorf("expect = %d, want %d (rate %.0f/s)", expect, tt.wantExpect, a.rate)
			}
			if d := gap - tt.wantGap; d < -tt.wantGap/50 || d > tt.wantGap/50 {
				t.Errorf("gap = %v, want %v (rate %.0f/s)", gap, tt.wantGap, a.rate)
			}
		})
	}
}

// TestSQLiteGroupCommitPaced: records that arrive one at a time, but
// faster than one per gatherWindow, share transactions. Without the wait,
// each commit here held one record (an fsync takes about 0.2 ms on the
// development machine, less than the 0.25 ms between records).
func TestSQLiteGroupCommitPaced(t *testing.T) {
	ctx := context.Background()
	s := openSQLiteEvents(t)
	const n, every = 400, 250 * time.Microsecond // 4000 a second for 0.1 s
	before := s.b.txs.Load()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := time.Now()
	for i := range n {
		// Sleeping to each record's time (not by a fixed step) keeps the
		// rate when the machine is slow: late records go out at once.
		time.Sleep(time.Until(start.Add(time.Duration(i) * every)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("p%03d", i)
			if _, _, err := s.Insert(ctx, rec(id, "alice", "uploads/"+id, at(i))); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got, _ := s.PendingEvents(ctx); got != n {
		t.Fatalf("%d events pending, want %d", got, n)
	}
	txs := s.b.txs.Load() - before
	if txs > n/2 {
		t.Errorf("%d records at %v intervals took %d transactions; want at most %d", n, every, txs, n/2)
	}
	t.Logf("%d records in %v, %d transactions", n, time.Since(start).Round(time.Millisecond), txs)
}
