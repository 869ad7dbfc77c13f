package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestRatio(t *testing.T) {
	cases := []struct {
		name string
		a, b float64
		want float64 // NaN: not computable
	}{
		{"plain", 800, 1000, 0.8},
		{"above one", 3000, 1500, 2},
		{"zero numerator", 0, 10, 0},
		{"zero denominator", 10, 0, math.NaN()},
		{"missing numerator", math.NaN(), 10, math.NaN()},
		{"missing denominator", 10, math.NaN(), math.NaN()},
		{"negative", -1, 10, math.NaN()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ratio(c.a, c.b)
			if math.IsNaN(c.want) != math.IsNaN(got) || (!math.IsNaN(c.want) && math.Abs(got-c.want) > 1e-9) {
				t.Errorf("ratio(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
			}
		})
	}
}

// fullReport is a run where every target passes, to be spoiled by cases.
func fullReport() *report {
	return &report{
		Started: time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC),
		Machine: machine{CPUs: 2, CPUModel: "Test CPU", GoVersion: "go1.26.8", OS: "linux", Arch: "amd64", GOMAXPROCS: 2},
		Phases: []phaseResult{
			{ID: phaseHealthz, Label: "healthz", Conns: 64, Requests: 100000, RPS: 10000, CPUPerReq: 50 * time.Microsecond, P50: 3 * time.Millisecond, P99: 9 * time.Millisecond, Max: 20 * time.Millisecond},
			{ID: phasePolicy, Label: "policy", Conns: 64, Requests: 90000, RPS: 9000, CPUPerReq: 80 * time.Microsecond, P50: time.Millisecond, P99: 4 * time.Millisecond, Max: 12 * time.Millisecond},
			{ID: phaseBaseline, Label: "baseline", Conns: 64, Requests: 120000, RPS: 12000, Errors: 3, Codes: map[string]int{"200": 119997, "0": 3}},
			{ID: phaseCallback, Label: "callback", Conns: 64, Requests: 50000, RPS: 5000},
			{ID: phasePaced, Label: "paced", Conns: 64, Rate: 4500, Requests: 45000, RPS: 4500, P99: 2 * time.Millisecond},
		},
		OSSGateRSS: 30 << 20,
	}
}

func statusOf(t *testing.T, r *report, prefix string) verdict {
	t.Helper()
	for _, v := range r.verdicts() {
		if strings.HasPrefix(v.Target, prefix) {
			return v
		}
	}
	t.Fatalf("no verdict starting %q in %+v", prefix, r.verdicts())
	return verdict{}
}

