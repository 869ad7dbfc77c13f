package callback

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/singleflight"
)

// Fetcher defaults and limits.
const (
	DefaultFetchTimeout = 5 * time.Second
	DefaultMaxKeyBytes  = 16 << 10
	DefaultKeyTTL       = time.Hour

	// failureTTL is how long a failed fetch is remembered: long enough that
	// a burst of callbacks naming a broken URL makes one request, short
	// enough that a key host coming back is noticed at once.
	failureTTL = 3 * time.Second
	// maxRedirects is the most redirects followed for one key fetch.
	maxRedirects = 3
	// maxCacheEntries bounds the cache: callers choose the URL, and could
	// otherwise vary the path on an allowlisted host without end.
	maxCacheEntries = 256
	// maxKeyURLLen bounds a key URL; real ones are well under 100 bytes.
	maxKeyURLLen = 2048
)

// FetcherConfig configures a Fetcher. Only AllowedHosts is required.
type FetcherConfig struct {
	// AllowedHosts lists the hosts keys may be fetched from, as "host"
	// (the scheme's default port only: 80 for http, 443 for https) or
	// "host:port" (any scheme). IPv6 literals are written "[::1]" or
	// "[::1]:8443". Hosts compare case-insensitively and exactly: no
	// suffix or wildcard matching, no DNS resolution.
	AllowedHosts []string
	// Client makes the requests. nil means a client with Timeout and no
	// proxy (this package reads no environment; pass a Client to use one).
	// The Fetcher uses a copy whose CheckRedirect refuses any redirect to a
	// URL that Allowed refuses, and more than 3 redirects, before calling
	// the Client's own CheckRedirect, if any.
	Client *http.Client
	// Timeout bounds each fetch, whatever the Client. 0 means 5s.
	Timeout time.Duration
	// MaxKeyBytes is the largest key document accepted. 0 means 16 KiB.
	MaxKeyBytes int64
	// TTL is how long a fetched key is cached. 0 means 1h. Failures are
	// cached for a few seconds only.
	TTL time.Duration
	// Now is the cache's clock. nil means time.Now.
	Now func() time.Time
	// OnFetch, if set, is called once per PublicKey call that gets past the
	// allowlist and gets an answer: cached=false for the call whose request
	// went to the network, cached=true for answers from the cache (including
	// a remembered failure) and for calls that shared another call's
	// in-flight request. It is for metrics and must be quick.
	OnFetch func(url string, cached bool)
}

// Fetcher is the production KeySource: it fetches PEM public keys over
// HTTP(S), from allowlisted hosts only, and caches them. Concurrent calls for
// the same uncached URL make one request. Create it with NewFetcher; it is
// safe for concurrent use.
type Fetcher struct {
	explicit    map[string]bool // "host:port" entries, host lowercased
	defaultPort map[string]bool // "host" entries: the scheme's default port only
	client      *http.Client
	timeout     time.Duration
	maxBytes    int64
	ttl         time.Duration
	now         func() time.Time
	onFetch     func(string, bool)

	group singleflight.Group
	mu    sync.Mutex
	cache map[string]cacheEntry
}

type cacheEntry struct {
	key     *rsa.PublicKey
	err     error
	expires time.Time
}

