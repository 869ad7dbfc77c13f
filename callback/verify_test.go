package callback_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ossgate/ossgate/callback"
	"github.com/ossgate/ossgate/ticket"
)

const (
	keyURL       = "https://gosspublic.alicdn.com/callback_pub_key_v1.pem"
	callbackPath = "/api/uploads/callback"
)

var ticketSecret = []byte(strings.Repeat("s", 32))

func TestVerify(t *testing.T) {
	key, other := keys(t)
	now := time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC)
	claims := ticket.Claims{
		User: "alice", Bucket: "examplebucket", Key: "uploads/alice/2026/11/25/01JD.jpg",
		Size: 12345, ContentType: "image/jpeg", Filename: "cat.jpg", BodyType: ticket.BodyJSON,
		VarNames: []string{"caption"}, ExpiresAt: now.Add(15 * time.Minute),
	}
	sign := func(secret []byte, edit func(*ticket.Claims)) string {
		c := claims
		if edit != nil {
			edit(&c)
		}
		tok, err := ticket.Sign(secret, c, now)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tok := sign(ticketSecret, nil)
	tokForm := sign(ticketSecret, func(c *ticket.Claims) { c.BodyType = ticket.BodyForm })
	forged := sign([]byte(strings.Repeat("x", 32)), nil)
	noVars := sign(ticketSecret, func(c *ticket.Claims) { c.VarNames = nil })
	v := &callback.Verifier{Keys: callback.StaticKeys{keyURL: &key.PublicKey}, TicketSecret: ticketSecret}

	// build returns a signed request whose body is the default JSON body
	// with the changes in mod (nil value: field removed).
	build := func(t *testing.T, mod map[string]any, form bool, signer *rsa.PrivateKey) callback.Request {
		t.Helper()
		fields := map[string]any{
			"bucket": claims.Bucket, "object": claims.Key, "etag": "5B3C1A2E053D763E1B002CC607C5A0FE",
			"size": 12000, "mimeType": "image/jpeg", "ticket": tok, "vars": map[string]string{"caption": "hi"},
		}
		if form {
			fields["ticket"] = tokForm
		}
		for k, val := range mod {
			if val == nil {
				delete(fields, k)
			} else {
				fields[k] = val
			}
		}
		var body []byte
		ct := "application/json"
		if form {
			ct = "application/x-www-form-urlencoded"
			q := url.Values{}
			for k, val := range fields {
				if k == "vars" {
					for name, s := range val.(map[string]string) {
						q.Set("x:"+name, s)
					}
					continue
				}
				q.Set(k, fmt.Sprint(val))
			}
			body = []byte(q.Encode())
		} else {
			var err error
			if body, err = json.Marshal(fields); err != nil {
				t.Fatal(err)
			}
		}
		auth, err := callback.Sign(signer, callbackPath, "", body)
		if err != nil {
			t.Fatal(err)
		}
		return callback.Request{
			Path: callbackPath, Authorization: auth, ContentType: ct, Body: body,
			PubKeyURL: base64.StdEncoding.EncodeToString([]byte(keyURL)),
		}
	}
	want := callback.VerifiedUpload{
		User: "alice", Bucket: claims.Bucket, Key: claims.Key, ETag: "5B3C1A2E053D763E1B002CC607C5A0FE",
		ContentType: "image/jpeg", Filename: "cat.jpg", Size: 12000, Vars: map[string]string{"caption": "hi"},
	}

	cases := []struct {
		name   string
		mod    map[string]any
		form   bool
		signer *rsa.PrivateKey
		tamper func(*callback.Request)
		at     time.Time
		want   error // nil: ok, returning want (with wantSize/wantCT when set)
	}{
		{name: "ok json"},
		{name: "ok form", form: true},
		{name: "ok size equals declared", mod: map[string]any{"size": 12345}},
		{name: "ok size one", mod: map[string]any{"size": 1}},
		{name: "ok size as string", mod: map[string]any{"size": "12000"}},
		{name: "ok media type case", mod: map[string]any{"mimeType": "Image/JPEG"}},
		{name: "ok quoted etag", mod: map[string]any{"etag": `"5B3C1A2E053D763E1B002CC607C5A0FE"`}},
		{name: "ok allowed var not sent", mod: map[string]any{"vars": map[string]string{}}},
		{name: "ok just before expiry", at: now.Add(15*time.Minute - time.Second)},

		{name: "tampered body", tamper: func(r *callback.Request) { r.Body = []byte(strings.Replace(string(r.Body), "12000", "12001", 1)) }, want: callback.ErrInvalidSignature},
		{name: "tampered path", tamper: func(r *callback.Request) { r.Path += "2" }, want: callback.ErrInvalidSignature},
		{name: "query added", tamper: func(r *callback.Request) { r.RawQuery = "x=1" }, want: callback.ErrInvalidSignature},
		{name: "undecodable path", tamper: func(r *callback.Request) { r.Path += "%zz" }, want: callback.ErrInvalidSignature},
		{name: "other key", signer: other, want: callback.ErrInvalidSignature},
		{name: "signature garbage", tamper: func(r *callback.Request) { r.Authorization = "not base64!" }, want: callback.ErrInvalidSignature},
		{name: "signature missing", tamper: func(r *callback.Request) { r.Authorization = "" }, want: callback.ErrInvalidSignature},
		{name: "key url missing", tamper: func(r *callback.Request) { r.PubKeyURL = "" }, want: callback.ErrInvalidSignature},
		{name: "key url not base64", tamper: func(r *callback.Request) { r.PubKeyURL = keyURL }, want: callback.ErrInvalidSignature},
		{name: "key url untrusted", tamper: func(r *callback.Request) {
			r.PubKeyURL = base64.StdEncoding.EncodeToString([]byte("https://evil.example/k.pem"))
		}, want: callback.ErrUntrustedKeyURL},
		{name: "expired ticket", at: now.Add(16 * time.Minute), want: callback.ErrInvalidTicket},
		{name: "forged ticket", mod: map[string]any{"ticket": forged}, want: callback.ErrInvalidTicket},
		{name: "garbage ticket", mod: map[string]any{"ticket": "a.b.c"}, want: callback.ErrInvalidTicket},
		{name: "object is not the ticket's key", mod: map[string]any{"object": "uploads/alice/other.jpg"}, want: callback.ErrInvalidTicket},
		{name: "bucket is not the ticket's", mod: map[string]any{"bucket": "otherbucket"}, want: callback.ErrInvalidTicket},
		{name: "size over declared", mod: map[string]any{"size": 12346}, want: callback.ErrInvalidTicket},
		{name: "content type mismatch", mod: map[string]any{"mimeType": "text/html"}, want: callback.ErrInvalidTicket},
		{name: "content type missing", mod: map[string]any{"mimeType": nil}, want: callback.ErrInvalidCallback},
		{name: "content type with parameters", mod: map[string]any{"mimeType": "image/jpeg; q=1"}, want: callback.ErrInvalidCallback},
		{name: "size zero: empty upload", mod: map[string]any{"size": 0}, want: callback.ErrInvalidTicket},
		{name: "size zero, form", mod: map[string]any{"size": 0}, form: true, want: callback.ErrInvalidTicket},
		{name: "var the ticket does not name", mod: map[string]any{"vars": map[string]string{"caption": "hi", "admin": "1"}}, want: callback.ErrInvalidTicket},
		{name: "var with a ticket that names none", mod: map[string]any{"ticket": noVars}, want: callback.ErrInvalidTicket},
		{name: "var the ticket does not name, form", mod: map[string]any{"vars": map[string]string{"role": "admin"}}, form: true, want: callback.ErrInvalidTicket},
		{name: "var over the policy's limit", mod: map[string]any{"vars": map[string]string{"caption": strings.Repeat("x", 257)}}, want: callback.ErrInvalidCallback},
		{name: "malformed etag", mod: map[string]any{"etag": "<script>"}, want: callback.ErrInvalidCallback},
		{name: "json body with a form ticket", mod: map[string]any{"ticket": tokForm}, want: callback.ErrInvalidTicket},
		{name: "form body with a json ticket", mod: map[string]any{"ticket": tok}, form: true, want: callback.ErrInvalidTicket},
		{name: "missing ticket", mod: map[string]any{"ticket": nil}, want: callback.ErrInvalidCallback},
		{name: "missing ticket, form", mod: map[string]any{"ticket": nil}, form: true, want: callback.ErrInvalidCallback},
		{name: "negative size", mod: map[string]any{"size": -1}, want: callback.ErrInvalidCallback},
		{name: "signed body of the wrong type", tamper: func(r *callback.Request) { r.ContentType = "text/plain" }, want: callback.ErrInvalidCallback},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			signer := key
			if c.signer != nil {
				signer = c.signer
			}
			r := build(t, c.mod, c.form, signer)
			if c.tamper != nil {
				c.tamper(&r)
			}
			at := now.Add(time.Minute)
			if !c.at.IsZero() {
				at = c.at
			}
			got, err := v.Verify(t.Context(), r, at)
			if c.want != nil {
				if !errors.Is(err, c.want) {
					t.Fatalf("Verify = %+v, %v; want %v", got, err, c.want)
				}
				if !reflect.DeepEqual(got, callback.VerifiedUpload{}) {
					t.Errorf("Verify returned %+v with its error", got)
				}
				for _, secret := range []string{tok, forged, r.Authorization, string(ticketSecret)} {
					if secret != "" && strings.Contains(err.Error(), secret) {
						t.Errorf("error %q leaks a secret", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			w := want
			if s, ok := c.mod["size"]; ok {
				fmt.Sscan(fmt.Sprint(s), &w.Size)
			}
			if mt, ok := c.mod["mimeType"].(string); ok {
				w.ContentType = strings.ToLower(mt)
			}
			if vars, ok := c.mod["vars"].(map[string]string); ok {
				w.Vars = vars
			}
			if !reflect.DeepEqual(got, w) {
				t.Fatalf("Verify =\n %+v\nwant\n %+v", got, w)
			}
		})
	}
}

func TestVerifierMisconfigured(t *testing.T) {
	key, _ := keys(t)
	cases := []struct {
		name string
		v    *callback.Verifier
	}{
		{"nil", nil},
		{"no keys", &callback.Verifier{TicketSecret: ticketSecret}},
		{"short secret", &callback.Verifier{Keys: callback.StaticKeys{keyURL: &key.PublicKey}, TicketSecret: []byte("short")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.v.Verify(t.Context(), callback.Request{}, time.Now())
			if err == nil || callback.Code(err) != "" {
				t.Fatalf("Verify = %v (code %q), want a non-API error", err, callback.Code(err))
			}
		})
	}
}

// failingKeys is a KeySource whose errors wrap no sentinel.
type failingKeys struct{}

func (failingKeys) PublicKey(context.Context, string) (*rsa.PublicKey, error) {
	return nil, errors.New("boom")
}

func TestVerifySignatureWrapsKeySourceErrors(t *testing.T) {
	key, _ := keys(t)
	auth, err := callback.Sign(key, "/", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	r := callback.Request{Path: "/", Authorization: auth, PubKeyURL: base64.StdEncoding.EncodeToString([]byte(keyURL))}
	for name, ks := range map[string]callback.KeySource{
		"plain error": failingKeys{},
		"nil key":     callback.StaticKeys{},
	} {
		t.Run(name, func(t *testing.T) {
			err := (&callback.Verifier{Keys: ks}).VerifySignature(t.Context(), r)
			if err == nil || (callback.Code(err) != "key_unavailable" && callback.Code(err) != "untrusted_key_url") {
				t.Fatalf("err = %v, code %q", err, callback.Code(err))
			}
		})
	}
}

func TestNewRequest(t *testing.T) {
	r := httptest.NewRequest("POST", "/api/uploads/call%62ack?profile=default&x=1%202", nil)
	r.Header.Set("Authorization", "sig")
	r.Header.Set("x-oss-pub-key-url", "url")
	r.Header.Set("Content-Type", "application/json")
	got := callback.NewRequest(r, []byte("{}"))
	want := callback.Request{
		Path: "/api/uploads/call%62ack", RawQuery: "profile=default&x=1%202", Authorization: "sig",
		PubKeyURL: "url", ContentType: "application/json", Body: []byte("{}"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("NewRequest =\n %+v\nwant\n %+v", got, want)
	}
	s, err := callback.StringToSign(got.Path, got.RawQuery, got.Body)
	if err != nil || string(s) != "/api/uploads/callback?profile=default&x=1%202\n{}" {
		t.Fatalf("StringToSign = %q, %v", s, err)
	}
}

func TestStringToSign(t *testing.T) {
	cases := []struct {
		path, query, body, want string
	}{
		{"/cb", "", "b", "/cb\nb"},
		{"/cb", "a=1", "", "/cb?a=1\n"},
		{"/a%2Fb%20c+d", "q=%2F+", "x", "/a/b c+d?q=%2F+\nx"}, // path: no '+'-as-space; query untouched
		{"/%E7%85%A7", "", "", "/照\n"},
	}
	for _, c := range cases {
		t.Run(c.path+"?"+c.query, func(t *testing.T) {
			got, err := callback.StringToSign(c.path, c.query, []byte(c.body))
			if err != nil || string(got) != c.want {
				t.Fatalf("StringToSign = %q, %v; want %q", got, err, c.want)
			}
		})
	}
	if _, err := callback.StringToSign("/%zz", "", nil); !errors.Is(err, callback.ErrInvalidSignature) {
		t.Fatalf("bad escape: err = %v, want ErrInvalidSignature", err)
	}
}

func TestParsePublicKeyPEM(t *testing.T) {
	key, _ := keys(t)
	// rsa.GenerateKey refuses weak keys, so weak public keys are made by
	// hand: a modulus of exactly bits bits (parsing does not factor it).
	weak := func(bits, e int) []byte {
		n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
		n.Add(n, big.NewInt(1))
		return publicPEM(t, &rsa.PublicKey{N: n, E: e})
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkix := publicPEM(t, &key.PublicKey)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&key.PublicKey)})
	withHeaders := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte{1}})
	cases := []struct {
		name string
		pem  []byte
		ok   bool
	}{
		{"PKIX", pkix, true},
		{"PKCS#1", pkcs1, true},
		{"CRLF and trailing space", []byte(strings.ReplaceAll(string(pkix), "\n", "\r\n") + "\n\n "), true},
		{"leading text", append([]byte("key:\n"), pkix...), true},
		{"two blocks", append(append([]byte{}, pkix...), pkcs1...), false},
		{"trailing junk", append(append([]byte{}, pkix...), "junk"...), false},
		{"511-bit", weak(511, 65537), false},
		{"512-bit, the size of OSS's own key", weak(512, 65537), true},
		{"1023-bit", weak(1023, 65537), true},
		{"1024-bit", weak(1024, 65537), true},
		{"even exponent", weak(2048, 65536), false},
		{"exponent 1", weak(2048, 1), false},
		{"ECDSA", publicPEM(t, &ec.PublicKey), false},
		{"private key", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), false},
		{"certificate type", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), false},
		{"headers", withHeaders, false},
		{"PKIX bytes in PKCS#1 block", []byte(strings.ReplaceAll(string(pkix), "PUBLIC KEY", "RSA PUBLIC KEY")), false},
		{"empty", nil, false},
		{"not PEM", []byte("hello"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := callback.ParsePublicKeyPEM(c.pem)
			if (err == nil) != c.ok {
				t.Fatalf("ParsePublicKeyPEM = %v, want ok=%v", err, c.ok)
			}
			if c.ok && !strings.HasSuffix(c.name, "-bit") && !strings.Contains(c.name, "-bit,") && !got.Equal(&key.PublicKey) {
				t.Fatal("parsed a different key")
			}
		})
	}
}

