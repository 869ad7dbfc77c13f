package ossclient

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// hang never answers; it returns when the client gives up.
func hang(w http.ResponseWriter, r *http.Request, _ int) { <-r.Context().Done() }

func TestTimeoutHolds(t *testing.T) {
	tests := []struct {
		name    string
		handle  func(w http.ResponseWriter, r *http.Request, n int)
		timeout time.Duration
		ctxTime time.Duration // a caller's tighter deadline; 0 for none
		want    time.Duration // the call must end by about this
		lastErr bool          // the error may be the last answer's rather than the deadline's
	}{
		{"hanging server", hang, 300 * time.Millisecond, 0, 300 * time.Millisecond, false},
		{"caller's deadline first", hang, 5 * time.Second, 150 * time.Millisecond, 150 * time.Millisecond, false},
		{"headers then a stalled body", func(w http.ResponseWriter, r *http.Request, _ int) {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusOK)
			w.Write([]byte(`<?xml version="1.0"?><ListPartsResult><Part>`))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, 300 * time.Millisecond, 0, 300 * time.Millisecond, false},
		{"slow 503s are retried only within the timeout", func(w http.ResponseWriter, r *http.Request, _ int) {
			time.Sleep(200 * time.Millisecond)
			writeOSSError(w, r, http.StatusServiceUnavailable, "SlowDown", "m")
		}, 300 * time.Millisecond, 0, 300 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.handle)
			c := f.client(func(c *Config) { c.Timeout = tt.timeout; c.Retries = MaxRetries })
			ctx := context.Background()
			if tt.ctxTime > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctxTime)
				defer cancel()
			}
			start := time.Now()
			_, err := c.ListParts(ctx, "k", "u")
			took := time.Since(start)
			switch {
			case tt.lastErr:
				// Whether the jittered backoff leaves time for a second
				// request or not, the call fails with ErrUnavailable.
				var e *Error
				if !errors.As(err, &e) || !errors.Is(err, ErrUnavailable) ||
					(e.StatusCode != http.StatusServiceUnavailable && !errors.Is(err, context.DeadlineExceeded)) {
					t.Errorf("err = %v, want the last 503 or the deadline", err)
				}
			case !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded):
				t.Errorf("err = %v, want ErrUnavailable wrapping context.DeadlineExceeded", err)
			case !strings.Contains(err.Error(), "timed out"):
				t.Errorf("err = %v, want it to say timed out", err)
			}
			if took < tt.want-20*time.Millisecond || took > tt.want+400*time.Millisecond {
				t.Errorf("the call took %v, want about %v", took, tt.want)
			}
		})
	}
}

func TestRetriesBounded(t *testing.T) {
	tests := []struct {
		name      string
		retries   int
		status    int
		code      string
		okAfter   int // the fake answers 200 from this request on; 0 never
		wantCalls int
		wantErr   error
	}{
		{"default retries a 503 twice", 0, 503, "SlowDown", 0, 3, ErrUnavailable},
		{"one retry", 1, 500, "InternalError", 0, 2, ErrUnavailable},
		{"no retries", -1, 503, "SlowDown", 0, 1, ErrUnavailable},
		{"429 is retried", 1, 429, "TooManyRequests", 0, 2, ErrUnavailable},
		{"success after a 500", 2, 500, "InternalError", 2, 2, nil},
		{"403 is not retried", 2, 403, "AccessDenied", 0, 1, ErrAccessDenied},
		{"401 is not retried", 2, 401, "Unauthorized", 0, 1, ErrAccessDenied},
		{"404 is not retried", 2, 404, "NoSuchUpload", 0, 1, ErrNoSuchUpload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if tt.okAfter > 0 && n >= tt.okAfter {
					writeXML(w, 200, partsXML(false, 0, 1))
					return
				}
				writeOSSError(w, r, tt.status, tt.code, "m")
			})
			c := f.client(func(c *Config) { c.Retries = tt.retries })
			_, err := c.ListParts(context.Background(), "k", "u")
			if tt.wantErr == nil && err != nil || !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if got := f.count(); got != tt.wantCalls {
				t.Errorf("%d requests, want %d", got, tt.wantCalls)
			}
		})
	}
}

