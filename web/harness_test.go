package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ossgate/ossgate/callback"
	"github.com/ossgate/ossgate/internal/osstest"
	"github.com/ossgate/ossgate/policy"
	"github.com/ossgate/ossgate/store"
)

// The fake OSS's callback signing key, made once: RSA key generation is slow.
var ossKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

var (
	testJWTSecret    = []byte("test-jwt-secret-0123456789abcdef-xyz")
	testTicketSecret = []byte("test-ticket-secret-0123456789abcdef")
	testCreds        = policy.Credentials{AccessKeyID: "LTAI5tTestKeyId", AccessKeySecret: "TestSecretKey0123456789abcdef"}
)

const testBucket = "testbucket"

// testETag has the shape OSS gives ETags: 32 upper-case hex digits.
const testETag = "5EB63BBBE01EEED093CB22BB8F5ACDC3"

// publicKeyPEM is key as a PKIX "PUBLIC KEY" PEM block, the form OSS serves.
func publicKeyPEM(t testing.TB, key *rsa.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// harness is a real ossgate server on 127.0.0.1:0 with a real SQLite file,
// and a key server on another loopback port that plays OSS's key host.
type harness struct {
	URL       string
	Store     store.Store
	Server    *Server      // the server under test
	KeyURL    string       // allowlisted URL of the fake OSS public key
	KeyHits   atomic.Int64 // requests the key server saw
	Metrics   *Metrics
	Bucket    *fakeBucket // what "OSS" holds; ossCallback puts the object it reports
	keyServer *httptest.Server
	api       *httptest.Server
}

type setup struct {
	issuer  *policy.IssuerConfig
	options *Options
}

// newHarness starts everything; tweak changes the configuration first.
func newHarness(t *testing.T, tweak ...func(*setup)) *harness {
	t.Helper()
	h := &harness{}
	pubPEM := publicKeyPEM(t, &ossKey().PublicKey)
	h.keyServer = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.KeyHits.Add(1)
		w.Write(pubPEM)
	}))
	t.Cleanup(h.keyServer.Close)
	h.KeyURL = h.keyServer.URL + "/callback_pub_key_v1.pem"

	db, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "ossgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h.Store = db

	h.api = httptest.NewUnstartedServer(nil)
	h.URL = "http://" + h.api.Listener.Addr().String()

	ic := policy.IssuerConfig{
		Credentials:      testCreds,
		Region:           "cn-hangzhou",
		Bucket:           testBucket,
		UploadURL:        "https://" + testBucket + ".oss-cn-hangzhou.aliyuncs.com",
		CallbackURL:      h.URL + "/api/uploads/callback",
		CallbackBodyType: policy.BodyJSON,
		TicketSecret:     testTicketSecret,
		KeyPrefix:        "uploads/",
		MaxSize:          10 << 20,
		AllowedTypes:     []string{"image/*", "application/pdf", "text/plain"},
		TTL:              10 * time.Minute,
		DefaultVersion:   policy.V4,
	}
	h.Metrics = NewMetrics()
	fetcher, err := callback.NewFetcher(callback.FetcherConfig{AllowedKeyURLs: []string{h.keyServer.URL + "/"}, OnFetch: h.Metrics.KeyLookup})
	if err != nil {
		t.Fatal(err)
	}
	h.Bucket = newFakeBucket()
	opt := Options{
		Bucket:         h.Bucket,
		ConfirmObjects: true,
		Verifier:       &callback.Verifier{Keys: fetcher, TicketSecret: testTicketSecret},
		Store:          db,
		Auth:           AuthConfig{Secret: testJWTSecret},
		DevTokens:      true,
		Metrics:        h.Metrics,
	}
	for _, f := range tweak {
		f(&setup{issuer: &ic, options: &opt})
	}
	if opt.Issuer == nil {
		if opt.Issuer, err = policy.NewIssuer(ic); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	h.Server = srv
	h.api.Config.Handler = srv
	h.api.Start()
	t.Cleanup(h.api.Close)
	return h
}

