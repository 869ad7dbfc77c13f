package web

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ossgate/ossgate/policy"
)

// decodedPolicy is the policy field's JSON.
type decodedPolicy struct {
	Expiration string `json:"expiration"`
	Conditions []any  `json:"conditions"`
}

func decodePolicy(t *testing.T, b64 string) decodedPolicy {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	var p decodedPolicy
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// binds reports whether the policy holds the condition, in map form or as
// ["eq","$field",value] (field names compared case-insensitively, as OSS).
func (p decodedPolicy) binds(field string, value any) bool {
	want := fmt.Sprint(value)
	for _, c := range p.Conditions {
		switch c := c.(type) {
		case map[string]any:
			for k, v := range c {
				if strings.EqualFold(k, field) && fmt.Sprint(v) == want {
					return true
				}
			}
		case []any:
			if len(c) == 3 && c[0] == "eq" && strings.EqualFold(fmt.Sprint(c[1]), "$"+field) && fmt.Sprint(c[2]) == want {
				return true
			}
		}
	}
	return false
}

func (p decodedPolicy) lengthRange() (min, max float64, ok bool) {
	for _, c := range p.Conditions {
		if c, isList := c.([]any); isList && len(c) == 3 && c[0] == "content-length-range" {
			return c[1].(float64), c[2].(float64), true
		}
	}
	return 0, 0, false
}

func TestPolicyIssuesSignedFields(t *testing.T) {
	cases := []struct {
		name    string
		version string
		token   string // STS token configured on the server
		body    policy.BodyType
	}{
		{"v4 default", "", "", policy.BodyJSON},
		{"v4 explicit with STS", "v4", "CAIStsTokenExample+/=", policy.BodyJSON},
		{"v1", "v1", "", policy.BodyForm},
		{"v1 with STS", "v1", "CAIStsTokenExample+/=", policy.BodyJSON},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(s *setup) {
				s.issuer.Credentials.SecurityToken = tc.token
				s.issuer.CallbackBodyType = tc.body
			})
			req := map[string]any{"filename": "Cat Photo.JPG", "size": 12345, "contentType": "image/jpeg", "vars": map[string]string{"caption": "hi \"there\""}}
			if tc.version != "" {
				req["signatureVersion"] = tc.version
			}
			before := time.Now()
			up, res := h.policy(t, token(t, nil), req)
			if res.Status != http.StatusOK {
				t.Fatalf("status %d: %s", res.Status, res.Body)
			}
			f := up.Fields
			if up.Method != "POST" || up.URL != "https://testbucket.oss-cn-hangzhou.aliyuncs.com" || up.Headers == nil || up.MaxSize != 12345 {
				t.Fatalf("method %q url %q headers %v maxSize %d", up.Method, up.URL, up.Headers, up.MaxSize)
			}
			if f["key"] != up.Key || !strings.HasPrefix(up.Key, "uploads/alice/"+before.UTC().Format("2006/01/02")+"/") || !strings.HasSuffix(up.Key, ".jpg") {
				t.Fatalf("key %q (field %q)", up.Key, f["key"])
			}
			if exp := up.ExpiresAt.Sub(before); exp < 9*time.Minute || exp > 11*time.Minute {
				t.Errorf("expiresAt %v is not ~10m ahead", up.ExpiresAt)
			}
			p := decodePolicy(t, f["policy"])
			for field, value := range map[string]any{
				"bucket": testBucket, "key": up.Key, "Content-Type": "image/jpeg",
				"success_action_status": "200", "callback": f["callback"], "x:caption": `hi "there"`,
			} {
				if !p.binds(field, value) {
					t.Errorf("policy does not bind %s=%v: %v", field, value, p.Conditions)
				}
			}
			if min, max, ok := p.lengthRange(); !ok || min != 1 || max != 12345 {
				t.Errorf("content-length-range %v..%v (present %v), want 1..12345", min, max, ok)
			}
			if f["Content-Type"] != "image/jpeg" || f["success_action_status"] != "200" || f["x:caption"] != `hi "there"` {
				t.Errorf("fields %v", f)
			}
			if tc.token != "" && (f["x-oss-security-token"] != tc.token || !p.binds("x-oss-security-token", tc.token)) {
				t.Errorf("STS token not sent and bound: field %q", f["x-oss-security-token"])
			}
			if tc.token == "" && f["x-oss-security-token"] != "" {
				t.Errorf("unexpected STS token field")
			}
			if tc.version == "v1" {
				want := policy.SignV1(testCreds.AccessKeySecret, f["policy"])
				if f["OSSAccessKeyId"] != testCreds.AccessKeyID || f["Signature"] != want {
					t.Errorf("V1 id %q signature %q, want %q", f["OSSAccessKeyId"], f["Signature"], want)
				}
				return
			}
			day, err := time.Parse("20060102T150405Z", f["x-oss-date"])
			if err != nil {
				t.Fatalf("x-oss-date %q: %v", f["x-oss-date"], err)
			}
			wantCred := testCreds.AccessKeyID + "/" + day.Format("20060102") + "/cn-hangzhou/oss/aliyun_v4_request"
			wantSig := policy.SignV4(policy.SigningKeyV4(testCreds.AccessKeySecret, day, "cn-hangzhou"), f["policy"])
			if f["x-oss-signature-version"] != "OSS4-HMAC-SHA256" || f["x-oss-credential"] != wantCred || f["x-oss-signature"] != wantSig {
				t.Errorf("V4 fields %v; want credential %q signature %q", f, wantCred, wantSig)
			}
			for _, field := range []string{"x-oss-signature-version", "x-oss-credential", "x-oss-date"} {
				if !p.binds(field, f[field]) {
					t.Errorf("policy does not bind %s", field)
				}
			}
		})
	}
}

