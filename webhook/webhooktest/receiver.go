// Package webhooktest is a webhook receiver for tests: an HTTP server that
// checks every delivery against the Standard Webhooks specification with a
// verifier of its own (written from the specification, sharing no code
// with package webhook), dedupes by webhook-id, and can be told to fail.
package webhooktest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Tolerance is how far a webhook-timestamp may be from the receiver's clock
// (the specification's suggested five minutes).
const Tolerance = 5 * time.Minute

// Event is one verified delivery's payload.
type Event struct {
	ID        string          // webhook-id
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// Request is one request as received, verified or not, for checks by
// other verifiers.
type Request struct {
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
	Signature string `json:"signature"`
	Body      string `json:"body"`
}

// Receiver is a running test receiver.
type Receiver struct {
	URL string

	srv *httptest.Server
	v   *Verifier

	mu       sync.Mutex
	status   int // answer to verified deliveries; 0 is 204
	events   map[string]Event
	order    []string // webhook-ids in order of first verified delivery
	received int      // every request
	verified int      // requests with a valid signature
	bad      []string // why requests were refused
	requests []Request
	changed  chan struct{} // closed and replaced on every request
}

// New starts a receiver on 127.0.0.1 that accepts deliveries signed with
// secret (whsec_…); it is closed when t ends.
func New(t testing.TB, secret string) *Receiver {
	t.Helper()
	v, err := NewVerifier(secret)
	if err != nil {
		t.Fatal(err)
	}
	r := &Receiver{v: v, events: map[string]Event{}, changed: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	r.URL = r.srv.URL + "/hooks/ossgate"
	t.Cleanup(r.srv.Close)
	return r
}

// SetStatus makes the receiver answer verified deliveries with code (0:
// 204) without recording them unless code is 2xx.
func (r *Receiver) SetStatus(code int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status = code
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.received++
	close(r.changed)
	r.changed = make(chan struct{})
	id, ts, sig := req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"), req.Header.Get("webhook-signature")
	r.requests = append(r.requests, Request{ID: id, Timestamp: ts, Signature: sig, Body: string(body)})
	if err == nil {
		err = r.v.Verify(req.Method, req.Header.Get("Content-Type"), id, ts, sig, body, time.Now())
	}
	if err != nil {
		r.bad = append(r.bad, err.Error())
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	r.verified++
	status := r.status
	if status == 0 {
		status = http.StatusNoContent
	}
	if status/100 == 2 {
		ev := Event{ID: id}
		if err := json.Unmarshal(body, &ev); err != nil {
			r.bad = append(r.bad, "payload: "+err.Error())
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		ev.ID = id
		if _, dup := r.events[id]; !dup {
			r.events[id] = ev
			r.order = append(r.order, id)
		}
	}
	w.WriteHeader(status)
}

// Stats are the receiver's counts so far.
type Stats struct {
	Received int // requests
	Verified int // with a valid signature
	Unique   int // distinct webhook-ids accepted with 2xx
	Bad      []string
}

func (r *Receiver) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Stats{Received: r.received, Verified: r.verified, Unique: len(r.events), Bad: append([]string(nil), r.bad...)}
}

// Events are the accepted events, once each, in order of first delivery.
func (r *Receiver) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Event, 0, len(r.order))
	for _, id := range r.order {
		out = append(out, r.events[id])
	}
	return out
}

// Requests are every request received, in order.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

// WaitUntil waits until cond holds of the stats, at most timeout; it
// returns the stats last seen and whether cond held.
func (r *Receiver) WaitUntil(timeout time.Duration, cond func(Stats) bool) (Stats, bool) {
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		changed := r.changed
		r.mu.Unlock()
		s := r.Stats()
		if cond(s) {
			return s, true
		}
		select {
		case <-changed:
		case <-deadline:
			return r.Stats(), cond(r.Stats())
		}
	}
}
