package ossemu

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
)

// These tests presign with the official Go SDK (v2) and upload with plain
// net/http, as a browser or app handed the URL would.

type sdkOpts struct {
	v1                bool
	id, secret, token string
	additionalHeaders []string
	clientOpts        []func(*oss.Options)
}

func sdkClient(env *testEnv, o sdkOpts) *oss.Client {
	if o.id == "" {
		o.id, o.secret = testID, testSecret
	}
	cfg := oss.LoadDefaultConfig().
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(o.id, o.secret, o.token)).
		WithRegion("cn-hangzhou").
		WithEndpoint(strings.TrimPrefix(env.url, "http://")).
		WithUsePathStyle(true).
		WithDisableSSL(true)
	if o.v1 {
		cfg = cfg.WithSignatureVersion(oss.SignatureVersionV1)
	}
	if o.additionalHeaders != nil {
		cfg = cfg.WithAdditionalHeaders(o.additionalHeaders)
	}
	return oss.NewClient(cfg, o.clientOpts...)
}

func presignPut(t *testing.T, c *oss.Client, req *oss.PutObjectRequest) *oss.PresignResult {
	t.Helper()
	req.Bucket = oss.Ptr(testBucket)
	res, err := c.Presign(context.Background(), req, oss.PresignExpires(10*time.Minute))
	if err != nil {
		t.Fatalf("Presign: %v", err)
	}
	if res.Method != http.MethodPut {
		t.Fatalf("presigned method %q", res.Method)
	}
	return res
}

// putRequest is the PUT a client makes with a presigned result. keyOnly
// drops the bucket from the path: "/{key}", as ossgate's own URLs are.
func putRequest(t *testing.T, res *oss.PresignResult, body io.Reader, keyOnly bool) *http.Request {
	t.Helper()
	u := res.URL
	if keyOnly {
		u = strings.Replace(u, "/"+testBucket+"/", "/", 1)
	}
	req, err := http.NewRequest(http.MethodPut, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range res.SignedHeaders {
		req.Header.Set(k, v)
	}
	return req
}

func b64JSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(bytes.TrimSpace(b.Bytes()))
}

// jsonQuote is s as a JSON string, <, > and & left alone as OSS does.
func jsonQuote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSpace(b.String())
}

// setQuery rewrites one query parameter of req ("" deletes it).
func setQuery(req *http.Request, name, value string) {
	q := req.URL.Query()
	if value == "" {
		q.Del(name)
	} else {
		q.Set(name, value)
	}
	req.URL.RawQuery = q.Encode()
}

