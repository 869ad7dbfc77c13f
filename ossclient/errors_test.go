package ossclient

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		code     string
		want     error
		notWant  error // a kind the error must not match
		wantCode string
	}{
		{"no such key", 404, "NoSuchKey", ErrNotFound, nil, "NoSuchKey"},
		{"no such upload", 404, "NoSuchUpload", ErrNoSuchUpload, nil, "NoSuchUpload"},
		{"no such upload is not found", 404, "NoSuchUpload", ErrNotFound, nil, "NoSuchUpload"},
		{"no such bucket", 404, "NoSuchBucket", ErrNoSuchBucket, ErrNotFound, "NoSuchBucket"},
		{"unknown 404", 404, "SomethingNew", ErrNotFound, nil, "SomethingNew"},
		{"file exists", 409, "FileAlreadyExists", ErrAlreadyExists, nil, "FileAlreadyExists"},
		{"invalid part", 400, "InvalidPart", ErrInvalidPart, ErrInvalidArgument, "InvalidPart"},
		{"invalid part order", 400, "InvalidPartOrder", ErrInvalidPart, nil, "InvalidPartOrder"},
		{"entity too small", 400, "EntityTooSmall", ErrInvalidPart, nil, "EntityTooSmall"},
		{"access denied", 403, "AccessDenied", ErrAccessDenied, nil, "AccessDenied"},
		{"bad signature", 403, "SignatureDoesNotMatch", ErrAccessDenied, nil, "SignatureDoesNotMatch"},
		{"bad key id", 403, "InvalidAccessKeyId", ErrAccessDenied, nil, "InvalidAccessKeyId"},
		{"sts expired", 403, "SecurityTokenExpired", ErrAccessDenied, nil, "SecurityTokenExpired"},
		{"invalid argument", 400, "InvalidArgument", ErrInvalidArgument, nil, "InvalidArgument"},
		{"callback failed", 203, "CallbackFailed", ErrCallbackFailed, nil, "CallbackFailed"},
		{"throttled", 503, "SlowDown", ErrUnavailable, nil, "SlowDown"},
		{"internal error", 500, "InternalError", ErrUnavailable, nil, "InternalError"},
		{"too many requests", 429, "TooManyRequests", ErrUnavailable, nil, "TooManyRequests"},
		{"code that is not a token", 500, "<b>odd</b> code", ErrUnavailable, nil, "?"},
		{"redirect", 302, "", ErrUnavailable, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				if tt.status == 302 {
					w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
					w.WriteHeader(302)
					return
				}
				writeOSSError(w, r, tt.status, tt.code, "message")
			})
			c := f.client(func(c *Config) { c.Retries = -1 })
			var err error
			if tt.status == 203 {
				// A 203 is an error only in answer to a callback request.
				_, err = c.CompleteMultipart(context.Background(), "k", "u", []Part{{Number: 1, ETag: "e"}},
					CompleteOptions{Callback: base64.StdEncoding.EncodeToString([]byte(`{"callbackUrl":"http://x/"}`))})
			} else {
				_, err = c.ListParts(context.Background(), "k", "u")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %T %v, want *Error", err, err)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want it to be %v", err, tt.want)
			}
			if tt.notWant != nil && errors.Is(err, tt.notWant) {
				t.Errorf("err = %v, must not be %v", err, tt.notWant)
			}
			if e.Code != tt.wantCode || e.StatusCode != tt.status {
				t.Errorf("Code, StatusCode = %q, %d; want %q, %d", e.Code, e.StatusCode, tt.wantCode, tt.status)
			}
			if tt.status != 302 && !strings.HasPrefix(e.RequestID, "5C3D9175B6FC201293AD") {
				t.Errorf("RequestID = %q, want the fake's", e.RequestID)
			}
			if got := f.count(); got != 1 {
				t.Errorf("%d requests reached the fake, want 1 (no redirect followed, no retry)", got)
			}
		})
	}
}

// A HEAD answer has no body: the kind comes from the status, the code from
// x-oss-err when OSS sends it.
func TestHeadErrors(t *testing.T) {
	tests := []struct {
		name      string
		errHeader string
		wantCode  string
	}{
		{"bare 404", "", ""},
		{"404 with x-oss-err", base64.StdEncoding.EncodeToString([]byte(
			`<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>m</Message><RequestId>R</RequestId></Error>`)), "NoSuchKey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				if tt.errHeader != "" {
					w.Header().Set("x-oss-err", tt.errHeader)
				}
				w.WriteHeader(http.StatusNotFound)
			})
			_, err := f.client(nil).HeadObject(context.Background(), "missing.txt")
			var e *Error
			if !errors.Is(err, ErrNotFound) || !errors.As(err, &e) {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
			if e.Code != tt.wantCode {
				t.Errorf("Code = %q, want %q", e.Code, tt.wantCode)
			}
		})
	}
}

