package ossemu

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// CORSRule is one rule of the bucket's CORS configuration, as OSS's
// PutBucketCors takes it.
type CORSRule struct {
	// AllowedOrigins, e.g. "https://app.example.com"; each may hold one "*",
	// as "*" or "http://*.example.com". Required.
	AllowedOrigins []string
	// AllowedMethods among GET, PUT, DELETE, POST and HEAD. Required.
	AllowedMethods []string
	// AllowedHeaders a preflight may ask for (Access-Control-Request-Headers),
	// case-insensitive, each with at most one "*". If empty, a preflight that
	// asks for any header does not match.
	AllowedHeaders []string
	// ExposeHeaders are sent as Access-Control-Expose-Headers; no "*".
	ExposeHeaders []string
	// MaxAgeSeconds is sent as Access-Control-Max-Age; 0 sends none.
	MaxAgeSeconds int
}

// DefaultCORSRule is the rule ossgate's browser uploads need from origins:
// PostObject, presigned PUT and UploadPart, reads and deletes, any request
// header, and the ETag and request id readable by the page.
func DefaultCORSRule(origins ...string) CORSRule {
	return CORSRule{
		AllowedOrigins: origins,
		AllowedMethods: []string{"GET", "HEAD", "POST", "PUT", "DELETE"},
		AllowedHeaders: []string{"*"},
		ExposeHeaders:  []string{"ETag", "x-oss-request-id"},
		MaxAgeSeconds:  600,
	}
}

const maxCORSRules = 10 // OSS's limit per bucket

var corsMethods = []string{"GET", "PUT", "DELETE", "POST", "HEAD"}

// validateCORS checks rules as PutBucketCors does.
func validateCORS(rules []CORSRule) error {
	if len(rules) > maxCORSRules {
		return fmt.Errorf("at most %d CORS rules are allowed, not %d", maxCORSRules, len(rules))
	}
	var problems []error
	for i, r := range rules {
		bad := func(format string, args ...any) {
			problems = append(problems, fmt.Errorf("CORS rule %d: "+format, append([]any{i + 1}, args...)...))
		}
		if len(r.AllowedOrigins) == 0 {
			bad("AllowedOrigin is required")
		}
		for _, o := range r.AllowedOrigins {
			if o == "" || strings.Count(o, "*") > 1 {
				bad("AllowedOrigin %q must be non-empty and hold at most one *", o)
			}
		}
		if len(r.AllowedMethods) == 0 {
			bad("AllowedMethod is required")
		}
		for _, m := range r.AllowedMethods {
			if !slices.Contains(corsMethods, m) {
				bad("AllowedMethod %q is not one of %s", m, strings.Join(corsMethods, ", "))
			}
		}
		for _, h := range r.AllowedHeaders {
			if h == "" || strings.Count(h, "*") > 1 {
				bad("AllowedHeader %q must be non-empty and hold at most one *", h)
			}
		}
		for _, h := range r.ExposeHeaders {
			if h == "" || strings.Contains(h, "*") {
				bad("ExposeHeader %q must be non-empty, without *", h)
			}
		}
		if r.MaxAgeSeconds < 0 {
			bad("MaxAgeSeconds must not be negative")
		}
	}
	return errors.Join(problems...)
}

// corsConfig is the bucket's CORS configuration: Config.CORS at start, then
// whatever PutBucketCors and DeleteBucketCors make of it.
type corsConfig struct {
	mu           sync.RWMutex
	rules        []CORSRule
	set          bool // false: no configuration (GetBucketCors is 404)
	responseVary bool
}

func (c *corsConfig) get() (rules []CORSRule, set, vary bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.rules, c.set, c.responseVary
}

func (c *corsConfig) put(rules []CORSRule, vary bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rules, c.set, c.responseVary = rules, true, vary
}

func (c *corsConfig) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rules, c.set, c.responseVary = nil, false, false
}

