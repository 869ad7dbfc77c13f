package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ossgate/ossgate/policy"
	"github.com/ossgate/ossgate/store"
	"github.com/ossgate/ossgate/ticket"
)

type recordResponse struct {
	Upload store.Record `json:"upload"`
}

func (h *harness) list(t *testing.T, bearer, query string) ([]store.Record, *string) {
	t.Helper()
	res := do(t, "GET", h.URL+"/api/uploads"+query, bearer, "", nil)
	if res.Status != 200 {
		t.Fatalf("list: %d %s", res.Status, res.Body)
	}
	var l struct {
		Uploads    []store.Record
		NextCursor *string
	}
	if err := json.Unmarshal(res.Body, &l); err != nil {
		t.Fatal(err)
	}
	return l.Uploads, l.NextCursor
}

func TestCallbackEndToEnd(t *testing.T) {
	for _, bodyType := range []policy.BodyType{policy.BodyJSON, policy.BodyForm} {
		t.Run(string(bodyType), func(t *testing.T) {
			h := newHarness(t, func(s *setup) { s.issuer.CallbackBodyType = bodyType })
			alice, bob := token(t, nil), token(t, jwt.MapClaims{"sub": "bob"})
			up, res := h.policy(t, alice, map[string]any{"filename": "cat.jpg", "size": 500, "contentType": "image/jpeg", "vars": map[string]string{"caption": "a \"quoted\" & <tagged> line with ünïcode \\ ${bucket}"}})
			if res.Status != 200 {
				t.Fatalf("policy: %d %s", res.Status, res.Body)
			}
			cres := h.ossCallback(t, up, ossUpload{Size: 480, ETag: "D8E8FCA2DC0F896FD7CB4CB0031BA249", MimeType: "image/jpeg"}, nil, nil)
			if cres.Status != 200 {
				t.Fatalf("callback: %d %s", cres.Status, cres.Body)
			}
			var got recordResponse
			if err := json.Unmarshal(cres.Body, &got); err != nil {
				t.Fatal(err)
			}
			r := got.Upload
			if r.ID == "" || r.Bucket != testBucket || r.Key != up.Key || r.Size != 480 || r.ContentType != "image/jpeg" ||
				r.ETag != "D8E8FCA2DC0F896FD7CB4CB0031BA249" || r.Filename != "cat.jpg" || r.Vars["caption"] != "a \"quoted\" & <tagged> line with ünïcode \\ ${bucket}" || r.CreatedAt.IsZero() {
				t.Fatalf("record %+v", r)
			}
			if strings.Contains(string(cres.Body), `"User"`) || strings.Contains(string(cres.Body), "alice") && !strings.Contains(r.Key, "alice") {
				t.Errorf("record leaks its owner: %s", cres.Body)
			}
			list, next := h.list(t, alice, "")
			if len(list) != 1 || list[0].ID != r.ID || next != nil {
				t.Fatalf("alice's list %v next %v", list, next)
			}
			if list, _ := h.list(t, bob, ""); len(list) != 0 {
				t.Fatalf("bob sees %v", list)
			}
			if g := do(t, "GET", h.URL+"/api/uploads/"+r.ID, alice, "", nil); g.Status != 200 {
				t.Fatalf("get own: %d", g.Status)
			}
			if g := do(t, "GET", h.URL+"/api/uploads/"+r.ID, bob, "", nil); g.Status != 404 || g.errorCode(t) != "not_found" {
				t.Fatalf("bob gets alice's: %d %s", g.Status, g.Body)
			}
			if g := do(t, "GET", h.URL+"/api/uploads/"+r.ID, "", "", nil); g.Status != 401 {
				t.Fatalf("anonymous get: %d", g.Status)
			}
			// A repeated callback gets the same answer and makes no second record.
			again := h.ossCallback(t, up, ossUpload{Size: 480, ETag: "D8E8FCA2DC0F896FD7CB4CB0031BA249", MimeType: "image/jpeg"}, nil, nil)
			if again.Status != 200 || !bytes.Equal(again.Body, cres.Body) {
				t.Fatalf("repeat: %d %s, want %s", again.Status, again.Body, cres.Body)
			}
			if list, _ := h.list(t, alice, ""); len(list) != 1 {
				t.Fatalf("after repeat alice has %d records", len(list))
			}
		})
	}
}

