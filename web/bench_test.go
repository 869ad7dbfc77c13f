package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
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

// newBenchServer wires the server as main does, logging JSON to a file.
func newBenchServer(b *testing.B) *benchServer {
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
	b.Cleanup(func() { logFile.Close() })
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
		Logger:         slog.New(slog.NewJSONHandler(logFile, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	return &benchServer{srv: srv, issuer: issuer, bucket: bucket}
}

func benchTokens(b *testing.B, n int) []string {
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

// BenchmarkServer is one request through the whole server, sequentially
// (the ns/op is the CPU cost of a request) and in parallel.
func BenchmarkServer(b *testing.B) {
	s := newBenchServer(b)
	tokens := benchTokens(b, 1000)
	healthz := func() *http.Request { return httptest.NewRequest(http.MethodGet, "/healthz", nil) }
	var next atomic.Uint64
	policyReq := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/api/uploads/policy", bytes.NewReader([]byte(benchPolicyBody)))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+tokens[next.Add(1)%uint64(len(tokens))])
		return r
	}
	for _, c := range []struct {
		name string
		req  func() *http.Request
	}{{"healthz", healthz}, {"policy", policyReq}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.serve(b, c.req())
			}
		})
		b.Run(c.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					s.serve(b, c.req())
				}
			})
		})
	}
}

// BenchmarkServerCallback is a verified callback for a new object each time,
// stored in SQLite (group commit, fsync). The callbacks are issued and
// signed before the timer starts.
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
}
