package ossemu

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// The tests in sdk_*_test.go drive the emulator with the official Go SDK,
// signing in the Authorization header (its default) or presigning, and
// check that the SDK parses every answer.

// signers are the ways the SDK signs: V4 (its default) and V1, each with a
// permanent key and with an STS token.
var signers = []struct {
	name string
	opts sdkOpts
}{
	{"v4", sdkOpts{}},
	{"v1", sdkOpts{v1: true}},
	{"v4 sts", sdkOpts{id: stsID, secret: stsSecret, token: stsToken}},
	{"v1 sts", sdkOpts{v1: true, id: stsID, secret: stsSecret, token: stsToken}},
}

// sdkEnv is an emulator of a private bucket on the real clock (the SDK signs
// with it), shifted by skew.
type sdkEnv struct {
	*testEnv
	skew *atomic.Int64
}

func newSDKEnv(t *testing.T, mod func(*Config)) sdkEnv {
	t.Helper()
	skew := new(atomic.Int64)
	env := newEnv(t, func(c *Config) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
		c.PublicRead = false
		if mod != nil {
			mod(c)
		}
	})
	return sdkEnv{env, skew}
}

var bucket = oss.Ptr(testBucket)

// wantServiceError checks that err is the SDK's *oss.ServiceError with
// status and code.
func wantServiceError(t *testing.T, err error, status int, code string) *oss.ServiceError {
	t.Helper()
	var se *oss.ServiceError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v (%T), want an *oss.ServiceError %d %s", err, err, status, code)
	}
	if se.StatusCode != status || se.Code != code {
		t.Fatalf("ServiceError %d %s (%s), want %d %s", se.StatusCode, se.Code, se.Message, status, code)
	}
	if se.RequestID == "" {
		t.Errorf("ServiceError without a request id")
	}
	return se
}

func mustPut(t *testing.T, c *oss.Client, key string, data []byte) *oss.PutObjectResult {
	t.Helper()
	res, err := c.PutObject(context.Background(), &oss.PutObjectRequest{Bucket: bucket, Key: oss.Ptr(key), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatalf("PutObject %s: %v", key, err)
	}
	return res
}

func mustGet(t *testing.T, c *oss.Client, key string) []byte {
	t.Helper()
	res, err := c.GetObject(context.Background(), &oss.GetObjectRequest{Bucket: bucket, Key: oss.Ptr(key)})
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// presign signs req with c for 10 minutes.
func presign(t *testing.T, c *oss.Client, req any) *oss.PresignResult {
	t.Helper()
	res, err := c.Presign(context.Background(), req, oss.PresignExpires(10*time.Minute))
	if err != nil {
		t.Fatalf("Presign: %v", err)
	}
	return res
}

// sendPresigned makes the request a browser makes with a presigned result.
func sendPresigned(t *testing.T, res *oss.PresignResult, body []byte, mutate func(*http.Request)) result {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(res.Method, res.URL, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range res.SignedHeaders {
		req.Header.Set(k, v)
	}
	if mutate != nil {
		mutate(req)
	}
	return do(t, req)
}

// pattern is n bytes that differ from one offset to the next.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31+i>>9) ^ seed
	}
	return b
}

func quoteStrip(s string) string { return strings.Trim(s, `"`) }
