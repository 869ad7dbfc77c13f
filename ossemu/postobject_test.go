package ossemu

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestPostObjectStoresAndServes(t *testing.T) {
	env := newEnv(t, nil)
	data := []byte("\x89PNG fake image bytes \x00\xff with binary")
	tests := []struct {
		name   string
		signer signer
		key    string
		ct     string
	}{
		{"v4", v4Signer, "uploads/alice/2026/11/24/01JD.png", "image/png"},
		{"v1", v1Signer, "uploads/bob/2026/11/24/01JE.jpg", "image/jpeg"},
		{"v4 sts token", stsSigner, "uploads/carol/2026/11/24/01JF.pdf", "application/pdf"},
		{"v1 sts token", signer{id: stsID, secret: stsSecret, token: stsToken, at: testNow}, "uploads/dan/x.txt", "text/plain"},
		{"unicode key", v4Signer, "uploads/eve/照片 one.png", "image/png"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := env.postForm(t, validForm(tc.signer, tc.key, tc.ct, data), data, nil)
			if r.status != http.StatusOK {
				t.Fatalf("POST: got %v, want 200", r)
			}
			if got, want := r.header.Get("ETag"), etagOf(data); got != want {
				t.Errorf("POST ETag = %q, want %q", got, want)
			}
			if r.header.Get("x-oss-request-id") == "" {
				t.Error("no x-oss-request-id")
			}

			g := env.get(t, http.MethodGet, tc.key)
			if g.status != http.StatusOK {
				t.Fatalf("GET: got %v, want 200", g)
			}
			if !bytes.Equal(g.body, data) {
				t.Errorf("GET body = %q, want %q", g.body, data)
			}
			if got := g.header.Get("Content-Type"); got != tc.ct {
				t.Errorf("GET Content-Type = %q, want %q", got, tc.ct)
			}
			if got, want := g.header.Get("ETag"), etagOf(data); got != want {
				t.Errorf("GET ETag = %q, want %q", got, want)
			}

			h := env.get(t, http.MethodHead, tc.key)
			if h.status != http.StatusOK || len(h.body) != 0 || h.header.Get("ETag") != etagOf(data) {
				t.Errorf("HEAD: got %v ETag %q, want 200, no body, ETag %q", h, h.header.Get("ETag"), etagOf(data))
			}
		})
	}
}

func TestPostObjectSuccessStatus(t *testing.T) {
	env := newEnv(t, nil)
	data := []byte("hello")
	tests := []struct {
		status string // "" = field absent
		want   int
	}{
		{"200", 200}, {"201", 201}, {"204", 204}, {"", 204}, {"302", 204},
	}
	for _, tc := range tests {
		t.Run("status="+tc.status, func(t *testing.T) {
			key := "s/" + tc.status + ".txt"
			conds := []any{[]any{"eq", "$key", key}}
			fields := []field{{"key", key}}
			if tc.status != "" {
				fields = append(fields, field{"success_action_status", tc.status})
			}
			r := env.postForm(t, v4Signer.sign(testNow.Add(time.Hour), conds, fields), data, nil)
			if r.status != tc.want {
				t.Fatalf("got %v, want %d", r, tc.want)
			}
			if tc.want != 201 {
				if len(r.body) != 0 {
					t.Errorf("body = %q, want empty", r.body)
				}
				return
			}
			var pr struct {
				Bucket, Location, Key, ETag string
			}
			if err := xml.Unmarshal(r.body, &pr); err != nil {
				t.Fatalf("201 body is not a PostResponse: %v: %q", err, r.body)
			}
			if pr.Bucket != testBucket || pr.Key != key || pr.ETag != etagOf(data) || pr.Location != env.url+"/"+key {
				t.Errorf("PostResponse = %+v, want bucket %q key %q etag %q location %q", pr, testBucket, key, etagOf(data), env.url+"/"+key)
			}
		})
	}
}

