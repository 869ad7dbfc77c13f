package ossclient

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPresignGetShape(t *testing.T) {
	const (
		key         = "uploads/alice/photo 1.jpg"
		disposition = `attachment; filename="photo 1.jpg"`
		process     = "image/resize,w_200/format,webp"
	)
	tests := []struct {
		name     string
		edit     func(*Config)
		wantHost string // "" means the fake's
		wantPath string
		wantSig  []string // query parameters the signature version puts in
	}{
		{"v4 path style", nil, "", "/" + testBucket + "/uploads/alice/photo%201.jpg",
			[]string{"x-oss-signature-version", "x-oss-credential", "x-oss-date", "x-oss-expires", "x-oss-signature"}},
		{"v1 path style", func(c *Config) { c.SignatureVersion = SignatureV1 }, "", "/" + testBucket + "/uploads/alice/photo%201.jpg",
			[]string{"OSSAccessKeyId", "Expires", "Signature"}},
		{"v4 default endpoint, virtual hosted", func(c *Config) { c.Endpoint = ""; c.UsePathStyle = false },
			testBucket + ".oss-cn-hangzhou.aliyuncs.com", "/uploads/alice/photo%201.jpg",
			[]string{"x-oss-signature-version", "x-oss-signature"}},
		{"v4 with sts", func(c *Config) { c.SecurityToken = testToken }, "", "/" + testBucket + "/uploads/alice/photo%201.jpg",
			[]string{"x-oss-security-token", "x-oss-signature"}},
		{"v1 with sts", func(c *Config) { c.SecurityToken = testToken; c.SignatureVersion = SignatureV1 }, "",
			"/" + testBucket + "/uploads/alice/photo%201.jpg", []string{"security-token", "Signature"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { t.Error("presigning sent a request") })
			c := f.client(tt.edit)
			const expires = 10 * time.Minute
			before := time.Now()
			p, err := c.PresignGet(context.Background(), key, GetOptions{Expires: expires, ContentDisposition: disposition, Process: process})
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(p.URL)
			if err != nil {
				t.Fatal(err)
			}
			wantHost := tt.wantHost
			if wantHost == "" {
				wantHost = strings.TrimPrefix(f.srv.URL, "http://")
			}
			if p.Method != http.MethodGet || u.Host != wantHost || u.EscapedPath() != tt.wantPath {
				t.Errorf("%s %s%s, want GET %s%s", p.Method, u.Host, u.EscapedPath(), wantHost, tt.wantPath)
			}
			q := u.Query()
			if got := q.Get("response-content-disposition"); got != disposition {
				t.Errorf("response-content-disposition = %q, want %q", got, disposition)
			}
			if got := q.Get("x-oss-process"); got != process {
				t.Errorf("x-oss-process = %q, want %q", got, process)
			}
			for _, name := range tt.wantSig {
				if q.Get(name) == "" {
					t.Errorf("query %q missing from %s", name, u.RawQuery)
				}
			}
			if d := p.Expires.Sub(before.Add(expires)); d < -time.Second || d > 2*time.Second {
				t.Errorf("Expires = %v, want about now+%v", p.Expires, expires)
			}
			checkExpiryInQuery(t, q, before, expires)
			if len(p.Header) != 0 {
				t.Errorf("Header = %v, want none for a GET", p.Header)
			}
		})
	}
}

// checkExpiryInQuery reads the expiry the signature binds: V4's
// x-oss-expires (seconds from x-oss-date), V1's Expires (Unix time).
func checkExpiryInQuery(t *testing.T, q url.Values, before time.Time, expires time.Duration) {
	t.Helper()
	if v := q.Get("x-oss-expires"); v != "" {
		if v != strconv.Itoa(int(expires.Seconds())) {
			t.Errorf("x-oss-expires = %s, want %d", v, int(expires.Seconds()))
		}
		if !strings.Contains(q.Get("x-oss-credential"), "/"+testRegion+"/oss/aliyun_v4_request") {
			t.Errorf("x-oss-credential = %q, want the cn-hangzhou scope", q.Get("x-oss-credential"))
		}
		return
	}
	unix, err := strconv.ParseInt(q.Get("Expires"), 10, 64)
	if err != nil {
		t.Fatalf("no expiry in the query: %v", q)
	}
	if d := time.Unix(unix, 0).Sub(before.Add(expires)); d < -time.Second || d > 2*time.Second {
		t.Errorf("Expires = %v, want about now+%v", time.Unix(unix, 0), expires)
	}
}

