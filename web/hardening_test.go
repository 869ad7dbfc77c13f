package web

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/ossgate/ossgate/callback"
	"github.com/ossgate/ossgate/policy"
)

// seriesCount is the number of samples /metrics exposes.
func seriesCount(t *testing.T, h *harness) int {
	t.Helper()
	res := do(t, "GET", h.URL+"/metrics", "", "", nil)
	if res.Status != 200 {
		t.Fatalf("/metrics: %d", res.Status)
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(res.Body))
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			n++
		}
	}
	return n
}

// TestMetricsLabelsComeFromTheServer floods the server with distinct Host
// headers, made-up methods and unknown paths: no label value comes from the
// request, so the number of series does not grow.
func TestMetricsLabelsComeFromTheServer(t *testing.T) {
	h := newHarness(t)
	send := func(method, path, host string) {
		req, err := http.NewRequest(method, h.URL+path, nil)
		if err != nil {
			t.Error(err)
			return
		}
		req.Host = host
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		res.Body.Close()
	}
	// One request of each kind first, so every series the flood can touch exists.
	send("GET", "/healthz", "warm.example")
	send("FOO", "/healthz", "warm.example")
	send("GET", "/no-such-path", "warm.example")
	send("BREW", "/no-such-path", "warm.example")
	seriesCount(t, h) // the scrape's own series
	before := seriesCount(t, h)

	const n = 20000
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				host := fmt.Sprintf("h%d.example", i)
				switch i % 4 {
				case 0:
					send("GET", "/healthz", host)
				case 1:
					send(fmt.Sprintf("M%d", i), "/healthz", host)
				case 2:
					send("GET", fmt.Sprintf("/no-such-path-%d", i), host)
				default:
					send(fmt.Sprintf("X%d", i), fmt.Sprintf("/x/%d", i), host)
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	if after := seriesCount(t, h); after != before {
		t.Errorf("series on /metrics: %d before %d requests with distinct hosts, methods and paths, %d after", before, n, after)
	}
	res := do(t, "GET", h.URL+"/metrics", "", "", nil)
	for _, leak := range []string{"h1.example", "M1", "no-such-path-2", `host="`} {
		if bytes.Contains(res.Body, []byte(leak)) {
			t.Errorf("/metrics holds %q, taken from a request", leak)
		}
	}
}

func TestMetricsElsewhereLeavesNoRoute(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.options.MetricsElsewhere = true })
	if res := do(t, "GET", h.URL+"/metrics", "", "", nil); res.Status != http.StatusNotFound {
		t.Errorf("/metrics on the API port with MetricsElsewhere: %d, want 404", res.Status)
	}
	rec := httptest.NewRecorder()
	h.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "ossgate_http_requests_total") {
		t.Errorf("Metrics.Handler: %d, no request series", rec.Code)
	}
}

// TestBadTokensAreRateLimited: failed authentications on the per-user
// routes count against the caller's IP.
func TestBadTokensAreRateLimited(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.options.RateLimit = RateLimit{PerSecond: 1, Burst: 3} })
	body := []byte(`{"filename":"a.png","size":10,"contentType":"image/png"}`)
	for _, route := range []string{"/api/uploads/policy", "/api/uploads/presign"} {
		t.Run(route, func(t *testing.T) {
			first429 := 0
			for i := 1; i <= 20 && first429 == 0; i++ {
				res := do(t, "POST", h.URL+route, "not-a-jwt", "application/json", body)
				switch res.Status {
				case http.StatusTooManyRequests:
					first429 = i
					if res.Header.Get("Retry-After") == "" || res.errorCode(t) != "rate_limited" {
						t.Errorf("429 without Retry-After or rate_limited: %s", res.Body)
					}
				case http.StatusUnauthorized:
				default:
					t.Fatalf("bad token: %d %s", res.Status, res.Body)
				}
			}
			if first429 == 0 {
				t.Fatal("20 bad-token requests, no 429")
			}
			t.Logf("first 429 at request %d", first429)
		})
	}
	// A good token from the same address is limited per user, not by the
	// failures.
	if res := do(t, "POST", h.URL+"/api/uploads/policy", token(t, nil), "application/json", body); res.Status != 200 {
		t.Errorf("valid token after failures from the same IP: %d %s", res.Status, res.Body)
	}
}