func TestPostObjectContentTypeDefault(t *testing.T) {
	env := newEnv(t, nil)
	tests := []struct{ key, want string }{
		{"a/photo.png", "image/png"},
		{"a/noext", "application/octet-stream"},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			form := v4Signer.sign(testNow.Add(time.Hour), []any{[]any{"eq", "$key", tc.key}}, []field{{"key", tc.key}})
			if r := env.postForm(t, form, []byte("x"), nil); r.status != 204 {
				t.Fatalf("POST: %v", r)
			}
			if got := env.get(t, http.MethodGet, tc.key).header.Get("Content-Type"); got != tc.want {
				t.Errorf("Content-Type = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestPostObjectRejected: every way a form can be wrong gets OSS's answer,
// and nothing is stored.
func TestPostObjectRejected(t *testing.T) {
	env := newEnv(t, nil)
	const key, ct = "uploads/u/1.png", "image/png"
	data := []byte("0123456789") // 10 bytes
	exp := testNow.Add(time.Hour)
	good := validForm(v4Signer, key, ct, data)
	withCallback := func() []field {
		cb := base64.StdEncoding.EncodeToString([]byte(`{"callbackUrl":"http://127.0.0.1:1/cb","callbackBody":"a=${object}"}`))
		conds := append(stdConds(key, ct, 100), []any{"eq", "$callback", cb}, []any{"eq", "$x:caption", "hi"})
		return v4Signer.sign(exp, conds, append(stdFields(key, ct), field{"callback", cb}, field{"x:caption", "hi"}))
	}()
	signWith := func(conds ...any) []field {
		return v4Signer.sign(exp, conds, stdFields(key, ct))
	}
	// signRaw signs a hand-written policy document (for malformed ones).
	signRaw := func(policy string) []field {
		day := testNow.Format("20060102")
		return append(stdFields(key, ct),
			field{"x-oss-signature-version", "OSS4-HMAC-SHA256"},
			field{"x-oss-credential", testID + "/" + day + "/cn-hangzhou/oss/aliyun_v4_request"},
			field{"x-oss-date", testNow.Format("20060102T150405Z")},
			field{"policy", policy},
			field{"x-oss-signature", testV4Sig(testSecret, day, "cn-hangzhou", policy)})
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

	tests := []struct {
		name   string
		fields []field
		file   []byte
		status int
		code   string
		msg    string // substring of the Message, if set
	}{
		{"changed v4 signature", setField(good, "x-oss-signature", strings.Repeat("0", 64)), data, 403, CodeSignatureDoesNotMatch, ""},
		{"changed v1 signature", setField(validForm(v1Signer, key, ct, data), "Signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="), data, 403, CodeSignatureDoesNotMatch, ""},
		{"changed policy", setField(good, "policy", policyB64(exp, []any{map[string]string{"bucket": testBucket}})), data, 403, CodeSignatureDoesNotMatch, ""},
		{"wrong secret", signer{v4: true, id: testID, secret: "nope", region: "cn-hangzhou", at: testNow}.sign(exp, stdConds(key, ct, 100), stdFields(key, ct)), data, 403, CodeSignatureDoesNotMatch, ""},
		{"changed key", setField(good, "key", "uploads/u/other.png"), data, 403, CodeAccessDenied, `Policy Condition failed: ["eq", "$key", "uploads/u/1.png"]`},
		{"changed Content-Type", setField(good, "Content-Type", "text/html"), data, 403, CodeAccessDenied, "Policy Condition failed"},
		{"changed success_action_status", setField(good, "success_action_status", "201"), data, 403, CodeAccessDenied, "success_action_status"},
		{"changed x:var", setField(withCallback, "x:caption", "bye"), data, 403, CodeAccessDenied, "$x:caption"},
		{"changed callback", setField(withCallback, "callback", b64(`{"callbackUrl":"http://evil.example/cb","callbackBody":"a=${object}"}`)), data, 403, CodeAccessDenied, "$callback"},
		{"bound field missing", dropField(good, "Content-Type"), data, 403, CodeAccessDenied, "content-type"},
		{"too large", good, bytes.Repeat([]byte("x"), len(data)+11), 400, CodeEntityTooLarge, ""},
		{"too small", signWith([]any{"content-length-range", 20, 100}), data, 400, CodeEntityTooSmall, ""},
		{"empty file under min 1", good, []byte{}, 400, CodeEntityTooSmall, ""},
		{"expired", v4Signer.sign(testNow.Add(-time.Second), stdConds(key, ct, 100), stdFields(key, ct)), data, 403, CodeAccessDenied, "Invalid according to Policy: Policy expired."},
		{"unknown access key v4", signer{v4: true, id: "LTAIunknown", secret: "x", region: "cn-hangzhou", at: testNow}.sign(exp, nil, stdFields(key, ct)), data, 403, CodeInvalidAccessKeyID, ""},
		{"unknown access key v1", signer{id: "LTAIunknown", secret: "x", at: testNow}.sign(exp, nil, stdFields(key, ct)), data, 403, CodeInvalidAccessKeyID, ""},
		{"policy not base64", signRaw("%%%not base64%%%"), data, 400, CodeInvalidPolicyDocument, ""},
		{"policy not json", signRaw(b64(`{"expiration":"2026-11-24T09:30:00.000Z","conditions":[`)), data, 400, CodeInvalidPolicyDocument, ""},
		{"policy without conditions", signRaw(b64(`{"expiration":"2026-11-24T09:30:00.000Z"}`)), data, 400, CodeInvalidPolicyDocument, ""},
		{"policy bad expiration", signRaw(b64(`{"expiration":"tomorrow","conditions":[]}`)), data, 400, CodeInvalidPolicyDocument, ""},
		{"unknown operator", signWith([]any{"matches", "$key", ".*"}), data, 400, CodeInvalidPolicyDocument, "unknown operator"},
		{"starts-with fails", signWith([]any{"starts-with", "$key", "uploads/v/"}), data, 403, CodeAccessDenied, "starts-with"},
		{"in fails", signWith([]any{"in", "$content-type", []string{"image/jpeg", "image/gif"}}), data, 403, CodeAccessDenied, `"in"`},
		{"not-in fails", signWith([]any{"not-in", "$content-type", []string{"image/png"}}), data, 403, CodeAccessDenied, `"not-in"`},
		{"wrong bucket map", signWith(map[string]string{"bucket": "otherbucket"}), data, 403, CodeAccessDenied, "$bucket"},
		{"wrong bucket eq", signWith([]any{"eq", "$bucket", "otherbucket"}), data, 403, CodeAccessDenied, "$bucket"},
		{"sts token missing", dropField(stsSigner.sign(exp, nil, stdFields(key, ct)), "x-oss-security-token"), data, 403, CodeInvalidAccessKeyID, "security-token"},
		{"sts token wrong", setField(stsSigner.sign(exp, nil, stdFields(key, ct)), "x-oss-security-token", "forged"), data, 403, CodeInvalidAccessKeyID, "security token"},
		{"token on a permanent key", signer{v4: true, id: testID, secret: testSecret, region: "cn-hangzhou", token: "x", at: testNow}.sign(exp, nil, stdFields(key, ct)), data, 403, CodeInvalidAccessKeyID, ""},
		{"anonymous", stdFields(key, ct), data, 403, CodeAccessDenied, ""},
		{"no policy v4", dropField(good, "policy"), data, 403, CodeAccessDenied, ""},
		{"no signature v1", dropField(validForm(v1Signer, key, ct, data), "Signature"), data, 403, CodeAccessDenied, ""},
		{"v4 wrong region", signer{v4: true, id: testID, secret: testSecret, region: "cn-beijing", at: testNow}.sign(exp, nil, stdFields(key, ct)), data, 400, CodeInvalidArgument, "region"},
		{"v4 credential day is not x-oss-date's", setField(good, "x-oss-date", "20261125T083000Z"), data, 400, CodeInvalidArgument, "date"},
		{"v4 unsupported version", setField(good, "x-oss-signature-version", "OSS2"), data, 400, CodeInvalidArgument, ""},
		{"no file field", good, nil, 400, CodeInvalidArgument, "file"},
		{"key with ..", v4Signer.sign(exp, nil, []field{{"key", "a/../b.png"}}), data, 400, CodeInvalidObjectName, ""},
		{"key with leading slash", v4Signer.sign(exp, nil, []field{{"key", "/abs.png"}}), data, 400, CodeInvalidObjectName, ""},
		{"key with control char", v4Signer.sign(exp, nil, []field{{"key", "a\x01b.png"}}), data, 400, CodeInvalidObjectName, ""},
		{"key too long", v4Signer.sign(exp, nil, []field{{"key", strings.Repeat("k", 1024)}}), data, 400, CodeInvalidObjectName, ""},
		{"key reserved", v4Signer.sign(exp, nil, []field{{"key", "_ossemu/callback_pub_key.pem"}}), data, 400, CodeInvalidObjectName, ""},
		{"key missing", v4Signer.sign(exp, nil, nil), data, 400, CodeInvalidArgument, "key"},
		{"duplicate field", append(append([]field(nil), good...), field{"KEY", key}), data, 400, CodeInvalidArgument, "more than once"},
		{"bad callback base64", v4Signer.sign(exp, nil, []field{{"key", key}, {"callback", "!!!"}}), data, 400, CodeInvalidArgument, "callback"},
		{"callback not json", v4Signer.sign(exp, nil, []field{{"key", key}, {"callback", b64("nope")}}), data, 400, CodeInvalidArgument, "json"},
		{"callback json body invalid", v4Signer.sign(exp, nil, []field{{"key", key}, {"callback", b64(`{"callbackUrl":"http://127.0.0.1:1/","callbackBody":"{\"a\":\"${object}\"}","callbackBodyType":"application/json"}`)}}), data, 400, CodeInvalidArgument, "json"},
		{"callback ftp url", v4Signer.sign(exp, nil, []field{{"key", key}, {"callback", b64(`{"callbackUrl":"ftp://127.0.0.1/","callbackBody":"a=1"}`)}}), data, 400, CodeInvalidArgument, "http"},
		{"content-md5 mismatch", v4Signer.sign(exp, nil, []field{{"key", key}, {"Content-MD5", "AAAAAAAAAAAAAAAAAAAAAA=="}}), data, 400, CodeInvalidDigest, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := env.postForm(t, tc.fields, tc.file, nil)
			e := wantError(t, r, tc.status, tc.code)
			if tc.msg != "" && !strings.Contains(e.Message, tc.msg) {
				t.Errorf("Message = %q, want it to contain %q", e.Message, tc.msg)
			}
			if g := env.get(t, http.MethodGet, key); g.status != http.StatusNotFound {
				t.Errorf("GET %s after a refused upload: %v, want 404", key, g)
			}
		})
	}
	if left := env.tempFiles(t); len(left) != 0 {
		t.Errorf("temporary files left behind: %q", left)
	}
}

// TestPostObjectConditionsPass: the passing side of each operator, and the
// case-insensitivity of field names.
func TestPostObjectConditionsPass(t *testing.T) {
	env := newEnv(t, nil)
	const key, ct = "uploads/u/pass.png", "image/png"
	data := []byte("0123456789")
	tests := []struct {
		name   string
		conds  []any
		fields []field
	}{
		{"starts-with", []any{[]any{"starts-with", "$key", "uploads/u/"}}, nil},
		{"starts-with empty prefix", []any{[]any{"starts-with", "$x:absent", ""}}, nil},
		{"in", []any{[]any{"in", "$content-type", []string{"image/jpeg", "image/png"}}}, nil},
		{"not-in", []any{[]any{"not-in", "$Content-Type", []string{"text/html"}}}, nil},
		{"eq without $", []any{[]any{"eq", "key", key}}, nil},
		{"field name case", []any{[]any{"eq", "$CONTENT-TYPE", ct}, map[string]string{"Success_Action_Status": "200"}}, nil},
		{"absent field equals empty", []any{[]any{"eq", "$x:absent", ""}}, nil},
		{"exact size bounds", []any{[]any{"content-length-range", 10, 10}}, nil},
		{"two ranges intersect", []any{[]any{"content-length-range", 0, 100}, []any{"content-length-range", 5, 10}}, nil},
		{"form field name case", []any{[]any{"eq", "$x:caption", "hi"}}, []field{{"X:Caption", "hi"}}},
		{"numeric string bounds", []any{[]any{"content-length-range", "1", "10"}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			form := v4Signer.sign(testNow.Add(time.Hour), append(stdConds(key, ct, 100), tc.conds...), append(stdFields(key, ct), tc.fields...))
			if r := env.postForm(t, form, data, nil); r.status != http.StatusOK {
				t.Fatalf("got %v, want 200", r)
			}
		})
	}
}

func TestPostObjectFieldOrder(t *testing.T) {
	env := newEnv(t, nil)
	const key, ct = "uploads/order.png", "image/png"
	data := []byte("ordered")
	form := validForm(v4Signer, key, ct, data)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 5 {
		shuffled := append([]field(nil), form...)
		rng.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		if r := env.postForm(t, shuffled, data, nil); r.status != http.StatusOK {
			t.Fatalf("order %d %v: got %v, want 200", i, shuffled, r)
		}
	}
	// Reversed, V1.
	v1 := validForm(v1Signer, key, ct, data)
	for i, j := 0, len(v1)-1; i < j; i, j = i+1, j-1 {
		v1[i], v1[j] = v1[j], v1[i]
	}
	if r := env.postForm(t, v1, data, nil); r.status != http.StatusOK {
		t.Fatalf("reversed v1: got %v, want 200", r)
	}
}

// TestPostObjectFieldsAfterFileIgnored: OSS reads nothing past the file, so
// a field there neither counts for the policy nor changes the upload.
func TestPostObjectFieldsAfterFileIgnored(t *testing.T) {
	env := newEnv(t, nil)
	const key, ct = "uploads/first.png", "image/png"
	data := []byte("file first")
	form := validForm(v4Signer, key, ct, data)

	// Everything after the file: a second key and a conflicting type.
	r := env.postForm(t, form, data, []field{{"key", "uploads/second.png"}, {"Content-Type", "text/html"}})
	if r.status != http.StatusOK {
		t.Fatalf("got %v, want 200", r)
	}
	if g := env.get(t, http.MethodGet, key); g.status != 200 || g.header.Get("Content-Type") != ct {
		t.Errorf("GET %s: %v, Content-Type %q; want 200 %s", key, g, g.header.Get("Content-Type"), ct)
	}
	if g := env.get(t, http.MethodGet, "uploads/second.png"); g.status != 404 {
		t.Errorf("GET uploads/second.png: %v, want 404", g)
	}

	// A required field placed after the file is not seen.
	r = env.postForm(t, dropField(form, "Content-Type"), data, []field{{"Content-Type", ct}})
	wantError(t, r, 403, CodeAccessDenied)
}

func TestPostObjectFormLimits(t *testing.T) {
	env := newEnv(t, nil)
	many := []field{}
	for i := range maxFormFields + 1 {
		many = append(many, field{"x:f" + strings.Repeat("x", i), "v"})
	}
	tests := []struct {
		name   string
		fields []field
		code   string
	}{
		{"too many fields", many, CodeInvalidArgument},
		{"field too long", []field{{"policy", strings.Repeat("p", maxFieldSize+1)}}, CodeInvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, env.postForm(t, tc.fields, []byte("x"), nil), 400, tc.code)
		})
	}
	t.Run("not multipart", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, env.url+"/", strings.NewReader("key=a"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		wantError(t, do(t, req), 400, CodeMalformedPOSTRequest)
	})
	t.Run("fields before the file over 1 MiB", func(t *testing.T) {
		var fs []field
		for i := range 20 {
			fs = append(fs, field{"x:big" + strings.Repeat("i", i), strings.Repeat("v", 60<<10)})
		}
		wantError(t, env.postForm(t, fs, []byte("x"), nil), 400, CodeInvalidArgument)
	})
}

// countingReader counts what the client has produced of a body.
type countingReader struct {
	n   atomic.Int64
	max int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n.Load() >= c.max {
		return 0, io.EOF
	}
	for i := range p {
		p[i] = 'z'
	}
	c.n.Add(int64(len(p)))
	return len(p), nil
}

// TestPostObjectTooLargeStopsReading: past the policy's maximum the emulator
// answers and stops reading, rather than swallowing the whole body.
func TestPostObjectTooLargeStopsReading(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.MaxObjectSize = 1 << 20 })
	tests := []struct {
		name  string
		limit int // policy maximum; 0 = none, MaxObjectSize applies
	}{
		{"policy maximum", 1024},
		{"MaxObjectSize", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := "big/" + strings.ReplaceAll(tc.name, " ", "-")
			conds := []any{[]any{"eq", "$key", key}}
			if tc.limit > 0 {
				conds = append(conds, []any{"content-length-range", 1, tc.limit})
			}
			form := v4Signer.sign(testNow.Add(time.Hour), conds, []field{{"key", key}})
			const bodySize = 512 << 20
			src := &countingReader{max: bodySize}
			pr, pw := io.Pipe()
			mw := multipart.NewWriter(pw)
			go func() {
				for _, f := range form {
					_ = mw.WriteField(f.name, f.value)
				}
				fw, _ := mw.CreateFormFile("file", "big.bin")
				if _, err := io.Copy(fw, src); err != nil {
					pw.CloseWithError(err)
					return
				}
				pw.CloseWithError(mw.Close())
			}()
			req, _ := http.NewRequest(http.MethodPost, env.url+"/", pr)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			start := time.Now()
			resp, err := http.DefaultClient.Do(req)
			pr.CloseWithError(io.ErrClosedPipe) // stop the writer whatever happened
			if err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				wantError(t, result{resp.StatusCode, resp.Header, body}, 400, CodeEntityTooLarge)
			} else {
				// The server may close the connection before the client
				// reads the answer; what matters is that it stopped early.
				t.Logf("client saw %v (connection closed by the emulator)", err)
			}
			if sent := src.n.Load(); sent >= bodySize/2 {
				t.Errorf("the client produced %d bytes of %d: the emulator kept reading", sent, bodySize)
			} else {
				t.Logf("client produced %d bytes before the emulator refused (%v)", sent, time.Since(start).Round(time.Millisecond))
			}
			if g := env.get(t, http.MethodGet, key); g.status != 404 {
				t.Errorf("GET: %v, want 404", g)
			}
		})
	}
	// The temporary file is gone once the handler has returned.
	deadline := time.Now().Add(2 * time.Second)
	for len(env.tempFiles(t)) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if left := env.tempFiles(t); len(left) != 0 {
		t.Errorf("temporary files left behind: %q", left)
	}
}

