package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ossgate/ossgate/ossclient"
	"github.com/ossgate/ossgate/ossemu"
	"github.com/ossgate/ossgate/policy"
	"github.com/ossgate/ossgate/store"
)

// The settings a doctor needs to share with a local-mode server: the
// emulator's credentials and the ticket secret (local mode generates
// them per process otherwise).
const (
	docKeyID     = "LOCALDOCTORTEST"
	docKeySecret = "doctor-test-emulator-secret-0123"
	docTicket    = "doctor-test-ticket-secret-0123456789abcdef"
	appOrigin    = "https://app.example.com"
)

// doctorApp is a local-mode ossgate and a doctor configured like it.
func doctorApp(t *testing.T, extra map[string]string) (*app, *doctor) {
	t.Helper()
	env := map[string]string{
		"OSSGATE_LOCAL_OSS_ACCESS_KEY_ID":     docKeyID,
		"OSSGATE_LOCAL_OSS_ACCESS_KEY_SECRET": docKeySecret,
		"OSSGATE_TICKET_SECRET":               docTicket,
	}
	for k, v := range extra {
		env[k] = v
	}
	a := localApp(t, env)
	return a, testDoctor(t, a.cfg, env)
}

func testDoctor(t *testing.T, cfg Config, env map[string]string) *doctor {
	t.Helper()
	d, err := newDoctor(cfg, envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// startEmulator runs an emulator of its own on 127.0.0.1:0.
func startEmulator(t *testing.T, cfg ossemu.Config) *ossemu.Emulator {
	t.Helper()
	cfg.Bucket, cfg.Region, cfg.Dir = "doctor-bucket", "cn-hangzhou", t.TempDir()
	if cfg.Credentials == nil {
		cfg.Credentials = map[string]string{docKeyID: docKeySecret}
	}
	emu, err := ossemu.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := emu.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go emu.Serve(ln) //nolint:errcheck // ends with Close
	t.Cleanup(func() { emu.Close() })
	return emu
}

// emulatorConfig is a configuration whose OSS is emu.
func emulatorConfig(emu *ossemu.Emulator, id, secret string) Config {
	return Config{
		Local: true, Bucket: "doctor-bucket", Region: "cn-hangzhou", OSSEndpoint: "http://" + emu.Addr(),
		KeyPrefix: "uploads/", PolicyTTL: 10 * time.Minute, CallbackConfirm: "head",
		Credentials: policy.Credentials{AccessKeyID: id, AccessKeySecret: secret},
	}
}

func find(t *testing.T, fs []finding, check string) finding {
	t.Helper()
	for _, f := range fs {
		if f.Check == check {
			return f
		}
	}
	t.Fatalf("no finding %q in %+v", check, fs)
	return finding{}
}

func expect(t *testing.T, f finding, st status, detail string) {
	t.Helper()
	if f.Status != st || !strings.Contains(f.Detail, detail) {
		t.Errorf("%s: got %s %q, want %s with %q", f.Check, f.Status, f.Detail, st, detail)
	}
	if st == fail && f.Fix == "" {
		t.Errorf("%s: a FAIL without a fix", f.Check)
	}
}

func TestDoctorHealthyLocalMode(t *testing.T) {
	_, d := doctorApp(t, map[string]string{"OSSGATE_CORS_ORIGINS": appOrigin})
	fs := d.run(context.Background())
	for _, f := range fs {
		if f.Status != pass {
			t.Errorf("%s %s: %s (fix: %s)", f.Status, f.Check, f.Detail, f.Fix)
		}
	}
	var names []string
	for _, f := range fs {
		names = append(names, f.Check)
	}
	for _, want := range []string{"oss.bucket", "clock", "perm.HeadObject", "perm.ListMultipartUploads", "perm.AbortMultipartUpload",
		"perm.DeleteObject", "cors:" + appOrigin, "callback.public_url", "callback.reach", "jwt", "database"} {
		if !slices.Contains(names, want) {
			t.Errorf("no %s check in %v", want, names)
		}
	}
	if !slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "callback.key:") }) {
		t.Errorf("no callback key check in %v", names)
	}
}

