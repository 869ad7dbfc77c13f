package webhook

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/ossgate/ossgate/store"
)

// nopQueue has no events.
type nopQueue struct{}

func (nopQueue) LeaseEvents(context.Context, time.Time, time.Duration, int) ([]store.Event, error) {
	return nil, nil
}
func (nopQueue) FinishAttempts(context.Context, []store.Finish) ([]bool, error) { return nil, nil }
func (nopQueue) PendingEvents(context.Context) (int, error)                     { return 0, nil }
func (nopQueue) PruneEvents(context.Context, time.Time, int) (int, error)       { return 0, nil }

// TestRequestLikeNewRequest: the request an attempt sends, made without
// parsing the URL again, is what http.NewRequestWithContext would make.
func TestRequestLikeNewRequest(t *testing.T) {
	const target = "http://127.0.0.1:8080/hooks/ossgate?token=a%20b"
	sec, err := ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(Config{URL: target, Secrets: []Secret{sec}, Queue: nopQueue{}})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"type":"upload.completed"}`)
	ctx := context.WithValue(context.Background(), struct{}{}, 1)
	got := w.request(ctx, body)
	want, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if got.Method != want.Method || got.URL.String() != want.URL.String() || got.Host != want.Host ||
		got.Proto != want.Proto || got.ContentLength != want.ContentLength || got.Context() != ctx {
		t.Errorf("request = %s %s host %q %s len %d, want %s %s host %q %s len %d",
			got.Method, got.URL, got.Host, got.Proto, got.ContentLength, want.Method, want.URL, want.Host, want.Proto, want.ContentLength)
	}
	for range 2 { // the body, and again from GetBody (a retried request)
		b, err := io.ReadAll(got.Body)
		if err != nil || !bytes.Equal(b, body) {
			t.Fatalf("body = %q, %v", b, err)
		}
		if got.Body, err = got.GetBody(); err != nil {
			t.Fatal(err)
		}
	}
	if w.request(ctx, body).URL != got.URL {
		t.Error("each request parsed the URL anew")
	}
}