func TestDevTokenOnlyForThisMachinesPages(t *testing.T) {
	h := newHarness(t, func(s *setup) {
		s.options.CORSOrigins = []string{"*"}
		s.options.DevHosts = []string{"dev.example.test"}
	})
	u, _ := url.Parse(h.URL)
	port := u.Port()
	tests := []struct {
		name   string
		host   string
		header []string
		want   int
	}{
		{"curl on loopback", "127.0.0.1:" + port, nil, 200},
		{"localhost", "localhost:" + port, nil, 200},
		{"ipv6 loopback name", "[::1]:" + port, nil, 200},
		{"configured host", "dev.example.test:" + port, nil, 200},
		{"same-origin page", "localhost:" + port, []string{"Origin", "http://localhost:" + port, "Sec-Fetch-Site", "same-origin"}, 200},
		{"dns rebinding", "attacker.example:" + port, []string{"Origin", "http://attacker.example:" + port}, 403},
		{"rebinding without origin", "rebind.attacker.example", nil, 403},
		{"other site", "localhost:" + port, []string{"Origin", "https://evil.example"}, 403},
		{"null origin", "localhost:" + port, []string{"Origin", "null"}, 403},
		{"cross-site fetch", "localhost:" + port, []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"same-site other port", "localhost:" + port, []string{"Origin", "http://localhost:1"}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", h.URL+"/api/dev/token", strings.NewReader(`{"sub":"mallory"}`))
			req.Host = tt.host
			req.Header.Set("Content-Type", "application/json")
			for i := 0; i+1 < len(tt.header); i += 2 {
				req.Header.Set(tt.header[i], tt.header[i+1])
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.want {
				t.Errorf("status %d, want %d", res.StatusCode, tt.want)
			}
			if v := res.Header.Get("Access-Control-Allow-Origin"); v != "" {
				t.Errorf("dev token answered with Access-Control-Allow-Origin %q", v)
			}
		})
	}
	// A preflight from another site gets no CORS permission either.
	res := do(t, "OPTIONS", h.URL+"/api/dev/token", "", "", nil, "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
	if v := res.Header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Errorf("preflight allowed origin %q", v)
	}
}

func TestClientRequestIDIsBounded(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name, sent string
		kept       bool
	}{
		{"safe", "req-123_abc.DEF:1", true},
		{"64 bytes", strings.Repeat("a", 64), true},
		{"65 bytes", strings.Repeat("a", 65), false},
		{"html", `<script>alert(1)</script>`, false},
		{"spaces", "a b", false},
		{"newline-ish", "a%0Ab", false},
		{"unicode", "ä", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, "GET", h.URL+"/healthz", "", "", nil, "X-Request-ID", tt.sent)
			got := res.Header.Get("X-Request-ID")
			if (got == tt.sent) != tt.kept || got == "" || !safeRequestID(got) {
				t.Errorf("sent %q, answered %q (kept=%v)", tt.sent, got, tt.kept)
			}
		})
	}
}

func TestLongSubjectIsRefused(t *testing.T) {
	h := newHarness(t)
	body := []byte(`{"filename":"a.png","size":10,"contentType":"image/png"}`)
	for _, n := range []int{MaxSubjectLen, MaxSubjectLen + 1, 5000} {
		res := do(t, "POST", h.URL+"/api/uploads/policy", token(t, jwt.MapClaims{"sub": strings.Repeat("u", n)}), "application/json", body)
		want := 200
		if n > MaxSubjectLen {
			want = 401
		}
		if res.Status != want {
			t.Errorf("sub of %d bytes: %d, want %d", n, res.Status, want)
		}
	}
}