func TestDoctorCORS(t *testing.T) {
	good := corsFixRule([]string{appOrigin})
	noETag := good
	noETag.ExposeHeaders = []string{"x-oss-request-id"}
	other := corsFixRule([]string{"https://other.example.com"})
	fewHeaders := good
	fewHeaders.AllowedHeaders = []string{"content-type"}
	postOnly := good
	postOnly.AllowedMethods = []string{"POST"}
	wildcard := corsFixRule([]string{"https://*.example.com"})
	cases := []struct {
		name   string
		rules  []ossclient.CORSRule
		status status
		detail string
	}{
		{"the rule ossgate suggests", []ossclient.CORSRule{good}, pass, "rule 1 allows POST and PUT"},
		{"a wildcard origin", []ossclient.CORSRule{wildcard}, pass, "rule 1"},
		{"ETag not exposed", []ossclient.CORSRule{noETag}, fail, "does not expose ETag"},
		{"a rule for another origin", []ossclient.CORSRule{other}, fail, "no CORS rule names https://app.example.com: the browser refuses every upload from it"},
		{"request headers not allowed", []ossclient.CORSRule{fewHeaders}, fail, "no rule allows PUT from https://app.example.com with headers content-type, x-oss-callback"},
		{"no PUT", []ossclient.CORSRule{postOnly}, fail, "no rule allows PUT"},
		{"the first match answers", []ossclient.CORSRule{noETag, good}, fail, "rule 1 (which answers POST) does not expose ETag"},
		{"a good rule after another origin's", []ossclient.CORSRule{other, good}, pass, "rule 2"},
	}
	_, d := doctorApp(t, map[string]string{"OSSGATE_CORS_ORIGINS": appOrigin})
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := d.oss.PutBucketCORS(ctx, tc.rules); err != nil {
				t.Fatal(err)
			}
			f := find(t, d.checkCORS(ctx), "cors:"+appOrigin)
			expect(t, f, tc.status, tc.detail)
			if tc.status == fail && !strings.Contains(f.Fix, "ExposeHeader: ETag, x-oss-request-id") {
				t.Errorf("fix %q does not print the rule", f.Fix)
			}
		})
	}
}

func TestDoctorFixCORS(t *testing.T) {
	_, d := doctorApp(t, map[string]string{"OSSGATE_CORS_ORIGINS": appOrigin + ",https://admin.example.com"})
	ctx := context.Background()
	other := corsFixRule([]string{"https://other.example.com"})
	noETag := corsFixRule([]string{appOrigin})
	noETag.ExposeHeaders = nil
	noETag.MaxAgeSeconds = 0
	admin := corsFixRule([]string{"https://admin.example.com"})
	before := []ossclient.CORSRule{other, noETag, admin}
	if err := d.oss.PutBucketCORS(ctx, before); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if code := d.fixCORS(ctx, strings.NewReader("n\n"), &out, false); code != 1 {
		t.Fatalf("declined: exit %d\n%s", code, &out)
	}
	if got, _ := d.oss.BucketCORS(ctx); !slices.EqualFunc(got, before, sameRule) {
		t.Fatalf("declined, yet the rules changed: %+v", got)
	}
	if !strings.Contains(out.String(), "apply? [y/N]") || !strings.Contains(out.String(), "+ 1. {AllowedOrigin: https://app.example.com;") {
		t.Fatalf("no confirmation shown:\n%s", &out)
	}

	out.Reset()
	if code := d.fixCORS(ctx, strings.NewReader("y\n"), &out, false); code != 0 {
		t.Fatalf("confirmed: exit %d\n%s", code, &out)
	}
	got, err := d.oss.BucketCORS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]ossclient.CORSRule{corsFixRule([]string{appOrigin})}, before...)
	if !slices.EqualFunc(got, want, sameRule) {
		t.Fatalf("rules after the fix:\n%+v\nwant the new rule first and every old one kept:\n%+v", got, want)
	}
	for _, f := range d.checkCORS(ctx) {
		expect(t, f, pass, "")
	}

	out.Reset()
	if code := d.fixCORS(ctx, nil, &out, true); code != 0 || !strings.Contains(out.String(), "nothing to change") {
		t.Fatalf("second fix: exit %d\n%s", code, &out)
	}
}

