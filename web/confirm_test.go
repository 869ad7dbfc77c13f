package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ossgate/ossgate/ossclient"
)

// TestCallbackConfirmedAgainstBucket: a callback with a valid OSS signature
// and a valid ticket still makes no record unless the bucket holds that
// very object (anyone with an OSS account can have OSS sign a body).
func TestCallbackConfirmedAgainstBucket(t *testing.T) {
	h := newHarness(t)
	alice := token(t, nil)
	const otherETag = "0CC175B9C0F1B6A831C399E269772661"
	tests := []struct {
		name   string
		stored func(h *harness, key string) // what OSS really holds
		report ossUpload                    // what the callback says
		status int
		code   string
	}{
		{"object missing", nil, ossUpload{Size: 10, ETag: testETag, MimeType: "image/png", NotStored: true}, 403, "object_mismatch"},
		{"object of another size", func(h *harness, k string) { h.Bucket.put(k, 9, testETag, "image/png") },
			ossUpload{Size: 10, ETag: testETag, MimeType: "image/png", NotStored: true}, 403, "object_mismatch"},
		{"object with another ETag", func(h *harness, k string) { h.Bucket.put(k, 10, otherETag, "image/png") },
			ossUpload{Size: 10, ETag: testETag, MimeType: "image/png", NotStored: true}, 403, "object_mismatch"},
		{"object of another type", func(h *harness, k string) { h.Bucket.put(k, 10, testETag, "text/html") },
			ossUpload{Size: 10, ETag: testETag, MimeType: "image/png", NotStored: true}, 403, "object_mismatch"},
		{"quoted lower-case ETag from the bucket", func(h *harness, k string) {
			h.Bucket.put(k, 10, `"5eb63bbbe01eeed093cb22bb8f5acdc3"`, "image/png; charset=x")
		},
			ossUpload{Size: 10, ETag: testETag, MimeType: "image/png", NotStored: true}, 200, ""},
		{"the object", nil, ossUpload{Size: 10, ETag: testETag, MimeType: "image/png"}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up, _ := h.policy(t, alice, map[string]any{"filename": "a.png", "size": 10, "contentType": "image/png"})
			if tt.stored != nil {
				tt.stored(h, up.Key)
			}
			res := h.ossCallback(t, up, tt.report, nil, nil)
			if res.Status != tt.status || (tt.code != "" && res.errorCode(t) != tt.code) {
				t.Fatalf("%d %s, want %d %s", res.Status, res.Body, tt.status, tt.code)
			}
			if _, err := h.Store.Get(t.Context(), "alice", "x"); err == nil {
				t.Fatal("store answers an unknown id")
			}
			listed := do(t, "GET", h.URL+"/api/uploads", alice, "", nil)
			recorded := json.Valid(listed.Body) && containsKey(listed.Body, up.Key)
			if recorded != (tt.status == 200) {
				t.Errorf("record made: %v, want %v", recorded, tt.status == 200)
			}
		})
	}
}

func containsKey(body []byte, key string) bool {
	var l struct{ Uploads []struct{ Key string } }
	json.Unmarshal(body, &l)
	for _, u := range l.Uploads {
		if u.Key == key {
			return true
		}
	}
	return false
}

func TestCallbackWhenOSSCannotBeAsked(t *testing.T) {
	h := newHarness(t)
	alice := token(t, nil)
	up, _ := h.policy(t, alice, map[string]any{"filename": "a.png", "size": 10, "contentType": "image/png"})
	h.Bucket.setFail(fmt.Errorf("HeadObject: %w", ossclient.ErrUnavailable))
	res := h.ossCallback(t, up, ossUpload{Size: 10, ETag: testETag, MimeType: "image/png"}, nil, nil)
	if res.Status != http.StatusServiceUnavailable || res.errorCode(t) != "oss_unavailable" {
		t.Fatalf("OSS down: %d %s, want 503 oss_unavailable (so OSS retries)", res.Status, res.Body)
	}
	h.Bucket.setFail(nil)
	if res := h.ossCallback(t, up, ossUpload{Size: 10, ETag: testETag, MimeType: "image/png"}, nil, nil); res.Status != 200 {
		t.Fatalf("OSS back: %d %s", res.Status, res.Body)
	}
}