// TestCallbackForRecordedKeyWithOtherObject: a second callback for a key
// that has a record, describing other bytes, is never a success.
func TestCallbackForRecordedKeyWithOtherObject(t *testing.T) {
	h := newHarness(t)
	alice := token(t, nil)
	up, _ := h.policy(t, alice, map[string]any{"filename": "a.png", "size": 10, "contentType": "image/png"})
	first := ossUpload{Size: 10, ETag: "5EB63BBBE01EEED093CB22BB8F5ACDC3", MimeType: "image/png"}
	if res := h.ossCallback(t, up, first, nil, nil); res.Status != 200 {
		t.Fatalf("first callback: %d %s", res.Status, res.Body)
	}
	if res := h.ossCallback(t, up, first, nil, nil); res.Status != 200 {
		t.Fatalf("same callback again: %d %s", res.Status, res.Body)
	}
	for _, other := range []ossUpload{
		{Size: 10, ETag: "0CC175B9C0F1B6A831C399E269772661", MimeType: "image/png"},
		{Size: 9, ETag: first.ETag, MimeType: "image/png"},
	} {
		res := h.ossCallback(t, up, other, nil, nil)
		if res.Status != http.StatusForbidden || res.errorCode(t) != "object_mismatch" {
			t.Errorf("callback with size %d etag %s for a recorded key: %d %s, want 403 object_mismatch", other.Size, other.ETag, res.Status, res.Body)
		}
	}
}

// TestCallbackThroughPrefixStrippingProxy: ossgate behind a proxy that
// serves it under /ossgate verifies the path OSS signed, not the one the
// proxy forwards.
func TestCallbackThroughPrefixStrippingProxy(t *testing.T) {
	var target *url.URL
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.URL.Path = strings.TrimPrefix(r.In.URL.Path, "/ossgate")
		r.Out.URL.RawPath = ""
	}})
	t.Cleanup(proxy.Close)
	h := newHarness(t, func(s *setup) {
		s.issuer.CallbackURL = proxy.URL + "/ossgate/api/uploads/callback"
		s.options.CallbackPath = "/ossgate/api/uploads/callback"
	})
	target, _ = url.Parse(h.URL)
	up, _ := h.policy(t, token(t, nil), map[string]any{"filename": "a.png", "size": 10, "contentType": "image/png"})
	res := h.ossCallback(t, up, ossUpload{Size: 10, ETag: "5EB63BBBE01EEED093CB22BB8F5ACDC3", MimeType: "image/png"}, nil, nil)
	if res.Status != 200 {
		t.Fatalf("callback through the proxy: %d %s", res.Status, res.Body)
	}
	// A callback OSS signed for another path (another service's) does not
	// verify, though it reaches the same route.
	res = h.ossCallback(t, up, ossUpload{Size: 10, ETag: "5EB63BBBE01EEED093CB22BB8F5ACDC3", MimeType: "image/png"}, func(r *ossRequest) {
		r.Path = "/api/uploads/callback"
	}, nil)
	if res.Status != http.StatusForbidden || res.errorCode(t) != "invalid_signature" {
		t.Fatalf("callback signed for /api/uploads/callback behind the /ossgate prefix: %d %s, want 403 invalid_signature", res.Status, res.Body)
	}
}

// TestErrorCodesHaveStatuses: every code the cores can return is in the
// one table, so none answers with a status nobody chose.
func TestErrorCodesHaveStatuses(t *testing.T) {
	core := []string{policy.CodeInvalidRequest, policy.CodeEmptyFile, policy.CodeFileTooLarge, policy.CodeTypeNotAllowed,
		callback.CodeInvalidCallback, callback.CodeInvalidSignature, callback.CodeInvalidTicket, callback.CodeUntrustedKeyURL, callback.CodeKeyUnavailable}
	for _, c := range core {
		if _, ok := codeStatus[c]; !ok {
			t.Errorf("core code %q has no status", c)
		}
	}
	for _, c := range echoStatusCodes {
		if _, ok := codeStatus[c]; !ok {
			t.Errorf("code %q for Echo's errors has no status", c)
		}
	}
}