func TestPolicyKeyIsChosenByServer(t *testing.T) {
	h := newHarness(t)
	subs := []string{"alice", "../../etc", "a/b", "bob\x01", strings.Repeat("x", 100), "ünïcode"}
	names := []string{"../../etc/passwd", "a/../../b.PNG", "..", "x.tar.gz", "noext", "évil\u202e.gif"}
	for _, sub := range subs {
		for _, name := range names {
			up, res := h.policy(t, token(t, jwt.MapClaims{"sub": sub}), map[string]any{"filename": name, "size": 1, "contentType": "image/png"})
			if res.Status != http.StatusOK {
				t.Fatalf("sub %q filename %q: %d %s", sub, name, res.Status, res.Body)
			}
			k := up.Key
			if strings.Contains(k, "..") || strings.Contains(k, "//") || strings.HasPrefix(k, "/") || strings.ContainsFunc(k, func(r rune) bool { return r < 0x20 || r == 0x7f }) || !strings.HasPrefix(k, "uploads/") {
				t.Errorf("sub %q filename %q gave unsafe key %q", sub, name, k)
			}
		}
	}
}

// rsaPublicKeyServer is a harness whose tokens are verified with an RSA
// public key (RS256 pinned).
func rsaHarness(t *testing.T) (*harness, *rsa.PrivateKey) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(s *setup) {
		s.options.Auth = AuthConfig{PublicKey: &key.PublicKey, Issuer: "https://id.example.com", Audience: "ossgate"}
		s.options.DevTokens = false
	})
	return h, key
}