func TestCallbackRejections(t *testing.T) {
	h := newHarness(t)
	alice := token(t, nil)
	newPolicy := func(t *testing.T) policy.SignedUpload {
		up, res := h.policy(t, alice, map[string]any{"filename": "a.png", "size": 100, "contentType": "image/png"})
		if res.Status != 200 {
			t.Fatalf("policy: %d %s", res.Status, res.Body)
		}
		return up
	}
	ok := ossUpload{Size: 100, ETag: testETag, MimeType: "image/png"}
	otherKeyServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("non-allowlisted key server was asked for %s", r.URL)
	}))
	defer otherKeyServer.Close()

	forged := func(secret []byte, exp time.Time, mut func(*ticket.Claims)) func(*ossRequest) {
		return func(r *ossRequest) {
			var body map[string]any
			json.Unmarshal(r.Body, &body)
			c := ticket.Claims{User: "alice", Bucket: testBucket, Key: body["object"].(string), Size: 100, ContentType: "image/png", BodyType: ticket.BodyJSON, ExpiresAt: exp}
			if mut != nil {
				mut(&c)
			}
			tok, err := ticket.Sign(secret, c, time.Now().Add(-time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			body["ticket"] = tok
			r.Body, _ = json.Marshal(body)
		}
	}
	cases := []struct {
		name       string
		o          ossUpload
		beforeSign func(*ossRequest)
		afterSign  func(*ossRequest)
		status     int
		code       string
	}{
		{"tampered body", ok, nil, func(r *ossRequest) { r.Body = bytes.Replace(r.Body, []byte(`"size":100`), []byte(`"size":99`), 1) }, 403, "invalid_signature"},
		{"tampered path", ok, nil, func(r *ossRequest) { r.RawQuery = "x=1" }, 403, "invalid_signature"},
		{"wrong key", ok, func(r *ossRequest) {
			r.Sign = func(s []byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 256)) }
		}, nil, 403, "invalid_signature"},
		{"untrusted key host", ok, func(r *ossRequest) { r.KeyURL = otherKeyServer.URL + "/k.pem" }, nil, 403, "untrusted_key_url"},
		{"userinfo key url", ok, func(r *ossRequest) {
			r.KeyURL = strings.Replace(h.KeyURL, "http://", "http://user@", 1)
		}, nil, 403, "untrusted_key_url"},
		{"file key url", ok, func(r *ossRequest) { r.KeyURL = "file:///etc/passwd" }, nil, 403, "untrusted_key_url"},
		{"forged ticket", ok, forged([]byte(strings.Repeat("f", 32)), time.Now().Add(time.Hour), nil), nil, 403, "invalid_ticket"},
		{"expired ticket", ok, forged(testTicketSecret, time.Now().Add(-time.Minute), nil), nil, 403, "invalid_ticket"},
		{"ticket for other key", ok, forged(testTicketSecret, time.Now().Add(time.Hour), func(c *ticket.Claims) { c.Key = "uploads/alice/other.png" }), nil, 403, "invalid_ticket"},
		{"key not matching ticket", ossUpload{Size: 100, ETag: testETag, MimeType: "image/png", Key: "uploads/alice/elsewhere.png"}, nil, nil, 403, "invalid_ticket"},
		{"size over declared", ossUpload{Size: 101, ETag: testETag, MimeType: "image/png"}, nil, nil, 403, "invalid_ticket"},
		{"other content type", ossUpload{Size: 10, ETag: testETag, MimeType: "text/html"}, nil, nil, 403, "invalid_ticket"},
		{"body not JSON", ok, func(r *ossRequest) { r.Body = []byte("{") }, nil, 400, "invalid_callback"},
		{"no ticket", ok, func(r *ossRequest) {
			r.Body = []byte(`{"bucket":"testbucket","object":"k","etag":"A","size":1,"mimeType":"image/png"}`)
		}, nil, 400, "invalid_callback"},
		{"body over 1 MiB", ok, func(r *ossRequest) { r.Body = bytes.Repeat([]byte("x"), 1<<20+1) }, nil, 413, "body_too_large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := newPolicy(t)
			res := h.ossCallback(t, up, tc.o, tc.beforeSign, tc.afterSign)
			if res.Status != tc.status || res.errorCode(t) != tc.code {
				t.Fatalf("got %d %s, want %d %s", res.Status, res.Body, tc.status, tc.code)
			}
		})
	}
	if list, _ := h.list(t, alice, ""); len(list) != 0 {
		t.Fatalf("rejected callbacks left %d records", len(list))
	}
	for _, hdr := range [][2]string{{"Authorization", ""}, {"x-oss-pub-key-url", "%%%"}} {
		res := do(t, "POST", h.URL+"/api/uploads/callback", "", "application/json", []byte(`{}`), hdr[0], hdr[1])
		if res.Status/100 != 4 {
			t.Errorf("callback with header %v: %d", hdr, res.Status)
		}
	}
}

