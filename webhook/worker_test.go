package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ossgate/ossgate/store"
	"github.com/ossgate/ossgate/webhook"
	"github.com/ossgate/ossgate/webhook/webhooktest"
)

const testSecret = "whsec_dGVzdC1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZg==" // 32 bytes

// env is a store with events on, a worker config pointed at url, and the
// worker's log.
type env struct {
	db  store.Store
	cfg webhook.Config
	log *lockedBuffer
}

func newEnv(t testing.TB, url string) *env {
	t.Helper()
	db, err := store.OpenWithOptions(context.Background(), filepath.Join(t.TempDir(), "ossgate.db"), store.Options{Events: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	secrets, err := webhook.ParseSecrets(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	log := &lockedBuffer{}
	return &env{db: db, log: log, cfg: webhook.Config{
		URL: url, Secrets: secrets, Queue: db,
		Timeout: 2 * time.Second, PollInterval: 10 * time.Millisecond,
		Backoff: webhook.ScaledBackoff(20 * time.Millisecond),
		Logger:  slog.New(slog.NewJSONHandler(log, nil)),
		Metrics: webhook.NewMetrics(),
	}}
}

// insert records n new uploads of user and returns their ids.
func (e *env) insert(t *testing.T, user string, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%s-%d-%d", user, time.Now().UnixNano(), i)
		_, created, err := e.db.Insert(context.Background(), store.Record{ID: id, User: user, Bucket: "examplebucket",
			Key: "uploads/" + id + ".png", Size: int64(100 + i), ContentType: "image/png", ETag: "E" + id, Filename: "f.png",
			CreatedAt: time.Now()})
		if err != nil || !created {
			t.Fatalf("Insert: created=%v err=%v", created, err)
		}
		ids = append(ids, id)
	}
	return ids
}

// run starts the worker; the returned stop cancels it and waits for Run.
func (e *env) run(t *testing.T) (stop func() time.Duration) {
	t.Helper()
	w, err := webhook.New(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	var took time.Duration
	stop = func() time.Duration {
		once.Do(func() {
			start := time.Now()
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Run did not return within 10s of cancel")
			}
			took = time.Since(start)
		})
		return took
	}
	t.Cleanup(func() { stop() })
	return stop
}

func (e *env) event(t *testing.T, uploadID string) store.Event {
	t.Helper()
	evs, err := e.db.Events(context.Background(), "", store.MaxListLimit)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.UploadID == uploadID {
			return ev
		}
	}
	t.Fatalf("no event of upload %s", uploadID)
	return store.Event{}
}

// waitEvent waits until the event of uploadID satisfies cond.
func (e *env) waitEvent(t *testing.T, uploadID string, timeout time.Duration, cond func(store.Event) bool) store.Event {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ev := e.event(t, uploadID)
		if cond(ev) {
			return ev
		}
		if time.Now().After(deadline) {
			t.Fatalf("event of %s after %v: %+v", uploadID, timeout, ev)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkLog: every failed attempt logged its status, and the log never
// holds the secret or a signature.
func (e *env) checkLog(t *testing.T, wantStatus int, wantLines int) {
	t.Helper()
	// The worker logs an outcome after the store has recorded it, so a
	// test that saw the event's new state may still be ahead of its line.
	var out string
	var n int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		out = e.log.String()
		n = strings.Count(out, fmt.Sprintf(`"status":%d`, wantStatus))
		if n >= wantLines || time.Now().After(deadline) {
			break
		}
	}
	key := strings.TrimPrefix(testSecret, "whsec_")
	if strings.Contains(out, key) || strings.Contains(out, "v1,") {
		t.Errorf("the log holds the secret or a signature:\n%s", out)
	}
	if n < wantLines {
		t.Errorf("%d log lines with status %d, want at least %d:\n%s", n, wantStatus, wantLines, out)
	}
}

func TestWorkerDeliversSignedEvents(t *testing.T) {
	recv := webhooktest.New(t, testSecret)
	e := newEnv(t, recv.URL)
	ids := e.insert(t, "alice", 40)
	e.run(t)
	if s, ok := recv.WaitUntil(10*time.Second, func(s webhooktest.Stats) bool { return s.Unique == len(ids) }); !ok {
		t.Fatalf("receiver: %+v, want %d events", s, len(ids))
	}
	byUpload := map[string]webhooktest.Event{}
	for _, ev := range recv.Events() {
		var data struct{ ID, User, Key string }
		if err := json.Unmarshal(ev.Data, &data); err != nil {
			t.Fatal(err)
		}
		if ev.Type != "upload.completed" || data.User != "alice" || data.Key != "uploads/"+data.ID+".png" || ev.Timestamp.IsZero() {
			t.Errorf("event %s: type %q, data %s", ev.ID, ev.Type, ev.Data)
		}
		byUpload[data.ID] = ev
	}
	for _, id := range ids {
		if _, ok := byUpload[id]; !ok {
			t.Errorf("no event for upload %s", id)
		}
	}
	if s := recv.Stats(); len(s.Bad) > 0 {
		t.Errorf("refused deliveries: %v", s.Bad)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		n, err := e.db.PendingEvents(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events still pending after the receiver got them all", n)
		}
	}
	if got := counterValue(t, e.cfg.Metrics.Delivered); got != float64(len(ids)) {
		t.Errorf("delivered counter = %v, want %d", got, len(ids))
	}
	if got := histogramCount(t, e.cfg.Metrics.Latency); got != uint64(len(ids)) {
		t.Errorf("latency histogram count = %d, want %d", got, len(ids))
	}
}

// A receiver down (503) for a while, then up: every event arrives, once
// after dedup by webhook-id, with the same id on every attempt.
func TestWorkerRetriesUntilTheReceiverIsUp(t *testing.T) {
	recv := webhooktest.New(t, testSecret)
	recv.SetStatus(http.StatusServiceUnavailable)
	e := newEnv(t, recv.URL)
	ids := e.insert(t, "bob", 10)
	e.run(t)
	if s, ok := recv.WaitUntil(10*time.Second, func(s webhooktest.Stats) bool { return s.Verified >= 3*len(ids) }); !ok {
		t.Fatalf("receiver: %+v, want each event attempted 3 times", s)
	}
	recv.SetStatus(0)
	if s, ok := recv.WaitUntil(10*time.Second, func(s webhooktest.Stats) bool { return s.Unique == len(ids) }); !ok {
		t.Fatalf("receiver after coming up: %+v", s)
	}
	perID := map[string]int{}
	for _, r := range recv.Requests() {
		perID[r.ID]++
	}
	if len(perID) != len(ids) {
		t.Errorf("%d distinct webhook-ids over %d requests, want %d (one per event)", len(perID), len(recv.Requests()), len(ids))
	}
	for id, n := range perID {
		if n < 4 {
			t.Errorf("webhook-id %s sent %d times, want at least 3 failures and 1 success", id, n)
		}
	}
	ev := e.waitEvent(t, ids[0], 5*time.Second, func(ev store.Event) bool { return ev.State == store.EventDelivered })
	if ev.Attempts < 4 {
		t.Errorf("event delivered on attempt %d", ev.Attempts)
	}
	if got := counterValue(t, e.cfg.Metrics.Retried); got < float64(3*len(ids)) {
		t.Errorf("retried counter = %v", got)
	}
	e.checkLog(t, 503, 3*len(ids))
}

func TestWorkerStopsOn410(t *testing.T) {
	recv := webhooktest.New(t, testSecret)
	recv.SetStatus(http.StatusGone)
	e := newEnv(t, recv.URL)
	ids := e.insert(t, "carol", 1)
	e.run(t)
	ev := e.waitEvent(t, ids[0], 5*time.Second, func(ev store.Event) bool { return ev.State == store.EventFailed })
	time.Sleep(200 * time.Millisecond) // ten backoff bases: time for a retry that must not come
	if s := recv.Stats(); s.Received != 1 || ev.LastStatus != 410 || ev.Attempts != 1 {
		t.Errorf("after 410: receiver %+v, event %+v; want one attempt, given up", s, ev)
	}
	if got := counterValue(t, e.cfg.Metrics.GivenUp); got != 1 {
		t.Errorf("given-up counter = %v", got)
	}
	e.checkLog(t, 410, 1)
}

func TestWorkerGivesUpAfterTheSchedule(t *testing.T) {
	recv := webhooktest.New(t, testSecret)
	recv.SetStatus(http.StatusInternalServerError)
	e := newEnv(t, recv.URL)
	e.cfg.Backoff = webhook.Backoff{Steps: []time.Duration{10 * time.Millisecond, 10 * time.Millisecond}}
	ids := e.insert(t, "dan", 1)
	e.run(t)
	ev := e.waitEvent(t, ids[0], 5*time.Second, func(ev store.Event) bool { return ev.State == store.EventFailed })
	if ev.Attempts != 3 || ev.LastStatus != 500 || ev.LastError != "HTTP 500" {
		t.Errorf("given-up event = %+v, want 3 attempts, HTTP 500", ev)
	}
	e.checkLog(t, 500, 3)
}

// A receiver that never answers holds an attempt for Timeout only.
func TestWorkerHangingReceiver(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(release) })
	e := newEnv(t, hang.URL)
	e.cfg.Timeout = 300 * time.Millisecond
	e.cfg.Concurrency = 1
	ids := e.insert(t, "erin", 1)
	start := time.Now()
	e.run(t)
	ev := e.waitEvent(t, ids[0], 5*time.Second, func(ev store.Event) bool { return ev.Attempts >= 3 && ev.Lease == "" })
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("3 attempts took %v with a 300ms timeout", took)
	}
	if ev.LastError != "no answer within 300ms" || ev.LastStatus != 0 || ev.State != store.EventPending {
		t.Errorf("event = %+v", ev)
	}
	e.checkLog(t, 0, 2)
}

