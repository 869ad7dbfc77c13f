package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sqlitePlan is EXPLAIN QUERY PLAN of query, one line per step.
func sqlitePlan(t *testing.T, db *sql.DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.Query(`EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}

// TestSQLiteEventIndexes: after migration 005 no index holds every event
// (each one is a page more in every group commit), and what read
// webhook_events_state uses a partial index instead of a scan.
func TestSQLiteEventIndexes(t *testing.T) {
	s := openSQLiteTest(t, filepath.Join(t.TempDir(), "ossgate.db"))
	defer s.Close()
	var n int
	if err := s.b.read.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'webhook_events_state'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("webhook_events_state: %d (%v), want it dropped", n, err)
	}
	for _, tt := range []struct {
		name, query string
		args        []any
		index       string
	}{
		{"prune", `DELETE FROM webhook_events WHERE id IN (
			SELECT id FROM webhook_events WHERE state = 'delivered' AND finished_at < ? LIMIT ?)`, []any{1, 10}, "webhook_events_delivered"},
		{"retry failed", `UPDATE webhook_events SET state = 'pending' WHERE state = 'failed'`, nil, "webhook_events_failed"},
		{"list failed", `SELECT ` + eventColumns + ` FROM webhook_events
			WHERE state = ? ORDER BY created_at DESC, id DESC LIMIT ?`, []any{"failed", 10}, "webhook_events_failed"},
		{"pending count", `SELECT count(*) FROM webhook_events WHERE state = 'pending'`, nil, "webhook_events_due"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := sqlitePlan(t, s.b.write, tt.query, tt.args...); !strings.Contains(got, "INDEX "+tt.index) {
				t.Errorf("plan:\n%s\nwant %s", got, tt.index)
			}
		})
	}
}

// TestPostgresEventIndexes: migration 005 on Postgres.
func TestPostgresEventIndexes(t *testing.T) {
	postgresTestURL(t)
	ctx := context.Background()
	s, err := OpenWithOptions(ctx, freshSchema(t), Options{Events: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pg := s.(checked[*postgresStore]).b
	rows, err := pg.pool.Query(ctx, `SELECT indexname FROM pg_indexes WHERE tablename = 'webhook_events' AND schemaname = current_schema() ORDER BY indexname`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	rows.Close()
	if got, want := strings.Join(names, " "), "webhook_events_delivered webhook_events_due webhook_events_failed webhook_events_pkey"; got != want {
		t.Errorf("indexes = %s, want %s", got, want)
	}
}

// TestSQLiteFinishDeliveredClasses: delivered batches of every size, padded
// to the prepared classes or split past the last, mark exactly their
// events, not the others leased beside them, and report a stale lease.
func TestSQLiteFinishDeliveredClasses(t *testing.T) {
	ctx := context.Background()
	s := openSQLiteEvents(t)
	for i, p := range s.b.prepared.all() {
		if *p == nil {
			t.Fatalf("writer statement %d not prepared at open", i)
		}
	}
	sizes := []int{1, 2, 3, 8, 9, 100, 256, 300}
	total := 0
	for _, n := range sizes {
		total += n + 1 // one more, left leased
	}
	for i := range total {
		id := fmt.Sprintf("c%04d", i)
		if _, _, err := s.Insert(ctx, rec(id, "alice", "uploads/"+id, at(i))); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().Add(time.Minute)
	var leased []Event
	for len(leased) < total {
		evs, err := s.LeaseEvents(ctx, now, time.Hour, MaxListLimit)
		if err != nil || len(evs) == 0 {
			t.Fatalf("LeaseEvents: %d, %v", len(evs), err)
		}
		leased = append(leased, evs...)
	}
	want := map[string]EventState{}
	for _, n := range sizes {
		batch, rest := leased[:n], leased[n+1:]
		want[leased[n].ID] = EventPending // leased, not finished
		items := make([]finishItem, n)
		for i, ev := range batch {
			items[i] = finishItem{id: ev.ID, lease: ev.Lease, state: EventDelivered, r: AttemptResult{At: now, Delivered: true, Status: 204}}
			want[ev.ID] = EventDelivered
		}
		items[n/2].lease = "stale" // its mark must be refused
		want[batch[n/2].ID] = EventPending
		oks, err := s.b.finishAttempts(ctx, items)
		if err != nil {
			t.Fatalf("%d: %v", n, err)
		}
		for i, ok := range oks {
			if ok != (i != n/2) {
				t.Errorf("batch of %d: recorded[%d] = %v", n, i, ok)
			}
		}
		leased = rest
	}
	rows, err := s.b.read.Query(`SELECT id, state FROM webhook_events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := 0
	for rows.Next() {
		var id, state string
		if err := rows.Scan(&id, &state); err != nil {
			t.Fatal(err)
		}
		got++
		if EventState(state) != want[id] {
			t.Errorf("%s is %s, want %s", id, state, want[id])
		}
	}
	if got != total {
		t.Errorf("%d events, want %d", got, total)
	}
}

func TestDeliveredClass(t *testing.T) {
	for _, tt := range []struct{ n, class int }{{1, 1}, {2, 2}, {3, 4}, {64, 64}, {65, 128}, {256, 256}, {257, 256}, {1000, 256}} {
		if got := deliveredClasses[deliveredClass(tt.n)]; got != tt.class {
			t.Errorf("class of %d = %d, want %d", tt.n, got, tt.class)
		}
	}
}