func TestVerdicts(t *testing.T) {
	type check struct{ prefix, status string }
	cases := []struct {
		name   string
		spoil  func(*report)
		checks []check
	}{
		{
			name:  "all pass; baseline errors do not count",
			spoil: func(*report) {},
			checks: []check{
				{"policy rps", "PASS"}, {"callback rps", "PASS"}, {"zero errors", "PASS"},
				{"policy p99 < 5ms at 64 conns, max", "PASS"}, {"policy p99 < 5ms at 64 conns, paced", "PASS"},
				{"ossgate peak RSS", "PASS"},
			},
		},
		{
			name:   "policy exactly 0.8 of healthz passes",
			spoil:  func(r *report) { r.Phases[1].RPS = 8000 },
			checks: []check{{"policy rps", "PASS"}},
		},
		{
			name:   "policy just under 0.8 of healthz misses",
			spoil:  func(r *report) { r.Phases[1].RPS = 7999 },
			checks: []check{{"policy rps", "MISS"}},
		},
		{
			name:   "slow callbacks miss",
			spoil:  func(r *report) { r.Phases[3].RPS = 4000 },
			checks: []check{{"callback rps", "MISS"}, {"policy rps", "PASS"}},
		},
		{
			name:   "one ossgate error misses",
			spoil:  func(r *report) { r.Phases[3].Errors = 1 },
			checks: []check{{"zero errors", "MISS"}},
		},
		{
			name:   "p99 of exactly 5ms misses",
			spoil:  func(r *report) { r.Phases[1].P99 = 5 * time.Millisecond },
			checks: []check{{"policy p99 < 5ms at 64 conns, max", "MISS"}, {"policy p99 < 5ms at 64 conns, paced", "PASS"}},
		},
		{
			name:   "paced p99 judged on its own",
			spoil:  func(r *report) { r.Phases[4].P99 = 6 * time.Millisecond },
			checks: []check{{"policy p99 < 5ms at 64 conns, max", "PASS"}, {"policy p99 < 5ms at 64 conns, paced", "MISS"}},
		},
		{
			name:   "p99 at other than 64 conns is not judged",
			spoil:  func(r *report) { r.Phases[1].Conns = 16 },
			checks: []check{{"policy p99 < 5ms at 64 conns, max", "N/A"}},
		},
		{
			name: "a -rate run judges no throughput ratio, and its policy phase as the paced one",
			spoil: func(r *report) {
				r.Phases = r.Phases[:4]
				for i := range r.Phases {
					r.Phases[i].Rate = 500
				}
				r.Phases[1].P99 = 6 * time.Millisecond
			},
			checks: []check{
				{"policy rps", "N/A"}, {"callback rps", "N/A"},
				{"policy p99 < 5ms at 64 conns, max", "N/A"}, {"policy p99 < 5ms at 64 conns, paced", "MISS"},
			},
		},
		{
			name:   "no paced phase is not a pass",
			spoil:  func(r *report) { r.Phases = r.Phases[:4] },
			checks: []check{{"policy p99 < 5ms at 64 conns, paced", "N/A"}},
		},
		{
			name:   "RSS of 60 MiB misses",
			spoil:  func(r *report) { r.OSSGateRSS = 60 << 20 },
			checks: []check{{"ossgate peak RSS", "MISS"}},
		},
		{
			name:   "unknown RSS is not a pass",
			spoil:  func(r *report) { r.OSSGateRSS = 0 },
			checks: []check{{"ossgate peak RSS", "N/A"}},
		},
		{
			name:   "missing callback phase is not a pass",
			spoil:  func(r *report) { r.Phases = append(r.Phases[:3], r.Phases[4]) },
			checks: []check{{"callback rps", "N/A"}, {"policy rps", "PASS"}},
		},
		{
			name:   "a phase with no requests is not measured",
			spoil:  func(r *report) { r.Phases[0].Requests = 0 },
			checks: []check{{"policy rps", "N/A"}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := fullReport()
			c.spoil(r)
			for _, ch := range c.checks {
				if v := statusOf(t, r, ch.prefix); v.Status != ch.status {
					t.Errorf("%s: got %s (%s), want %s", ch.prefix, v.Status, v.Measured, ch.status)
				}
			}
		})
	}
}