func sameRule(a, b ossclient.CORSRule) bool {
	return slices.Equal(a.AllowedOrigins, b.AllowedOrigins) && slices.Equal(a.AllowedMethods, b.AllowedMethods) &&
		slices.Equal(a.AllowedHeaders, b.AllowedHeaders) && slices.Equal(a.ExposeHeaders, b.ExposeHeaders) && a.MaxAgeSeconds == b.MaxAgeSeconds
}

// TestDoctorCORSHeadersMatchPresign: the headers the CORS check asks for
// are those a presigned PUT really carries.
func TestDoctorCORSHeadersMatchPresign(t *testing.T) {
	a, _ := doctorApp(t, nil)
	var tok struct{ Token string }
	postJSON(t, a.URL()+"/api/dev/token", "", map[string]string{"sub": "alice"}, &tok)
	var p policyAnswer
	req := map[string]any{"filename": "a.txt", "size": 5, "contentType": "text/plain", "vars": map[string]string{"caption": "x"}}
	if st := postJSON(t, a.URL()+"/api/uploads/presign", tok.Token, req, &p); st != 200 {
		t.Fatalf("presign: %d", st)
	}
	if len(p.Headers) == 0 {
		t.Fatal("the presign answer has no headers")
	}
	for h := range p.Headers {
		if !slices.Contains(corsPutHeaders, strings.ToLower(h)) {
			t.Errorf("a presigned PUT sends %s, which the CORS check does not ask the rule for (%v)", h, corsPutHeaders)
		}
	}
}

func TestDoctorClock(t *testing.T) {
	cases := []struct {
		name   string
		offset time.Duration
		ttl    time.Duration
		status status
		detail string
	}{
		{"in sync", 0, 10 * time.Minute, pass, "within 1m0s"},
		{"OSS 3 minutes ahead", 3 * time.Minute, 10 * time.Minute, warn, "3m0s behind OSS's"},
		{"OSS 3 minutes behind", -3 * time.Minute, 10 * time.Minute, warn, "3m0s ahead of OSS's"},
		{"past the policy TTL", 12 * time.Minute, 10 * time.Minute, fail, "past OSSGATE_POLICY_TTL (10m0s)"},
		{"near OSS's limit", 14*time.Minute + 30*time.Second, time.Hour, fail, "more than 15m0s off"},
		{"past OSS's limit", -20 * time.Minute, time.Hour, fail, "20m0s ahead of OSS's"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			emu := startEmulator(t, ossemu.Config{ClockOffset: tc.offset})
			cfg := emulatorConfig(emu, docKeyID, docKeySecret)
			cfg.PolicyTTL = tc.ttl
			f := testDoctor(t, cfg, nil).checkClock(context.Background())
			expect(t, f, tc.status, tc.detail)
		})
	}
}

func TestDoctorCredentials(t *testing.T) {
	emu := startEmulator(t, ossemu.Config{})
	cases := []struct {
		name, id, secret string
		status           status
		detail, fix      string
	}{
		{"accepted", docKeyID, docKeySecret, pass, "bucket doctor-bucket in oss-cn-hangzhou", ""},
		{"unknown key id", "LOCALNOBODY", docKeySecret, fail, "OSS does not know this access key id (InvalidAccessKeyId)", "OSSGATE_LOCAL_OSS_ACCESS_KEY_ID"},
		{"wrong secret", docKeyID, "not-the-secret-at-all-0123456789", fail, "does not match the key id (SignatureDoesNotMatch)", "check OSS_ACCESS_KEY_SECRET"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := testDoctor(t, emulatorConfig(emu, tc.id, tc.secret), nil)
			ctx := context.Background()
			f, info, _, _ := d.checkBucket(ctx)
			expect(t, f, tc.status, tc.detail)
			if !strings.Contains(f.Fix, tc.fix) {
				t.Errorf("fix %q, want %q in it", f.Fix, tc.fix)
			}
			// Every permission probe reads the refusal as a refusal.
			for _, p := range d.checkPermissions(ctx, info) {
				switch {
				case tc.status == pass && p.Status != pass:
					t.Errorf("%s: %s %s", p.Check, p.Status, p.Detail)
				case tc.status == fail && p.Check != "perm.DeleteObject" && p.Status != fail:
					t.Errorf("%s with refused credentials: %s %s", p.Check, p.Status, p.Detail)
				}
			}
		})
	}
}

