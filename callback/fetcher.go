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

// Fetcher is the production KeySource: it fetches PEM public keys over
// HTTP(S), from allowlisted URLs only, and caches them. Concurrent calls for
// the same uncached URL make one request. Create it with NewFetcher; it is
// safe for concurrent use.
type Fetcher struct {
	keyURLs     []allowedKeyURL // AllowedKeyURLs entries
	explicit    map[string]bool // AllowedHosts "host:port" entries, host lowercased
	defaultPort map[string]bool // AllowedHosts "host" entries: the scheme's default port only
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

// NewFetcher validates cfg ([FetcherConfig.Validate]) and returns a
// Fetcher. The error is Validate's: one *FieldError per problem.
func NewFetcher(cfg FetcherConfig) (*Fetcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
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
	if f.now == nil {
		f.now = time.Now
	}
	for _, entry := range cfg.AllowedKeyURLs {
		a, _ := parseAllowedKeyURL(entry)
		f.keyURLs = append(f.keyURLs, a)
	}
	for _, entry := range cfg.AllowedHosts {
		host, port, _ := parseAllowedHost(strings.TrimSpace(entry))
		if port == "" {
			f.defaultPort[host] = true
		} else {
			f.explicit[net.JoinHostPort(host, port)] = true
		}
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
// ErrUntrustedKeyURL that says why not. The URL must pass the strict syntax
// rules below, and then match an AllowedKeyURLs entry (exactly, or under a
// prefix) or, for the deprecated AllowedHosts, name an allowed host and port.
//
// The URL must be absolute, begin with exactly "http://" or "https://", and
// hold no whitespace, control, non-ASCII or backslash character, no
// userinfo, query, fragment or percent-encoding (so no IPv6 zone id and no
// encoded "/" or "."), and no empty port; its path may hold only A-Z a-z
// 0-9 - . _ ~ and "/", with no "//", "." or ".." segment. Hosts compare
// without regard to case, ports as numbers (the scheme's default when
// absent), paths exactly. Allowed does no I/O.
func (f *Fetcher) Allowed(rawURL string) error {
	k, err := parseKeyURL(rawURL)
	if err != nil {
		return errorf(ErrUntrustedKeyURL, "%v", err)
	}
	if f != nil {
		for _, a := range f.keyURLs {
			if a.allows(k) {
				return nil
			}
		}
		if f.explicit[net.JoinHostPort(k.host, k.port)] || (k.port == defaultPort(k.scheme) && f.defaultPort[k.host]) {
			return nil
		}
	}
	return errorf(ErrUntrustedKeyURL, "URL %s is not allowlisted", quote(rawURL))
}

// PublicKey returns the RSA key published at url, from the cache or by
// fetching it. A URL that Allowed refuses gives ErrUntrustedKeyURL and no
// request; a redirect to such a URL (Allowed's rules and entries, whatever
// the first URL matched) is refused the same way, without following it. A URL that
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