// token signs an HS256 JWT with the harness secret and the given claims on
// top of a valid sub and exp.
func token(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	c := jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix()}
	for k, v := range claims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(testJWTSecret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) errorCode(t *testing.T) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(r.Body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("status %d body %q is not the error shape", r.Status, r.Body)
	}
	return e.Error.Code
}

func do(t *testing.T, method, url, bearer, contentType string, body []byte, header ...string) response {
	t.Helper()
	var h []string
	if bearer != "" {
		h = append(h, "Authorization", "Bearer "+bearer)
	}
	if contentType != "" {
		h = append(h, "Content-Type", contentType)
	}
	return sendReq(t, method, url, bytes.NewReader(body), append(h, header...)...)
}

// sendReq sends one request with the header name/value pairs, verbatim, and
// reads the whole answer. A body reader of unknown type is sent chunked,
// without Content-Length.
func sendReq(t *testing.T, method, target string, body io.Reader, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

func (h *harness) policy(t *testing.T, bearer string, req any) (policy.SignedUpload, response) {
	t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	res := do(t, "POST", h.URL+"/api/uploads/policy", bearer, "application/json", body)
	var up policy.SignedUpload
	if res.Status == http.StatusOK {
		if err := json.Unmarshal(res.Body, &up); err != nil {
			t.Fatal(err)
		}
	}
	return up, res
}

// ossUpload is what OSS knows after storing an object.
type ossUpload struct {
	Size     int64
	ETag     string
	MimeType string
	Key      string // defaults to the policy's key
	// NotStored: OSS holds no such object (a forged callback); otherwise
	// ossCallback stores it as described before calling back.
	NotStored bool
}

// ossCallback acts as OSS after an upload: it renders the policy's
// callbackBody with the upload's values, signs it with the fake OSS key and
// posts it. mutate may change the request before it is signed (sign=true)
// or after (to tamper).
type ossRequest struct {
	Path, RawQuery, ContentType, KeyURL string
	Body                                []byte
	Sign                                func(stringToSign []byte) (authorization string)
}

func (h *harness) ossCallback(t *testing.T, up policy.SignedUpload, o ossUpload, beforeSign, afterSign func(*ossRequest)) response {
	t.Helper()
	cb, err := osstest.DecodeCallback(up.Fields["callback"])
	if err != nil {
		t.Fatal(err)
	}
	if o.Key == "" {
		o.Key = up.Key
	}
	if !o.NotStored {
		h.Bucket.put(o.Key, o.Size, o.ETag, o.MimeType)
	}
	u, err := url.Parse(cb.URL)
	if err != nil {
		t.Fatal(err)
	}
	r := &ossRequest{
		Path: u.EscapedPath(), RawQuery: u.RawQuery, ContentType: cb.BodyType, KeyURL: h.KeyURL,
		Body: []byte(cb.RenderBody(osstest.Object{Bucket: testBucket, Key: o.Key, ETag: o.ETag, MimeType: o.MimeType, Size: o.Size}, up.Fields)),
		Sign: func(s []byte) string {
			auth, err := osstest.SignMessage(ossKey(), s)
			if err != nil {
				t.Fatal(err)
			}
			return auth
		},
	}
	if beforeSign != nil {
		beforeSign(r)
	}
	sts, err := osstest.StringToSign(r.Path, r.RawQuery, r.Body)
	if err != nil {
		t.Fatal(err)
	}
	auth := r.Sign(sts)
	if afterSign != nil {
		afterSign(r)
	}
	target := "http://" + u.Host + r.Path
	if r.RawQuery != "" {
		target += "?" + r.RawQuery
	}
	return do(t, "POST", target, "", r.ContentType, r.Body,
		"Authorization", auth,
		"x-oss-pub-key-url", base64.StdEncoding.EncodeToString([]byte(r.KeyURL)))
}