func TestPresignedPutWithSDK(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.Now = time.Now }) // the SDK signs with the real clock
	srv, got := callbackServer(t, answerJSON(`{"upload":{"id":"u1"}}`))
	data := pngBytes(t, 3, 2)
	const ct = "image/png"
	caption := `he said "hi" — 照片 <&>`
	cbBody := `{"bucket":${bucket},"object":${object},"etag":${etag},"size":${size},"mimeType":${mimeType},` +
		`"caption":${x:caption},"width":${imageInfo.width},"operation":${operation},"ticket":"t.k.n"}`
	cb := b64JSON(map[string]string{"callbackUrl": srv.URL + "/api/uploads/callback", "callbackBody": cbBody, "callbackBodyType": "application/json"})
	cbVar := b64JSON(map[string]string{"x:caption": caption})

	tests := []struct {
		name     string
		opts     sdkOpts
		keyOnly  bool
		callback bool
		inQuery  bool // callback and callback-var as query parameters
	}{
		{"v4 path style", sdkOpts{}, false, true, false},
		{"v4 key only", sdkOpts{}, true, true, false},
		{"v1 path style", sdkOpts{v1: true}, false, true, false},
		{"v1 key only", sdkOpts{v1: true}, true, true, false},
		{"v4 sts", sdkOpts{id: stsID, secret: stsSecret, token: stsToken}, false, true, false},
		{"v1 sts", sdkOpts{v1: true, id: stsID, secret: stsSecret, token: stsToken}, true, true, false},
		{"v4 additional header", sdkOpts{additionalHeaders: []string{"content-disposition"}}, false, true, false},
		{"v4 callback in query", sdkOpts{}, false, true, true},
		{"v1 callback in query", sdkOpts{v1: true}, true, true, true},
		{"v4 no callback", sdkOpts{}, false, false, false},
		{"v1 no callback", sdkOpts{v1: true}, true, false, false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Every character class the path and canonical URI encode.
			key := "uploads/alice/2026/11/25/照片 a+b=c&d~(" + strconv.Itoa(i) + ").png"
			preq := &oss.PutObjectRequest{Key: oss.Ptr(key), ContentType: oss.Ptr(ct),
				ContentDisposition: oss.Ptr(`attachment; filename="a.png"`), Metadata: map[string]string{"owner": "alice"}}
			switch {
			case tc.inQuery:
				preq.Parameters = map[string]string{"callback": cb, "callback-var": cbVar}
			case tc.callback:
				preq.Callback, preq.CallbackVar = oss.Ptr(cb), oss.Ptr(cbVar)
			}
			res := presignPut(t, sdkClient(env, tc.opts), preq)
			if tc.opts.additionalHeaders != nil && !strings.Contains(res.URL, "x-oss-additional-headers=content-disposition") {
				t.Fatalf("the SDK did not sign an additional header: %s", res.URL)
			}
			req := putRequest(t, res, bytes.NewReader(data), tc.keyOnly)
			// Signed only with an additional header; sent (and kept) either way.
			req.Header.Set("Content-Disposition", `attachment; filename="a.png"`)
			r := do(t, req)
			if r.status != http.StatusOK {
				t.Fatalf("PUT: %v, want 200", r)
			}
			if got, want := r.header.Get("ETag"), etagOf(data); got != want {
				t.Errorf("ETag = %q, want %q", got, want)
			}
			if tc.callback {
				if string(r.body) != `{"upload":{"id":"u1"}}` {
					t.Errorf("uploader got %q, want the callback's answer", r.body)
				}
				if got := r.header.Get("Content-Type"); got != "application/json" {
					t.Errorf("Content-Type = %q, want application/json", got)
				}
				g := receive(t, got)
				want := `{"bucket":"examplebucket","object":` + jsonQuote(key) + `,"etag":"` + strings.Trim(etagOf(data), `"`) +
					`","size":` + strconv.Itoa(len(data)) + `,"mimeType":"image/png","caption":` + jsonQuote(caption) +
					`,"width":3,"operation":"PutObject","ticket":"t.k.n"}`
				if string(g.body) != want {
					t.Errorf("callback body\n got %s\nwant %s", g.body, want)
				}
				if g.path != "/api/uploads/callback" || g.contentType != "application/json" {
					t.Errorf("callback went to %q as %q", g.path, g.contentType)
				}
			} else if len(r.body) != 0 {
				t.Errorf("body = %q, want none", r.body)
			}

			for _, p := range []string{"/" + key, "/" + testBucket + "/" + key} {
				req, _ := http.NewRequest(http.MethodGet, env.url+(&url.URL{Path: p}).EscapedPath(), nil)
				g := do(t, req)
				if g.status != http.StatusOK || !bytes.Equal(g.body, data) {
					t.Fatalf("GET %s: %d, %d bytes, want 200 and the uploaded bytes", p, g.status, len(g.body))
				}
				for h, want := range map[string]string{"Content-Type": ct, "ETag": etagOf(data),
					"Content-Disposition": `attachment; filename="a.png"`, "X-Oss-Meta-Owner": "alice"} {
					if got := g.header.Get(h); got != want {
						t.Errorf("GET %s: %s = %q, want %q", p, h, got, want)
					}
				}
			}
		})
	}
	select {
	case g := <-got:
		t.Errorf("unexpected callback %s", g.body)
	default:
	}
}

