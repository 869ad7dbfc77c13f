package store

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestOpenPostgresErrorsHidePassword: whatever goes wrong, the error text
// never holds the password in any spelling.
func TestOpenPostgresErrorsHidePassword(t *testing.T) {
	const pw = "s3cr3t-P@ss/w0rd!"
	enc := url.QueryEscape(pw)
	tests := []struct {
		name string
		dsn  string
		open func(context.Context, string) (Store, error)
	}{
		// Nothing listens on port 1: connecting fails fast.
		{"postgres URL, refused", "postgres://ossgate:" + enc + "@127.0.0.1:1/ossgate?sslmode=disable&connect_timeout=2", Open},
		{"postgresql URL, refused", "postgresql://ossgate:" + enc + "@127.0.0.1:1/ossgate?sslmode=disable", Open},
		{"upper-case scheme", "POSTGRES://ossgate:" + enc + "@127.0.0.1:1/ossgate?sslmode=disable", Open},
		{"password parameter", "postgres://ossgate@127.0.0.1:1/ossgate?sslmode=disable&password=" + enc, Open},
		{"unescaped password, bad port", "postgres://ossgate:" + pw + "@localhost:notaport/ossgate", Open},
		{"bad port", "postgres://ossgate:" + enc + "@localhost:99999999/ossgate", Open},
		{"bad sslmode", "postgres://ossgate:" + enc + "@127.0.0.1:1/ossgate?sslmode=bogus", Open},
		{"keyword/value to Open", "host=127.0.0.1 port=1 user=ossgate password=" + enc + " dbname=x", Open},
		{"keyword/value", "host=127.0.0.1 port=1 user=ossgate password=" + enc + " dbname=x sslmode=disable", OpenPostgres},
		{"keyword/value, bad", "host=127.0.0.1 port=x user=ossgate password='" + pw + "' dbname=x", OpenPostgres},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := tt.open(ctx, tt.dsn)
			if err == nil {
				s.Close()
				t.Fatal("Open = nil error, want one")
			}
			for _, secret := range []string{pw, enc, url.PathEscape(pw)} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q contains the password spelled %q", err, secret)
				}
			}
			if !strings.Contains(strings.ToLower(err.Error()), "postgres") {
				t.Errorf("error %q does not say it is about Postgres", err)
			}
		})
	}
}

func TestRedactDSN(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"user info", "postgres://u:secret@h:5432/db?sslmode=disable", "postgres://u:xxxxx@h:5432/db?sslmode=disable"},
		{"query", "postgres://u@h/db?password=secret&sslmode=disable", "postgres://u@h/db?password=xxxxx&sslmode=disable"},
		{"no password", "postgres://u@h/db", "postgres://u@h/db"},
		{"sqlite path", "/var/lib/ossgate.db", "/var/lib/ossgate.db"},
		{"malformed", "postgres://u:secret@h:port/db", "postgres://u:xxxxx@h:port/db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedactDSN(tt.in); got != tt.want {
				t.Errorf("RedactDSN(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRecordJSON(t *testing.T) {
	r := Record{ID: "1", User: "alice", Bucket: "b", Key: "k", Size: 3, ContentType: "image/png", ETag: "e",
		Filename: "f.png", Vars: map[string]string{}, CreatedAt: time.Date(2026, 11, 25, 8, 30, 0, 123000000, time.UTC)}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"1","bucket":"b","key":"k","size":3,"contentType":"image/png","etag":"e","filename":"f.png","vars":{},"createdAt":"2026-11-25T08:30:00.123Z"}`
	if string(b) != want {
		t.Errorf("JSON =\n%s\nwant\n%s", b, want)
	}
}
