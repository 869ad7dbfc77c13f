package callback

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ossgate/ossgate/internal/fielderr"
)

// FetcherConfig configures a Fetcher. [FetcherConfig.Validate] says what is
// wrong with one, field by field; [NewFetcher] calls it. At least one of
// AllowedKeyURLs and AllowedHosts must be set.
type FetcherConfig struct {
	// AllowedKeyURLs lists the key URLs that may be fetched, each either
	// an exact URL ("http://127.0.0.1:9000/_ossemu/callback_pub_key.pem")
	// or a prefix ending in "/" that allows every path under it
	// ("https://gosspublic.alicdn.com/"; with no path, or "/", the whole
	// host). Entries follow the URL rules of Allowed (no query, fragment,
	// userinfo or percent-encoding; no "//", "." or ".." segment); scheme,
	// host and port must match exactly, the host without regard to case.
	// Bare hosts are refused: name the key's URL, or a directory no
	// uploader can write to, never a host that also serves uploads.
	AllowedKeyURLs []string
	// AllowedHosts lists hosts every path of which may be fetched, as
	// "host" (the scheme's default port only: 80 for http, 443 for https)
	// or "host:port" (either scheme). IPv6 literals are written "[::1]" or
	// "[::1]:8443". Hosts compare case-insensitively and exactly: no suffix
	// or wildcard matching, no DNS resolution.
	//
	// Deprecated: a host that serves anything an uploader controls (the
	// local OSS emulator serves every uploaded object) lets a forged
	// callback name an uploaded PEM as its key. Use AllowedKeyURLs. An
	// entry "host" here allows what the prefixes "http://host/" and
	// "https://host/" would; "host:port", what "http://host:port/" and
	// "https://host:port/" would.
	AllowedHosts []string
	// Client makes the requests. If nil, a client with Timeout and no proxy
	// (this package reads no environment; pass a Client to use one). The
	// Fetcher uses a copy whose CheckRedirect refuses any redirect to a URL
	// that Allowed refuses, and more than 3 redirects, before calling the
	// Client's own CheckRedirect, if any.
	Client *http.Client
	// Timeout bounds each fetch, whatever the Client; not negative. If
	// zero, 5s (DefaultFetchTimeout).
	Timeout time.Duration
	// MaxKeyBytes is the largest key document accepted; not negative. If
	// zero, 16 KiB (DefaultMaxKeyBytes).
	MaxKeyBytes int64
	// TTL is how long a fetched key is cached; not negative. If zero, 1h
	// (DefaultKeyTTL). Failures are cached for a few seconds only.
	TTL time.Duration
	// Now is the cache's clock. If nil, time.Now.
	Now func() time.Time
	// OnFetch, if set, is called once per PublicKey call that gets past the
	// allowlist and gets an answer: cached=false for the call whose request
	// went to the network, cached=true for answers from the cache (including
	// a remembered failure) and for calls that shared another call's
	// in-flight request. It is for metrics and must be quick. If nil,
	// nothing is called.
	OnFetch func(url string, cached bool)
}

// Validate checks every field of c without changing it and returns nil or
// one *FieldError per problem, joined with errors.Join (see FieldErrors).
// A problem that concerns no entry in particular (neither list set) is
// reported on AllowedKeyURLs.
func (c FetcherConfig) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	if len(c.AllowedKeyURLs) == 0 && len(c.AllowedHosts) == 0 {
		bad("AllowedKeyURLs", "is empty: no callback key could be fetched")
	}
	for _, entry := range c.AllowedKeyURLs {
		if _, err := parseAllowedKeyURL(entry); err != nil {
			bad("AllowedKeyURLs", "entry %s: %v", quote(entry), err)
		}
	}
	for _, entry := range c.AllowedHosts {
		if _, _, err := parseAllowedHost(strings.TrimSpace(entry)); err != nil {
			bad("AllowedHosts", "entry %s: %v", quote(entry), err)
		}
	}
	if c.Timeout < 0 {
		bad("Timeout", "must not be negative")
	}
	if c.MaxKeyBytes < 0 {
		bad("MaxKeyBytes", "must not be negative")
	}
	if c.TTL < 0 {
		bad("TTL", "must not be negative")
	}
	return errors.Join(errs...)
}

// FieldError is one problem with one field of a configuration
// ([FetcherConfig.Validate]): Field is the Go field name ("AllowedKeyURLs"),
// Problem a short phrase.
type FieldError struct {
	Field   string
	Problem string
}

// Error returns "callback: <Field> <Problem>".
func (e *FieldError) Error() string { return "callback: " + e.Field + " " + e.Problem }

// FieldErrors returns every *FieldError in err, which may be one or an
// errors.Join of several, in order; nil when there is none.
func FieldErrors(err error) []*FieldError { return fielderr.Collect[*FieldError](err) }