// TestPresignedPutRejected: each way a presigned PUT can be wrong gets OSS's
// answer, and nothing is stored.
func TestPresignedPutRejected(t *testing.T) {
	var skew atomic.Int64
	env := newEnv(t, func(c *Config) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
		c.MaxObjectSize = 1024
	})
	const key, ct = "uploads/u/put.png", "image/png"
	data := []byte("0123456789")
	cb := b64JSON(map[string]string{"callbackUrl": "http://127.0.0.1:1/cb", "callbackBody": "a=${object}"})
	cbVar := b64JSON(map[string]string{"x:a": "1"})
	set := func(h, v string) func(*http.Request) { return func(r *http.Request) { r.Header.Set(h, v) } }
	query := func(name, v string) func(*http.Request) { return func(r *http.Request) { setQuery(r, name, v) } }

	tests := []struct {
		name   string
		opts   sdkOpts
		md5    string // Content-MD5 to presign
		mutate func(*http.Request)
		body   []byte
		skew   time.Duration
		status int
		code   string
		msg    string
	}{
		{name: "v4 changed signature", mutate: query("x-oss-signature", strings.Repeat("0", 64)), status: 403, code: CodeSignatureDoesNotMatch},
		{name: "v1 changed signature", opts: sdkOpts{v1: true}, mutate: query("Signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="), status: 403, code: CodeSignatureDoesNotMatch},
		{name: "v4 changed Content-Type", mutate: set("Content-Type", "text/html"), status: 403, code: CodeSignatureDoesNotMatch},
		{name: "v1 changed Content-Type", opts: sdkOpts{v1: true}, mutate: set("Content-Type", "text/html"), status: 403, code: CodeSignatureDoesNotMatch},
		{name: "v4 changed x-oss-callback", mutate: set("x-oss-callback", b64JSON(map[string]string{"callbackUrl": "http://evil.example/", "callbackBody": "a=1"})), status: 403, code: CodeSignatureDoesNotMatch},
		{name: "v1 changed x-oss-callback", opts: sdkOpts{v1: true}, mutate: set("x-oss-callback", b64JSON(map[string]string{"callbackUrl": "http://evil.example/", "callbackBody": "a=1"})), status: 403, code: CodeSignatureDoesNotMatch},
		{name: "v4 dropped x-oss-callback-var", mutate: func(r *http.Request) { r.Header.Del("x-oss-callback-var") }, status: 403, code: CodeSignatureDoesNotMatch},
		{name: "v1 added callback parameter", opts: sdkOpts{v1: true}, mutate: query("callback", b64JSON(map[string]string{"callbackUrl": "http://evil.example/", "callbackBody": "a=1"})), status: 403, code: CodeSignatureDoesNotMatch},
		{name: "v1 unsigned x-oss-meta header", opts: sdkOpts{v1: true}, mutate: set("x-oss-meta-extra", "1"), status: 403, code: CodeSignatureDoesNotMatch},
		{name: "v4 other key in path", mutate: func(r *http.Request) { r.URL.Path = "/" + testBucket + "/uploads/u/other.png" }, status: 403, code: CodeSignatureDoesNotMatch},
		{name: "v1 other key in path", opts: sdkOpts{v1: true}, mutate: func(r *http.Request) { r.URL.Path = "/uploads/u/other.png" }, status: 403, code: CodeSignatureDoesNotMatch},
		{name: "v4 wrong secret", opts: sdkOpts{id: testID, secret: "nope"}, status: 403, code: CodeSignatureDoesNotMatch},
		{name: "v4 expired", skew: 11 * time.Minute, status: 403, code: CodeAccessDenied, msg: "Request has expired."},
		{name: "v1 expired", opts: sdkOpts{v1: true}, skew: 11 * time.Minute, status: 403, code: CodeAccessDenied, msg: "Request has expired."},
		{name: "v4 not valid yet", skew: -time.Hour, status: 403, code: CodeAccessDenied, msg: "not valid yet"},
		{name: "v4 expires over seven days", mutate: query("x-oss-expires", "604801"), status: 400, code: CodeInvalidArgument, msg: "x-oss-expires"},
		{name: "v4 expires zero", mutate: query("x-oss-expires", "0"), status: 400, code: CodeInvalidArgument, msg: "x-oss-expires"},
		{name: "v1 expires not a number", opts: sdkOpts{v1: true}, mutate: query("Expires", "soon"), status: 400, code: CodeInvalidArgument, msg: "Expires"},
		{name: "v4 signed payload hash", mutate: set("x-oss-content-sha256", strings.Repeat("a", 64)), status: 400, code: CodeInvalidArgument, msg: "x-oss-content-sha256"},
		{name: "v4 unknown key id", opts: sdkOpts{id: "LTAIunknown", secret: "x"}, status: 403, code: CodeInvalidAccessKeyID},
		{name: "v1 unknown key id", opts: sdkOpts{v1: true, id: "LTAIunknown", secret: "x"}, status: 403, code: CodeInvalidAccessKeyID},
		{name: "v4 sts token missing", opts: sdkOpts{id: stsID, secret: stsSecret, token: stsToken}, mutate: query("x-oss-security-token", ""), status: 403, code: CodeInvalidAccessKeyID, msg: "security-token"},
		{name: "v1 sts token wrong", opts: sdkOpts{v1: true, id: stsID, secret: stsSecret, token: stsToken}, mutate: query("security-token", "forged"), status: 403, code: CodeInvalidAccessKeyID},
		{name: "v4 token on a permanent key", opts: sdkOpts{id: testID, secret: testSecret, token: "x"}, status: 403, code: CodeInvalidAccessKeyID},
		{name: "unsigned", mutate: func(r *http.Request) { r.URL.RawQuery = "" }, status: 403, code: CodeAccessDenied},
		{name: "v4 repeated parameter", mutate: func(r *http.Request) { r.URL.RawQuery += "&x-oss-date=20260101T000000Z" }, status: 400, code: CodeInvalidArgument, msg: "more than once"},
		{name: "v4 query and header signature", mutate: set("Authorization", "OSS4-HMAC-SHA256 Credential=x"), status: 400, code: CodeInvalidArgument},
		{name: "v4 other operation", mutate: func(r *http.Request) { r.URL.RawQuery += "&acl" }, status: 501, code: CodeNotImplemented},
		{name: "v4 too large", body: bytes.Repeat([]byte("x"), 1025), status: 400, code: CodeEntityTooLarge},
		{name: "v1 too large chunked", opts: sdkOpts{v1: true}, mutate: func(r *http.Request) {
			r.Body, r.ContentLength = io.NopCloser(io.MultiReader(bytes.NewReader(bytes.Repeat([]byte("x"), 2000)))), -1
		}, status: 400, code: CodeEntityTooLarge},
		{name: "v4 content-md5 mismatch", md5: "AAAAAAAAAAAAAAAAAAAAAA==", status: 400, code: CodeInvalidDigest},
		{name: "v1 content-md5 malformed", opts: sdkOpts{v1: true}, md5: "nope", status: 400, code: CodeInvalidDigest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			preq := &oss.PutObjectRequest{Key: oss.Ptr(key), ContentType: oss.Ptr(ct), Callback: oss.Ptr(cb), CallbackVar: oss.Ptr(cbVar)}
			if tc.md5 != "" {
				preq.ContentMD5 = oss.Ptr(tc.md5)
			}
			res := presignPut(t, sdkClient(env, tc.opts), preq)
			body := tc.body
			if body == nil {
				body = data
			}
			req := putRequest(t, res, bytes.NewReader(body), false)
			if tc.mutate != nil {
				tc.mutate(req)
			}
			skew.Store(int64(tc.skew))
			defer skew.Store(0)
			e := wantError(t, do(t, req), tc.status, tc.code)
			if tc.msg != "" && !strings.Contains(e.Message, tc.msg) {
				t.Errorf("Message = %q, want it to contain %q", e.Message, tc.msg)
			}
			if g := env.get(t, http.MethodGet, key); g.status != http.StatusNotFound {
				t.Errorf("GET after a refused upload: %v, want 404", g)
			}
		})
	}
	if left := env.tempFiles(t); len(left) != 0 {
		t.Errorf("temporary files left behind: %q", left)
	}
}

