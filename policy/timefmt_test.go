package policy

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestTimeFormats(t *testing.T) {
	times := []time.Time{
		time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC),
		time.Date(2025, 1, 1, 0, 0, 59, 999_999_999, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 1_000_000, time.FixedZone("x", -5*3600)),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	r := rand.New(rand.NewPCG(7, 8))
	for range 1000 {
		times = append(times, time.Unix(r.Int64N(1<<36), r.Int64N(1e9)))
	}
	for _, tm := range times {
		if got, want := string(appendExpiration(nil, tm)), tm.UTC().Format(expirationLayout); got != want {
			t.Errorf("appendExpiration(%v) = %s, want %s", tm, got, want)
		}
		if got, want := string(appendXOSSDate(nil, tm)), tm.UTC().Format(dateLayout); got != want {
			t.Errorf("appendXOSSDate(%v) = %s, want %s", tm, got, want)
		}
	}
}
