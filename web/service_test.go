package web

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// TestServiceKeys: the app's backend, with a service key, lists, gets,
// links and deletes any user's uploads with ?user=; users cannot act for
// others, and a service key cannot upload.
func TestServiceKeys(t *testing.T) {
	const key = ServiceKeyPrefix + "0123456789abcdef0123456789abcdef"
	bucket := emulatorBucket(t)
	h := newHarness(t, func(s *setup) {
		s.options.Auth.ServiceKeys = map[string]ServiceKeyHash{"backend": HashServiceKey(key)}
	})
	h.Bucket.mp = bucket
	alice, bob := token(t, nil), token(t, jwt.MapClaims{"sub": "bob"})
	up, _ := h.policy(t, alice, map[string]any{"filename": "a.png", "size": 10, "contentType": "image/png"})
	if res := h.ossCallback(t, up, ossUpload{Size: 10, ETag: testETag, MimeType: "image/png"}, nil, nil); res.Status != 200 {
		t.Fatalf("callback: %d %s", res.Status, res.Body)
	}
	var rec struct{ Uploads []struct{ ID string } }
	json.Unmarshal(do(t, "GET", h.URL+"/api/uploads", alice, "", nil).Body, &rec)
	id := rec.Uploads[0].ID
	q := "?user=" + url.QueryEscape("alice")

	tests := []struct {
		name, method, path, bearer string
		status                     int
		code                       string
	}{
		{"service lists alice's", "GET", "/api/uploads" + q, key, 200, ""},
		{"service gets alice's", "GET", "/api/uploads/" + id + q, key, 200, ""},
		{"service links alice's", "GET", "/api/uploads/" + id + "/url" + q, key, 200, ""},
		{"service, as bob: not his", "GET", "/api/uploads/" + id + "?user=bob", key, 404, "not_found"},
		{"service without user", "GET", "/api/uploads", key, 400, "invalid_request"},
		{"service with an empty user", "GET", "/api/uploads?user=", key, 400, "invalid_request"},
		{"unknown service key", "GET", "/api/uploads" + q, ServiceKeyPrefix + "nope", 401, "unauthorized"},
		{"a JWT signed with the key is no key", "GET", "/api/uploads" + q, strings.TrimPrefix(key, ServiceKeyPrefix), 403, "forbidden"},
		{"bob acts for alice", "GET", "/api/uploads" + q, bob, 403, "forbidden"},
		{"alice names herself", "GET", "/api/uploads" + q, alice, 403, "forbidden"},
		{"bob deletes for alice", "DELETE", "/api/uploads/" + id + q, bob, 403, "forbidden"},
		{"service uploads", "POST", "/api/uploads/policy", key, 401, "unauthorized"},
		{"service starts a multipart upload", "POST", "/api/uploads/multipart", key, 401, "unauthorized"},
		{"service deletes alice's", "DELETE", "/api/uploads/" + id + q, key, 204, ""},
		{"and it is gone", "GET", "/api/uploads/" + id, alice, 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(`{"filename":"a.png","size":10,"contentType":"image/png"}`)
			res := do(t, tt.method, h.URL+tt.path, tt.bearer, "application/json", body)
			if res.Status != tt.status || (tt.code != "" && res.errorCode(t) != tt.code) {
				t.Errorf("%d %s, want %d %s", res.Status, res.Body, tt.status, tt.code)
			}
		})
	}
}
