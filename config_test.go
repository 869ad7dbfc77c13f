package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossgate/ossgate/policy"
	"github.com/ossgate/ossgate/web"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfigLocalModeDefaults(t *testing.T) {
	c, errs := loadConfig(envOf(nil))
	if len(errs) > 0 {
		t.Fatalf("local mode with empty env: %v", errs)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"local", c.Local, true},
		{"bucket", c.Bucket, localBucket},
		{"region", c.Region, localRegion},
		{"addr", c.Addr, "127.0.0.1:8080"}, // loopback: local mode mints tokens for anyone
		{"public url", c.PublicURL, "http://localhost:8080"},
		{"upload url", c.UploadURL, "http://127.0.0.1:9000"},
		{"version", c.SignatureVer, policy.V4},
		{"prefix", c.KeyPrefix, "uploads/"},
		{"max size", c.MaxSize, int64(1 << 30)}, // past Uppy's 100 MiB multipart threshold
		{"ttl", c.PolicyTTL, 10 * time.Minute},
		{"body type", c.CallbackBodyType, policy.BodyJSON},
		{"db", c.DB, "ossgate.db"},
		{"rate", c.RateLimit, web.RateLimit{PerSecond: 20, Burst: 40}},
		{"cors", strings.Join(c.CORSOrigins, ","), ""}, // same origin only
		{"key urls", strings.Join(c.CallbackKeyURLs, ","), "https://gosspublic.alicdn.com/"},
		{"jwt secret generated", len(c.JWTSecret) >= 32, true},
		{"ticket secret generated", len(c.TicketSecret) >= 32, true},
		{"credentials generated", c.Credentials.AccessKeyID != "" && c.Credentials.AccessKeySecret != "", true},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func productionEnv() map[string]string {
	return map[string]string{
		"OSS_ACCESS_KEY_ID":     "LTAI5tExampleKeyId0001",
		"OSS_ACCESS_KEY_SECRET": "SuperSecretValue-do-not-print",
		"OSS_BUCKET":            "examplebucket",
		"OSS_REGION":            "oss-cn-hangzhou",
		"OSSGATE_PUBLIC_URL":    "https://uploads.example.com/",
		"OSSGATE_JWT_SECRET":    strings.Repeat("j", 32),
		"OSSGATE_TICKET_SECRET": strings.Repeat("t", 32),
	}
}

func TestLoadConfigProduction(t *testing.T) {
	c, errs := loadConfig(envOf(productionEnv()))
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	if c.Local || c.Region != "cn-hangzhou" || c.UploadURL != "https://examplebucket.oss-cn-hangzhou.aliyuncs.com" || c.PublicURL != "https://uploads.example.com" {
		t.Fatalf("got local=%v region=%q upload=%q public=%q", c.Local, c.Region, c.UploadURL, c.PublicURL)
	}
	if len(c.CORSOrigins) != 0 {
		t.Errorf("CORS origins default outside local mode = %v, want none", c.CORSOrigins)
	}
}

// Each bad value is reported on its own line naming its variable, and no
// secret value is ever echoed.
func TestLoadConfigErrors(t *testing.T) {
	cases := []struct {
		name    string
		set     map[string]string
		unset   []string
		wantVar string
	}{
		{"id without secret", nil, []string{"OSS_ACCESS_KEY_SECRET"}, "OSS_ACCESS_KEY_SECRET"},
		{"secret without id", nil, []string{"OSS_ACCESS_KEY_ID"}, "OSS_ACCESS_KEY_ID"},
		{"no bucket", nil, []string{"OSS_BUCKET"}, "OSS_BUCKET"},
		{"bad bucket", map[string]string{"OSS_BUCKET": "Bad_Bucket"}, nil, "OSS_BUCKET"},
		{"no region", nil, []string{"OSS_REGION"}, "OSS_REGION"},
		{"no public url", nil, []string{"OSSGATE_PUBLIC_URL"}, "OSSGATE_PUBLIC_URL"},
		{"bad public url", map[string]string{"OSSGATE_PUBLIC_URL": "ftp://x"}, nil, "OSSGATE_PUBLIC_URL"},
		{"bad upload url", map[string]string{"OSSGATE_UPLOAD_URL": "not a url"}, nil, "OSSGATE_UPLOAD_URL"},
		{"bad addr", map[string]string{"OSSGATE_ADDR": "8080"}, nil, "OSSGATE_ADDR"},
		{"bad version", map[string]string{"OSSGATE_SIGNATURE_VERSION": "v3"}, nil, "OSSGATE_SIGNATURE_VERSION"},
		{"no jwt", nil, []string{"OSSGATE_JWT_SECRET"}, "OSSGATE_JWT_SECRET"},
		{"short jwt secret", map[string]string{"OSSGATE_JWT_SECRET": "shortsecretvalue"}, nil, "OSSGATE_JWT_SECRET"},
		{"two jwt modes", map[string]string{"OSSGATE_JWT_JWKS_URL": "https://id.example.com/jwks.json"}, nil, "OSSGATE_JWT_SECRET"},
		{"bad jwks url", map[string]string{"OSSGATE_JWT_JWKS_URL": "file:///etc/passwd"}, []string{"OSSGATE_JWT_SECRET"}, "OSSGATE_JWT_JWKS_URL"},
		{"missing key file", map[string]string{"OSSGATE_JWT_PUBLIC_KEY_FILE": "/nonexistent/key.pem"}, []string{"OSSGATE_JWT_SECRET"}, "OSSGATE_JWT_PUBLIC_KEY_FILE"},
		{"no ticket secret", nil, []string{"OSSGATE_TICKET_SECRET"}, "OSSGATE_TICKET_SECRET"},
		{"short ticket secret", map[string]string{"OSSGATE_TICKET_SECRET": "tooshort-secret"}, nil, "OSSGATE_TICKET_SECRET"},
		{"ticket secret equals jwt secret", map[string]string{"OSSGATE_TICKET_SECRET": strings.Repeat("j", 32)}, nil, "OSSGATE_TICKET_SECRET"},
		{"max size text", map[string]string{"OSSGATE_MAX_SIZE": "100MB"}, nil, "OSSGATE_MAX_SIZE"},
		{"max size zero", map[string]string{"OSSGATE_MAX_SIZE": "0"}, nil, "OSSGATE_MAX_SIZE"},
		{"bad types", map[string]string{"OSSGATE_ALLOWED_TYPES": "image/*,*/*"}, nil, "OSSGATE_ALLOWED_TYPES"},
		{"ttl too short", map[string]string{"OSSGATE_POLICY_TTL": "30s"}, nil, "OSSGATE_POLICY_TTL"},
		{"ttl garbage", map[string]string{"OSSGATE_POLICY_TTL": "ten minutes"}, nil, "OSSGATE_POLICY_TTL"},
		{"old key hosts variable", map[string]string{"OSSGATE_CALLBACK_KEY_HOSTS": "gosspublic.alicdn.com"}, nil, "OSSGATE_CALLBACK_KEY_HOSTS"},
		{"bare host as key url", map[string]string{"OSSGATE_CALLBACK_KEY_URLS": "gosspublic.alicdn.com"}, nil, "OSSGATE_CALLBACK_KEY_URLS"},
		{"userinfo key url", map[string]string{"OSSGATE_CALLBACK_KEY_URLS": "https://a:hunter2@b.example/"}, nil, "OSSGATE_CALLBACK_KEY_URLS"},
		{"traversal key url", map[string]string{"OSSGATE_CALLBACK_KEY_URLS": "https://b.example/keys/../"}, nil, "OSSGATE_CALLBACK_KEY_URLS"},
		{"ttl zero", map[string]string{"OSSGATE_POLICY_TTL": "0s"}, nil, "OSSGATE_POLICY_TTL"},
		{"ttl too long", map[string]string{"OSSGATE_POLICY_TTL": "25h"}, nil, "OSSGATE_POLICY_TTL"},
		{"max size over 5 GiB", map[string]string{"OSSGATE_MAX_SIZE": "5368709121"}, nil, "OSSGATE_MAX_SIZE"},
		{"any type", map[string]string{"OSSGATE_ALLOWED_TYPES": "*/*"}, nil, "OSSGATE_ALLOWED_TYPES"},
		{"bad region", map[string]string{"OSS_REGION": "CN_HANGZHOU"}, nil, "OSS_REGION"},
		{"bad oss endpoint", map[string]string{"OSSGATE_OSS_ENDPOINT": "oss-cn-hangzhou-internal.aliyuncs.com"}, nil, "OSSGATE_OSS_ENDPOINT"},
		{"bad confirm", map[string]string{"OSSGATE_CALLBACK_CONFIRM": "maybe"}, nil, "OSSGATE_CALLBACK_CONFIRM"},
		{"prefix with dots", map[string]string{"OSSGATE_KEY_PREFIX": "../up/"}, nil, "OSSGATE_KEY_PREFIX"},
		{"prefix without slash", map[string]string{"OSSGATE_KEY_PREFIX": "uploads"}, nil, "OSSGATE_KEY_PREFIX"},
		{"bad body type", map[string]string{"OSSGATE_CALLBACK_BODY_TYPE": "xml"}, nil, "OSSGATE_CALLBACK_BODY_TYPE"},
		{"bad proxies", map[string]string{"OSSGATE_TRUSTED_PROXIES": "10.0.0.1"}, nil, "OSSGATE_TRUSTED_PROXIES"},
		{"bad rate", map[string]string{"OSSGATE_RATE_LIMIT": "fast"}, nil, "OSSGATE_RATE_LIMIT"},
		{"bad burst", map[string]string{"OSSGATE_RATE_LIMIT": "5/s,burst=-1"}, nil, "OSSGATE_RATE_LIMIT"},
		{"bad cors", map[string]string{"OSSGATE_CORS_ORIGINS": "app.example.com"}, nil, "OSSGATE_CORS_ORIGINS"},
		{"bad metrics addr", map[string]string{"OSSGATE_METRICS_ADDR": "9090"}, nil, "OSSGATE_METRICS_ADDR"},
		{"public url with password", map[string]string{"OSSGATE_PUBLIC_URL": "https://user:hunter2-secret@example.com"}, nil, "OSSGATE_PUBLIC_URL"},
		{"upload url with password", map[string]string{"OSSGATE_UPLOAD_URL": "https://user:hunter2-secret@bucket.example.com"}, nil, "OSSGATE_UPLOAD_URL"},
		{"cors origin with password", map[string]string{"OSSGATE_CORS_ORIGINS": "https://u:hunter2-secret@app.example.com/x?y"}, nil, "OSSGATE_CORS_ORIGINS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := productionEnv()
			for k, v := range tc.set {
				env[k] = v
			}
			for _, k := range tc.unset {
				delete(env, k)
			}
			_, errs := loadConfig(envOf(env))
			if len(errs) != 1 {
				t.Fatalf("got %d errors %v, want exactly 1 naming %s", len(errs), errs, tc.wantVar)
			}
			msg := errs[0].Error()
			if !strings.HasPrefix(msg, tc.wantVar+": ") {
				t.Errorf("error %q does not start with %s", msg, tc.wantVar)
			}
			for _, secret := range []string{env["OSS_ACCESS_KEY_SECRET"], env["OSSGATE_JWT_SECRET"], env["OSSGATE_TICKET_SECRET"], "hunter2"} {
				if secret != "" && strings.Contains(msg, secret) {
					t.Errorf("error %q leaks a secret", msg)
				}
			}
		})
	}
}

