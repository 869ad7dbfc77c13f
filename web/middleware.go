package web

import (
	"crypto/rand"
	"errors"
	"log/slog"
	"math"
	"net"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"
)

// RateLimit is requests per second with a burst; zero disables limiting.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// callbackRateFactor widens the per-IP limit on the callback route: every
// callback of a busy bucket comes from a few OSS addresses, and throttling
// them would turn good uploads into 203 CallbackFailed.
const callbackRateFactor = 10

// ipExtractor believes X-Forwarded-For only from the trusted proxies;
// otherwise the client IP is the TCP peer, so limits can't be dodged with a
// forged header.
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// rateLimiter is Echo's RateLimiter keyed by id, answering 429 rate_limited
// with Retry-After.
func rateLimiter(name string, rl RateLimit, id middleware.Extractor, skip middleware.Skipper, m *Metrics) echo.MiddlewareFunc {
	retryAfter := strconv.Itoa(int(math.Max(1, math.Ceil(1/rl.PerSecond))))
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Skipper:             skip,
		IdentifierExtractor: id,
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(rl.PerSecond), Burst: rl.Burst, ExpiresIn: 3 * time.Minute,
		}),
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			m.rateLimited.WithLabelValues(name).Inc()
			c.Response().Header().Set("Retry-After", retryAfter)
			return newError(codeRateLimited, "Too many requests; retry after "+retryAfter+" s.")
		},
		ErrorHandler: func(c echo.Context, err error) error { return err },
	})
}

// failureLimiter counts failures (not requests) per client IP: it returns
// a 429 error once an IP has failed more often than rl allows, else nil.
func failureLimiter(name string, rl RateLimit, m *Metrics) func(echo.Context) error {
	retryAfter := strconv.Itoa(int(math.Max(1, math.Ceil(1/rl.PerSecond))))
	store := middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
		Rate: rate.Limit(rl.PerSecond), Burst: rl.Burst, ExpiresIn: 3 * time.Minute,
	})
	return func(c echo.Context) error {
		id, _ := byIP(c)
		if ok, _ := store.Allow(id); ok {
			return nil
		}
		m.rateLimited.WithLabelValues(name).Inc()
		c.Response().Header().Set("Retry-After", retryAfter)
		return newError(codeRateLimited, "Too many failed authentications; retry after "+retryAfter+" s.")
	}
}

func allowAll(echo.Context) error { return nil }

func byIP(c echo.Context) (string, error)   { return "ip:" + c.RealIP(), nil }
func byUser(c echo.Context) (string, error) { return "user:" + userOf(c), nil }

// maxRequestIDLen bounds a client's X-Request-ID; longer ones, or ones
// with other characters than requestIDSafe, are replaced by a new id.
const maxRequestIDLen = 64

// requestID is Echo's RequestID middleware, taking the client's
// X-Request-ID only when it is short and made of safe characters, so a
// client cannot put arbitrary text into logs and answers.
func requestID() echo.MiddlewareFunc {
	return middleware.RequestIDWithConfig(middleware.RequestIDConfig{
		Generator: newRequestID,
		Skipper: func(c echo.Context) bool {
			h := c.Request().Header
			if id := h.Get(echo.HeaderXRequestID); id != "" && !safeRequestID(id) {
				h.Del(echo.HeaderXRequestID)
			}
			return false
		},
	})
}

// requestIDLetters are the characters of a generated request id: the 52
// letters Echo's default generator draws from.
const requestIDLetters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newRequestID is Echo's default request id (32 letters from
// crypto/rand, without modulo bias) with one allocation instead of two.
func newRequestID() string {
	const n = 32
	const maxByte = 255 - 256%len(requestIDLetters) // bytes above it would bias the letters
	var id [n]byte
	var rnd [48]byte
	i := 0
	for i < n {
		rand.Read(rnd[:]) // never fails (crypto/rand crashes the program instead)
		for _, b := range rnd {
			if int(b) > maxByte {
				continue
			}
			id[i] = requestIDLetters[int(b)%len(requestIDLetters)]
			if i++; i == n {
				break
			}
		}
	}
	return string(id[:])
}