// TestPresignedPutSignatureMismatchExplains: like OSS, the error carries
// what the emulator signed, for debugging a signer.
func TestPresignedPutSignatureMismatchExplains(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.Now = time.Now })
	res := presignPut(t, sdkClient(env, sdkOpts{}), &oss.PutObjectRequest{Key: oss.Ptr("x/y.txt"), ContentType: oss.Ptr("text/plain")})
	req := putRequest(t, res, strings.NewReader("x"), false)
	req.Header.Set("Content-Type", "text/html")
	r := do(t, req)
	wantError(t, r, 403, CodeSignatureDoesNotMatch)
	var e struct{ StringToSign, CanonicalRequest string }
	if err := xml.Unmarshal(r.body, &e); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(e.StringToSign, "OSS4-HMAC-SHA256\n") || !strings.Contains(e.CanonicalRequest, "content-type:text/html\n") {
		t.Errorf("StringToSign %q, CanonicalRequest %q", e.StringToSign, e.CanonicalRequest)
	}
}

func TestPresignedPutCallbackFails(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.Now = time.Now })
	srv, got := callbackServer(t, func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusInternalServerError) })
	const key = "cb/fails.txt"
	data := []byte("kept anyway")
	for _, v1 := range []bool{false, true} {
		res := presignPut(t, sdkClient(env, sdkOpts{v1: v1}), &oss.PutObjectRequest{Key: oss.Ptr(key), ContentType: oss.Ptr("text/plain"),
			Callback:    oss.Ptr(b64JSON(map[string]string{"callbackUrl": srv.URL, "callbackBody": "o=${object}&v=${x:v}&op=${operation}"})),
			CallbackVar: oss.Ptr(b64JSON(map[string]string{"x:v": "a b"}))})
		r := do(t, putRequest(t, res, bytes.NewReader(data), true))
		wantError(t, r, http.StatusNonAuthoritativeInfo, CodeCallbackFailed)
		if g := receive(t, got); string(g.body) != "o=cb%2Ffails.txt&v=a+b&op=PutObject" {
			t.Errorf("callback body %q", g.body)
		}
		if g := env.get(t, http.MethodGet, key); g.status != 200 || !bytes.Equal(g.body, data) {
			t.Errorf("GET after a failed callback: %v, want the object stored", g)
		}
	}
	if left := env.tempFiles(t); len(left) != 0 {
		t.Errorf("temporary files left behind: %q", left)
	}
}

