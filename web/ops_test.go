package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// metricValue finds one sample in Prometheus text output.
func metricValue(t *testing.T, text, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return v
		}
	}
	return 0
}

func TestMetricsCountersMove(t *testing.T) {
	h := newHarness(t)
	alice := token(t, nil)
	scrape := func() string {
		res := do(t, "GET", h.URL+"/metrics", "", "", nil)
		if res.Status != 200 {
			t.Fatalf("/metrics: %d", res.Status)
		}
		return string(res.Body)
	}
	before := scrape()
	up, _ := h.policy(t, alice, map[string]any{"filename": "a.png", "size": 10, "contentType": "image/png"})
	h.policy(t, alice, map[string]any{"filename": "a.png", "size": 10, "contentType": "image/png", "signatureVersion": "v1"})
	ok := ossUpload{Size: 10, ETag: testETag, MimeType: "image/png"}
	h.ossCallback(t, up, ok, nil, nil)
	h.ossCallback(t, up, ok, nil, nil) // cache hit
	h.ossCallback(t, up, ok, nil, func(r *ossRequest) { r.Body = append(r.Body, ' ') })
	do(t, "GET", h.URL+"/api/uploads", alice, "", nil)
	after := scrape()
	checks := []struct {
		series string
		delta  float64
	}{
		{`ossgate_policies_issued_total{kind="post",version="v4"}`, 1},
		{`ossgate_policies_issued_total{kind="post",version="v1"}`, 1},
		{`ossgate_callbacks_total{result="accepted"}`, 2},
		{`ossgate_callbacks_total{result="invalid_signature"}`, 1},
		{`ossgate_callback_key_lookups_total{cache="miss"}`, 1},
		{`ossgate_callback_key_lookups_total{cache="hit"}`, 2},
		{`ossgate_store_duration_seconds_count{op="insert"}`, 2},
		{`ossgate_store_duration_seconds_count{op="list"}`, 1},
		{`ossgate_http_requests_total{code="200",method="POST",route="/api/uploads/policy"}`, 2},
	}
	for _, c := range checks {
		if got := metricValue(t, after, c.series) - metricValue(t, before, c.series); got != c.delta {
			t.Errorf("%s moved by %v, want %v", c.series, got, c.delta)
		}
	}
}

func TestRateLimits(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.options.RateLimit = RateLimit{PerSecond: 1, Burst: 3} })
	alice, bob := token(t, nil), token(t, jwt.MapClaims{"sub": "bob"})
	body := []byte(`{"filename":"a.png","size":10,"contentType":"image/png"}`)
	var limited, okCount int
	for i := 0; i < 20; i++ {
		res := do(t, "POST", h.URL+"/api/uploads/policy", alice, "application/json", body)
		switch {
		case res.Status == 200:
			okCount++
		case res.Status == 429:
			limited++
			if res.errorCode(t) != "rate_limited" || res.Header.Get("Retry-After") != "1" {
				t.Fatalf("429 without code or Retry-After: %v %s", res.Header, res.Body)
			}
		default:
			t.Fatalf("status %d: %s", res.Status, res.Body)
		}
	}
	if okCount < 3 || okCount > 5 || limited == 0 {
		t.Fatalf("%d ok and %d limited of 20 at 1/s burst 3", okCount, limited)
	}
	// The limit is per user: bob is not affected by alice's flood.
	if res := do(t, "POST", h.URL+"/api/uploads/policy", bob, "application/json", body); res.Status != 200 {
		t.Fatalf("bob: %d %s", res.Status, res.Body)
	}
	// Elsewhere the limit is per client IP; probes are never limited.
	var listLimited bool
	for i := 0; i < 10; i++ {
		if res := do(t, "GET", h.URL+"/api/uploads", bob, "", nil); res.Status == 429 {
			listLimited = true
		} else if res.Status != 200 {
			t.Fatalf("list: %d", res.Status)
		}
	}
	if !listLimited {
		t.Fatal("10 list calls at 1/s burst 3 were never limited")
	}
	for i := 0; i < 10; i++ {
		if res := do(t, "GET", h.URL+"/healthz", "", "", nil); res.Status != 200 {
			t.Fatalf("healthz limited: %d", res.Status)
		}
	}
	// A forged X-Forwarded-For does not buy a new budget without trusted proxies.
	if res := do(t, "GET", h.URL+"/api/uploads", bob, "", nil, "X-Forwarded-For", "203.0.113.9"); res.Status != 429 {
		t.Fatalf("forged XFF got %d", res.Status)
	}
}

// lockedBuffer collects log output written from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The logs of a full flow, errors included, hold one line per request with
// request id, route, status, latency and user, and no token, secret,
// signature, ticket or policy.
func TestLogsHoldNoSecrets(t *testing.T) {
	var logs lockedBuffer
	h := newHarness(t, func(s *setup) {
		s.options.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	alice := token(t, nil)
	up, _ := h.policy(t, alice, map[string]any{"filename": "a.png", "size": 10, "contentType": "image/png", "vars": map[string]string{"v": "x"}})
	var sigs []string
	capture := func(r *ossRequest) {
		inner := r.Sign
		r.Sign = func(s []byte) string {
			sig := inner(s)
			sigs = append(sigs, sig)
			return sig
		}
	}
	ok := ossUpload{Size: 10, ETag: testETag, MimeType: "image/png"}
	h.ossCallback(t, up, ok, capture, nil)
	h.ossCallback(t, up, ok, capture, func(r *ossRequest) { r.Body = append(r.Body, ' ') })
	h.ossCallback(t, up, ossUpload{Size: 11, ETag: testETag, MimeType: "image/png"}, capture, nil)
	do(t, "POST", h.URL+"/api/uploads/policy", alice+"x", "application/json", []byte(`{}`))
	do(t, "GET", h.URL+"/api/uploads?cursor=secret-looking-cursor", alice, "", nil)
	do(t, "POST", h.URL+"/api/dev/token", "", "application/json", []byte(`{"sub":"zed"}`))

	var cb struct{ CallbackBody string }
	raw, _ := base64.StdEncoding.DecodeString(up.Fields["callback"])
	json.Unmarshal(raw, &cb)
	ticketRE := regexp.MustCompile(`"ticket":"([^"]+)"`)
	m := ticketRE.FindStringSubmatch(cb.CallbackBody)
	if m == nil {
		t.Fatalf("no ticket in %s", cb.CallbackBody)
	}
	secrets := map[string]string{
		"bearer token":     alice,
		"token signature":  alice[strings.LastIndex(alice, ".")+1:],
		"jwt secret":       string(testJWTSecret),
		"ticket secret":    string(testTicketSecret),
		"oss secret":       testCreds.AccessKeySecret,
		"policy":           up.Fields["policy"],
		"policy signature": up.Fields["x-oss-signature"],
		"callback param":   up.Fields["callback"],
		"ticket":           m[1],
	}
	for i, s := range sigs {
		secrets["callback signature "+strconv.Itoa(i)] = s
	}
	out := logs.String()
	for name, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("logs contain the %s", name)
		}
	}
	lines := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if rec["msg"] != "request" {
			continue
		}
		lines++
		for _, k := range []string{"request_id", "route", "status", "latency_ms", "method"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("request line without %s: %s", k, line)
			}
		}
		if rec["route"] == "/api/uploads/policy" && rec["status"] == float64(200) && rec["user"] != "alice" {
			t.Errorf("policy line without user: %s", line)
		}
	}
	if lines != 7 {
		t.Errorf("%d request lines, want 7 (one per request):\n%s", lines, out)
	}
}
