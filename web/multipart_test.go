package web

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossgate/ossgate/ossclient"
	"github.com/ossgate/ossgate/ossemu"
	"github.com/ossgate/ossgate/store"
)

// testEmulator starts a fresh emulator for the tests that need OSS's own
// behaviour (multipart, presigned GETs).
func testEmulator(t testing.TB) *ossemu.Emulator {
	t.Helper()
	emu, err := ossemu.New(ossemu.Config{Bucket: testBucket, Region: "cn-hangzhou",
		Credentials: map[string]string{testCreds.AccessKeyID: testCreds.AccessKeySecret}, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	l, err := emu.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go emu.Serve(l)
	t.Cleanup(func() { emu.Close() })
	return emu
}

// emulatorBucket is ossgate's client of a fresh emulator: the real
// exchange, through the official SDK.
func emulatorBucket(t testing.TB) *ossclient.Client {
	t.Helper()
	return clientOf(t, testEmulator(t))
}

func clientOf(t testing.TB, emu *ossemu.Emulator) *ossclient.Client {
	c, err := ossclient.New(ossclient.Config{AccessKeyID: testCreds.AccessKeyID, AccessKeySecret: testCreds.AccessKeySecret,
		Region: "cn-hangzhou", Bucket: testBucket, Endpoint: emu.PublicURL(), UsePathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSweepAbortsExpiredMultipart: a session past its expiry is aborted in
// OSS and closed; a fresh one is left alone.
func TestSweepAbortsExpiredMultipart(t *testing.T) {
	bucket := emulatorBucket(t)
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	h := newHarness(t, func(s *setup) {
		s.options.Bucket = bucket
		s.options.Now = now
		s.options.MultipartTTL = time.Hour
	})
	alice := token(t, nil)
	create := func() string {
		res := do(t, "POST", h.URL+"/api/uploads/multipart", alice, "application/json", []byte(`{"filename":"a.pdf","size":300000,"contentType":"application/pdf"}`))
		var s struct{ UploadID string }
		if res.Status != 200 || jsonDecode(res.Body, &s) != nil {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		return s.UploadID
	}
	old := create()
	clock.Add(int64(50 * time.Minute))
	fresh := create()
	clock.Add(int64(20 * time.Minute)) // old is 70 min old, fresh 20

	n, err := h.Server.SweepMultipart(context.Background(), 100)
	if err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v; want 1", n, err)
	}
	ctx := context.Background()
	if m, _ := h.Store.Session(ctx, "alice", old); m.State != store.SessionAborted {
		t.Errorf("expired session is %q", m.State)
	}
	if m, _ := h.Store.Session(ctx, "alice", fresh); m.State != store.SessionOpen {
		t.Errorf("fresh session is %q", m.State)
	}
	ups, err := bucket.ListMultipartUploads(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range ups {
		if u.UploadID == old {
			t.Error("the expired upload is still open in OSS")
		}
	}
	if len(ups) != 1 {
		t.Errorf("%d uploads open in OSS, want the fresh one", len(ups))
	}
	if n, _ := h.Server.SweepMultipart(ctx, 100); n != 0 {
		t.Errorf("second sweep closed %d", n)
	}
	// A client of the swept session is told so.
	res := do(t, "POST", h.URL+"/api/uploads/multipart/"+old+"/parts", alice, "application/json", []byte(`{"partNumbers":[1]}`))
	if res.Status != 409 || res.errorCode(t) != "upload_closed" {
		t.Errorf("signing a swept session: %d %s", res.Status, res.Body)
	}
}

func jsonDecode(b []byte, v any) error { return json.Unmarshal(b, v) }
