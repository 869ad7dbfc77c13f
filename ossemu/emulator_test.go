package ossemu

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no bucket", Config{Region: "cn-hangzhou", Dir: t.TempDir()}},
		{"no region", Config{Bucket: "b", Dir: t.TempDir()}},
		{"only oss- region", Config{Bucket: "b", Region: "oss-", Dir: t.TempDir()}},
		{"no dir", Config{Bucket: "b", Region: "cn-hangzhou"}},
		{"negative timeout", Config{Bucket: "b", Region: "cn-hangzhou", Dir: t.TempDir(), CallbackTimeout: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg); err == nil {
				t.Error("New succeeded, want an error")
			}
		})
	}
}

func TestListenSetsPublicURLAndServesKey(t *testing.T) {
	// Key nil: New generates one.
	env := newEnv(t, func(c *Config) { c.Key = nil })
	addr := env.emu.Addr()
	if _, _, err := net.SplitHostPort(addr); err != nil || !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("Addr = %q, want 127.0.0.1:port", addr)
	}
	if got, want := env.emu.PublicURL(), "http://"+addr; got != want {
		t.Errorf("PublicURL = %q, want %q", got, want)
	}
	if got, want := env.emu.PublicKeyURL(), "http://"+addr+"/_ossemu/callback_pub_key.pem"; got != want {
		t.Errorf("PublicKeyURL = %q, want %q", got, want)
	}
	if got := env.emu.PublicKeyHost(); got != addr {
		t.Errorf("PublicKeyHost = %q, want %q", got, addr)
	}
	body, err := httpGetBody(env.emu.PublicKeyURL())
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != string(env.emu.PublicKeyPEM()) {
		t.Errorf("served key differs from PublicKeyPEM")
	}
	block, _ := pem.Decode(body)
	if block == nil || block.Type != "PUBLIC KEY" {
		t.Fatalf("served key is not a PUBLIC KEY PEM: %q", body)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := pub.(*rsa.PublicKey); !ok || k.N.BitLen() != 2048 {
		t.Errorf("key = %T, want a 2048-bit RSA key", pub)
	}
}

func TestPublicURLGiven(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.PublicURL = "http://oss.local:9000/" })
	if got := env.emu.PublicKeyURL(); got != "http://oss.local:9000/_ossemu/callback_pub_key.pem" {
		t.Errorf("PublicKeyURL = %q", got)
	}
	if got := env.emu.PublicKeyHost(); got != "oss.local:9000" {
		t.Errorf("PublicKeyHost = %q", got)
	}
}

func TestReachableHostPort(t *testing.T) {
	tests := []struct {
		addr *net.TCPAddr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4zero, Port: 9000}, "127.0.0.1:9000"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 9000}, "[::1]:9000"},
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 1}, "127.0.0.2:1"},
	}
	for _, tc := range tests {
		if got := reachableHostPort(tc.addr); got != tc.want {
			t.Errorf("reachableHostPort(%v) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

var requestIDPattern = regexp.MustCompile(`^[0-9A-F]{24}$`)

// TestEveryResponseHeaders: request id and Date on successes and errors
// alike; the CORS rule's headers whenever the Origin matches.
func TestEveryResponseHeaders(t *testing.T) {
	env := newEnv(t, nil)
	data := []byte("cors")
	if r := env.postForm(t, validForm(v4Signer, "c/a.txt", "text/plain", data), data, nil); r.status != 200 {
		t.Fatalf("upload: %v", r)
	}
	tests := []struct {
		name, method, path string
		status             int
	}{
		{"get object", http.MethodGet, "/c/a.txt", 200},
		{"get missing", http.MethodGet, "/c/missing", 404},
		{"post without form", http.MethodPost, "/", 400},
		{"pub key", http.MethodGet, PubKeyPath, 200},
		{"put unsigned", http.MethodPut, "/c/b.txt", 403},
		{"put bucket unsigned", http.MethodPut, "/" + testBucket + "/", 403},
		{"delete unsigned", http.MethodDelete, "/c/a.txt", 403},
		{"post to object path", http.MethodPost, "/c/a.txt", 405},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, env.url+tc.path, nil)
			req.Header.Set("Origin", "https://app.example")
			r := do(t, req)
			if r.status != tc.status {
				t.Fatalf("status = %d, want %d (%q)", r.status, tc.status, r.body)
			}
			if id := r.header.Get("x-oss-request-id"); !requestIDPattern.MatchString(id) {
				t.Errorf("x-oss-request-id = %q, want 24 hex", id)
			}
			if d, err := http.ParseTime(r.header.Get("Date")); err != nil || !d.Equal(testNow) {
				t.Errorf("Date = %q, want the emulator's clock %v", r.header.Get("Date"), testNow)
			}
			if got := r.header.Get("Access-Control-Allow-Origin"); got != "https://app.example" {
				t.Errorf("Allow-Origin = %q, want the matching origin", got)
			}
			if got := r.header.Get("Access-Control-Expose-Headers"); !strings.Contains(got, "ETag") || !strings.Contains(got, "x-oss-request-id") {
				t.Errorf("Expose-Headers = %q", got)
			}
			if tc.status >= 400 {
				wantError(t, r, tc.status, r.xmlErr(t).Code)
			}
		})
	}
}

func TestErrorXMLFormat(t *testing.T) {
	got := string(errorXML("AccessDenied", `Policy Condition failed: ["eq", "$key", "<a&b>"]`, "ABC", "h:1"))
	want := `<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>AccessDenied</Code>
  <Message>Policy Condition failed: [&#34;eq&#34;, &#34;$key&#34;, &#34;&lt;a&amp;b&gt;&#34;]</Message>
  <RequestId>ABC</RequestId>
  <HostId>h:1</HostId>
</Error>
`
	if got != want {
		t.Errorf("errorXML\n got %s\nwant %s", got, want)
	}
}

// TestHandlerWithoutListen: mounted in httptest, the emulator still signs
// callbacks with a reachable key URL once told where it lives.
func TestHandlerWithoutListen(t *testing.T) {
	emu, err := New(Config{Bucket: testBucket, Region: "cn-hangzhou", Credentials: map[string]string{testID: testSecret},
		Dir: t.TempDir(), Key: testKey(), Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu.Handler())
	defer srv.Close()
	emu.SetPublicURL(srv.URL)
	env := &testEnv{emu: emu, url: srv.URL}
	cbSrv, got := callbackServer(t, answerJSON(`{}`))
	data := []byte("x")
	cb := callbackField(map[string]string{"callbackUrl": cbSrv.URL, "callbackBody": "o=${object}"})
	if r := env.postForm(t, callbackForm("h/x.txt", "text/plain", 1, cb, nil), data, nil); r.status != 200 {
		t.Fatalf("upload: %v", r)
	}
	if g := receive(t, got); g.path != "/" {
		t.Errorf("callback path %q, want /", g.path)
	}
}

func TestShutdown(t *testing.T) {
	emu, err := New(Config{Bucket: "b", Region: "cn-hangzhou", Dir: t.TempDir(), Key: testKey()})
	if err != nil {
		t.Fatal(err)
	}
	l, err := emu.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- emu.Serve(l) }()
	if _, err := httpGetBody(emu.PublicKeyURL()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := emu.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve after Shutdown = %v, want nil", err)
	}
	if _, err := http.Get(emu.PublicKeyURL()); err == nil {
		t.Error("still serving after Shutdown")
	}
}