func TestDoctorUnreachableOSSIsQuick(t *testing.T) {
	// A listener that accepts and never answers: every OSS call times out.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	dir := t.TempDir()
	env := map[string]string{
		"OSS_ACCESS_KEY_ID": "LTAI5tDoctorTest", "OSS_ACCESS_KEY_SECRET": "doctor-test-secret-0123456789",
		"OSS_BUCKET": "doctor-bucket", "OSS_REGION": "cn-hangzhou",
		"OSSGATE_OSS_ENDPOINT":      "http://" + ln.Addr().String(),
		"OSSGATE_PUBLIC_URL":        "http://" + ln.Addr().String(),
		"OSSGATE_JWT_SECRET":        "doctor-test-jwt-secret-0123456789abcdef",
		"OSSGATE_TICKET_SECRET":     docTicket,
		"OSSGATE_DB":                filepath.Join(dir, "ossgate.db"),
		"OSSGATE_CALLBACK_KEY_URLS": "http://" + ln.Addr().String() + "/key.pem",
	}
	var out bytes.Buffer
	start := time.Now()
	code := doctorMain(context.Background(), []string{"--json"}, envOf(env), nil, &out, &out)
	took := time.Since(start)
	if took > 30*time.Second {
		t.Errorf("the doctor took %s against an OSS that never answers", took)
	}
	var fs []finding
	if err := json.Unmarshal(out.Bytes(), &fs); err != nil {
		t.Fatalf("--json output: %v\n%s", err, &out)
	}
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	expect(t, find(t, fs, "oss.bucket"), fail, "timed out")
	expect(t, find(t, fs, "callback.public_url"), fail, "loopback")
	expect(t, find(t, fs, "callback.reach"), fail, "GET http://"+ln.Addr().String()+"/api/doctor/…")
	expect(t, find(t, fs, "database"), warn, "does not exist yet")
	if _, err := os.Stat(env["OSSGATE_DB"]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the doctor created the database file: %v", err)
	}
	t.Logf("took %s", took)
}

func TestDoctorPublicAddress(t *testing.T) {
	cases := []struct {
		url    string
		status status
		detail string
	}{
		{"https://8.8.8.8", pass, "public addresses only (8.8.8.8)"},
		{"http://8.8.8.8/ossgate", warn, "plain http"},
		{"http://10.0.0.5:8080", fail, "a private address"},
		{"https://192.168.1.20", fail, "a private address"},
		{"https://[fd00::1]", fail, "a private address"},
		{"https://127.0.0.1:8080", fail, "a loopback address"},
		{"https://localhost", fail, "a loopback address"},
		{"https://169.254.169.254", fail, "a link-local address"},
		{"https://100.64.1.1", fail, "carrier-grade NAT"},
		{"https://[::]", fail, "unspecified"},
		{"https://no-such-host.invalid", fail, "does not resolve"},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			d := &doctor{cfg: Config{PublicURL: tc.url}, resolver: net.DefaultResolver}
			expect(t, d.checkPublicAddress(context.Background()), tc.status, tc.detail)
		})
	}
}

// reserve picks a free loopback port for a server started later.
func reserve(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// proxyTo serves on ln a reverse proxy to the app at *target, with the
// path rewritten by rewrite.
func proxyTo(ln net.Listener, target **app, rewrite func(string) string) {
	p := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		u, _ := url.Parse((*target).URL())
		r.SetURL(u)
		r.Out.URL.Path = rewrite(r.In.URL.Path)
		r.Out.URL.RawPath = ""
	}}
	go http.Serve(ln, p) //nolint:errcheck // ends with the listener
}

