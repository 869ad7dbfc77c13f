package web

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ossgate/ossgate/callback"
	"github.com/ossgate/ossgate/internal/logbuf"
	"github.com/ossgate/ossgate/internal/osstest"
	"github.com/ossgate/ossgate/policy"
	"github.com/ossgate/ossgate/store"
)

// These benchmarks drive the whole server in-process (Echo, every
// middleware, JSON request logs written to a file as in production, a real
// SQLite file) without a network, so a CPU profile shows where a request's
// time goes. cmd/loadtest measures the same paths over loopback.
//
//	go test -run '^$' -bench Server -benchmem -cpuprofile cpu.out ./web/
//	go tool pprof -top -nodecount 40 web.test cpu.out

// benchKey is the fake OSS key of the callback benchmark: 1024 bits, the
// smallest crypto/rsa signs with, because signing b.N callbacks up front is
// slow.
var benchKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		panic(err)
	}
	return k
})

const benchKeyURL = "http://keys.example.com/callback_pub_key_v1.pem"

type benchServer struct {
	srv    *Server
	issuer *policy.Issuer
	bucket *fakeBucket
}

// newBenchServer wires the server as main does, logging JSON to a file
// through the same buffer.
func newBenchServer(b testing.TB) *benchServer {
	b.Helper()
	dir := b.TempDir()
	db, err := store.OpenSQLite(context.Background(), filepath.Join(dir, "ossgate.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	logFile, err := os.Create(filepath.Join(dir, "ossgate.log"))
	if err != nil {
		b.Fatal(err)
	}
	logs := logbuf.New(logFile) // as main buffers them
	b.Cleanup(func() { logs.Flush(); logFile.Close() })
	issuer, err := policy.NewIssuer(policy.IssuerConfig{
		Credentials:      testCreds,
		Region:           "cn-hangzhou",
		Bucket:           testBucket,
		UploadURL:        "https://" + testBucket + ".oss-cn-hangzhou.aliyuncs.com",
		CallbackURL:      "http://127.0.0.1:8080/api/uploads/callback",
		CallbackBodyType: policy.BodyJSON,
		TicketSecret:     testTicketSecret,
		KeyPrefix:        "uploads/",
		MaxSize:          100 << 20,
		AllowedTypes:     []string{"image/*", "video/*", "audio/*", "application/pdf", "text/plain"},
		TTL:              10 * time.Minute,
	})
	if err != nil {
		b.Fatal(err)
	}
	bucket := newFakeBucket()
	srv, err := New(Options{
		Bucket:         bucket,
		ConfirmObjects: true,
		Issuer:         issuer,
		Verifier:       &callback.Verifier{Keys: callback.StaticKeys{benchKeyURL: &benchKey().PublicKey}, TicketSecret: testTicketSecret},
		Store:          db,
		Auth:           AuthConfig{Secret: testJWTSecret, Leeway: 30 * time.Second},
		RateLimit:      RateLimit{PerSecond: 1e6, Burst: 1e6},
		UploadURL:      "https://" + testBucket + ".oss-cn-hangzhou.aliyuncs.com",
		Logger:         slog.New(logbuf.Handler(slog.NewJSONHandler(logs, nil), logs)),
	})
	if err != nil {
		b.Fatal(err)
	}
	return &benchServer{srv: srv, issuer: issuer, bucket: bucket}
}

func benchTokens(b testing.TB, n int) []string {
	b.Helper()
	out := make([]string, n)
	for i := range out {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"sub": fmt.Sprintf("user%04d", i), "exp": time.Now().Add(time.Hour).Unix(),
		}).SignedString(testJWTSecret)
		if err != nil {
			b.Fatal(err)
		}
		out[i] = s
	}
	return out
}

func (s *benchServer) serve(b *testing.B, req *http.Request) {
	rec := httptest.NewRecorder()
	s.srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s %s: %d %s", req.Method, req.URL, rec.Code, rec.Body)
	}
}

