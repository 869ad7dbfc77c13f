package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ossgate/ossgate/internal/pgtest"
	"github.com/ossgate/ossgate/webhook/webhooktest"
)

// webhookSecret signs every delivery of the webhook tests (32 bytes).
const webhookSecret = "whsec_ZTJlLXdlYmhvb2stc2VjcmV0LTAxMjM0NTY3ODlhYmM="

// webhookEnv is a crashEnv whose binary delivers webhooks to recv.
type webhookEnv struct {
	*crashEnv
	recv *webhooktest.Receiver
}

func newWebhookEnv(t *testing.T, bin string, extra ...string) *webhookEnv {
	t.Helper()
	e := &webhookEnv{crashEnv: newCrashEnv(t, bin), recv: webhooktest.New(t, webhookSecret)}
	e.env = append(e.env,
		"OSSGATE_CALLBACK_CONFIRM=off", // the test plays OSS: there is no object to HEAD
		"OSSGATE_WEBHOOK_URL="+e.recv.URL,
		"OSSGATE_WEBHOOK_SECRET="+webhookSecret,
		"OSSGATE_WEBHOOK_RETRY_BASE=50ms",
	)
	e.env = append(e.env, extra...)
	return e
}

// upload is one object recorded through a callback.
type upload struct {
	user, key, id string
}

// callbacks prepares n callbacks (a policy each, from the server at base),
// spread over users.
func (e *webhookEnv) callbacks(t *testing.T, base string, n, users int) []ossCallback {
	t.Helper()
	bearers := make([]string, users)
	for i := range bearers {
		bearers[i] = e.bearer(t, fmt.Sprintf("hook-user-%d", i))
	}
	cbs := make([]ossCallback, n)
	parallel(16, n, func(i int) {
		var p policyAnswer
		req := fmt.Sprintf(`{"filename":"h%d.txt","size":%d,"contentType":"text/plain"}`, i, 10+i)
		if status, err := e.call("POST", base+"/api/uploads/policy", bearers[i%users], []byte(req), nil, &p); err != nil || status != 200 {
			t.Errorf("policy %d: %d %v", i, status, err)
			return
		}
		cbs[i] = e.prepareCallback(t, fmt.Sprintf("hook-user-%d", i%users), p, int64(10+i), "text/plain")
	})
	if t.Failed() {
		t.FailNow()
	}
	return cbs
}

// deliverAll posts every callback to the servers at bases (callback i to
// bases[i%len]) and returns the uploads they recorded.
func (e *webhookEnv) deliverAll(t *testing.T, cbs []ossCallback, bases ...string) []upload {
	t.Helper()
	ups := make([]upload, len(cbs))
	parallel(16, len(cbs), func(i int) {
		status, id, err := e.deliver(bases[i%len(bases)], cbs[i])
		if err != nil || status != 200 {
			t.Errorf("callback %d: %d %v", i, status, err)
			return
		}
		ups[i] = upload{user: cbs[i].user, key: cbs[i].key, id: id}
	})
	if t.Failed() {
		t.FailNow()
	}
	return ups
}

// checkExactlyOnce: after dedup by webhook-id the receiver holds exactly
// one verified upload.completed per upload, carrying its record and user.
func (e *webhookEnv) checkExactlyOnce(t *testing.T, ups []upload) {
	t.Helper()
	want := map[string]upload{}
	for _, u := range ups {
		want[u.id] = u
	}
	got := map[string]int{}
	for _, ev := range e.recv.Events() {
		var data struct{ ID, User, Key string }
		if err := json.Unmarshal(ev.Data, &data); err != nil {
			t.Fatalf("event %s data %s: %v", ev.ID, ev.Data, err)
		}
		u, ok := want[data.ID]
		switch {
		case ev.Type != "upload.completed":
			t.Errorf("event %s has type %q", ev.ID, ev.Type)
		case !ok:
			t.Errorf("event %s is of upload %s, which the test never made", ev.ID, data.ID)
		case data.User != u.user || data.Key != u.key:
			t.Errorf("event %s: user %q key %q, want %q %q", ev.ID, data.User, data.Key, u.user, u.key)
		}
		got[data.ID]++
	}
	missing := 0
	for id := range want {
		switch n := got[id]; {
		case n == 0:
			missing++
		case n > 1:
			t.Errorf("upload %s has %d distinct events (webhook-ids), want 1", id, n)
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d uploads have no verified upload.completed", missing, len(want))
	}
	if s := e.recv.Stats(); len(s.Bad) > 0 {
		t.Errorf("%d requests failed verification, e.g. %s", len(s.Bad), s.Bad[0])
	}
}

// waitUnique waits until the receiver holds n distinct events.
func (e *webhookEnv) waitUnique(t *testing.T, n int, timeout time.Duration, logs ...*syncBuffer) {
	t.Helper()
	if s, ok := e.recv.WaitUntil(timeout, func(s webhooktest.Stats) bool { return s.Unique >= n }); !ok {
		var tails []string
		for _, l := range logs {
			tails = append(tails, tail(l.String(), 20))
		}
		t.Fatalf("after %v the receiver holds %d of %d events (%+v)\n%s", timeout, s.Unique, n, s, strings.Join(tails, "\n---\n"))
	}
}

// runCommand runs `ossgate args…` with the env's environment.
func (e *webhookEnv) runCommand(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(e.bin, args...)
	cmd.Env = append(os.Environ(), e.env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ossgate %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// verifyWithNode checks every request the receiver got with the
// standardwebhooks npm package (testdata/webhook-receiver), installed from
// its lock file. Without node or npm it skips, except under CI, where it
// fails.
func verifyWithNode(t *testing.T, reqs []webhooktest.Request) {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed, and CI is set: the Node verification must run", tool)
			}
			t.Logf("%s is not installed: skipping the check with the standardwebhooks npm package", tool)
			return
		}
	}
	dir := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json", "verify.js"} {
		b, err := os.ReadFile(filepath.Join("testdata", "webhook-receiver", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in testdata/webhook-receiver: %v\n%s", err, out)
	}
	in, err := json.Marshal(map[string]any{"secret": webhookSecret, "requests": reqs})
	if err != nil {
		t.Fatal(err)
	}
	verify := exec.CommandContext(ctx, "node", "verify.js")
	verify.Dir = dir
	verify.Stdin = bytes.NewReader(in)
	out, err := verify.Output()
	if err != nil {
		t.Fatalf("node verify.js: %v\n%s", err, out)
	}
	var res struct {
		Verified         int
		Failed           []string
		TamperedRejected bool
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("node verify.js said %s: %v", out, err)
	}
	if res.Verified != len(reqs) || len(res.Failed) > 0 || !res.TamperedRejected {
		t.Fatalf("standardwebhooks verified %d of %d requests (failures %v), tampered body refused: %v", res.Verified, len(reqs), res.Failed, res.TamperedRejected)
	}
	t.Logf("standardwebhooks (npm) verified all %d deliveries and refused a tampered one", res.Verified)
}

// postgresSchemaURL is a fresh schema on OSSGATE_TEST_POSTGRES for one
// test (dropped at its end), or a skip without that variable.
func postgresSchemaURL(t *testing.T) string { return pgtest.SchemaURL(t, "ossgate_e2e") }

// metricValue reads one unlabelled series from the server's /metrics.
func (e *webhookEnv) metricValue(t *testing.T, base, name string) float64 {
	t.Helper()
	res, err := e.client.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(res.Body)
	for _, line := range strings.Split(buf.String(), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("no %s in /metrics", name)
	return 0
}