// A receiver that answers 10 MB: the worker reads a few KiB, so the
// attempt is quick and allocates little.
func TestWorkerHugeAnswer(t *testing.T) {
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	var mu sync.Mutex
	served := 0
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(10<<20))
		w.WriteHeader(http.StatusInternalServerError)
		for range (10 << 20) / len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				break
			}
		}
		mu.Lock()
		served++
		mu.Unlock()
	}))
	t.Cleanup(huge.Close)
	e := newEnv(t, huge.URL)
	e.cfg.Backoff = webhook.Backoff{Steps: []time.Duration{time.Millisecond}, MinRetry: time.Hour}
	e.cfg.Concurrency = 1
	ids := e.insert(t, "fay", 1)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	e.run(t)
	ev := e.waitEvent(t, ids[0], 10*time.Second, func(ev store.Event) bool { return ev.Attempts >= 6 && ev.Lease == "" })
	took := time.Since(start)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if ev.LastStatus != 500 {
		t.Errorf("event = %+v", ev)
	}
	// Six answers of 10 MB: reading them would allocate 60 MB or more.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("allocated %d MiB over %d attempts at a 10 MB answer", alloc>>20, ev.Attempts)
	}
	if took > 5*time.Second {
		t.Errorf("%d attempts at a 10 MB answer took %v", ev.Attempts, took)
	}
}

