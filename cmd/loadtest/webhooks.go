package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/ossgate/ossgate/webhook/webhooktest"
)

// With -webhooks the tool runs a second ossgate child, identical to the
// first but with OSSGATE_WEBHOOK_URL and _SECRET set, and receives its
// deliveries itself (hookReceiver, on the generator's CPU like the rest of
// the tool): each is checked with webhooktest's verifier, written from the
// Standard Webhooks specification, and deduplicated by webhook-id. The
// callback phase of that child records when ossgate answered each upload
// (hookTrack), so that the report can say how long after its callback's
// answer each event arrived, and whether delivery kept up.

// Phase ids of the child with webhooks on.
const (
	phaseHealthzHooks  = "healthz-webhooks"
	phasePolicyHooks   = "policy-webhooks"
	phaseCallbackHooks = "callback-webhooks"
)

// hookReceiver is the tool's webhook endpoint.
type hookReceiver struct {
	v   *webhooktest.Verifier
	srv *http.Server
	url string

	mu       sync.Mutex
	seen     map[string]struct{}  // webhook-ids verified so far
	arrived  map[string]time.Time // upload id -> first verified delivery of its upload.completed
	received int                  // requests
	verified int
	bad      []string // a few reasons requests were refused
}

// newWebhookSecret is a whsec_ secret of 32 random bytes.
func newWebhookSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// startHookReceiver serves deliveries signed with secret on 127.0.0.1.
func startHookReceiver(secret string) (*hookReceiver, error) {
	v, err := webhooktest.NewVerifier(secret)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &hookReceiver{v: v, seen: map[string]struct{}{}, arrived: map[string]time.Time{},
		url: "http://" + ln.Addr().String() + "/hooks/ossgate"}
	h.srv = &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go h.srv.Serve(ln)
	return h, nil
}