func TestCallbackConfirmOff(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.options.ConfirmObjects = false })
	up, _ := h.policy(t, token(t, nil), map[string]any{"filename": "a.png", "size": 10, "contentType": "image/png"})
	if res := h.ossCallback(t, up, ossUpload{Size: 10, ETag: testETag, MimeType: "image/png", NotStored: true}, nil, nil); res.Status != 200 {
		t.Fatalf("with confirmation off, a signed callback is trusted alone: %d %s", res.Status, res.Body)
	}
	if h.Bucket.heads != 0 {
		t.Errorf("%d HeadObject calls with confirmation off", h.Bucket.heads)
	}
}

func TestConfirmEndpoint(t *testing.T) {
	h := newHarness(t)
	alice, bob := token(t, nil), token(t, jwt.MapClaims{"sub": "bob"})
	up, _ := h.policy(t, alice, map[string]any{"filename": "a.png", "size": 10, "contentType": "image/png", "vars": map[string]string{"caption": "hi"}})
	confirm := func(bearer string, body map[string]any) response {
		b, _ := json.Marshal(body)
		return do(t, "POST", h.URL+"/api/uploads/confirm", bearer, "application/json", b)
	}
	valid := map[string]any{"key": up.Key, "ticket": up.Ticket, "vars": map[string]string{"caption": "hi"}}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range valid {
			m[a] = b
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	if res := confirm(alice, valid); res.Status != 404 || res.errorCode(t) != "not_found" {
		t.Fatalf("before the object exists: %d %s, want 404", res.Status, res.Body)
	}
	tests := []struct {
		name   string
		stored func()
		bearer string
		body   map[string]any
		status int
		code   string
	}{
		{"over the declared size", func() { h.Bucket.put(up.Key, 11, testETag, "image/png") }, alice, valid, 403, "object_mismatch"},
		{"another type", func() { h.Bucket.put(up.Key, 10, testETag, "text/html") }, alice, valid, 403, "object_mismatch"},
		{"empty", func() { h.Bucket.put(up.Key, 0, testETag, "image/png") }, alice, valid, 403, "object_mismatch"},
		{"another user", func() { h.Bucket.put(up.Key, 10, testETag, "image/png") }, bob, valid, 403, "invalid_ticket"},
		{"forged ticket", nil, alice, with("ticket", up.Ticket+"x"), 403, "invalid_ticket"},
		{"another key", nil, alice, with("key", up.Key+".png"), 404, "not_found"},
		{"a var the ticket does not allow", nil, alice, with("vars", map[string]string{"admin": "1"}), 403, "invalid_ticket"},
		{"no ticket", nil, alice, with("ticket", nil), 400, "invalid_request"},
		{"no token", nil, "", valid, 401, "unauthorized"},
		{"the upload", nil, alice, valid, 200, ""},
		{"again: the same record", nil, alice, valid, 200, ""},
	}
	var firstID string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.stored != nil {
				tt.stored()
			}
			res := confirm(tt.bearer, tt.body)
			if res.Status != tt.status || (tt.code != "" && res.errorCode(t) != tt.code) {
				t.Fatalf("%d %s, want %d %s", res.Status, res.Body, tt.status, tt.code)
			}
			if tt.status == 200 {
				var out struct {
					Upload struct {
						ID, Key, Filename string
						Size              int64
						Vars              map[string]string
					}
				}
				json.Unmarshal(res.Body, &out)
				if out.Upload.Key != up.Key || out.Upload.Size != 10 || out.Upload.Filename != "a.png" || out.Upload.Vars["caption"] != "hi" {
					t.Errorf("record %s", res.Body)
				}
				if firstID == "" {
					firstID = out.Upload.ID
				} else if out.Upload.ID != firstID {
					t.Errorf("second confirm made record %s, first %s", out.Upload.ID, firstID)
				}
			}
		})
	}
	// A late callback for the confirmed upload answers the same record.
	res := h.ossCallback(t, up, ossUpload{Size: 10, ETag: testETag, MimeType: "image/png"}, nil, nil)
	if res.Status != 200 || !json.Valid(res.Body) || !containsID(res.Body, firstID) {
		t.Errorf("late callback: %d %s, want the confirmed record %s", res.Status, res.Body, firstID)
	}
}

func containsID(body []byte, id string) bool {
	var r struct{ Upload struct{ ID string } }
	json.Unmarshal(body, &r)
	return r.Upload.ID == id
}