func TestWorkerFollowsNoRedirect(t *testing.T) {
	target := webhooktest.New(t, testSecret)
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	t.Cleanup(redirect.Close)
	e := newEnv(t, redirect.URL)
	ids := e.insert(t, "gil", 1)
	e.run(t)
	ev := e.waitEvent(t, ids[0], 5*time.Second, func(ev store.Event) bool { return ev.LastStatus != 0 })
	if ev.LastStatus != http.StatusTemporaryRedirect || ev.State != store.EventPending {
		t.Errorf("event = %+v, want pending after a 307", ev)
	}
	if s := target.Stats(); s.Received != 0 {
		t.Errorf("the redirect target got %d requests", s.Received)
	}
}

// Shutdown cuts a running attempt: Run returns at once, and the event is
// due again (not counted against the receiver).
func TestWorkerShutdownCutsAttempts(t *testing.T) {
	started := make(chan struct{}, 1)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // then the server notices the client closing, and cancels r's context
		select {
		case started <- struct{}{}:
		default:
		}
		<-r.Context().Done()
	}))
	t.Cleanup(hang.Close)
	e := newEnv(t, hang.URL)
	e.cfg.Timeout = 30 * time.Second
	ids := e.insert(t, "hal", 1)
	stop := e.run(t)
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("no attempt started")
	}
	if took := stop(); took > 2*time.Second {
		t.Errorf("Run took %v to return after cancel with an attempt hanging", took)
	}
	ev := e.event(t, ids[0])
	if ev.State != store.EventPending || ev.Lease != "" || ev.NextAttemptAt.After(time.Now()) || ev.LastError != "cut by shutdown" {
		t.Errorf("event after shutdown = %+v, want pending and due", ev)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	secrets, _ := webhook.ParseSecrets(testSecret)
	db, err := store.OpenWithOptions(context.Background(), ":memory:", store.Options{Events: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	good := webhook.Config{URL: "https://app.example.com/hooks", Secrets: secrets, Queue: db}
	tests := []struct {
		name    string
		edit    func(*webhook.Config)
		wantErr string
	}{
		{"good", func(*webhook.Config) {}, ""},
		{"no URL", func(c *webhook.Config) { c.URL = "" }, "URL is empty"},
		{"ftp URL", func(c *webhook.Config) { c.URL = "ftp://x/y" }, "http or https"},
		{"user info", func(c *webhook.Config) { c.URL = "https://u:p@app.example.com/" }, "user name or password"},
		{"fragment", func(c *webhook.Config) { c.URL = "https://app.example.com/#x" }, "fragment"},
		{"no secret", func(c *webhook.Config) { c.Secrets = nil }, "1 to 2 secrets"},
		{"zero secret", func(c *webhook.Config) { c.Secrets = []webhook.Secret{{}} }, "Secrets[0] holds no key"},
		{"no queue", func(c *webhook.Config) { c.Queue = nil }, "Queue is nil"},
		{"timeout", func(c *webhook.Config) { c.Timeout = time.Hour }, "Timeout"},
		{"concurrency", func(c *webhook.Config) { c.Concurrency = -1 }, "Concurrency"},
	}
	for _, tt := range tests {
		c := good
		tt.edit(&c)
		_, err := webhook.New(c)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: New error = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func counterValue(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || len(mfs[0].GetMetric()) != 1 {
		t.Fatalf("gather: %v, %d families", err, len(mfs))
	}
	return mfs[0].GetMetric()[0].GetCounter().GetValue()
}

func histogramCount(t *testing.T, c prometheus.Collector) uint64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || len(mfs[0].GetMetric()) != 1 {
		t.Fatalf("gather: %v, %d families", err, len(mfs))
	}
	return mfs[0].GetMetric()[0].GetHistogram().GetSampleCount()
}