func TestLoadConfigWarnings(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string // "" for no warning
	}{
		{"production defaults", productionEnv(), ""},
		{"cors star outside local mode", map[string]string{"OSSGATE_CORS_ORIGINS": "*"}, "OSSGATE_CORS_ORIGINS"},
		{"jwks without audience", map[string]string{"OSSGATE_JWT_SECRET": "", "OSSGATE_JWT_JWKS_URL": "https://id.example.com/jwks.json"}, "OSSGATE_JWT_AUDIENCE"},
		{"jwks with audience", map[string]string{"OSSGATE_JWT_SECRET": "", "OSSGATE_JWT_JWKS_URL": "https://id.example.com/jwks.json", "OSSGATE_JWT_AUDIENCE": "my-app"}, ""},
		{"local mode on every interface", map[string]string{"OSS_ACCESS_KEY_ID": "", "OSS_ACCESS_KEY_SECRET": "", "OSSGATE_ADDR": ":8080"}, "OSSGATE_ADDR"},
		{"local mode on loopback", map[string]string{"OSS_ACCESS_KEY_ID": "", "OSS_ACCESS_KEY_SECRET": "", "OSSGATE_ADDR": "localhost:8080"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := productionEnv()
			for k, v := range tc.env {
				env[k] = v
			}
			c, errs := loadConfig(envOf(env))
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			got := strings.Join(c.Warnings(), "\n")
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("warnings %q, want one naming %q", got, tc.want)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	for _, s := range []string{"https://u:pw-SECRET@h.example/x", "postgres://u:pw-SECRET@db/x", "://bad:pw-SECRET@h"} {
		if got := redactURL(s); strings.Contains(got, "pw-SECRET") {
			t.Errorf("redactURL(%q) = %q", s, got)
		}
	}
	err := errors.New(`Get "https://u:pw-SECRET@id.example/jwks": dial tcp: refused`)
	if got := redactErr(err, "https://u:pw-SECRET@id.example/jwks"); strings.Contains(got, "pw-SECRET") {
		t.Errorf("redactErr = %q", got)
	}
}

func TestLoadConfigReportsEveryProblem(t *testing.T) {
	_, errs := loadConfig(envOf(map[string]string{"OSS_ACCESS_KEY_ID": "x", "OSS_ACCESS_KEY_SECRET": "y", "OSSGATE_MAX_SIZE": "-1"}))
	// bucket, region, public url, jwt, ticket secret, max size
	if len(errs) != 6 {
		t.Fatalf("got %d errors, want 6: %v", len(errs), errs)
	}
}

func TestLoadConfigPublicKeyFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, pub any) string {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	smallRSA, _ := rsa.GenerateKey(rand.Reader, 1024)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	cases := []struct {
		name string
		path string
		ok   bool
	}{
		{"rsa 2048", write("rsa.pem", &rsaKey.PublicKey), true},
		{"ecdsa p256", write("ec.pem", &ecKey.PublicKey), true},
		{"rsa 1024 refused", write("small.pem", &smallRSA.PublicKey), false},
		{"ecdsa p384 refused", write("p384.pem", &p384.PublicKey), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := productionEnv()
			delete(env, "OSSGATE_JWT_SECRET")
			env["OSSGATE_JWT_PUBLIC_KEY_FILE"] = tc.path
			c, errs := loadConfig(envOf(env))
			if tc.ok != (len(errs) == 0) || tc.ok != (c.JWTPublicKey != nil) {
				t.Fatalf("errs = %v, key set = %v, want ok=%v", errs, c.JWTPublicKey != nil, tc.ok)
			}
		})
	}
}

func TestParseRateLimit(t *testing.T) {
	cases := []struct {
		in   string
		want web.RateLimit
		ok   bool
	}{
		{"20/s,burst=40", web.RateLimit{PerSecond: 20, Burst: 40}, true},
		{"0.5/s", web.RateLimit{PerSecond: 0.5, Burst: 1}, true},
		{"100/s", web.RateLimit{PerSecond: 100, Burst: 200}, true},
		{"20", web.RateLimit{}, false},
		{"0/s", web.RateLimit{}, false},
		{"20/s,burst=", web.RateLimit{}, false},
		{"20/s,boost=3", web.RateLimit{}, false},
	}
	for _, tc := range cases {
		got, err := parseRateLimit(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("parseRateLimit(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
