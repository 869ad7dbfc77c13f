package webhook_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/ossgate/ossgate/store"
	"github.com/ossgate/ossgate/webhook"
	"github.com/ossgate/ossgate/webhook/webhooktest"
)

// With a poll once an hour, an event is still delivered at once: the
// store's commit wakes the worker.
func TestWorkerWakesOnCommit(t *testing.T) {
	recv := webhooktest.New(t, testSecret)
	e := newEnv(t, recv.URL)
	e.cfg.PollInterval = time.Hour
	stop := e.run(t)
	defer stop()
	time.Sleep(50 * time.Millisecond) // the first (empty) lease is behind it
	e.insert(t, "wendy", 3)
	if s, ok := recv.WaitUntil(5*time.Second, func(s webhooktest.Stats) bool { return s.Unique == 3 }); !ok {
		t.Fatalf("receiver stats %+v, want 3 events without a poll", s)
	}
}

// dropMarks is a queue whose outcomes are never written: a process that
// died between delivering and recording.
type dropMarks struct{ store.Store }

func (dropMarks) FinishAttempts(context.Context, []store.Finish) ([]bool, error) {
	return nil, context.Canceled
}

// A delivery whose mark was lost is delivered again, with the same
// webhook-id, once its lease has run out: at least once, never lost.
func TestWorkerRedeliversAfterLostMark(t *testing.T) {
	recv := webhooktest.New(t, testSecret)
	e := newEnv(t, recv.URL)
	e.cfg.Queue = dropMarks{e.db}
	ids := e.insert(t, "carl", 2)
	stop := e.run(t)
	if s, ok := recv.WaitUntil(5*time.Second, func(s webhooktest.Stats) bool { return s.Unique == 2 }); !ok {
		t.Fatalf("first worker: %+v", s)
	}
	stop()
	if ev := e.event(t, ids[0]); ev.State != store.EventPending || ev.Lease == "" {
		t.Fatalf("event after a lost mark = %+v, want pending and leased", ev)
	}
	// The next process, once the lease (Timeout + leaseMargin) has run out.
	e.cfg.Queue = e.db
	e.cfg.Now = func() time.Time { return time.Now().Add(time.Minute) }
	stop = e.run(t)
	defer stop()
	if s, ok := recv.WaitUntil(5*time.Second, func(s webhooktest.Stats) bool { return s.Verified == 4 }); !ok || s.Unique != 2 {
		t.Fatalf("after restart: %+v, want 4 verified deliveries of 2 events", s)
	}
	e.waitEvent(t, ids[0], 5*time.Second, func(ev store.Event) bool { return ev.State == store.EventDelivered && ev.Attempts == 2 })
}

// Body's direct path writes what json.Marshal of the Payload writes.
func TestBodyMatchesMarshal(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 30, 0, 123456000, time.UTC)
	for _, data := range []string{
		`{"id":"u1","user":"alice","vars":{}}`,
		`{"caption":"\u003cb\u003e \u0026 猫"}`,
		`{"a": 1}`,           // not compact: Marshal compacts it
		`{"a":"<b>"}`,        // not escaped: Marshal escapes it
		"{\"a\":\"\u2028\"}", // Marshal escapes U+2028
		`[1,2,{"x":null}]`,
	} {
		for _, typ := range []string{store.EventUploadCompleted, store.EventUploadDeleted, `odd"type`} {
			ev := store.Event{ID: "evt_x", Type: typ, Data: json.RawMessage(data), CreatedAt: at.In(time.FixedZone("x", 3600))}
			got, err := webhook.Body(ev)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(webhook.Payload{Type: typ, Timestamp: at, Data: json.RawMessage(data)})
			if string(got) != string(want) {
				t.Errorf("Body(%s, %s) = %s, want %s", typ, data, got, want)
			}
		}
	}
	if _, err := webhook.Body(store.Event{Data: json.RawMessage(`{`)}); err == nil {
		t.Error("Body accepted data that is not JSON")
	}
}