// 1,000 deliveries of the same callback, 50 at a time: one record, every
// answer 200 and the same.
func TestCallbackIdempotentUnderConcurrency(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	h := newHarness(t)
	alice := token(t, nil)
	up, res := h.policy(t, alice, map[string]any{"filename": "a.png", "size": 100, "contentType": "image/png"})
	if res.Status != 200 {
		t.Fatal(res.Status)
	}
	// OSS retries deliver the same signed request (PKCS#1 v1.5 signatures
	// are deterministic, so re-signing gives the same bytes).
	first := h.ossCallback(t, up, ossUpload{Size: 100, ETag: testETag, MimeType: "image/png"}, nil, nil)
	if first.Status != 200 {
		t.Fatalf("first: %d %s", first.Status, first.Body)
	}
	const total, parallel = 1000, 50
	answers := make(chan response, total)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := 0; i < total; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			answers <- h.ossCallback(t, up, ossUpload{Size: 100, ETag: testETag, MimeType: "image/png"}, nil, nil)
		}()
	}
	wg.Wait()
	close(answers)
	n := 0
	for a := range answers {
		n++
		if a.Status != 200 || !bytes.Equal(a.Body, first.Body) {
			t.Fatalf("delivery %d: %d %s, want %s", n, a.Status, a.Body, first.Body)
		}
	}
	if list, _ := h.list(t, alice, ""); len(list) != 1 {
		t.Fatalf("%d records, want 1", len(list))
	}
}

func TestUploadsListPaging(t *testing.T) {
	h := newHarness(t)
	alice := token(t, nil)
	const n = 7
	for i := 0; i < n; i++ {
		up, _ := h.policy(t, alice, map[string]any{"filename": fmt.Sprintf("f%d.txt", i), "size": 10, "contentType": "text/plain"})
		if res := h.ossCallback(t, up, ossUpload{Size: 10, ETag: testETag, MimeType: "text/plain"}, nil, nil); res.Status != 200 {
			t.Fatalf("callback %d: %d %s", i, res.Status, res.Body)
		}
	}
	seen := map[string]bool{}
	cursor := ""
	var last time.Time
	for page := 0; ; page++ {
		q := "?limit=3"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		recs, next := h.list(t, alice, q)
		for _, r := range recs {
			if seen[r.ID] {
				t.Fatalf("record %s listed twice", r.ID)
			}
			if !last.IsZero() && r.CreatedAt.After(last) {
				t.Fatalf("not newest first")
			}
			seen[r.ID], last = true, r.CreatedAt
		}
		if next == nil {
			break
		}
		cursor = *next
	}
	if len(seen) != n {
		t.Fatalf("listed %d records, want %d", len(seen), n)
	}
	for _, q := range []string{"?limit=0", "?limit=201", "?limit=x", "?cursor=garbage!!"} {
		if res := do(t, "GET", h.URL+"/api/uploads"+q, alice, "", nil); res.Status != 400 || res.errorCode(t) != "invalid_request" {
			t.Errorf("%s: %d %s", q, res.Status, res.Body)
		}
	}
}