// NewFetcher checks cfg and returns a Fetcher. Each AllowedHosts entry
// (surrounding spaces trimmed) must be a bare host or host:port: no scheme,
// path, query, userinfo, percent-encoding or zone id, and a port in 1..65535.
func NewFetcher(cfg FetcherConfig) (*Fetcher, error) {
	f := &Fetcher{
		explicit:    map[string]bool{},
		defaultPort: map[string]bool{},
		timeout:     orDefault(cfg.Timeout, DefaultFetchTimeout),
		maxBytes:    orDefault(cfg.MaxKeyBytes, DefaultMaxKeyBytes),
		ttl:         orDefault(cfg.TTL, DefaultKeyTTL),
		now:         cfg.Now,
		onFetch:     cfg.OnFetch,
		cache:       map[string]cacheEntry{},
	}
	if cfg.Timeout < 0 || cfg.MaxKeyBytes < 0 || cfg.TTL < 0 {
		return nil, errors.New("callback: negative Timeout, MaxKeyBytes or TTL")
	}
	if f.now == nil {
		f.now = time.Now
	}
	if len(cfg.AllowedHosts) == 0 {
		return nil, errors.New("callback: no allowed key hosts")
	}
	var bad []error
	for _, entry := range cfg.AllowedHosts {
		host, port, err := parseAllowedHost(strings.TrimSpace(entry))
		if err != nil {
			bad = append(bad, fmt.Errorf("callback: allowed key host %s: %w", quote(entry), err))
			continue
		}
		if port == "" {
			f.defaultPort[host] = true
		} else {
			f.explicit[net.JoinHostPort(host, port)] = true
		}
	}
	if len(bad) > 0 {
		return nil, errors.Join(bad...)
	}

	if cfg.Client != nil {
		c := *cfg.Client // a copy: the caller's client is not modified
		f.client = &c
	} else {
		d := &net.Dialer{Timeout: f.timeout}
		f.client = &http.Client{
			Timeout: f.timeout,
			Transport: &http.Transport{
				DialContext:           d.DialContext,
				TLSHandshakeTimeout:   f.timeout,
				ResponseHeaderTimeout: f.timeout,
				MaxIdleConns:          4,
				IdleConnTimeout:       90 * time.Second,
				ForceAttemptHTTP2:     true,
			},
		}
	}
	next := f.client.CheckRedirect
	f.client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > maxRedirects {
			return errorf(ErrInvalidSignature, "key URL: more than %d redirects", maxRedirects)
		}
		if err := f.Allowed(req.URL.String()); err != nil {
			return fmt.Errorf("redirect: %w", err)
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return f, nil
}

// orDefault returns v, or def when v is zero.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// parseAllowedHost validates one allowlist entry and returns the lowercased
// host (IPv6 without brackets) and the port, "" when none was given.
func parseAllowedHost(entry string) (host, port string, err error) {
	if entry == "" {
		return "", "", errors.New("empty")
	}
	if strings.ContainsAny(entry, "/?#@%\\") {
		return "", "", errors.New(`want "host" or "host:port" (no scheme, path, userinfo or escapes)`)
	}
	for i := range len(entry) {
		if c := entry[i]; c <= ' ' || c >= 0x7f {
			return "", "", errors.New("whitespace, control or non-ASCII character")
		}
	}
	bracketed := strings.HasPrefix(entry, "[")
	switch {
	case bracketed && strings.HasSuffix(entry, "]"):
		host = entry[1 : len(entry)-1]
	case strings.Contains(entry, ":"):
		if host, port, err = net.SplitHostPort(entry); err != nil {
			return "", "", errors.New("malformed host:port (IPv6 needs [brackets])")
		}
		if !validPort(port) {
			return "", "", errors.New("port must be 1..65535")
		}
		port = strconv.Itoa(mustAtoi(port))
	default:
		host = entry
	}
	if bracketed {
		if ip := net.ParseIP(host); ip == nil || ip.To4() != nil {
			return "", "", errors.New("[brackets] must hold an IPv6 address")
		}
	} else if !validName(host) {
		return "", "", errors.New("not a host name or IPv4 address")
	}
	return strings.ToLower(host), port, nil
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 || strings.TrimLeft(p, "0123456789") != "" {
		return false
	}
	n := mustAtoi(p)
	return n >= 1 && n <= 65535
}

func mustAtoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// validName accepts DNS-style names and IPv4 addresses: letters, digits,
// '-' and '.'.
func validName(h string) bool {
	if h == "" {
		return false
	}
	for i := range len(h) {
		c := h[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// Allowed reports whether rawURL may be fetched: nil, or an error wrapping
// ErrUntrustedKeyURL that says why not. The URL must be absolute, begin with
// exactly "http://" or "https://", carry no userinfo, fragment, backslash,
// whitespace, control or non-ASCII character, and its authority no "@",
// percent-encoding (so no IPv6 zone id) or empty port; its host and port
// (the scheme's default when absent) must match an AllowedHosts entry.
// Allowed does no I/O.
func (f *Fetcher) Allowed(rawURL string) error {
	if len(rawURL) > maxKeyURLLen {
		return errorf(ErrUntrustedKeyURL, "URL longer than %d bytes", maxKeyURLLen)
	}
	for i := range len(rawURL) {
		if c := rawURL[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return errorf(ErrUntrustedKeyURL, "whitespace, control, non-ASCII or backslash in URL %s", quote(rawURL))
		}
	}
	var scheme, rest string
	switch {
	case strings.HasPrefix(rawURL, "https://"):
		scheme, rest = "https", rawURL[len("https://"):]
	case strings.HasPrefix(rawURL, "http://"):
		scheme, rest = "http", rawURL[len("http://"):]
	default:
		return errorf(ErrUntrustedKeyURL, "scheme is not http or https in URL %s", quote(rawURL))
	}
	if strings.Contains(rawURL, "#") {
		return errorf(ErrUntrustedKeyURL, "fragment in URL %s", quote(rawURL))
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		authority = rest[:i]
	}
	if strings.ContainsAny(authority, "@%") {
		return errorf(ErrUntrustedKeyURL, "userinfo or percent-encoding in host %s", quote(authority))
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return errorf(ErrUntrustedKeyURL, "unparsable URL %s", quote(rawURL))
	}
	if u.Scheme != scheme || u.Opaque != "" || u.User != nil || u.Host != authority || u.Fragment != "" {
		return errorf(ErrUntrustedKeyURL, "unexpected URL structure %s", quote(rawURL))
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if host == "" {
		return errorf(ErrUntrustedKeyURL, "empty host in URL %s", quote(rawURL))
	}
	def := "443"
	if scheme == "http" {
		def = "80"
	}
	if port == "" {
		if strings.HasSuffix(authority, ":") {
			return errorf(ErrUntrustedKeyURL, "empty port in URL %s", quote(rawURL))
		}
		port = def
	}
	if !validPort(port) {
		return errorf(ErrUntrustedKeyURL, "bad port in URL %s", quote(rawURL))
	}
	// Normalise as the dialer will ("0080" dials port 80).
	port = strconv.Itoa(mustAtoi(port))
	if f != nil && (f.explicit[net.JoinHostPort(host, port)] || (port == def && f.defaultPort[host])) {
		return nil
	}
	return errorf(ErrUntrustedKeyURL, "host %s is not allowlisted", quote(u.Host))
}

// PublicKey returns the RSA key published at url, from the cache or by
// fetching it. A URL that Allowed refuses gives ErrUntrustedKeyURL and no
// request; a redirect to such a URL is refused the same way. A URL that
// serves no usable key (4xx, too many redirects, TLS to a plain port, a bad
// certificate, over MaxKeyBytes, bad PEM) gives ErrInvalidSignature; a host
// that is down or failing (network errors, timeouts, 5xx) ErrKeyUnavailable. Concurrent calls for one uncached URL share a single
// request, which is not cancelled when one caller's ctx is: each caller
// stops waiting when its own ctx is done.
func (f *Fetcher) PublicKey(ctx context.Context, url string) (*rsa.PublicKey, error) {
	if err := f.Allowed(url); err != nil {
		return nil, err
	}
	if e, ok := f.cached(url); ok {
		f.report(url, true)
		return e.key, e.err
	}
	fetched := false // set by the one call that runs fn; read after the channel receive
	ch := f.group.DoChan(url, func() (any, error) {
		if e, ok := f.cached(url); ok { // filled while we queued
			return e.key, e.err
		}
		fetched = true
		// Detached from the first caller's cancellation, since other
		// callers share the result; bounded by the Fetcher's timeout.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.timeout)
		defer cancel()
		key, err := f.fetch(fctx, url)
		ttl := f.ttl
		if err != nil {
			ttl = min(ttl, failureTTL)
		}
		f.store(url, cacheEntry{key: key, err: err, expires: f.now().Add(ttl)})
		return key, err
	})
	select {
	case res := <-ch:
		f.report(url, !fetched)
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*rsa.PublicKey), nil
	case <-ctx.Done():
		return nil, errorf(ErrKeyUnavailable, "waiting for key: %v", ctx.Err())
	}
}

func (f *Fetcher) report(url string, cached bool) {
	if f.onFetch != nil {
		f.onFetch(url, cached)
	}
}

// cached returns the unexpired cache entry for url.
func (f *Fetcher) cached(url string) (cacheEntry, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.cache[url]
	if !ok || !f.now().Before(e.expires) {
		return cacheEntry{}, false
	}
	return e, true
}

func (f *Fetcher) store(url string, e cacheEntry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.cache) >= maxCacheEntries {
		now := f.now()
		for k, old := range f.cache {
			if !now.Before(old.expires) {
				delete(f.cache, k)
			}
		}
		for k := range f.cache { // still full: drop any one
			if len(f.cache) < maxCacheEntries {
				break
			}
			delete(f.cache, k)
		}
	}
	f.cache[url] = e
}

// fetch makes the request. Errors never quote the response body.
func (f *Fetcher) fetch(ctx context.Context, url string) (*rsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, errorf(ErrKeyUnavailable, "build request: %v", err)
	}
	req.Header.Set("Accept", "application/x-pem-file, text/plain, */*")
	// Failures the URL's author chose (a path that is no key, a redirect
	// loop, TLS against a plain port, a bad certificate, an oversized or
	// malformed body) mean the callback cannot be verified: 403
	// invalid_signature. Only an allowlisted host that is down, slow or
	// failing (network errors, timeouts, 5xx, 408, 429) is ErrKeyUnavailable.
	resp, err := f.client.Do(req)
	if err != nil {
		if errors.Is(err, ErrUntrustedKeyURL) || errors.Is(err, ErrInvalidSignature) {
			return nil, unwrapURLError(err)
		}
		if hostFailing(err) {
			return nil, errorf(ErrKeyUnavailable, "fetch %s: %v", quote(url), unwrapURLError(err))
		}
		return nil, errorf(ErrInvalidSignature, "key URL %s: %v", quote(url), unwrapURLError(err))
	}
	defer resp.Body.Close()
	switch code := resp.StatusCode; {
	case code == http.StatusOK:
	case code >= 500 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests:
		return nil, errorf(ErrKeyUnavailable, "fetch %s: status %d", quote(url), code)
	default:
		return nil, errorf(ErrInvalidSignature, "key URL %s answers status %d", quote(url), code)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return nil, errorf(ErrKeyUnavailable, "read %s: %v", quote(url), unwrapURLError(err))
	}
	if int64(len(data)) > f.maxBytes {
		return nil, errorf(ErrInvalidSignature, "key at %s is over %d bytes", quote(url), f.maxBytes)
	}
	key, err := ParsePublicKeyPEM(data)
	if err != nil {
		return nil, errorf(ErrInvalidSignature, "key at %s: %v", quote(url), err)
	}
	return key, nil
}

// hostFailing tells transport errors of a host that is down, slow or
// unreachable (timeouts, dial and connection errors) from those the key URL
// itself causes (TLS spoken to a plain port, a certificate that does not
// fit the host, a redirect loop).
func hostFailing(err error) bool {
	var netErr net.Error
	var opErr *net.OpError
	return errors.As(err, &netErr) && netErr.Timeout() || errors.As(err, &opErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

// unwrapURLError drops the *url.Error layer, whose text repeats the URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