// OSS's own message, and the SDK's error text, may echo the request: the
// URL with its query, the Authorization header, the STS token. None of it
// may reach an *Error's message.
func TestErrorMessagesAreSanitized(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		echo := fmt.Sprintf("The request signature we calculated does not match. Authorization: %s URL: http://%s%s?%s token: %s",
			r.Header.Get("Authorization"), r.Host, r.URL.Path, r.URL.RawQuery, r.Header.Get("x-oss-security-token"))
		writeOSSError(w, r, http.StatusForbidden, "SignatureDoesNotMatch", echo)
	})
	const key = "uploads/alice/private-name.txt"
	var msgs []string
	for _, sv := range []SignatureVersion{SignatureV4, SignatureV1} {
		c := f.client(func(c *Config) { c.SignatureVersion = sv; c.SecurityToken = testToken })
		calls := map[string]func() error{
			"HeadObject": func() error { _, err := c.HeadObject(context.Background(), key); return err },
			"ListParts":  func() error { _, err := c.ListParts(context.Background(), key, "UPLOADID123"); return err },
			"Complete": func() error {
				_, err := c.CompleteMultipart(context.Background(), key, "UPLOADID123", []Part{{Number: 1, ETag: "e"}}, CompleteOptions{})
				return err
			},
		}
		for name, call := range calls {
			err := call()
			if !errors.Is(err, ErrAccessDenied) {
				t.Fatalf("%s %s: err = %v, want ErrAccessDenied", sv, name, err)
			}
			assertSanitized(t, err, key)
			msgs = append(msgs, fmt.Sprintf("%+v", err))
		}
	}
	reqs := f.requests()
	if len(reqs) != 6 {
		t.Fatalf("the fake saw %d requests, want 6 (403 is not retried)", len(reqs))
	}
	// The SDK's own error does carry all that: what Error is for.
	_, raw := f.client(nil).sdk.ListParts(context.Background(), &oss.ListPartsRequest{
		Bucket: oss.Ptr(testBucket), Key: oss.Ptr(key), UploadId: oss.Ptr("UPLOADID123"),
	})
	if raw == nil || !strings.Contains(raw.Error(), "Authorization") || !strings.Contains(raw.Error(), "uploadId=UPLOADID123") {
		t.Errorf("the SDK's error %q does not echo the request; the test checks nothing", raw)
	}
	for _, r := range reqs {
		auth := r.Header.Get("Authorization")
		if auth == "" {
			t.Fatalf("%s %s was not signed", r.Method, r.Path)
		}
		for _, m := range msgs {
			if strings.Contains(m, auth) {
				t.Errorf("message %q contains the Authorization header", m)
			}
		}
	}
}

// Network failures: the SDK's error prints the request URL.
func TestNetworkErrorsAreSanitized(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	cfg := validConfig()
	cfg.Endpoint, cfg.UsePathStyle, cfg.Retries = "http://"+addr, true, -1
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const key = "uploads/bob/secret-plans.pdf"
	_, err = c.ListParts(context.Background(), key, "UPLOADID123")
	var e *Error
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &e) || e.Reason != "connection failed" {
		t.Fatalf("err = %v, want ErrUnavailable: connection failed", err)
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("err = %v: the network error is not reachable with errors.As", err)
	}
	assertSanitized(t, err, key)
	_, raw := c.sdk.ListParts(context.Background(), &oss.ListPartsRequest{
		Bucket: oss.Ptr(testBucket), Key: oss.Ptr(key), UploadId: oss.Ptr("UPLOADID123"),
	})
	if raw == nil || !strings.Contains(raw.Error(), "http://"+addr+"/"+testBucket+"/"+key) {
		t.Errorf("the SDK's error %q does not show the URL; the test checks nothing", raw)
	}
}

func assertSanitized(t *testing.T, err error, key string) {
	t.Helper()
	for _, verb := range []string{"%v", "%+v", "%s"} {
		msg := fmt.Sprintf(verb, err)
		for _, bad := range []string{testSecret, testToken, "Authorization", "OSS4-HMAC-SHA256", "Signature=", "signature", "http://",
			"?", "uploadId", "UPLOADID123", key, "x-oss-", "message", "calculated"} {
			if strings.Contains(msg, bad) {
				t.Errorf("message %q contains %q", msg, bad)
			}
		}
	}
}