func (h *hookReceiver) close() { h.srv.Close() }

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	now := time.Now()
	id := req.Header.Get("webhook-id")
	if err == nil {
		err = h.v.Verify(req.Method, req.Header.Get("Content-Type"), id, req.Header.Get("webhook-timestamp"),
			req.Header.Get("webhook-signature"), body, now)
	}
	var p struct {
		Type string `json:"type"`
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err == nil {
		err = json.Unmarshal(body, &p)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.received++
	if err != nil {
		if len(h.bad) < 3 {
			h.bad = append(h.bad, err.Error())
		}
		http.Error(w, "refused", http.StatusUnauthorized)
		return
	}
	h.verified++
	if _, dup := h.seen[id]; !dup {
		h.seen[id] = struct{}{}
		if p.Type == "upload.completed" {
			h.arrived[p.Data.ID] = now
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// hookTrack records the callback phase of the child with webhooks: which
// uploads it answered 200, when, and in which slice.
type hookTrack struct {
	mu      sync.Mutex
	answers map[string]time.Time // upload id -> when the answer arrived
	slices  []hookSlice
}

type hookSlice struct {
	start, end time.Time
	ids        []string // uploads answered 200 in this slice
}

func newHookTrack() *hookTrack { return &hookTrack{answers: map[string]time.Time{}} }

func (t *hookTrack) begin() {
	t.mu.Lock()
	t.slices = append(t.slices, hookSlice{start: time.Now()})
	t.mu.Unlock()
}

func (t *hookTrack) end() {
	t.mu.Lock()
	t.slices[len(t.slices)-1].end = time.Now()
	t.mu.Unlock()
}

// keep sees every result of the callback phase.
func (t *hookTrack) keep(r *vegeta.Result) {
	if r.Code != http.StatusOK {
		return
	}
	var a struct {
		Upload struct {
			ID string `json:"id"`
		} `json:"upload"`
	}
	if json.Unmarshal(r.Body, &a) != nil || a.Upload.ID == "" {
		return
	}
	t.mu.Lock()
	t.answers[a.Upload.ID] = r.Timestamp.Add(r.Latency)
	s := &t.slices[len(t.slices)-1]
	s.ids = append(s.ids, a.Upload.ID)
	t.mu.Unlock()
}

// waitDelivered waits until every answered upload's event has arrived, at
// most timeout.
func waitDelivered(t *hookTrack, h *hookReceiver, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		t.mu.Lock()
		h.mu.Lock()
		missing := 0
		for id := range t.answers {
			if _, ok := h.arrived[id]; !ok {
				missing++
			}
		}
		h.mu.Unlock()
		t.mu.Unlock()
		if missing == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// hookReport is what the run measured of delivery.
type hookReport struct {
	Answered   int // callbacks answered 200 by the child with webhooks
	Delivered  int // of their upload.completed events, delivered and verified
	Received   int // requests the receiver got (duplicates and refusals included)
	Verified   int
	Duplicates int // verified requests for a webhook-id already seen
	Bad        []string

	CallbackTime  time.Duration // sum of the callback slices' wall time
	DuringSlices  int           // deliveries (first of each event) that arrived while those slices ran
	P50, P99, Max time.Duration // callback answer -> delivery, of the delivered events
	// MaxSliceDrain is, over the callback slices, the longest time from a
	// slice's end to the arrival of the last of its events.
	MaxSliceDrain time.Duration
	// Drain is from the end of the last callback slice to the arrival of
	// the last event; meaningful only when Delivered == Answered.
	Drain    time.Duration
	HooksRSS int64 // VmHWM of the child with webhooks
	// Paced is the paced callback phase's delivery, when it ran.
	Paced *pacedReport
}

// CallbackRate and DeliveryRate are per second of the callback slices.
func (r *hookReport) CallbackRate() float64 { return float64(r.Answered) / r.CallbackTime.Seconds() }
func (r *hookReport) DeliveryRate() float64 {
	return float64(r.DuringSlices) / r.CallbackTime.Seconds()
}

// summarize computes the report from the track and the receiver.
func summarize(t *hookTrack, h *hookReceiver) *hookReport {
	t.mu.Lock()
	defer t.mu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	r := &hookReport{Answered: len(t.answers), Received: h.received, Verified: h.verified,
		Duplicates: h.verified - len(h.seen), Bad: slices.Clone(h.bad)}
	var lat []time.Duration
	var lastEnd, lastArrival time.Time
	for _, s := range t.slices {
		r.CallbackTime += s.end.Sub(s.start)
		lastEnd = s.end
		var sliceLast time.Time
		for _, id := range s.ids {
			at, ok := h.arrived[id]
			if !ok {
				continue
			}
			r.Delivered++
			lat = append(lat, at.Sub(t.answers[id]))
			if at.After(sliceLast) {
				sliceLast = at
			}
		}
		if !sliceLast.IsZero() {
			r.MaxSliceDrain = max(r.MaxSliceDrain, sliceLast.Sub(s.end))
			if sliceLast.After(lastArrival) {
				lastArrival = sliceLast
			}
		}
		for _, at := range h.arrived {
			if !at.Before(s.start) && !at.After(s.end) {
				r.DuringSlices++
			}
		}
	}
	if !lastArrival.IsZero() {
		r.Drain = lastArrival.Sub(lastEnd)
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		r.P50, r.P99, r.Max = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)], lat[len(lat)-1]
	}
	return r
}

// hookEnv is what the child with webhooks gets beyond the other's
// environment.
func hookEnv(url, secret string) []string {
	return []string{"OSSGATE_WEBHOOK_URL=" + url, "OSSGATE_WEBHOOK_SECRET=" + secret}
}

// retarget is ts sent to base instead of from's base, for the second child.
func retarget(ts []vegeta.Target, from, to string) []vegeta.Target {
	out := make([]vegeta.Target, len(ts))
	for i, t := range ts {
		t.URL = to + strings.TrimPrefix(t.URL, from)
		out[i] = t
	}
	return out
}

// Phase ids of the paced callback phase (-webhooks with -paced-load).
const (
	phasePacedCallback      = "paced-callback"
	phasePacedCallbackHooks = "paced-callback-webhooks"
)

// pacedHooks is the paced callback phase of a -webhooks run: both
// children's callbacks at load × the measured maximum of the child without
// webhooks, interleaved in rounds like the others, so that the report can
// say whether delivery keeps up below saturation and what webhooks cost the
// callback's latency there. It runs after the backlog of the saturated
// rounds has been delivered, on callbacks neither child has seen.
type pacedHooks struct {
	off, on         *child
	offBase, onBase string
	targets         []vegeta.Target // signed, for offBase; none sent yet
	load            float64
	conns           int
	duration        time.Duration // in total per child
	rounds          int
	recv            *hookReceiver
	perfDir         string // -perf-dir: profile each phase's first slice
}

// pacedReport is the paced phase's delivery figures.
type pacedReport struct {
	Load float64
	Rate int // asked for, per child
	*hookReport
}

// run measures the paced phases; rep holds the saturated rounds. It returns
// the two phases for the table and the delivery figures, or nil figures
// (and no phases) when there was no maximum to pace from.
func (p pacedHooks) run(ctx context.Context, rep *report, logf func(string, ...any)) ([]phaseResult, *pacedReport) {
	peak := rep.rps(phaseCallback)
	if math.IsNaN(peak) || peak <= 0 || len(p.targets) == 0 {
		return nil, nil
	}
	rate := max(int(peak*p.load), 1)
	if need := int(float64(rate) * p.duration.Seconds()); need > len(p.targets) {
		logf("paced callbacks: %d pre-signed callbacks left, %d needed at %d/s for %v: the phase ends early (raise -max-callbacks)", len(p.targets), need, rate, p.duration)
	}
	logf("callbacks of both children paced at %d/s", rate)
	label := func(onOff string) string {
		return fmt.Sprintf("POST /api/uploads/callback (ossgate, webhooks %s), paced at %.0f%% of the max without", onOff, p.load*100)
	}
	track := newHookTrack()
	specs := []phaseSpec{
		{id: phasePacedCallback, label: label("off"), targeter: onceTargeter(p.targets), server: p.off},
		{id: phasePacedCallbackHooks, label: label("on"), targeter: onceTargeter(retarget(p.targets, p.offBase, p.onBase)), server: p.on, keep: track.keep},
	}
	accs := make([]*accum, len(specs))
	for i := range specs {
		specs[i].conns, specs[i].rate, specs[i].duration = p.conns, rate, p.duration/time.Duration(p.rounds)
		accs[i] = newAccum(specs[i])
	}
	for round := range p.rounds {
		for k := range specs {
			i := (round + k) % len(specs)
			if accs[i].exhausted || ctx.Err() != nil {
				continue
			}
			if specs[i].id == phasePacedCallbackHooks {
				track.begin()
			}
			var stopPerf func()
			if p.perfDir != "" && round == 0 {
				var err error
				if stopPerf, err = perfSlice(p.perfDir, specs[i].id, specs[i].server.cmd.Process.Pid, logf); err != nil {
					logf("%v: %s is not profiled", err, specs[i].id)
				}
			}
			measure(ctx, specs[i], accs[i])
			if stopPerf != nil {
				stopPerf()
			}
			if specs[i].id == phasePacedCallbackHooks {
				track.end()
			}
		}
	}
	var out []phaseResult
	for _, a := range accs {
		out = append(out, a.result())
	}
	waitDelivered(track, p.recv, 30*time.Second)
	return out, &pacedReport{Load: p.load, Rate: rate, hookReport: summarize(track, p.recv)}
}