// TestPresignedPutIncompleteBody: a client that hangs up mid-body gets
// IncompleteBody and leaves nothing behind.
func TestPresignedPutIncompleteBody(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.Now = time.Now })
	const key = "cut/short.bin"
	res := presignPut(t, sdkClient(env, sdkOpts{}), &oss.PutObjectRequest{Key: oss.Ptr(key)})
	u, err := url.Parse(res.URL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "PUT "+u.RequestURI()+" HTTP/1.1\r\nHost: "+u.Host+"\r\nContent-Length: 100\r\n\r\nonly ten b"); err != nil {
		t.Fatal(err)
	}
	_ = conn.(*net.TCPConn).CloseWrite()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantError(t, result{resp.StatusCode, resp.Header, body}, 400, CodeIncompleteBody)
	if g := env.get(t, http.MethodGet, key); g.status != http.StatusNotFound {
		t.Errorf("GET: %v, want 404", g)
	}
	if left := env.tempFiles(t); len(left) != 0 {
		t.Errorf("temporary files left behind: %q", left)
	}
}

// TestPresignedPutOverwritesPostObject: PUT and POST share one store.
func TestPresignedPutOverwritesPostObject(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.Now = time.Now })
	const key, ct = "o/same.txt", "text/plain"
	form := signer{v4: true, id: testID, secret: testSecret, region: "cn-hangzhou", at: time.Now()}.
		sign(time.Now().Add(time.Hour), stdConds(key, ct, 100), stdFields(key, ct))
	if r := env.postForm(t, form, []byte("posted"), nil); r.status != 200 {
		t.Fatalf("POST: %v", r)
	}
	res := presignPut(t, sdkClient(env, sdkOpts{}), &oss.PutObjectRequest{Key: oss.Ptr(key)})
	if r := do(t, putRequest(t, res, strings.NewReader("put"), false)); r.status != 200 {
		t.Fatalf("PUT: %v", r)
	}
	g := env.get(t, http.MethodGet, key)
	if string(g.body) != "put" || g.header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("GET = %q as %q, want the PUT body as application/octet-stream", g.body, g.header.Get("Content-Type"))
	}
}