func TestStaticKeys(t *testing.T) {
	key, _ := keys(t)
	s := callback.StaticKeys{keyURL: &key.PublicKey}
	if got, err := s.PublicKey(t.Context(), keyURL); err != nil || got != &key.PublicKey {
		t.Fatalf("pinned URL: %v, %v", got, err)
	}
	for _, u := range []string{"", keyURL + "?", "http://gosspublic.alicdn.com/callback_pub_key_v1.pem"} {
		if _, err := s.PublicKey(t.Context(), u); !errors.Is(err, callback.ErrUntrustedKeyURL) {
			t.Errorf("PublicKey(%q) = %v, want ErrUntrustedKeyURL", u, err)
		}
	}
}

func TestCode(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("other"), ""},
		{callback.ErrUntrustedKeyURL, "untrusted_key_url"},
		{fmt.Errorf("x: %w", callback.ErrInvalidSignature), "invalid_signature"},
		{fmt.Errorf("x: %w", callback.ErrInvalidCallback), "invalid_callback"},
		{fmt.Errorf("%w: %w", callback.ErrInvalidTicket, ticket.ErrInvalid), "invalid_ticket"},
		{fmt.Errorf("x: %w", callback.ErrKeyUnavailable), "key_unavailable"},
	}
	for _, c := range cases {
		if got := callback.Code(c.err); got != c.want {
			t.Errorf("Code(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// OSS does not sign the Content-Type, so the same signed bytes can be resent
// as the other format. A JSON body whose var value holds form fields, read
// as a form, names another object and another (valid, unused) ticket: it
// must be refused, because that ticket was issued for JSON bodies.
func TestVerifyRefusesBodyResentInOtherFormat(t *testing.T) {
	key, _ := keys(t)
	now := time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC)
	const etag = "5B3C1A2E053D763E1B002CC607C5A0FE"
	issue := func(objectKey, bodyType string) string {
		tok, err := ticket.Sign(ticketSecret, ticket.Claims{
			User: "mallory", Bucket: "examplebucket", Key: objectKey, Size: 100, ContentType: "image/jpeg",
			BodyType: bodyType, VarNames: []string{"caption"}, ExpiresAt: now.Add(time.Hour),
		}, now)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	const keyA, keyB = "uploads/mallory/a.jpg", "uploads/mallory/b.jpg"
	tokA, tokB := issue(keyA, ticket.BodyJSON), issue(keyB, ticket.BodyJSON)
	smuggled := "&bucket=examplebucket&object=" + keyB + "&etag=" + etag + "&size=10&mimeType=image%2Fjpeg&ticket=" + tokB + "&z="
	// Rendered by OSS for the upload of keyA (OSS escapes nothing here).
	jsonBody := `{"bucket":"examplebucket","object":"` + keyA + `","etag":"` + etag + `","size":10,"mimeType":"image/jpeg",` +
		`"ticket":"` + tokA + `","vars":{"caption":"` + smuggled + `"}}`

	tokFormA := issue(keyA, ticket.BodyForm)
	formBody := "bucket=examplebucket&object=" + url.QueryEscape(keyA) + "&etag=" + etag + "&size=10&mimeType=image%2Fjpeg&ticket=" + tokFormA

	cases := []struct {
		name        string
		verifier    string // Verifier.BodyType
		body        string
		contentType string
		want        error
		wantKey     string
	}{
		{"json body as json", "", jsonBody, ctJSON, callback.ErrInvalidCallback, ""}, // the caption is over the var limit anyway
		{"json body resent as form", "", jsonBody, ctForm, callback.ErrInvalidTicket, ""},
		{"json body resent as form, json-only verifier", ticket.BodyJSON, jsonBody, ctForm, callback.ErrInvalidCallback, ""},
		{"form body as form", "", formBody, ctForm, nil, keyA},
		{"form body resent as json", "", formBody, ctJSON, callback.ErrInvalidCallback, ""},
		{"form body, json-only verifier", ticket.BodyJSON, formBody, ctForm, callback.ErrInvalidCallback, ""},
		{"form body, form-only verifier", ticket.BodyForm, formBody, ctForm, nil, keyA},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			auth, err := callback.Sign(key, callbackPath, "", []byte(c.body))
			if err != nil {
				t.Fatal(err)
			}
			v := &callback.Verifier{Keys: callback.StaticKeys{keyURL: &key.PublicKey}, TicketSecret: ticketSecret, BodyType: c.verifier}
			got, err := v.Verify(t.Context(), callback.Request{
				Path: callbackPath, Authorization: auth, ContentType: c.contentType, Body: []byte(c.body),
				PubKeyURL: base64.StdEncoding.EncodeToString([]byte(keyURL)),
			}, now.Add(time.Minute))
			if c.want != nil {
				if !errors.Is(err, c.want) {
					t.Fatalf("Verify = %+v, %v; want %v", got, err, c.want)
				}
				if c.contentType == ctForm && c.body == jsonBody && !strings.Contains(err.Error(), "body") {
					t.Errorf("refused for another reason than the body format: %v", err)
				}
				return
			}
			if err != nil || got.Key != c.wantKey {
				t.Fatalf("Verify = %+v, %v; want key %s", got, err, c.wantKey)
			}
		})
	}
}

func TestVerifierUnknownBodyType(t *testing.T) {
	key, _ := keys(t)
	v := &callback.Verifier{Keys: callback.StaticKeys{keyURL: &key.PublicKey}, TicketSecret: ticketSecret, BodyType: "json"}
	if _, err := v.Verify(t.Context(), callback.Request{}, time.Now()); err == nil || callback.Code(err) != "" {
		t.Fatalf("Verify = %v (code %q), want a non-API error", err, callback.Code(err))
	}
}