func TestPostObjectFilenameInKey(t *testing.T) {
	env := newEnv(t, nil)
	form := v4Signer.sign(testNow.Add(time.Hour), []any{[]any{"starts-with", "$key", "in/"}}, []field{{"key", "in/${filename}"}})
	if r := env.postForm(t, form, []byte("named"), nil); r.status != 204 {
		t.Fatalf("got %v, want 204", r)
	}
	if g := env.get(t, http.MethodGet, "in/upload.bin"); g.status != 200 || string(g.body) != "named" {
		t.Errorf("GET in/upload.bin: %v, want 200 \"named\"", g)
	}
}

func TestPostObjectStoredHeaders(t *testing.T) {
	env := newEnv(t, nil)
	const key = "h/doc.pdf"
	form := v4Signer.sign(testNow.Add(time.Hour), []any{[]any{"eq", "$key", key}}, []field{
		{"key", key},
		{"Cache-Control", "no-cache"},
		{"Content-Disposition", `attachment; filename="doc.pdf"`},
		{"x-oss-meta-owner", "alice"},
	})
	if r := env.postForm(t, form, []byte("%PDF"), nil); r.status != 204 {
		t.Fatalf("got %v, want 204", r)
	}
	g := env.get(t, http.MethodGet, key)
	for k, want := range map[string]string{
		"Cache-Control":       "no-cache",
		"Content-Disposition": `attachment; filename="doc.pdf"`,
		"X-Oss-Meta-Owner":    "alice",
		"Content-Type":        "application/pdf",
	} {
		if got := g.header.Get(k); got != want {
			t.Errorf("GET %s = %q, want %q", k, got, want)
		}
	}
}

func TestPostObjectOverwrite(t *testing.T) {
	env := newEnv(t, nil)
	const key, ct = "o/same.txt", "text/plain"
	for _, data := range []string{"first version", "second"} {
		if r := env.postForm(t, validForm(v4Signer, key, ct, []byte(data)), []byte(data), nil); r.status != 200 {
			t.Fatalf("POST %q: %v", data, r)
		}
		if g := env.get(t, http.MethodGet, key); string(g.body) != data || g.header.Get("ETag") != etagOf([]byte(data)) {
			t.Errorf("GET = %q ETag %q, want %q ETag %q", g.body, g.header.Get("ETag"), data, etagOf([]byte(data)))
		}
	}
}