func TestPolicyRejections(t *testing.T) {
	h := newHarness(t)
	rh, rsaKey := rsaHarness(t)
	good := `{"filename":"cat.jpg","size":100,"contentType":"image/jpeg"}`
	valid := token(t, nil)

	pubPEM := publicKeyPEM(t, &rsaKey.PublicKey)
	confused, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix(), "iss": "https://id.example.com", "aud": "ossgate"}).SignedString(pubPEM)
	rs := func(claims jwt.MapClaims) string {
		c := jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix(), "iss": "https://id.example.com", "aud": "ossgate"}
		for k, v := range claims {
			c[k] = v
		}
		s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, c).SignedString(rsaKey)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	es256, _ := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix(), "iss": "https://id.example.com", "aud": "ossgate"}).SignedString(ecKey)
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	otherSecret, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte("another-secret-0123456789abcdef-xyz"))
	hs512, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix()}).SignedString(testJWTSecret)

	vars := func(n int) string {
		var parts []string
		for i := 0; i < n; i++ {
			parts = append(parts, fmt.Sprintf(`"v%d":"x"`, i))
		}
		return `{"filename":"a.jpg","size":1,"contentType":"image/jpeg","vars":{` + strings.Join(parts, ",") + `}}`
	}
	cases := []struct {
		name        string
		server      *harness
		bearer      string
		contentType string
		body        string
		status      int
		code        string
	}{
		{"no token", h, "", "application/json", good, 401, "unauthorized"},
		{"malformed token", h, "not-a-jwt", "application/json", good, 401, "unauthorized"},
		{"alg none", h, none, "application/json", good, 401, "unauthorized"},
		{"other secret", h, otherSecret, "application/json", good, 401, "unauthorized"},
		{"HS512 not pinned", h, hs512, "application/json", good, 401, "unauthorized"},
		{"expired", h, token(t, jwt.MapClaims{"exp": time.Now().Add(-time.Minute).Unix()}), "application/json", good, 401, "unauthorized"},
		{"not yet valid", h, token(t, jwt.MapClaims{"nbf": time.Now().Add(time.Hour).Unix()}), "application/json", good, 401, "unauthorized"},
		{"no exp", h, token(t, jwt.MapClaims{"exp": nil}), "application/json", good, 401, "unauthorized"},
		{"missing sub", h, token(t, jwt.MapClaims{"sub": nil}), "application/json", good, 401, "unauthorized"},
		{"empty sub", h, token(t, jwt.MapClaims{"sub": ""}), "application/json", good, 401, "unauthorized"},
		{"huge token", h, strings.Repeat("a", 9000), "application/json", good, 401, "unauthorized"},
		{"HS256 against public key", rh, confused, "application/json", good, 401, "unauthorized"},
		{"ES256 against RSA key", rh, es256, "application/json", good, 401, "unauthorized"},
		{"wrong issuer", rh, rs(jwt.MapClaims{"iss": "https://evil.example.com"}), "application/json", good, 401, "unauthorized"},
		{"wrong audience", rh, rs(jwt.MapClaims{"aud": "other-app"}), "application/json", good, 401, "unauthorized"},
		{"no audience", rh, rs(jwt.MapClaims{"aud": nil}), "application/json", good, 401, "unauthorized"},
		{"RS256 accepted", rh, rs(nil), "application/json", good, 200, ""},
		{"malformed JSON", h, valid, "application/json", `{"filename":`, 400, "invalid_json"},
		{"JSON array", h, valid, "application/json", `[1,2]`, 400, "invalid_json"},
		{"trailing data", h, valid, "application/json", good + `{}`, 400, "invalid_json"},
		{"empty body", h, valid, "application/json", ``, 400, "invalid_json"},
		{"wrong content type", h, valid, "text/plain", good, 415, "unsupported_media_type"},
		{"no content type", h, valid, "", good, 415, "unsupported_media_type"},
		{"unknown field", h, valid, "application/json", `{"filename":"a.jpg","size":1,"contentType":"image/jpeg","key":"mine"}`, 400, "invalid_request"},
		{"missing filename", h, valid, "application/json", `{"size":1,"contentType":"image/jpeg"}`, 400, "invalid_request"},
		{"missing size", h, valid, "application/json", `{"filename":"a.jpg","contentType":"image/jpeg"}`, 400, "invalid_request"}, // absent, not 0
		{"missing content type", h, valid, "application/json", `{"filename":"a.jpg","size":1}`, 400, "invalid_request"},
		{"size zero", h, valid, "application/json", `{"filename":"a.jpg","size":0,"contentType":"image/jpeg"}`, 422, "empty_file"},
		{"size negative", h, valid, "application/json", `{"filename":"a.jpg","size":-5,"contentType":"image/jpeg"}`, 400, "invalid_request"},
		{"size over max", h, valid, "application/json", `{"filename":"a.jpg","size":10485761,"contentType":"image/jpeg"}`, 422, "file_too_large"},
		{"size float", h, valid, "application/json", `{"filename":"a.jpg","size":1.5,"contentType":"image/jpeg"}`, 400, "invalid_request"},
		{"size string", h, valid, "application/json", `{"filename":"a.jpg","size":"100","contentType":"image/jpeg"}`, 400, "invalid_request"},
		{"size huge", h, valid, "application/json", `{"filename":"a.jpg","size":1e400,"contentType":"image/jpeg"}`, 400, "invalid_request"},
		{"disallowed type", h, valid, "application/json", `{"filename":"a.exe","size":1,"contentType":"application/x-msdownload"}`, 422, "type_not_allowed"},
		{"malformed type", h, valid, "application/json", `{"filename":"a.jpg","size":1,"contentType":"image"}`, 400, "invalid_request"},
		{"too many vars", h, valid, "application/json", vars(11), 400, "invalid_request"},
		{"ten vars ok", h, valid, "application/json", vars(10), 200, ""},
		{"badly named var", h, valid, "application/json", `{"filename":"a.jpg","size":1,"contentType":"image/jpeg","vars":{"Bad-Name":"x"}}`, 400, "invalid_request"},
		{"long var name", h, valid, "application/json", `{"filename":"a.jpg","size":1,"contentType":"image/jpeg","vars":{"` + strings.Repeat("a", 33) + `":"x"}}`, 400, "invalid_request"},
		{"long var value", h, valid, "application/json", `{"filename":"a.jpg","size":1,"contentType":"image/jpeg","vars":{"a":"` + strings.Repeat("x", 257) + `"}}`, 400, "invalid_request"},
		{"unknown version", h, valid, "application/json", `{"filename":"a.jpg","size":1,"contentType":"image/jpeg","signatureVersion":"v2"}`, 400, "invalid_request"},
		{"oversized body", h, valid, "application/json", `{"filename":"a.jpg","size":1,"contentType":"image/jpeg","vars":{"a":"` + strings.Repeat("x", 70<<10) + `"}}`, 413, "body_too_large"},
		{"traversal filename is fine", h, valid, "application/json", `{"filename":"../../etc/passwd","size":1,"contentType":"text/plain"}`, 200, ""},
		{"control chars in filename", h, valid, "application/json", `{"filename":"a\u0000b.jpg","size":1,"contentType":"image/jpeg"}`, 400, "invalid_request"},
		{"newline in filename", h, valid, "application/json", `{"filename":"a\nb.jpg","size":1,"contentType":"image/jpeg"}`, 400, "invalid_request"},
		{"long filename", h, valid, "application/json", `{"filename":"` + strings.Repeat("a", 256) + `","size":1,"contentType":"image/jpeg"}`, 400, "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := do(t, "POST", tc.server.URL+"/api/uploads/policy", tc.bearer, tc.contentType, []byte(tc.body))
			if res.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.Status, tc.status, res.Body)
			}
			if tc.code != "" {
				if got := res.errorCode(t); got != tc.code {
					t.Fatalf("code %q, want %q", got, tc.code)
				}
			}
			if res.Status == 401 && res.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
}

