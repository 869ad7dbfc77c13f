package main

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Phase ids: the rows the ratios and targets are computed from.
const (
	phaseHealthz  = "healthz"
	phasePolicy   = "policy"
	phaseBaseline = "baseline"
	phaseCallback = "callback"
	phasePaced    = "policy-paced"
	phaseFloor    = "floor"
	// phaseFloorSized is the floor answering as many bytes as ossgate's
	// policy answer: what net/http and the kernel cost for that answer.
	phaseFloorSized = "floor-sized"
	phaseSample     = "sample"
)

// The targets of the "Prove speed" issue.
const (
	targetPolicyPerHealthz  = 0.8
	targetCallbackPerPolicy = 0.5
	targetPolicyP99         = 5 * time.Millisecond
	targetP99Conns          = 64
	targetRSSBytes          = 60 << 20
	// Issue 17: the policy endpoint against the yardsticks, in one run.
	targetPolicyPerBaseline = 1.0
	targetPolicyPerSample   = 0.6
)

// phaseResult is one timed phase, measured by vegeta.
type phaseResult struct {
	ID       string        // one of the phase ids
	Label    string        // what the table shows
	Conns    int           // concurrent connections (= workers)
	Rate     int           // requests/s asked for; 0 = as fast as possible
	Requests uint64        // responses and transport errors counted
	Errors   uint64        // non-2xx answers + transport errors
	Duration time.Duration // first request sent .. last answer received
	RPS      float64       // successful answers per second of Duration
	P50, P99 time.Duration
	Max      time.Duration
	// CPUPerReq is the server process's CPU time (user+system, from
	// /proc/PID/stat, 10ms ticks) during the phase divided by its requests:
	// unlike rps, hardly moved by other processes competing for the cores.
	CPUPerReq time.Duration
	Codes     map[string]int // status code -> count ("0" = transport error)
	Samples   []string       // a few error messages, for diagnosis
	Note      string         // e.g. "ran out of callbacks after 6.2s"
}

// machine describes where the run happened.
type machine struct {
	CPUs       int
	CPUModel   string
	GoVersion  string
	OS, Arch   string
	GOMAXPROCS int
	Kernel     string
	Placement  string // where the servers and the generator ran
}

// report is everything one run measured.
type report struct {
	Machine     machine
	Started     time.Time
	Command     string
	Settings    []string // one line each: load, warm-up, server config
	Phases      []phaseResult
	OSSGateRSS  int64 // VmHWM of the ossgate child, bytes; 0 = unknown
	BaselineRSS int64 // VmHWM of the baseline child, bytes; 0 = unknown
	// OSSGateGoMem is the Go runtime's view at the end (from /metrics):
	// what of the RSS is Go's heap and stacks, and what is not (SQLite's
	// allocator, binary, C-like mmaps).
	OSSGateGoMem map[string]float64
	// Webhooks is set by a -webhooks run: delivery, and the phases of the
	// child with webhooks on.
	Webhooks *hookReport
}

func (r *report) phase(id string) (phaseResult, bool) {
	for _, p := range r.Phases {
		if p.ID == id {
			return p, true
		}
	}
	return phaseResult{}, false
}

// ratio is a/b, or NaN when either side was not measured or b is 0.
func ratio(a, b float64) float64 {
	if b <= 0 || a < 0 || math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	return a / b
}

// namedRatio is a ratio of two phases' throughputs.
type namedRatio struct {
	Name  string
	Value float64 // measured rps a / rps b; NaN when a side is missing
	ByCPU float64 // server CPU per request b / a; NaN when unknown
}

func (r *report) rps(id string) float64 {
	if p, ok := r.phase(id); ok && p.Requests > 0 {
		return p.RPS
	}
	return math.NaN()
}

func (r *report) cpuPerReq(id string) float64 {
	if p, ok := r.phase(id); ok && p.Requests > 0 && p.CPUPerReq > 0 {
		return float64(p.CPUPerReq)
	}
	return math.NaN()
}

// ratios are the throughput ratios the issue asks for, all from this run:
// measured rps, and the rps the server's CPU time per request allows (what
// the ratio would be if the server had the cores to itself).
func (r *report) ratios() []namedRatio {
	pair := func(name, a, b string) namedRatio {
		return namedRatio{name, ratio(r.rps(a), r.rps(b)), ratio(r.cpuPerReq(b), r.cpuPerReq(a))}
	}
	out := []namedRatio{
		pair("policy / healthz", phasePolicy, phaseHealthz),
		pair("callback / policy", phaseCallback, phasePolicy),
		pair("ossgate policy / baseline policy", phasePolicy, phaseBaseline),
	}
	if _, ok := r.phase(phaseFloorSized); ok {
		out = append(out, pair("ossgate policy / floor at its answer size", phasePolicy, phaseFloorSized),
			pair("baseline policy / floor at ossgate's answer size", phaseBaseline, phaseFloorSized))
	}
	if _, ok := r.phase(phaseSample); ok {
		out = append(out, pair("ossgate policy / sample /token", phasePolicy, phaseSample))
	}
	if _, ok := r.phase(phaseFloor); ok {
		for _, p := range r.Phases {
			if p.ID != phaseFloor && p.ID != phasePaced && p.ID != phaseFloorSized {
				out = append(out, pair(p.ID+" / floor", p.ID, phaseFloor))
			}
		}
	}
	return out
}

