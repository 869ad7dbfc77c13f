package ossemu

import (
	"net/http"
	"testing"
)

// TestCORSRules: preflights and actual requests evaluated against the
// configured rules as OSS does: in order, first match wins, wildcards in
// origins and headers, nothing for an unmatched origin.
func TestCORSRules(t *testing.T) {
	rules := []CORSRule{
		{AllowedOrigins: []string{"https://app.example.com"}, AllowedMethods: []string{"PUT", "POST"},
			AllowedHeaders: []string{"content-type", "x-oss-*"}, ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: 60},
		{AllowedOrigins: []string{"http://*.example.com"}, AllowedMethods: []string{"GET", "PUT"}, ExposeHeaders: []string{"x-oss-request-id"}},
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}},
	}
	env := newEnv(t, func(c *Config) { c.CORS = rules })
	tests := []struct {
		name, origin, method, headers string
		status                        int
		allowOrigin, expose, maxAge   string
	}{
		{"first rule", "https://app.example.com", "PUT", "Content-Type, X-Oss-Callback", 200, "https://app.example.com", "ETag", "60"},
		{"header not allowed by first, second has none", "https://app.example.com", "PUT", "authorization", 403, "", "", ""},
		{"method of the first rule only", "https://app.example.com", "POST", "", 200, "https://app.example.com", "ETag", "60"},
		{"wildcard origin", "http://a.b.example.com", "PUT", "", 200, "http://a.b.example.com", "x-oss-request-id", ""},
		{"wildcard origin, other scheme", "https://a.example.com", "PUT", "", 403, "", "", ""},
		{"star origin answers star", "https://elsewhere.test", "GET", "", 200, "*", "", ""},
		{"star origin, method not allowed", "https://elsewhere.test", "DELETE", "", 403, "", "", ""},
		{"no origin", "", "GET", "", 403, "", "", ""},
		{"no method", "https://app.example.com", "", "", 403, "", "", ""},
	}
	for _, tc := range tests {
		t.Run("preflight "+tc.name, func(t *testing.T) {
			r := preflightReq(t, env.url, tc.origin, tc.method, tc.headers)
			if tc.status != 200 {
				wantError(t, r, tc.status, CodeAccessForbidden)
				if got := r.header.Get("Access-Control-Allow-Origin"); got != "" {
					t.Errorf("refused preflight carries Allow-Origin %q", got)
				}
				return
			}
			if r.status != 200 {
				t.Fatalf("preflight: %v", r)
			}
			got := []string{r.header.Get("Access-Control-Allow-Origin"), r.header.Get("Access-Control-Expose-Headers"), r.header.Get("Access-Control-Max-Age")}
			if want := []string{tc.allowOrigin, tc.expose, tc.maxAge}; got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
				t.Errorf("Allow-Origin, Expose, Max-Age = %q, want %q", got, want)
			}
			if tc.headers != "" && r.header.Get("Access-Control-Allow-Headers") != tc.headers {
				t.Errorf("Allow-Headers = %q, want the requested %q", r.header.Get("Access-Control-Allow-Headers"), tc.headers)
			}
		})
	}

	actual := []struct {
		name, origin, method, allowOrigin string
	}{
		{"matching rule", "http://x.example.com", http.MethodGet, "http://x.example.com"},
		{"star rule", "https://elsewhere.test", http.MethodGet, "*"},
		{"method matches no rule", "https://elsewhere.test", http.MethodDelete, ""},
		{"no origin", "", http.MethodGet, ""},
	}
	for _, tc := range actual {
		t.Run("actual "+tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, env.url+"/some/key", nil)
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			r := do(t, req)
			if got := r.header.Get("Access-Control-Allow-Origin"); got != tc.allowOrigin {
				t.Errorf("Allow-Origin = %q, want %q (status %d)", got, tc.allowOrigin, r.status)
			}
		})
	}

	t.Run("no configuration", func(t *testing.T) {
		env := newEnv(t, func(c *Config) { c.CORS = nil })
		wantMessage(t, wantError(t, preflightReq(t, env.url, "https://app.example", "GET", ""), 403, CodeAccessForbidden), "CORS is not enabled")
		req, _ := http.NewRequest(http.MethodGet, env.url+"/k", nil)
		req.Header.Set("Origin", "https://app.example")
		if got := do(t, req).header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("Allow-Origin = %q without any rule", got)
		}
	})
}

func TestValidateCORS(t *testing.T) {
	ok := DefaultCORSRule("*")
	tests := []struct {
		name  string
		rules []CORSRule
		valid bool
	}{
		{"default", []CORSRule{ok}, true},
		{"none", nil, true},
		{"no origin", []CORSRule{{AllowedMethods: []string{"GET"}}}, false},
		{"two stars", []CORSRule{{AllowedOrigins: []string{"http://*.*.com"}, AllowedMethods: []string{"GET"}}}, false},
		{"bad method", []CORSRule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"PATCH"}}}, false},
		{"star expose", []CORSRule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}, ExposeHeaders: []string{"*"}}}, false},
		{"eleven rules", []CORSRule{ok, ok, ok, ok, ok, ok, ok, ok, ok, ok, ok}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := validateCORS(tc.rules)
			if (err == nil) != tc.valid {
				t.Errorf("validateCORS = %v, want valid %v", err, tc.valid)
			}
		})
	}
	if _, err := New(Config{Bucket: "b", Region: "cn-hangzhou", Dir: t.TempDir(), CORS: []CORSRule{{}}}); err == nil {
		t.Error("New accepted an invalid CORS rule")
	}
}
