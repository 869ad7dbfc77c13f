package ossemu

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests sign their forms themselves, from the formulas of
// policy/testdata/README.md, not with the emulator's code.
const (
	testBucket = "examplebucket"
	testRegion = "oss-cn-hangzhou" // the emulator must drop the "oss-" for V4
	testID     = "LTAI5tTestKeyId0001"
	testSecret = "TestSecret0123456789abcdefXYZ"
	stsID      = "STS.TestTemporaryKey01"
	stsSecret  = "StsSecret0123456789"
	stsToken   = "CAIS-test-security-token+/="
)

// testNow is the emulator's clock in the tests: the vectors' signing time.
var testNow = time.Date(2026, 11, 24, 8, 30, 0, 0, time.UTC)

// testKey is generated once: a 2048-bit key per test would be slow.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

type testEnv struct {
	emu *Emulator
	url string // base URL, no trailing slash
	dir string
}

// newEnv starts an emulator on 127.0.0.1:0, as local mode does.
func newEnv(t *testing.T, mod func(*Config)) *testEnv {
	t.Helper()
	cfg := Config{
		Bucket:         testBucket,
		Region:         testRegion,
		Credentials:    map[string]string{testID: testSecret, stsID: stsSecret},
		SecurityTokens: map[string]string{stsID: stsToken},
		Dir:            t.TempDir(),
		Key:            testKey(),
		Now:            func() time.Time { return testNow },
		// The older tests read objects back unsigned, as a public-read
		// bucket allows; tests of the private default turn it off.
		PublicRead: true,
		CORS:       []CORSRule{DefaultCORSRule("https://app.example")},
	}
	if mod != nil {
		mod(&cfg)
	}
	emu, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	l, err := emu.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- emu.Serve(l) }()
	t.Cleanup(func() {
		if err := emu.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &testEnv{emu: emu, url: emu.PublicURL(), dir: cfg.Dir}
}

type field struct{ name, value string }

// signer signs a form the way ossgate and the ali-oss SDK do.
type signer struct {
	v4     bool
	id     string
	secret string
	region string // without "oss-"
	token  string
	at     time.Time
}

var (
	v4Signer  = signer{v4: true, id: testID, secret: testSecret, region: "cn-hangzhou", at: testNow}
	v1Signer  = signer{id: testID, secret: testSecret, at: testNow}
	stsSigner = signer{v4: true, id: stsID, secret: stsSecret, region: "cn-hangzhou", token: stsToken, at: testNow}
)

// sign returns fields plus the signature fields, with a policy made of conds
// plus, for V4, the conditions binding the signature fields (as the SDK adds
// them) and the STS token.
func (s signer) sign(exp time.Time, conds []any, fields []field) []field {
	out := append([]field(nil), fields...)
	conds = append([]any(nil), conds...)
	day := s.at.UTC().Format("20060102")
	if s.v4 {
		cred := strings.Join([]string{s.id, day, s.region, "oss", "aliyun_v4_request"}, "/")
		date := s.at.UTC().Format("20060102T150405Z")
		out = append(out,
			field{"x-oss-signature-version", "OSS4-HMAC-SHA256"},
			field{"x-oss-credential", cred},
			field{"x-oss-date", date})
		conds = append(conds,
			map[string]string{"x-oss-signature-version": "OSS4-HMAC-SHA256"},
			map[string]string{"x-oss-credential": cred},
			map[string]string{"x-oss-date": date})
	} else {
		out = append(out, field{"OSSAccessKeyId", s.id})
	}
	if s.token != "" {
		out = append(out, field{"x-oss-security-token", s.token})
		conds = append(conds, map[string]string{"x-oss-security-token": s.token})
	}
	policy := policyB64(exp, conds)
	out = append(out, field{"policy", policy})
	if s.v4 {
		out = append(out, field{"x-oss-signature", testV4Sig(s.secret, day, s.region, policy)})
	} else {
		out = append(out, field{"Signature", testV1Sig(s.secret, policy)})
	}
	return out
}

func policyB64(exp time.Time, conds []any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]any{
		"expiration": exp.UTC().Format("2006-01-02T15:04:05.000Z"),
		"conditions": conds,
	}); err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(bytes.TrimSpace(b.Bytes()))
}