func TestDoctorReach(t *testing.T) {
	strip := func(p string) string { return strings.TrimPrefix(p, "/ossgate") }
	keep := func(p string) string { return p }
	cases := []struct {
		name    string
		rewrite func(string) string // nil: no proxy
		secret  string              // the doctor's, when not the server's
		status  status
		detail  string
	}{
		{"a proxy that strips the public URL's path", strip, "", pass, "a proxy forwards /ossgate/api/… as /api/…; callbacks are verified against /ossgate/api/uploads/callback"},
		{"a proxy that keeps the path", keep, "", fail, "answered 404: no ossgate with this ticket secret"},
		{"another deployment", strip, "another-deployments-ticket-secret-0123456789", fail, "answered 404"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ln := reserve(t)
			var a *app
			proxyTo(ln, &a, tc.rewrite)
			a, d := doctorApp(t, map[string]string{"OSSGATE_PUBLIC_URL": "http://" + ln.Addr().String() + "/ossgate"})
			if tc.secret != "" {
				d.cfg.TicketSecret = []byte(tc.secret)
			}
			expect(t, d.checkReach(context.Background()), tc.status, tc.detail)
		})
	}

	t.Run("nothing listening", func(t *testing.T) {
		ln := reserve(t)
		addr := ln.Addr().String()
		ln.Close()
		d := &doctor{cfg: Config{PublicURL: "http://" + addr, TicketSecret: []byte(docTicket)}, web: http.DefaultClient, now: time.Now}
		expect(t, d.checkReach(context.Background()), fail, "connection refused")
	})
	t.Run("a redirect", func(t *testing.T) {
		srv := httptest.NewServer(http.RedirectHandler("https://elsewhere.example.com/", http.StatusMovedPermanently))
		defer srv.Close()
		_, d := doctorApp(t, nil)
		d.cfg.PublicURL = srv.URL
		expect(t, d.checkReach(context.Background()), fail, "a redirect to \"https://elsewhere.example.com/\": OSS does not follow redirects")
	})
	t.Run("a generated ticket secret", func(t *testing.T) {
		a := localApp(t, nil)
		d := testDoctor(t, a.cfg, nil)
		expect(t, d.checkReach(context.Background()), warn, "local mode generates OSSGATE_TICKET_SECRET")
	})
}

func TestDoctorCallbackKey(t *testing.T) {
	notPEM := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello")) }))
	defer notPEM.Close()
	emu := startEmulator(t, ossemu.Config{})
	cases := []struct {
		name, url string
		status    status
		detail    string
	}{
		{"the emulator's key", emu.PublicKeyURL(), pass, "answers a 2048-bit RSA key"},
		{"not a key", notPEM.URL + "/key.pem", fail, "no usable key"},
		{"nobody there", "http://127.0.0.1:1/key.pem", fail, "no usable key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := &doctor{cfg: Config{CallbackKeyURLs: []string{tc.url}}}
			fs := d.checkKeyHosts(context.Background())
			expect(t, find(t, fs, "callback.key:"+tc.url), tc.status, tc.detail)
		})
	}
	if got := keyURLs([]string{"https://gosspublic.alicdn.com/"}); !slices.Equal(got, []string{"https://gosspublic.alicdn.com/callback_pub_key_v1.pem"}) {
		t.Errorf("OSS's key URL: %v", got)
	}
}

func TestDoctorJWKS(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	b64 := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	rsaJWK := map[string]any{"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256", "n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes())}
	encJWK := map[string]any{"kty": "RSA", "kid": "k2", "use": "enc", "n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes())}
	octJWK := map[string]any{"kty": "oct", "kid": "h1", "k": b64([]byte("0123456789abcdef0123456789abcdef"))}
	cases := []struct {
		name   string
		status int
		keys   []any
		want   status
		detail string
	}{
		{"an RSA signing key", 200, []any{rsaJWK, encJWK}, pass, "1 usable keys (k1 RS256), 1 ignored (k2)"},
		{"HMAC keys only", 200, []any{octJWK}, fail, "none usable"},
		{"an error", 500, nil, fail, "answered 500"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				json.NewEncoder(w).Encode(map[string]any{"keys": tc.keys})
			}))
			defer srv.Close()
			d := &doctor{cfg: Config{JWTJWKSURL: srv.URL + "/jwks.json", JWTAudience: "ossgate"}, web: http.DefaultClient, getenv: envOf(nil)}
			fs := d.checkIdentity(context.Background())
			expect(t, find(t, fs, "jwt"), tc.want, tc.detail)
			expect(t, find(t, fs, "jwt.issuer"), warn, "OSSGATE_JWT_ISSUER is not set")
		})
	}
}