// A completion is sent again only when no connection could be made; an
// answer (even a 503) or a lost answer means OSS may have completed it.
func TestCompleteRetriedOnlyWhenNotSent(t *testing.T) {
	parts := []Part{{Number: 1, ETag: "e"}}
	t.Run("503 is not retried", func(t *testing.T) {
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			writeOSSError(w, r, http.StatusServiceUnavailable, "ServiceUnavailable", "m")
		})
		_, err := f.client(nil).CompleteMultipart(context.Background(), "k", "u", parts, CompleteOptions{})
		if !errors.Is(err, ErrUnavailable) || f.count() != 1 {
			t.Errorf("err = %v after %d requests, want ErrUnavailable after 1", err, f.count())
		}
	})
	t.Run("a dropped connection is not retried", func(t *testing.T) {
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		})
		_, err := f.client(nil).CompleteMultipart(context.Background(), "k", "u", parts, CompleteOptions{})
		if !errors.Is(err, ErrUnavailable) || f.count() != 1 {
			t.Errorf("err = %v after %d requests, want ErrUnavailable after 1", err, f.count())
		}
	})
	t.Run("a refused connection is retried", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		var dials atomic.Int32
		d := &net.Dialer{}
		hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			dials.Add(1)
			return d.DialContext(ctx, network, a)
		}}}
		cfg := validConfig()
		cfg.Endpoint, cfg.UsePathStyle, cfg.HTTPClient, cfg.Retries = "http://"+addr, true, hc, 2
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.CompleteMultipart(context.Background(), "k", "u", parts, CompleteOptions{})
		if !errors.Is(err, ErrUnavailable) || dials.Load() != 3 {
			t.Errorf("err = %v after %d dials, want ErrUnavailable after 3", err, dials.Load())
		}
	})
}

// Redirects are not followed even when the given client would.
func TestRedirectsNotFollowed(t *testing.T) {
	var elsewhere atomic.Int32
	target := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { elsewhere.Add(1) })
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		http.Redirect(w, r, target.srv.URL+r.URL.Path, http.StatusTemporaryRedirect)
	})
	c := f.client(func(c *Config) { c.HTTPClient = &http.Client{}; c.Retries = -1 })
	if err := c.DeleteObject(context.Background(), "k"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
	if elsewhere.Load() != 0 {
		t.Error("the redirect was followed, with the signed request")
	}
}

func TestKeysChecked(t *testing.T) {
	tests := []struct {
		name string
		key  string
		ok   bool
	}{
		{"plain", "uploads/alice/a.txt", true},
		{"1023 bytes", strings.Repeat("k", MaxKeyLen), true},
		{"unicode", "uploads/照片.jpg", true},
		{"empty", "", false},
		{"1024 bytes", strings.Repeat("k", MaxKeyLen+1), false},
		{"leading slash", "/a.txt", false},
		{"leading backslash", `\a.txt`, false},
		{"NUL", "a\x00b", false},
		{"newline", "a\nb", false},
		{"DEL", "a\x7fb", false},
		{"not UTF-8", "a\xffb", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { w.WriteHeader(http.StatusNoContent) })
			err := f.client(nil).DeleteObject(context.Background(), tt.key)
			if tt.ok {
				if err != nil || f.count() != 1 {
					t.Errorf("err = %v after %d requests, want nil after 1", err, f.count())
				}
				return
			}
			if !errors.Is(err, ErrInvalidArgument) || f.count() != 0 {
				t.Errorf("err = %v after %d requests, want ErrInvalidArgument and nothing sent", err, f.count())
			}
		})
	}
}

func TestOversizedAnswerRefused(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/xml")
		w.Write([]byte("<ListPartsResult>"))
		chunk := []byte(strings.Repeat("<Part></Part>", 1<<12))
		for sent := 0; sent <= maxResponseBody; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	_, err := f.client(func(c *Config) { c.Retries = -1 }).ListParts(context.Background(), "k", "u")
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrUnavailable) || e.Reason != "answer too large" {
		t.Errorf("err = %v, want ErrUnavailable: answer too large", err)
	}
}