// verdict is one target's outcome.
type verdict struct {
	Target   string
	Measured string
	Status   string // PASS, MISS or N/A
}

func passMiss(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

// verdicts checks the targets against the report. A target whose
// inputs were not measured is N/A, never PASS.
func (r *report) verdicts() []verdict {
	var out []verdict
	// Throughput ratios mean something only when both phases ran as fast as
	// they could: paced phases all reach the same rate.
	paced := func(id string) bool { p, ok := r.phase(id); return ok && p.Rate > 0 }
	ratioVerdict := func(target, a, b string, min float64) {
		v := ratio(r.rps(a), r.rps(b))
		switch {
		case paced(a) || paced(b):
			out = append(out, verdict{target, "paced run: measure with -rate 0", "N/A"})
		case math.IsNaN(v):
			out = append(out, verdict{target, "not measured", "N/A"})
		default:
			out = append(out, verdict{target, fmt.Sprintf("%.2f×", v), passMiss(v >= min)})
		}
	}
	ratioVerdict(fmt.Sprintf("policy rps ≥ %.1f × healthz rps", targetPolicyPerHealthz), phasePolicy, phaseHealthz, targetPolicyPerHealthz)
	ratioVerdict(fmt.Sprintf("callback rps ≥ %.1f × policy rps", targetCallbackPerPolicy), phaseCallback, phasePolicy, targetCallbackPerPolicy)
	ratioVerdict(fmt.Sprintf("policy rps ≥ %.1f × baseline rps", targetPolicyPerBaseline), phasePolicy, phaseBaseline, targetPolicyPerBaseline)
	ratioVerdict(fmt.Sprintf("policy rps ≥ %.1f × sample /token rps", targetPolicyPerSample), phasePolicy, phaseSample, targetPolicyPerSample)

	out = append(out, r.errorsVerdict())

	// p99 at 64 connections, judged twice: saturated (64 requests always in
	// flight, so p99 >= 64/rps by Little's law) and paced below saturation.
	// In a -rate run the policy phase itself is the paced one.
	pacedID := phasePaced
	if paced(phasePolicy) {
		pacedID = phasePolicy
	}
	for _, c := range []struct {
		id, how string
		paced   bool
	}{{phasePolicy, "max throughput", false}, {pacedID, "paced", true}} {
		target := fmt.Sprintf("policy p99 < %v at %d conns, %s", targetPolicyP99, targetP99Conns, c.how)
		if p, ok := r.phase(c.id); ok && p.Requests > 0 && p.Conns == targetP99Conns && (p.Rate > 0) == c.paced {
			measured := fmtDur(p.P99)
			if p.Rate > 0 {
				measured += fmt.Sprintf(" at %d/s", p.Rate)
			} else {
				measured += fmt.Sprintf(" at %.0f/s", p.RPS)
			}
			out = append(out, verdict{target, measured, passMiss(p.P99 < targetPolicyP99)})
		} else {
			out = append(out, verdict{target, fmt.Sprintf("not measured at %d conns", targetP99Conns), "N/A"})
		}
	}

	out = append(out, r.rssVerdict())
	return out
}

// errorsVerdict: no errors in any ossgate phase (the yardsticks not counted).
func (r *report) errorsVerdict() verdict {
	var errs, reqs uint64
	var where []string
	for _, p := range r.Phases {
		if p.ID == phaseBaseline || p.ID == phaseFloor || p.ID == phaseFloorSized || p.ID == phaseSample {
			continue // the yardsticks, not ossgate
		}
		reqs += p.Requests
		errs += p.Errors
		if p.Errors > 0 {
			where = append(where, fmt.Sprintf("%s %d", p.ID, p.Errors))
		}
	}
	switch {
	case reqs == 0:
		return verdict{"zero errors (ossgate phases)", "no requests", "N/A"}
	case errs == 0:
		return verdict{"zero errors (ossgate phases)", fmt.Sprintf("0 of %d", reqs), "PASS"}
	default:
		return verdict{"zero errors (ossgate phases)",
			fmt.Sprintf("%d of %d (%s)", errs, reqs, strings.Join(where, ", ")), "MISS"}
	}
}

// rssVerdict: ossgate's peak RSS.
func (r *report) rssVerdict() verdict {
	rssTarget := fmt.Sprintf("ossgate peak RSS < %d MiB", targetRSSBytes>>20)
	if r.OSSGateRSS > 0 {
		return verdict{rssTarget, fmtMiB(r.OSSGateRSS), passMiss(r.OSSGateRSS < targetRSSBytes)}
	}
	return verdict{rssTarget, "not measured", "N/A"}
}

// fmtDur prints a latency with a precision that suits its size.
func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

func fmtMiB(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func fmtRatio(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", v)
}

func fmtCodes(codes map[string]int) string {
	keys := make([]string, 0, len(codes))
	for k := range codes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s×%d", k, codes[k]))
	}
	return strings.Join(parts, " ")
}

// markdown renders the report: machine, settings, the table, ratios,
// memory and the targets with PASS/MISS.
func (r *report) markdown() string {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "## ossgate load test, %s\n\n", r.Started.UTC().Format("2006-01-02 15:04 MST"))
	if r.Command != "" {
		fmt.Fprintf(&b, "Command: `%s`\n\n", r.Command)
	}
	placement := m.Placement
	if placement == "" {
		placement = "load generator and servers share these cores"
	}
	fmt.Fprintf(&b, "- machine: %d CPU (%s), %s/%s, kernel %s, %s, GOMAXPROCS %d (this tool); %s\n",
		m.CPUs, orDash(m.CPUModel), m.OS, m.Arch, orDash(m.Kernel), m.GoVersion, m.GOMAXPROCS, placement)
	for _, s := range r.Settings {
		fmt.Fprintf(&b, "- %s\n", s)
	}
	b.WriteString("\n| phase | conns | rate | requests | rps | p50 | p99 | max | errors | server CPU/req |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, p := range r.Phases {
		rate := "max"
		if p.Rate > 0 {
			rate = fmt.Sprintf("%d/s", p.Rate)
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %d | %.0f | %s | %s | %s | %d | %s |\n",
			p.Label, p.Conns, rate, p.Requests, p.RPS, fmtDur(p.P50), fmtDur(p.P99), fmtDur(p.Max), p.Errors, fmtDur(p.CPUPerReq))
	}
	var notes []string
	for _, p := range r.Phases {
		if p.Note != "" {
			notes = append(notes, fmt.Sprintf("%s: %s", p.ID, p.Note))
		}
		if p.Errors > 0 {
			notes = append(notes, fmt.Sprintf("%s: status codes %s; e.g. %s", p.ID, fmtCodes(p.Codes), strings.Join(p.Samples, " | ")))
		}
	}
	if len(notes) > 0 {
		b.WriteString("\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	ratios := r.ratios
	if r.Webhooks != nil {
		ratios = r.webhookRatios
	}
	b.WriteString("\n| ratio (same run) | measured rps | from server CPU/req |\n|---|--:|--:|\n")
	for _, nr := range ratios() {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", nr.Name, fmtRatio(nr.Value), fmtRatio(nr.ByCPU))
	}
	if r.Webhooks != nil {
		r.Webhooks.markdown(&b)
	}
	b.WriteString("\n")
	if r.OSSGateRSS > 0 {
		fmt.Fprintf(&b, "Peak RSS (VmHWM) after the run: ossgate %s", fmtMiB(r.OSSGateRSS))
		if r.BaselineRSS > 0 {
			fmt.Fprintf(&b, ", baseline %s", fmtMiB(r.BaselineRSS))
		}
		b.WriteString("\n")
		if m := r.OSSGateGoMem; len(m) > 0 {
			fmt.Fprintf(&b, "ossgate's Go runtime at the end: sys %s, heap in use %s, heap idle %s (released %s), stacks %s, %.0f goroutines\n",
				fmtMiB(int64(m["go_memstats_sys_bytes"])), fmtMiB(int64(m["go_memstats_heap_inuse_bytes"])),
				fmtMiB(int64(m["go_memstats_heap_idle_bytes"])), fmtMiB(int64(m["go_memstats_heap_released_bytes"])),
				fmtMiB(int64(m["go_memstats_stack_inuse_bytes"])), m["go_goroutines"])
		}
		b.WriteString("\n")
	}
	b.WriteString("| target | measured | verdict |\n|---|---|---|\n")
	verdicts := r.verdicts
	if r.Webhooks != nil {
		verdicts = r.webhookVerdicts
	}
	for _, v := range verdicts() {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", v.Target, v.Measured, v.Status)
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