const benchPolicyBody = `{"filename":"cat.jpg","size":12345,"contentType":"image/jpeg","vars":{"caption":"hi"}}`

// benchWriter is a ResponseWriter that keeps the status and counts the
// body, reused across requests: httptest.NewRecorder and NewRequest cost
// 19-25 allocations and 6-7 KB per request themselves (they parse the
// request text and snapshot the headers), more than the server's own share
// of the budget, so the benchmarks reuse one request and one writer per
// goroutine and count only what the server allocates.
type benchWriter struct {
	header http.Header
	code   int
	body   int
}

func (w *benchWriter) Header() http.Header { return w.header }
func (w *benchWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *benchWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.body += len(p)
	return len(p), nil
}

// benchBody is a request body that can be rewound.
type benchBody struct{ bytes.Reader }

func (*benchBody) Close() error { return nil }

// benchClient sends one kind of request again and again.
type benchClient struct {
	req  *http.Request
	body *benchBody
	raw  []byte
	auth [][]string // Authorization values, used round-robin
	next int
	w    benchWriter
}

func newBenchClient(method, target string, body []byte, tokens []string) *benchClient {
	c := &benchClient{req: httptest.NewRequest(method, target, nil), raw: body, w: benchWriter{header: http.Header{}}}
	if body != nil {
		c.body = &benchBody{}
		c.req.Header.Set("Content-Type", "application/json")
	}
	for _, t := range tokens {
		c.auth = append(c.auth, []string{"Bearer " + t})
	}
	return c
}

// do sends the request once and fails b unless the answer is a 200 with a body.
func (c *benchClient) do(b *testing.B, s *benchServer) {
	if c.body != nil {
		c.body.Reset(c.raw)
		c.req.Body, c.req.ContentLength = c.body, int64(len(c.raw))
	}
	if len(c.auth) > 0 {
		c.req.Header["Authorization"] = c.auth[c.next%len(c.auth)]
		c.next++
	}
	clear(c.w.header)
	c.w.code, c.w.body = 0, 0
	s.srv.ServeHTTP(&c.w, c.req)
	if c.w.code != http.StatusOK || c.w.body == 0 {
		b.Fatalf("%s %s: %d, %d bytes", c.req.Method, c.req.URL, c.w.code, c.w.body)
	}
}

// BenchmarkServer is one request through the whole server, sequentially
// (the ns/op is the CPU cost of a request) and in parallel. The allocations
// are the server's own (see benchWriter).
func BenchmarkServer(b *testing.B) {
	s := newBenchServer(b)
	tokens := benchTokens(b, 1000)
	var offset atomic.Int64 // parallel clients start at different users
	for _, c := range []struct {
		name   string
		client func() *benchClient
	}{
		{"healthz", func() *benchClient { return newBenchClient(http.MethodGet, "/healthz", nil, nil) }},
		{"policy", func() *benchClient {
			c := newBenchClient(http.MethodPost, "/api/uploads/policy", []byte(benchPolicyBody), tokens)
			c.next = int(offset.Add(137))
			return c
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			cl := c.client()
			b.ReportAllocs()
			for b.Loop() {
				cl.do(b, s)
			}
		})
		b.Run(c.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				cl := c.client()
				for pb.Next() {
					cl.do(b, s)
				}
			})
		})
	}
}