func safeRequestID(id string) bool {
	if len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_' || b == '.' || b == ':') {
			return false
		}
	}
	return true
}

// requestLogger writes one slog line per request. It logs the route and
// path, never the query, headers or body, so tokens, signatures, tickets
// and policies stay out of the logs.
func requestLogger(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogRequestID: true, LogMethod: true, LogURIPath: true, LogRoutePath: true, LogStatus: true,
		LogLatency: true, LogRemoteIP: true, LogError: true, HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			var buf [10]slog.Attr // on the stack: the line is written before this returns
			attrs := append(buf[:0],
				slog.String("request_id", v.RequestID),
				slog.String("method", v.Method),
				slog.String("route", v.RoutePath),
				slog.String("path", truncate(v.URIPath, 256)),
				slog.Int("status", v.Status),
				slog.Float64("latency_ms", float64(v.Latency.Microseconds())/1000),
				slog.String("ip", v.RemoteIP),
			)
			if u := userOf(c); u != "" {
				attrs = append(attrs, slog.String("user", truncate(u, 128)))
			}
			if svc := serviceName(c); svc != "" {
				attrs = append(attrs, slog.String("service", svc))
			}
			if v.Error != nil { // errors.As's target would be allocated even for nil
				var ae *apiError
				if errors.As(v.Error, &ae) {
					attrs = append(attrs, slog.String("code", ae.Code))
				}
			}
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			log.LogAttrs(c.Request().Context(), level, "request", attrs...)
			return nil
		},
	})
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// secureHeaders sets the usual hardening headers and a CSP that lets the
// demo page talk only to ossgate and the upload endpoint.
func secureHeaders(uploadURL string) echo.MiddlewareFunc {
	upload := ""
	if u, err := url.Parse(uploadURL); err == nil && u.Host != "" {
		upload = " " + u.Scheme + "://" + u.Host
	}
	csp := strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data: blob:" + upload,
		"media-src 'self' blob:" + upload,
		"connect-src 'self'" + upload,
		"form-action 'self'" + upload,
		"frame-ancestors 'none'",
		"base-uri 'none'",
		"object-src 'none'",
	}, "; ")
	return secureHeadersWith(map[string]string{
		echo.HeaderXXSSProtection:        "0",
		echo.HeaderXContentTypeOptions:   "nosniff",
		echo.HeaderXFrameOptions:         "DENY",
		echo.HeaderContentSecurityPolicy: csp,
		echo.HeaderReferrerPolicy:        "no-referrer",
	}, "max-age=31536000; includeSubdomains")
}

// secureHeadersWith sets headers on every answer, and hsts on those sent
// over https, as Echo's Secure middleware does (whose configuration above
// gave these values), but with header values made once: Header.Set
// allocates a slice per header per request. The slices are full (len ==
// cap), so an Add by a handler copies instead of writing into them.
func secureHeadersWith(headers map[string]string, hsts string) echo.MiddlewareFunc {
	type header struct {
		key   string // canonical
		value []string
	}
	var set []header
	for k, v := range headers {
		set = append(set, header{textproto.CanonicalMIMEHeaderKey(k), []string{v}[:1:1]})
	}
	hstsValue := []string{hsts}[:1:1]
	hstsKey := textproto.CanonicalMIMEHeaderKey(echo.HeaderStrictTransportSecurity)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			for _, s := range set {
				h[s.key] = s.value
			}
			if c.Scheme() == "https" {
				h[hstsKey] = hstsValue
			}
			return next(c)
		}
	}
}

// cors allows the configured origins to call the API from a browser.
func cors(origins []string) echo.MiddlewareFunc {
	return middleware.CORSWithConfig(middleware.CORSConfig{
		// The callback is server to server; dev tokens are same-origin only.
		Skipper:       func(c echo.Context) bool { return c.Path() == callbackRoute || c.Path() == devTokenRoute },
		AllowOrigins:  origins,
		AllowMethods:  []string{"GET", "POST", "DELETE", "OPTIONS"},
		AllowHeaders:  []string{echo.HeaderAuthorization, echo.HeaderContentType},
		ExposeHeaders: []string{echo.HeaderXRequestID, "Retry-After"},
		MaxAge:        600,
	})
}
