package main

import (
	"strings"
	"testing"
	"time"
)

// TestPacedWebhookVerdicts: the paced phase adds its rows, PASS when
// delivery kept up with the callbacks and MISS when it did not.
func TestPacedWebhookVerdicts(t *testing.T) {
	for _, c := range []struct {
		name      string
		delivered int // of 1000 answered, during the 1 s slice
		want      string
	}{
		{"kept up", 990, "PASS"},
		{"fell behind", 500, "MISS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &report{
				Phases: []phaseResult{
					{ID: phasePacedCallback, Requests: 1000, RPS: 1000, P50: time.Millisecond, P99: 3 * time.Millisecond},
					{ID: phasePacedCallbackHooks, Requests: 1000, RPS: 1000, P50: 2 * time.Millisecond, P99: 4 * time.Millisecond},
				},
				Webhooks: &hookReport{Answered: 1, Delivered: 1, CallbackTime: time.Second, DuringSlices: 1,
					Paced: &pacedReport{Load: 0.5, Rate: 1000, hookReport: &hookReport{Answered: 1000, Delivered: 1000,
						CallbackTime: time.Second, DuringSlices: c.delivered, MaxSliceDrain: 100 * time.Millisecond}}},
			}
			var row, lat string
			for _, v := range r.webhookVerdicts() {
				if strings.HasPrefix(v.Target, "paced callbacks (50% of max): delivery rate") {
					row = v.Status
				}
				if strings.HasPrefix(v.Target, "paced callbacks: latency") {
					lat = v.Measured
				}
			}
			if row != c.want {
				t.Errorf("paced delivery verdict = %q, want %q", row, c.want)
			}
			if want := "p50 2.00ms vs 1.00ms, p99 4.00ms vs 3.00ms (on vs off)"; lat != want {
				t.Errorf("paced latency row = %q, want %q", lat, want)
			}
			var b strings.Builder
			r.Webhooks.markdown(&b)
			if !strings.Contains(b.String(), "callbacks paced at 1000/s (50% of the max without webhooks)") {
				t.Errorf("markdown lacks the paced table:\n%s", b.String())
			}
		})
	}
}