// wildcardMatch matches s against a pattern with at most one "*".
func wildcardMatch(pattern, s string) bool {
	pre, post, ok := strings.Cut(pattern, "*")
	if !ok {
		return pattern == s
	}
	return len(s) >= len(pre)+len(post) && strings.HasPrefix(s, pre) && strings.HasSuffix(s, post)
}

func (r *CORSRule) matchOrigin(origin string) (pattern string, ok bool) {
	for _, o := range r.AllowedOrigins {
		if wildcardMatch(o, origin) {
			return o, true
		}
	}
	return "", false
}

func (r *CORSRule) allowsHeader(name string) bool {
	for _, h := range r.AllowedHeaders {
		if wildcardMatch(strings.ToLower(h), strings.ToLower(name)) {
			return true
		}
	}
	return false
}

// match finds the first rule allowing origin, method and every requested
// header, as OSS evaluates rules: in order, the first match wins.
func matchCORS(rules []CORSRule, origin, method string, headers []string) (*CORSRule, string) {
	for i := range rules {
		r := &rules[i]
		pattern, ok := r.matchOrigin(origin)
		if !ok || !slices.Contains(r.AllowedMethods, method) {
			continue
		}
		allHeaders := true
		for _, h := range headers {
			if !r.allowsHeader(h) {
				allHeaders = false
				break
			}
		}
		if allHeaders {
			return r, pattern
		}
	}
	return nil, ""
}

// setCORSHeaders writes what a matched rule answers.
func setCORSHeaders(h http.Header, rule *CORSRule, pattern, origin string, vary bool) {
	if pattern == "*" {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
	}
	h.Set("Access-Control-Allow-Methods", strings.Join(rule.AllowedMethods, ", "))
	if len(rule.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(rule.ExposeHeaders, ", "))
	}
	if rule.MaxAgeSeconds > 0 {
		h.Set("Access-Control-Max-Age", strconv.Itoa(rule.MaxAgeSeconds))
	}
	if vary {
		h.Add("Vary", "Origin")
	}
}

// applyCORS adds the CORS headers of an actual (not preflight) request: those
// of the first rule matching its Origin and method, else none, so the
// browser withholds the answer from the page. Errors get them too, so a page
// can read an XML error.
func (e *Emulator) applyCORS(h http.Header, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return
	}
	rules, _, vary := e.cors.get()
	if rule, pattern := matchCORS(rules, origin, r.Method, nil); rule != nil {
		setCORSHeaders(h, rule, pattern, origin, vary)
	}
}

// preflight answers OPTIONS as OSS does: 200 with the matching rule's
// headers, or 403 AccessForbidden when no rule allows the request.
func (e *Emulator) preflight(w http.ResponseWriter, r *http.Request) *ossError {
	forbidden := func(msg string) *ossError {
		return newError(http.StatusForbidden, CodeAccessForbidden, "CORSResponse: "+msg)
	}
	origin, method := r.Header.Get("Origin"), r.Header.Get("Access-Control-Request-Method")
	if origin == "" {
		return forbidden("Insufficient information. Origin request header needed.")
	}
	if method == "" {
		return forbidden("Insufficient information. Access-Control-Request-Method request header needed.")
	}
	rules, set, vary := e.cors.get()
	if !set {
		return forbidden("CORS is not enabled for this bucket.")
	}
	var headers []string
	for _, v := range r.Header.Values("Access-Control-Request-Headers") {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				headers = append(headers, strings.ToLower(name))
			}
		}
	}
	rule, pattern := matchCORS(rules, origin, method, headers)
	if rule == nil {
		return forbidden("This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Requet-Headers are not whitelisted by the resource's CORS spec.")
	}
	h := w.Header()
	setCORSHeaders(h, rule, pattern, origin, vary)
	if len(headers) > 0 { // echoed as asked: "*" is not honoured for every header
		h.Set("Access-Control-Allow-Headers", strings.Join(r.Header.Values("Access-Control-Request-Headers"), ","))
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}