// BenchmarkServerCallback is a verified callback for a new object each time,
// stored in SQLite (group commit, fsync). The callbacks are issued and
// signed before the timer starts. cpu-ns/op is the process's CPU time per
// callback (the writer's included).
func BenchmarkServerCallback(b *testing.B) {
	s := newBenchServer(b)
	type cb struct {
		body []byte
		auth string
	}
	cbs := make([]cb, b.N)
	now := time.Now()
	for i := range cbs {
		up, err := s.issuer.Issue(fmt.Sprintf("user%04d", i%1000), policy.Request{Filename: "cat.jpg", Size: 12345, ContentType: "image/jpeg", Vars: map[string]string{"caption": "hi"}}, now)
		if err != nil {
			b.Fatal(err)
		}
		param, err := osstest.DecodeCallback(up.Fields["callback"])
		if err != nil {
			b.Fatal(err)
		}
		body := []byte(param.RenderBody(osstest.Object{Bucket: testBucket, Key: up.Key, ETag: "5EB63BBBE01EEED093CB22BB8F5ACDC3", MimeType: "image/jpeg", Size: 12345}, up.Fields))
		s.bucket.put(up.Key, 12345, "5EB63BBBE01EEED093CB22BB8F5ACDC3", "image/jpeg")
		u, _ := url.Parse(param.URL)
		auth, err := osstest.Sign(benchKey(), u.EscapedPath(), u.RawQuery, body)
		if err != nil {
			b.Fatal(err)
		}
		cbs[i] = cb{body, auth}
	}
	keyURL := base64.StdEncoding.EncodeToString([]byte(benchKeyURL))
	b.ReportAllocs()
	b.SetParallelism(32) // 64 goroutines on 2 CPUs, like 64 connections: group commit gets batches
	b.ResetTimer()
	cpu0, cpuOK := processCPU()
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c := cbs[next.Add(1)-1]
			r := httptest.NewRequest(http.MethodPost, "/api/uploads/callback", bytes.NewReader(c.body))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Authorization", c.auth)
			r.Header.Set("X-Oss-Pub-Key-Url", keyURL)
			s.serve(b, r)
		}
	})
	// ns/op is wall time, which the fsyncs' waits make noisy; the CPU the
	// process spent per callback is steadier for comparing two trees.
	if cpu1, ok := processCPU(); ok && cpuOK {
		b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
	}
}

// TestProfileOverLoopback serves the benchmark's server on 127.0.0.1 and
// loads it with wrk (one connection per simulated user is not needed: 64
// connections, 1000 users' tokens round-robin) while it records a CPU
// profile, to see what the in-process benchmark cannot: net/http, the
// socket writes, the garbage collector on one core. Run it pinned, the
// server on one CPU and wrk on the other:
//
//	OSSGATE_WRK_PROFILE=/tmp/live.out GOMAXPROCS=1 taskset -c 1 go test -run TestProfileOverLoopback -v ./web/
//	go tool pprof -top -cum web.test /tmp/live.out
//
// OSSGATE_WRK_PATH picks the route (/api/uploads/policy, or /healthz).
func TestProfileOverLoopback(t *testing.T) {
	out := os.Getenv("OSSGATE_WRK_PROFILE")
	if out == "" {
		t.Skip("set OSSGATE_WRK_PROFILE to a profile's path (needs wrk and taskset)")
	}
	path := cmp.Or(os.Getenv("OSSGATE_WRK_PATH"), "/api/uploads/policy")
	s := newBenchServer(t)
	tokens := benchTokens(t, 1000)
	var lua strings.Builder
	lua.WriteString("local reqs = {}\ninit = function(args)\n")
	for _, tk := range tokens {
		fmt.Fprintf(&lua, "reqs[#reqs+1] = wrk.format(%q, %q, {[\"Content-Type\"]=\"application/json\", [\"Authorization\"]=\"Bearer %s\"}, %q)\n",
			map[bool]string{true: "GET", false: "POST"}[path == "/healthz"], path, tk, benchPolicyBody)
	}
	lua.WriteString("end\nlocal i = 0\nrequest = function()\n  i = i % #reqs + 1\n  return reqs[i]\nend\n")
	script := filepath.Join(t.TempDir(), "load.lua")
	if err := os.WriteFile(script, []byte(lua.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: s.srv}
	go hs.Serve(ln)
	defer hs.Close()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	res, err := exec.Command("taskset", "-c", "0", "wrk", "-t1", "-c64", "-d6s", "-s", script, "http://"+ln.Addr().String()).CombinedOutput()
	pprof.StopCPUProfile()
	if err != nil {
		t.Fatalf("wrk: %v\n%s", err, res)
	}
	t.Logf("%s", res)
}