func TestDoctorDatabase(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "ossgate.db")
	s, err := store.Open(context.Background(), existing)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	cases := []struct {
		name, dsn string
		status    status
		detail    string
	}{
		{"an SQLite file", existing, pass, "reachable, migrations current, a record written and read back in a transaction, rolled back"},
		{"an SQLite file not made yet", filepath.Join(dir, "new.db"), warn, "does not exist yet"},
		{"a missing folder", filepath.Join(dir, "nope", "ossgate.db"), fail, "its folder"},
		{"Postgres that does not answer", "postgres://ossgate:hunter2-secret@127.0.0.1:1/ossgate?connect_timeout=2", fail, "postgres postgres://ossgate:xxxxx@127.0.0.1:1/ossgate"},
	}
	if pg := os.Getenv("OSSGATE_TEST_POSTGRES"); pg != "" {
		cases = append(cases, struct {
			name, dsn string
			status    status
			detail    string
		}{"Postgres", pg, pass, "rolled back"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := &doctor{cfg: Config{DB: tc.dsn}}
			f := find(t, d.checkDatabase(context.Background()), "database")
			expect(t, f, tc.status, tc.detail)
			if strings.Contains(f.Detail+f.Fix, "hunter2") {
				t.Errorf("the password is in %q", f.Detail)
			}
		})
	}
	// Nothing was left behind by the rolled-back write.
	s, err = store.Open(context.Background(), existing)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if recs, _, err := s.List(context.Background(), "ossgate-doctor", 10, ""); err != nil || len(recs) != 0 {
		t.Errorf("records left: %v %v", recs, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "new.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the doctor created a database: %v", err)
	}
}

func TestDoctorMainExitStatus(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  map[string]string
		code int
		out  string
	}{
		{"a bad flag", []string{"--fix"}, nil, 2, ""},
		{"--yes alone", []string{"--yes"}, nil, 2, ""},
		{"a configuration the server refuses", nil, map[string]string{"OSS_ACCESS_KEY_ID": "LTAI5tX"}, 1, "FAIL  config  OSS_ACCESS_KEY_SECRET: must be set"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := doctorMain(context.Background(), tc.args, envOf(tc.env), nil, &out, &errOut)
			if code != tc.code || !strings.Contains(out.String(), tc.out) {
				t.Errorf("exit %d, want %d; output:\n%s%s", code, tc.code, &out, &errOut)
			}
		})
	}
}

func TestStartupFindings(t *testing.T) {
	a, d := doctorApp(t, map[string]string{"OSSGATE_CORS_ORIGINS": appOrigin})
	ctx := context.Background()
	if msgs := startupFindings(ctx, a.cfg, d.oss); len(msgs) != 0 {
		t.Fatalf("a healthy setup logs %q", msgs)
	}
	rule := corsFixRule([]string{appOrigin})
	rule.ExposeHeaders = nil
	if err := d.oss.PutBucketCORS(ctx, []ossclient.CORSRule{rule}); err != nil {
		t.Fatal(err)
	}
	msgs := startupFindings(ctx, a.cfg, d.oss)
	if len(msgs) != 1 || !strings.Contains(msgs[0], "cors:https://app.example.com: rule 1 (which answers POST) does not expose ETag, x-oss-request-id") {
		t.Fatalf("start-up findings %q", msgs)
	}

	emu := startEmulator(t, ossemu.Config{ClockOffset: 5 * time.Minute, CORS: []ossemu.CORSRule{ossemu.DefaultCORSRule(appOrigin)}})
	cfg := emulatorConfig(emu, docKeyID, docKeySecret)
	cfg.CORSOrigins = []string{appOrigin}
	msgs = startupFindings(ctx, cfg, testDoctor(t, cfg, nil).oss)
	if len(msgs) != 1 || !strings.HasPrefix(msgs[0], "clock: this host's clock is 5m0s behind OSS's") {
		t.Fatalf("start-up findings with a skewed OSS %q", msgs)
	}
}
