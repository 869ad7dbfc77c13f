package main

import (
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ossgate/ossgate/webhook/webhooktest"
)

// The real binary delivering webhooks to a receiver that verifies every
// request from the specification (webhooktest) and, for the first run,
// with the standardwebhooks npm package too. Each run checks that after
// dedup by webhook-id the receiver holds exactly one verified
// upload.completed per upload.

func TestWebhooksReceiverUp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Parallel()
	e := newWebhookEnv(t, buildBinary(t))
	cmd, base, logs := e.start(t)
	ups := e.deliverAll(t, e.callbacks(t, base, 50, 3), base)
	e.waitUnique(t, len(ups), 20*time.Second, logs)
	e.checkExactlyOnce(t, ups)
	verifyWithNode(t, e.recv.Requests())
	// Every event is recorded as delivered (the outcome is written just
	// after the answer, so give it a moment).
	deadline := time.Now().Add(5 * time.Second)
	for e.metricValue(t, base, "ossgate_webhook_delivered_total") < float64(len(ups)) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := e.metricValue(t, base, "ossgate_webhook_delivered_total"); got != float64(len(ups)) {
		t.Errorf("ossgate_webhook_delivered_total = %v, want %d", got, len(ups))
	}
	if got := e.metricValue(t, base, "ossgate_webhook_events_pending"); got > float64(len(ups)) {
		t.Errorf("ossgate_webhook_events_pending = %v", got)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, tail(logs.String(), 20))
	}
	if out := e.runCommand(t, "webhooks", "list", "--delivered", "--limit", "1000"); strings.Count(out, "upload.completed") != len(ups) {
		t.Errorf("webhooks list --delivered lists %d events, want %d:\n%s", strings.Count(out, "upload.completed"), len(ups), out)
	}
}

// The receiver answers 503 for a while: each event is retried with the
// same webhook-id, every failed attempt logs its status, and once the
// receiver is up each upload arrives once.
func TestWebhooksReceiverDownThenUp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Parallel()
	e := newWebhookEnv(t, buildBinary(t))
	e.recv.SetStatus(http.StatusServiceUnavailable)
	cmd, base, logs := e.start(t)
	ups := e.deliverAll(t, e.callbacks(t, base, 30, 2), base)
	if s, ok := e.recv.WaitUntil(20*time.Second, func(s webhooktest.Stats) bool { return s.Verified >= 3*len(ups) }); !ok {
		t.Fatalf("receiver saw %+v, want 3 attempts per event while down\n%s", s, tail(logs.String(), 20))
	}
	e.recv.SetStatus(0)
	e.waitUnique(t, len(ups), 30*time.Second, logs)
	e.checkExactlyOnce(t, ups)
	perID := map[string]int{}
	for _, r := range e.recv.Requests() {
		perID[r.ID]++
	}
	if len(perID) != len(ups) {
		t.Errorf("%d distinct webhook-ids, want %d: an event changed its id between attempts", len(perID), len(ups))
	}
	if n := strings.Count(logs.String(), `"status":503`); n < 2*len(ups) {
		t.Errorf("%d log lines with status 503, want one per failed attempt (at least %d)", n, 2*len(ups))
	}
	if strings.Contains(logs.String(), strings.TrimPrefix(webhookSecret, "whsec_")) || strings.Contains(logs.String(), "v1,") {
		t.Error("the log holds the webhook secret or a signature")
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
}

// SIGKILL between commit and delivery: the callbacks were answered 200
// (committed) while the receiver was refusing; after a restart every
// upload is delivered once.
func TestWebhooksSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Parallel()
	e := newWebhookEnv(t, buildBinary(t))
	e.recv.SetStatus(http.StatusServiceUnavailable)
	cmd, base, logs := e.start(t)
	ups := e.deliverAll(t, e.callbacks(t, base, 40, 2), base)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if s := e.recv.Stats(); s.Unique != 0 {
		t.Fatalf("%d events delivered before the kill; the test wants them all pending", s.Unique)
	}
	// What an operator sees meanwhile.
	if out := e.runCommand(t, "webhooks", "list", "--pending", "--limit", "1000"); strings.Count(out, "upload.completed") != len(ups) {
		t.Errorf("webhooks list --pending lists %d events, want %d:\n%s", strings.Count(out, "upload.completed"), len(ups), out)
	}
	e.recv.SetStatus(0)
	cmd2, _, logs2 := e.start(t)
	e.waitUnique(t, len(ups), 30*time.Second, logs, logs2)
	e.checkExactlyOnce(t, ups)
	cmd2.Process.Signal(syscall.SIGTERM)
	cmd2.Wait()
}

// Two instances on one Postgres, 1000 callbacks shared between them: each
// event is delivered by one instance (no duplicates at all with a healthy
// receiver), and both instances deliver.
func TestWebhooksTwoInstancesOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	db := postgresSchemaURL(t)
	t.Parallel()
	const uploads = 1000
	e := newWebhookEnv(t, buildBinary(t), "OSSGATE_DB="+db)
	cmd1, base1, logs1 := e.start(t)
	cmd2, base2, logs2 := e.start(t)
	ups := e.deliverAll(t, e.callbacks(t, base1, uploads, 4), base1, base2)
	e.waitUnique(t, uploads, 60*time.Second, logs1, logs2)
	e.checkExactlyOnce(t, ups)
	time.Sleep(300 * time.Millisecond) // a duplicate would come now
	if s := e.recv.Stats(); s.Received != uploads {
		t.Errorf("the receiver got %d requests for %d events: some event was delivered twice", s.Received, uploads)
	}
	deadline := time.Now().Add(5 * time.Second)
	var d1, d2 float64
	for {
		d1, d2 = e.metricValue(t, base1, "ossgate_webhook_delivered_total"), e.metricValue(t, base2, "ossgate_webhook_delivered_total")
		if d1+d2 >= uploads || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d1+d2 != uploads || d1 == 0 || d2 == 0 {
		t.Errorf("instances delivered %v and %v events, want %d in all, some by each", d1, d2, uploads)
	}
	t.Logf("instance 1 delivered %v events, instance 2 %v", d1, d2)
	cmd1.Process.Signal(syscall.SIGTERM)
	cmd2.Process.Signal(syscall.SIGTERM)
	cmd1.Wait()
	cmd2.Wait()
}