func TestPresignUploadPartShape(t *testing.T) {
	for _, sv := range []SignatureVersion{SignatureV4, SignatureV1} {
		t.Run(string(sv), func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { t.Error("presigning sent a request") })
			c := f.client(func(c *Config) { c.SignatureVersion = sv })
			before := time.Now()
			p, err := c.PresignUploadPart(context.Background(), "big/file.bin", "0004B9894A22E5B1888A1E29F823ABCD", 7, 0)
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(p.URL)
			q := u.Query()
			if p.Method != http.MethodPut || q.Get("partNumber") != "7" || q.Get("uploadId") != "0004B9894A22E5B1888A1E29F823ABCD" {
				t.Errorf("%s %s, want PUT with partNumber=7 and the upload id", p.Method, p.URL)
			}
			checkExpiryInQuery(t, q, before, DefaultPresignExpiry)
		})
	}
}

func TestPresignRefusals(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {})
	c := f.client(nil)
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
	}{
		{"expiry under a second", func() error {
			_, err := c.PresignGet(ctx, "k", GetOptions{Expires: time.Millisecond})
			return err
		}},
		{"expiry over 7 days", func() error {
			_, err := c.PresignGet(ctx, "k", GetOptions{Expires: MaxPresignExpiry + time.Second})
			return err
		}},
		{"negative expiry", func() error { _, err := c.PresignUploadPart(ctx, "k", "u", 1, -time.Minute); return err }},
		{"header injection in disposition", func() error {
			_, err := c.PresignGet(ctx, "k", GetOptions{ContentDisposition: "attachment\r\nSet-Cookie: a=b"})
			return err
		}},
		{"long process", func() error {
			_, err := c.PresignGet(ctx, "k", GetOptions{Process: strings.Repeat("a", maxQueryOption+1)})
			return err
		}},
		{"bad key", func() error { _, err := c.PresignGet(ctx, "", GetOptions{}); return err }},
		{"part 0", func() error { _, err := c.PresignUploadPart(ctx, "k", "u", 0, 0); return err }},
		{"part 10001", func() error { _, err := c.PresignUploadPart(ctx, "k", "u", MaxParts+1, 0); return err }},
		{"empty upload id", func() error { _, err := c.PresignUploadPart(ctx, "k", "", 1, 0); return err }},
		{"upload id with a space", func() error { _, err := c.PresignUploadPart(ctx, "k", "a b", 1, 0); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("err = %v, want ErrInvalidArgument", err)
			}
		})
	}
	if _, err := c.PresignGet(ctx, "k", GetOptions{Expires: MaxPresignExpiry}); err != nil {
		t.Errorf("a 7-day expiry: %v", err)
	}
}

func TestAttachment(t *testing.T) {
	tests := []struct{ name, want string }{
		{"report.pdf", `attachment; filename="report.pdf"`},
		{"my report.pdf", `attachment; filename="my report.pdf"`},
		{`a"b.txt`, `attachment; filename="a_b.txt"; filename*=UTF-8''a%22b.txt`},
		{"照片.jpg", `attachment; filename="______.jpg"; filename*=UTF-8''%E7%85%A7%E7%89%87.jpg`},
		{"Ünïcode photo.png", `attachment; filename="__n__code photo.png"; filename*=UTF-8''%C3%9Cn%C3%AFcode%20photo.png`},
		{"a\r\nSet-Cookie: x=y", `attachment; filename="a__Set-Cookie: x=y"; filename*=UTF-8''a%0D%0ASet-Cookie%3A%20x%3Dy`},
		{"100%;(x)*'.txt", `attachment; filename="100_;(x)*'.txt"; filename*=UTF-8''100%25%3B%28x%29%2A%27.txt`},
		{"", "attachment"},
	}
	for _, tt := range tests {
		got := Attachment(tt.name)
		if got != tt.want {
			t.Errorf("Attachment(%q) = %q, want %q", tt.name, got, tt.want)
		}
		if !validQueryOption(got) {
			t.Errorf("Attachment(%q) = %q, which PresignGet refuses", tt.name, got)
		}
	}
}
