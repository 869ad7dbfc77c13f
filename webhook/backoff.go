package webhook

import (
	"math/rand/v2"
	"time"
)

// Backoff is when a failed delivery is tried again.
type Backoff struct {
	// Steps are the waits after the first, second, … failed attempt. Once
	// they are used up the last one repeats until MinRetry has passed.
	Steps []time.Duration
	// MinRetry: an event is given up only when Steps are used up and it is
	// at least this old.
	MinRetry time.Duration
	// Jitter spreads each wait by up to ± this fraction, so that events
	// that failed together do not come back together.
	Jitter float64
}

// defaultSteps sum to 31 h 42 m 35 s: ≥ 24 h of retries with the default base.
var defaultSteps = []time.Duration{
	5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 8 * time.Hour, 8 * time.Hour,
}

// DefaultBase is the first wait of DefaultBackoff.
const DefaultBase = 5 * time.Second

// DefaultBackoff is ossgate's schedule: 5 s, 30 s, 2 m, 10 m, 30 m, 1 h, 2 h,
// 4 h, 8 h, 8 h, 8 h (12 attempts over about 32 hours), ±10%.
func DefaultBackoff() Backoff { return ScaledBackoff(DefaultBase) }

// ScaledBackoff is DefaultBackoff's shape with first wait base instead of
// 5 s (tests use milliseconds). However short base is, events are still
// retried for at least 24 hours before they are given up.
func ScaledBackoff(base time.Duration) Backoff {
	steps := make([]time.Duration, len(defaultSteps))
	for i, d := range defaultSteps {
		steps[i] = time.Duration(float64(d) * float64(base) / float64(DefaultBase))
	}
	return Backoff{Steps: steps, MinRetry: 24 * time.Hour, Jitter: 0.1}
}

// Next says when to try again after failed attempt number attempt (1 for
// the first) of an event age old; ok is false when it is given up.
func (b Backoff) Next(attempt int, age time.Duration) (wait time.Duration, ok bool) {
	if len(b.Steps) == 0 {
		return 0, false
	}
	if attempt > len(b.Steps) && age >= b.MinRetry {
		return 0, false
	}
	wait = b.Steps[min(max(attempt, 1), len(b.Steps))-1]
	if b.Jitter > 0 {
		wait = time.Duration(float64(wait) * (1 + b.Jitter*(2*rand.Float64()-1)))
	}
	return wait, true
}

// Total is the sum of Steps without jitter: how long an event that always
// fails is retried, when that is at least MinRetry.
func (b Backoff) Total() time.Duration {
	var t time.Duration
	for _, d := range b.Steps {
		t += d
	}
	return t
}
