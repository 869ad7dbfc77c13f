package callback

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// keyURL is a public key URL in the form the allowlist compares: scheme,
// host (lowercased, IPv6 without brackets), port (decimal, the scheme's
// default when the URL has none) and path ("/" when the URL has none).
type keyURL struct {
	scheme, host, port, path string
}

// String is the canonical URL: "https://gosspublic.alicdn.com:443/k.pem".
func (k keyURL) String() string {
	return k.scheme + "://" + net.JoinHostPort(k.host, k.port) + k.path
}

func defaultPort(scheme string) string {
	if scheme == "http" {
		return "80"
	}
	return "443"
}

// parseKeyURL reads a key URL strictly, for the allowlist: it must begin with
// exactly "http://" or "https://", and hold no whitespace, control,
// non-ASCII or backslash character, no userinfo, query or fragment, no
// percent-encoding anywhere (so no IPv6 zone id and no encoded "/" or "."),
// and no empty port. Its path may hold only A-Z a-z 0-9 - . _ ~ and "/",
// with no empty ("//"), "." or ".." segment. What it refuses is what a
// server could resolve to another path than the one the allowlist compares.
// Errors do not wrap ErrUntrustedKeyURL; callers add it.
func parseKeyURL(raw string) (keyURL, error) {
	if len(raw) > maxKeyURLLen {
		return keyURL{}, fmt.Errorf("URL longer than %d bytes", maxKeyURLLen)
	}
	for i := range len(raw) {
		if c := raw[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return keyURL{}, fmt.Errorf("whitespace, control, non-ASCII or backslash in URL %s", quote(raw))
		}
	}
	var k keyURL
	var rest string
	switch {
	case strings.HasPrefix(raw, "https://"):
		k.scheme, rest = "https", raw[len("https://"):]
	case strings.HasPrefix(raw, "http://"):
		k.scheme, rest = "http", raw[len("http://"):]
	default:
		return keyURL{}, fmt.Errorf("scheme is not http or https in URL %s", quote(raw))
	}
	switch {
	case strings.Contains(raw, "#"):
		return keyURL{}, fmt.Errorf("fragment in URL %s", quote(raw))
	case strings.Contains(raw, "?"):
		return keyURL{}, fmt.Errorf("query in URL %s", quote(raw))
	case strings.Contains(raw, "%"):
		return keyURL{}, fmt.Errorf("percent-encoding in URL %s", quote(raw))
	}
	authority, path := rest, "/"
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	if strings.Contains(authority, "@") {
		return keyURL{}, fmt.Errorf("userinfo in URL %s", quote(raw))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return keyURL{}, fmt.Errorf("unparsable URL %s", quote(raw))
	}
	if u.Scheme != k.scheme || u.Opaque != "" || u.User != nil || u.Host != authority || u.RawQuery != "" || u.Fragment != "" {
		return keyURL{}, fmt.Errorf("unexpected URL structure %s", quote(raw))
	}
	k.host, k.port = strings.ToLower(u.Hostname()), u.Port()
	if k.host == "" {
		return keyURL{}, fmt.Errorf("empty host in URL %s", quote(raw))
	}
	if k.port == "" {
		if strings.HasSuffix(authority, ":") {
			return keyURL{}, fmt.Errorf("empty port in URL %s", quote(raw))
		}
		k.port = defaultPort(k.scheme)
	}
	if !validPort(k.port) {
		return keyURL{}, fmt.Errorf("bad port in URL %s", quote(raw))
	}
	k.port = strconv.Itoa(mustAtoi(k.port)) // as the dialer reads it: "0080" is 80
	if p := pathProblem(path); p != "" {
		return keyURL{}, fmt.Errorf("path %s in URL %s", p, quote(raw))
	}
	k.path = path
	return k, nil
}

// pathProblem says what is wrong with a key URL's path, or "".
func pathProblem(p string) string {
	for i := range len(p) {
		c := p[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~/", c) >= 0) {
			return "holds a character other than A-Z a-z 0-9 - . _ ~ /"
		}
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "." || seg == ".." {
			return `has a "." or ".." segment`
		}
	}
	if strings.Contains(p, "//") {
		return `has an empty segment ("//")`
	}
	return ""
}

// allowedKeyURL is one AllowedKeyURLs entry: an exact URL, or a prefix
// (canonical URL ending in "/") that allows every path under it.
type allowedKeyURL struct {
	canonical string
	prefix    bool
}

// parseAllowedKeyURL reads one AllowedKeyURLs entry (surrounding spaces
// trimmed), under the same rules as the URLs it is compared with.
func parseAllowedKeyURL(entry string) (allowedKeyURL, error) {
	entry = strings.TrimSpace(entry)
	if entry == "" {
		return allowedKeyURL{}, errors.New("empty")
	}
	if !strings.HasPrefix(entry, "http://") && !strings.HasPrefix(entry, "https://") {
		return allowedKeyURL{}, errors.New(`want a URL ("https://host/path/key.pem", or a prefix ending in "/"), not a bare host`)
	}
	k, err := parseKeyURL(entry)
	if err != nil {
		return allowedKeyURL{}, err
	}
	return allowedKeyURL{canonical: k.String(), prefix: strings.HasSuffix(k.path, "/")}, nil
}

func (a allowedKeyURL) allows(k keyURL) bool {
	if a.prefix {
		return strings.HasPrefix(k.String(), a.canonical)
	}
	return k.String() == a.canonical
}