// A body streamed without Content-Length is cut at the limit too.
func TestPolicyChunkedBodyOverLimit(t *testing.T) {
	h := newHarness(t)
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte(`{"filename":"a.jpg","size":1,"contentType":"image/jpeg","vars":{"a":"`))
		for i := 0; i < 200; i++ {
			pw.Write([]byte(strings.Repeat("x", 1024)))
		}
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", h.URL+"/api/uploads/policy", pr)
	req.Header.Set("Authorization", "Bearer "+token(t, nil))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 413 {
		t.Fatalf("status %d, want 413", res.StatusCode)
	}
}

func TestDevTokenWorksWithPolicy(t *testing.T) {
	h := newHarness(t)
	res := do(t, "POST", h.URL+"/api/dev/token", "", "application/json", []byte(`{"sub":"carol"}`))
	if res.Status != 200 {
		t.Fatalf("dev token: %d %s", res.Status, res.Body)
	}
	var tok struct{ Token string }
	json.Unmarshal(res.Body, &tok)
	up, pres := h.policy(t, tok.Token, map[string]any{"filename": "a.pdf", "size": 10, "contentType": "application/pdf"})
	if pres.Status != 200 || !strings.HasPrefix(up.Key, "uploads/carol/") {
		t.Fatalf("policy with dev token: %d %s", pres.Status, pres.Body)
	}
	for _, body := range []string{`{}`, `{"sub":""}`, `{"sub":"a\u0001"}`, `{"sub":"` + strings.Repeat("a", 200) + `"}`} {
		if res := do(t, "POST", h.URL+"/api/dev/token", "", "application/json", []byte(body)); res.Status != 400 || res.errorCode(t) != "invalid_request" {
			t.Errorf("dev token %s: %d %s", body, res.Status, res.Body)
		}
	}
	rh, _ := rsaHarness(t)
	if res := do(t, "POST", rh.URL+"/api/dev/token", "", "application/json", []byte(`{"sub":"x"}`)); res.Status != 404 || res.errorCode(t) != "not_found" {
		t.Errorf("dev token outside local mode: %d %s", res.Status, res.Body)
	}
}

func TestHealthAndUnknownRoutes(t *testing.T) {
	h := newHarness(t)
	cases := []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/healthz", 200, ""},
		{"GET", "/readyz", 200, ""},
		{"GET", "/nope", 404, "not_found"},
		{"PUT", "/api/uploads/policy", 405, "method_not_allowed"},
	}
	for _, tc := range cases {
		res := do(t, tc.method, h.URL+tc.path, "", "", nil)
		if res.Status != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, res.Status, tc.status)
		}
		if tc.code != "" && res.errorCode(t) != tc.code {
			t.Errorf("%s %s: code %s", tc.method, tc.path, res.errorCode(t))
		}
		if res.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s %s: no X-Request-Id", tc.method, tc.path)
		}
	}
}
