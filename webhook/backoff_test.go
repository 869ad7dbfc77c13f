package webhook

import (
	"testing"
	"time"
)

func TestDefaultBackoffRetriesForADay(t *testing.T) {
	b := DefaultBackoff()
	if total := b.Total(); total < 24*time.Hour {
		t.Errorf("default schedule retries for %v, want at least 24h", total)
	}
	if b.Steps[0] != 5*time.Second || b.Steps[len(b.Steps)-1] != 8*time.Hour {
		t.Errorf("steps = %v", b.Steps)
	}
	for i := 1; i < len(b.Steps); i++ {
		if b.Steps[i] < b.Steps[i-1] {
			t.Errorf("step %d (%v) shorter than step %d (%v)", i, b.Steps[i], i-1, b.Steps[i-1])
		}
	}
}

func TestBackoffNext(t *testing.T) {
	b := Backoff{Steps: []time.Duration{time.Second, time.Minute}, MinRetry: time.Hour}
	tests := []struct {
		name     string
		attempt  int
		age      time.Duration
		wantWait time.Duration
		wantOK   bool
	}{
		{"first failure", 1, 0, time.Second, true},
		{"second failure", 2, time.Second, time.Minute, true},
		{"steps used up, young: last step again", 3, 2 * time.Minute, time.Minute, true},
		{"steps used up, old enough: give up", 3, time.Hour, 0, false},
		{"within steps, old: still retried", 2, 2 * time.Hour, time.Minute, true},
		{"attempt 0 is taken as 1", 0, 0, time.Second, true},
	}
	for _, tt := range tests {
		wait, ok := b.Next(tt.attempt, tt.age)
		if wait != tt.wantWait || ok != tt.wantOK {
			t.Errorf("%s: Next(%d, %v) = %v, %v; want %v, %v", tt.name, tt.attempt, tt.age, wait, ok, tt.wantWait, tt.wantOK)
		}
	}
	if _, ok := (Backoff{}).Next(1, 0); ok {
		t.Error("a Backoff without steps retries")
	}
}

// However short the base, an event is retried for 24 hours.
func TestScaledBackoffStillRetriesForADay(t *testing.T) {
	b := ScaledBackoff(10 * time.Millisecond)
	if b.Steps[0] != 10*time.Millisecond {
		t.Fatalf("first step %v, want 10ms", b.Steps[0])
	}
	if _, ok := b.Next(len(b.Steps)+5, 23*time.Hour); !ok {
		t.Error("given up at 23h")
	}
	if _, ok := b.Next(len(b.Steps)+1, 24*time.Hour); ok {
		t.Error("still retried after the steps and 24h")
	}
}

func TestBackoffJitter(t *testing.T) {
	b := Backoff{Steps: []time.Duration{10 * time.Second}, Jitter: 0.1}
	seen := map[time.Duration]bool{}
	for range 200 {
		wait, _ := b.Next(1, 0)
		if wait < 9*time.Second || wait > 11*time.Second {
			t.Fatalf("wait %v outside 10s ±10%%", wait)
		}
		seen[wait] = true
	}
	if len(seen) < 50 {
		t.Errorf("only %d distinct waits in 200: no jitter", len(seen))
	}
}