func TestMarkdown(t *testing.T) {
	r := fullReport()
	r.Phases[1].RPS = 7000 // policy / healthz 0.70: MISS
	r.Command = "go run ./cmd/loadtest -duration 10s"
	md := r.markdown()
	for _, want := range []string{
		"Command: `go run ./cmd/loadtest -duration 10s`",
		"2 CPU (Test CPU)",
		"| phase | conns | rate | requests | rps | p50 | p99 | max | errors |",
		"| policy | 64 | max | 90000 | 7000 | 1.00ms | 4.00ms | 12.0ms | 0 | 80µs |",
		"| healthz | 64 | max | 100000 | 10000 | 3.00ms | 9.00ms | 20.0ms | 0 | 50µs |",
		"| policy / healthz | 0.70 | 0.62 |",
		"| callback / policy | 0.71 | n/a |",
		"| ossgate policy / baseline policy | 0.58 | n/a |",
		"| policy rps ≥ 0.8 × healthz rps | 0.70× | MISS |",
		"| callback rps ≥ 0.5 × policy rps | 0.71× | PASS |",
		"| ossgate peak RSS < 60 MiB | 30.0 MiB | PASS |",
		"| policy p99 < 5ms at 64 conns, max throughput | 4.00ms at 7000/s | PASS |",
		"| policy p99 < 5ms at 64 conns, paced | 2.00ms at 4500/s | PASS |",
		"| paced | 64 | 4500/s | 45000 | 4500 | - | 2.00ms | - | 0 | - |",
		"baseline: status codes 0×3 200×119997",
		"ossgate 30.0 MiB",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Count(md, "| PASS |")+strings.Count(md, "| MISS |")+strings.Count(md, "| N/A |") != 8 {
		t.Errorf("want 8 verdict rows:\n%s", md)
	}
}

// TestYardsticks: the issue-17 targets and the ratios to the floor, which
// exist only when the floor and the sample server were measured.
func TestYardsticks(t *testing.T) {
	r := fullReport()
	r.Phases[2].Errors = 0
	if v := statusOf(t, r, "policy rps ≥ 0.6 × sample"); v.Status != "N/A" {
		t.Errorf("no sample phase: %+v, want N/A", v)
	}
	r.Phases = append(r.Phases,
		phaseResult{ID: phaseFloor, Label: "floor", Conns: 64, Requests: 300000, RPS: 30000, CPUPerReq: 20 * time.Microsecond},
		phaseResult{ID: phaseSample, Label: "sample", Conns: 64, Requests: 150000, RPS: 15000, CPUPerReq: 40 * time.Microsecond, Errors: 9})
	for _, c := range []struct {
		policyRPS float64
		baseline  string
		sample    string
	}{{12000, "PASS", "PASS"}, {11999, "MISS", "PASS"}, {8999, "MISS", "MISS"}, {9000, "MISS", "PASS"}} {
		r.Phases[1].RPS = c.policyRPS
		if v := statusOf(t, r, "policy rps ≥ 1.0 × baseline"); v.Status != c.baseline {
			t.Errorf("policy %v rps: baseline verdict %+v, want %s", c.policyRPS, v, c.baseline)
		}
		if v := statusOf(t, r, "policy rps ≥ 0.6 × sample"); v.Status != c.sample {
			t.Errorf("policy %v rps: sample verdict %+v, want %s", c.policyRPS, v, c.sample)
		}
	}
	if v := statusOf(t, r, "zero errors"); v.Status != "PASS" {
		t.Errorf("errors of the yardsticks count against ossgate: %+v", v)
	}
	md := r.markdown()
	for _, want := range []string{"| policy / floor | 0.30 | 0.25 |", "| healthz / floor | 0.33 | 0.40 |",
		"| sample / floor | 0.50 | 0.50 |", "| ossgate policy / sample /token | 0.60 | 0.50 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "paced / floor") || strings.Contains(md, "floor / floor") {
		t.Errorf("paced or floor compared with the floor:\n%s", md)
	}
}

func TestFmtDur(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{0, "-"},
		{420 * time.Microsecond, "420µs"},
		{1234 * time.Microsecond, "1.23ms"},
		{12345 * time.Microsecond, "12.3ms"},
		{1500 * time.Millisecond, "1.50s"},
	}
	for _, c := range cases {
		if got := fmtDur(c.d); got != c.want {
			t.Errorf("fmtDur(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestParseGoMemory(t *testing.T) {
	text := `# HELP go_memstats_sys_bytes Number of bytes obtained from system.
# TYPE go_memstats_sys_bytes gauge
go_memstats_sys_bytes 2.5e+07
go_memstats_heap_inuse_bytes 8.388608e+06
go_memstats_heap_objects 1234
go_goroutines 17
ossgate_http_requests_total{code="200"} 5
`
	got := parseGoMemory(text)
	want := map[string]float64{"go_memstats_sys_bytes": 25e6, "go_memstats_heap_inuse_bytes": 8388608, "go_goroutines": 17}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}