func testHMAC(h func() hash.Hash, key []byte, msg string) []byte {
	m := hmac.New(h, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func testV4Sig(secret, day, region, policy string) string {
	sha := sha256.New
	k := testHMAC(sha, []byte("aliyun_v4"+secret), day)
	k = testHMAC(sha, k, region)
	k = testHMAC(sha, k, "oss")
	k = testHMAC(sha, k, "aliyun_v4_request")
	return hex.EncodeToString(testHMAC(sha, k, policy))
}

func testV1Sig(secret, policy string) string {
	return base64.StdEncoding.EncodeToString(testHMAC(sha1.New, []byte(secret), policy))
}

// stdConds are the conditions ossgate binds for a plain upload.
func stdConds(key, contentType string, maxSize int) []any {
	return []any{
		map[string]string{"bucket": testBucket},
		[]any{"eq", "$key", key},
		[]any{"content-length-range", 1, maxSize},
		[]any{"eq", "$Content-Type", contentType},
		[]any{"eq", "$success_action_status", "200"},
	}
}

func stdFields(key, contentType string) []field {
	return []field{{"key", key}, {"Content-Type", contentType}, {"success_action_status", "200"}}
}

// validForm is a correctly signed form for data under key.
func validForm(s signer, key, contentType string, data []byte) []field {
	return s.sign(testNow.Add(time.Hour), stdConds(key, contentType, len(data)+10), stdFields(key, contentType))
}

// setField replaces the value of name (case-sensitive) in a copy of fs.
func setField(fs []field, name, value string) []field {
	out := append([]field(nil), fs...)
	for i := range out {
		if out[i].name == name {
			out[i].value = value
			return out
		}
	}
	panic("no field " + name)
}

func dropField(fs []field, name string) []field {
	var out []field
	for _, f := range fs {
		if f.name != name {
			out = append(out, f)
		}
	}
	return out
}

// multipartBody builds a form: fields, then the file (unless file is nil),
// then after.
func multipartBody(fields []field, file []byte, after []field) (string, []byte) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, f := range fields {
		_ = mw.WriteField(f.name, f.value)
	}
	if file != nil {
		fw, _ := mw.CreateFormFile("file", "upload.bin")
		_, _ = fw.Write(file)
	}
	for _, f := range after {
		_ = mw.WriteField(f.name, f.value)
	}
	_ = mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

type result struct {
	status int
	header http.Header
	body   []byte
}

type xmlError struct {
	Code      string
	Message   string
	RequestId string
	HostId    string
}

func (r result) xmlErr(t *testing.T) xmlError {
	t.Helper()
	var e xmlError
	if err := xml.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("body is not an XML error (%v): %q", err, r.body)
	}
	return e
}

func (r result) String() string {
	return fmt.Sprintf("%d %q", r.status, r.body)
}

func do(t *testing.T, req *http.Request) result {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	return result{resp.StatusCode, resp.Header, body}
}

// postForm uploads file with fields (and after, past the file).
func (env *testEnv) postForm(t *testing.T, fields []field, file []byte, after []field) result {
	t.Helper()
	ct, body := multipartBody(fields, file, after)
	req, err := http.NewRequest(http.MethodPost, env.url+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	return do(t, req)
}

func (env *testEnv) get(t *testing.T, method, key string) result {
	t.Helper()
	req, err := http.NewRequest(method, env.url+"/"+(&url.URL{Path: key}).EscapedPath(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

// wantError checks an OSS XML error answer.
func wantError(t *testing.T, r result, status int, code string) xmlError {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %q", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/xml" {
		t.Errorf("Content-Type = %q, want application/xml", ct)
	}
	e := r.xmlErr(t)
	if e.Code != code {
		t.Fatalf("Code = %q, want %q (Message %q)", e.Code, code, e.Message)
	}
	if e.RequestId == "" || e.RequestId != r.header.Get("x-oss-request-id") {
		t.Errorf("RequestId = %q, header x-oss-request-id = %q; want equal and set", e.RequestId, r.header.Get("x-oss-request-id"))
	}
	return e
}

func etagOf(data []byte) string {
	sum := md5.Sum(data)
	return `"` + strings.ToUpper(hex.EncodeToString(sum[:])) + `"`
}

// tempFiles lists what is left in the emulator's temporary directory.
func (env *testEnv) tempFiles(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(env.dir, "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// verifyOSSCallback checks a callback request's signature as an application
// server would: key fetched from the URL in x-oss-pub-key-url, MD5withRSA
// over decoded path + raw query + "\n" + body.
func verifyOSSCallback(r *http.Request, body []byte, fetchKey func(string) ([]byte, error)) error {
	keyURL, err := base64.StdEncoding.DecodeString(r.Header.Get("x-oss-pub-key-url"))
	if err != nil {
		return fmt.Errorf("x-oss-pub-key-url: %w", err)
	}
	pemBytes, err := fetchKey(string(keyURL))
	if err != nil {
		return err
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != "PUBLIC KEY" {
		return errors.New("no PUBLIC KEY PEM block")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return err
	}
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok {
		return errors.New("not an RSA key")
	}
	sig, err := base64.StdEncoding.DecodeString(r.Header.Get("Authorization"))
	if err != nil {
		return fmt.Errorf("authorization: %w", err)
	}
	toSign := r.URL.Path
	if r.URL.RawQuery != "" {
		toSign += "?" + r.URL.RawQuery
	}
	sum := md5.Sum([]byte(toSign + "\n" + string(body)))
	return rsa.VerifyPKCS1v15(rsaPub, crypto.MD5, sum[:], sig)
}

func httpGetBody(u string) ([]byte, error) {
	resp, err := http.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return io.ReadAll(resp.Body)
}
