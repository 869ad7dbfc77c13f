// Package web wires ossgate's HTTP API with Echo: routes, middleware,
// request and response shapes, and the mapping of core errors to the API's
// error codes. Business rules live in policy, callback and store.
package web

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/ossgate/ossgate/callback"
	"github.com/ossgate/ossgate/ossclient"
	"github.com/ossgate/ossgate/policy"
	"github.com/ossgate/ossgate/store"
)

// callbackRoute is where OSS posts upload callbacks.
const callbackRoute = "/api/uploads/callback"

// devTokenRoute mints tokens in local mode.
const devTokenRoute = "/api/dev/token"

// Body limits of API.md.
const (
	apiBodyLimit      = 64 << 10
	callbackBodyLimit = 1 << 20
)

// Options are the parts the server is wired from.
type Options struct {
	Issuer   *policy.Issuer
	Verifier *callback.Verifier
	Store    store.Store
	Auth     AuthConfig

	// Bucket is ossgate's own client of its bucket (HeadObject, multipart,
	// deletes, download links). Required.
	Bucket ossclient.Bucket
	// ConfirmObjects makes every callback wait for a HeadObject that shows
	// the object exists and is what the callback says
	// (OSSGATE_CALLBACK_CONFIRM=head).
	ConfirmObjects bool
	// DownloadTTL is how long a signed download link works, at most
	// MaxDownloadTTL. If zero, DefaultDownloadTTL.
	DownloadTTL time.Duration
	// ImageStyles names the image processing a client may ask for by name
	// (GET /api/uploads/{id}/url?style=NAME); see CheckImageStyles. If nil,
	// DefaultImageStyles.
	ImageStyles map[string]string
	// MultipartTTL is how long a multipart upload may stay open before the
	// sweeper aborts it. If zero, DefaultMultipartTTL.
	MultipartTTL time.Duration
	// PartURLTTL is how long a presigned part URL is valid. If zero,
	// Issuer's policy TTL.
	PartURLTTL time.Duration

	// DevTokens enables POST /api/dev/token (local mode only), signing HS256
	// tokens with Auth.Secret.
	DevTokens bool

	Static fs.FS // the demo page; nil serves none

	RateLimit      RateLimit    // per user on the policy endpoint, per client IP elsewhere; zero: none
	CORSOrigins    []string     // browser origins allowed to call the API; none: same origin only
	TrustedProxies []*net.IPNet // whose X-Forwarded-For is believed
	UploadURL      string       // where browsers post forms, for the page's CSP

	// CallbackPath is the path OSS calls back, as it signs it: the public
	// URL's path followed by /api/uploads/callback. A proxy that strips a
	// path prefix changes the path ossgate sees, not the one OSS signed.
	// If empty, /api/uploads/callback.
	CallbackPath string

	// DevHosts are the Host names, beside loopback ones, that
	// POST /api/dev/token answers (the public URL's host in local mode).
	DevHosts []string

	Metrics *Metrics // nil: a fresh registry
	// MetricsElsewhere leaves /metrics off this server, for a deployment
	// that serves Metrics.Handler on a listener of its own.
	MetricsElsewhere bool
	Logger           *slog.Logger
	Now              func() time.Time
}

// Server is the configured Echo instance with its dependencies.
type Server struct {
	*echo.Echo
	opt   Options
	auth  *authenticator
	chain echo.HandlerFunc // the middleware of every request around the route's handler
}

// New builds the HTTP server. It does not listen.
func New(opt Options) (*Server, error) {
	if opt.Issuer == nil || opt.Verifier == nil || opt.Store == nil || opt.Bucket == nil {
		return nil, errors.New("web: Issuer, Verifier, Store and Bucket are required")
	}
	if opt.DevTokens && len(opt.Auth.Secret) == 0 {
		return nil, errors.New("web: dev tokens need an HS256 secret")
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Metrics == nil {
		opt.Metrics = NewMetrics()
	}
	auth, err := newAuthenticator(opt.Auth)
	if err != nil {
		return nil, err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(opt.Logger)
	e.IPExtractor = ipExtractor(opt.TrustedProxies)
	if opt.DownloadTTL == 0 {
		opt.DownloadTTL = DefaultDownloadTTL
	}
	if opt.DownloadTTL < 0 || opt.DownloadTTL > MaxDownloadTTL {
		return nil, fmt.Errorf("web: DownloadTTL %v is not between 1s and %v", opt.DownloadTTL, MaxDownloadTTL)
	}
	if opt.ImageStyles == nil {
		opt.ImageStyles = DefaultImageStyles
	}
	if err := CheckImageStyles(opt.ImageStyles); err != nil {
		return nil, fmt.Errorf("web: ImageStyles: %w", err)
	}
	if opt.MultipartTTL == 0 {
		opt.MultipartTTL = DefaultMultipartTTL
	}
	if opt.PartURLTTL == 0 {
		opt.PartURLTTL = opt.Issuer.TTL()
	}
	if opt.CallbackPath == "" {
		opt.CallbackPath = callbackRoute
	}
	s := &Server{Echo: e, opt: opt, auth: auth}

	// Middleware of every request. Not e.Use: Echo applies that chain on
	// every request anew, one closure per middleware (see ServeHTTP).
	var every []echo.MiddlewareFunc
	use := func(m echo.MiddlewareFunc) { every = append(every, m) }
	use(requestID())
	use(requestLogger(opt.Logger))
	use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableStackAll: true,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			opt.Logger.Error("panic", "err", err, "stack", string(stack), "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
			return err
		},
	}))

	routes := map[string]bool{} // filled below, read-only once New returns
	use(opt.Metrics.middleware(func(p string) bool { return routes[p] }))
	use(secureHeaders(opt.UploadURL))
	if len(opt.CORSOrigins) > 0 {
		use(cors(opt.CORSOrigins))
	}
	perIP, perUser, perCallbackIP := noLimit, noLimit, noLimit
	authFailures := allowAll
	if rl := opt.RateLimit; rl.PerSecond > 0 {
		// The routes below with a per-user limit skip the per-IP one (many
		// users may share one NAT address); their failed authentications
		// count per IP instead, so bad tokens are limited too.
		unlimited := func(c echo.Context) bool {
			switch c.Path() {
			case "/healthz", "/readyz", "/metrics", "/api/uploads/policy", "/api/uploads/presign", callbackRoute:
				return true
			}
			return false
		}
		perIP = rateLimiter("ip", rl, byIP, unlimited, opt.Metrics)
		perUser = rateLimiter("user", rl, byUser, nil, opt.Metrics)
		perCallbackIP = rateLimiter("callback_ip", RateLimit{rl.PerSecond * callbackRateFactor, rl.Burst * callbackRateFactor}, byIP, nil, opt.Metrics)
		authFailures = failureLimiter("auth_failure_ip", rl, opt.Metrics)
	}
	use(perIP)
	s.chain = runRoute
	for i := len(every) - 1; i >= 0; i-- {
		s.chain = every[i](s.chain)
	}

	// HEAD too: load balancers (Alibaba Cloud SLB by default) probe with it.
	e.Match([]string{http.MethodGet, http.MethodHead}, "/healthz", s.healthz)
	e.Match([]string{http.MethodGet, http.MethodHead}, "/readyz", s.readyz)
	if !opt.MetricsElsewhere {
		e.GET("/metrics", echo.WrapHandler(opt.Metrics.Handler()))
	}
	e.GET("/openapi.yaml", s.openAPI)

	// Middleware is attached per route, not per group: an Echo group with
	// middleware also catches unknown paths under it, which would turn
	// 404/405 into 401.
	e.POST(callbackRoute, s.callback, perCallbackIP, bodyLimit(callbackBodyLimit))
	authn := auth.middleware(authFailures)
	// Reading and managing records: a user's own, or any user's for the
	// app's backend with a service key.
	reader := auth.userOrService(authn, authFailures)
	e.POST("/api/uploads/policy", s.issuePolicy, bodyLimit(apiBodyLimit), authn, perUser)
	e.POST("/api/uploads/presign", s.presign, bodyLimit(apiBodyLimit), authn, perUser)
	e.POST("/api/uploads/confirm", s.confirm, bodyLimit(apiBodyLimit), authn, perUser)
	mp := "/api/uploads/multipart"
	e.POST(mp, s.createMultipart, bodyLimit(apiBodyLimit), authn, perUser)
	e.GET(mp+"/:uploadId", s.multipartStatus, authn)
	e.POST(mp+"/:uploadId/parts", s.signParts, bodyLimit(apiBodyLimit), authn)
	e.POST(mp+"/:uploadId/complete", s.completeMultipart, bodyLimit(apiBodyLimit), authn)
	e.DELETE(mp+"/:uploadId", s.abortMultipart, authn)
	e.GET("/api/uploads", s.listUploads, reader)
	e.GET("/api/uploads/:id", s.getUpload, reader)
	e.GET("/api/uploads/:id/url", s.downloadURL, reader)
	e.DELETE("/api/uploads/:id", s.deleteUpload, reader)
	if opt.DevTokens {
		e.POST(devTokenRoute, s.devToken, bodyLimit(apiBodyLimit))
	}
	s.registerDoctor()
	s.registerUppy(authn)
	if opt.Static != nil {
		s.serveStatic(opt.Static)
	}
	for _, r := range e.Routes() {
		routes[r.Path] = true
	}
	return s, nil
}

// ServeHTTP is Echo's own, except that the middleware chain around the
// route's handler was composed once, in New.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := s.Echo.AcquireContext()
	c.Reset(r, w)
	s.Echo.Router().Find(r.Method, echo.GetPath(r), c)
	if err := s.chain(c); err != nil {
		s.Echo.HTTPErrorHandler(err, c)
	}
	s.Echo.ReleaseContext(c)
}

// runRoute calls the handler the router found (or Echo's 404/405 one).
func runRoute(c echo.Context) error { return c.Handler()(c) }

// Metrics are the server's Prometheus series.
func (s *Server) Metrics() *Metrics { return s.opt.Metrics }

func noLimit(next echo.HandlerFunc) echo.HandlerFunc { return next }

// bodyLimit refuses bodies over n bytes with 413 body_too_large, whether
// the client announced the length or streams it.
func bodyLimit(n int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.ContentLength > n {
				// Close the connection rather than let net/http read (or wait
				// for) a body nobody will use.
				c.Response().Header().Set(echo.HeaderConnection, "close")
				return errBodyTooBig
			}
			r.Body = http.MaxBytesReader(c.Response(), r.Body, n)
			return next(c)
		}
	}
}

// healthzAnswer is what c.JSON would write for {"status":"ok"}, made once.
var healthzAnswer = []byte("{\"status\":\"ok\"}\n")

func (s *Server) healthz(c echo.Context) error {
	return c.JSONBlob(http.StatusOK, healthzAnswer)
}

func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := contextTimeout(c, 2*time.Second)
	defer cancel()
	if err := s.opt.Store.Ping(ctx); err != nil {
		s.opt.Logger.Warn("readiness: database unreachable", "err", err)
		return errUnavailable
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// newID is a record id: 26 lowercase base32 characters, 130 random bits.
func newID() string {
	const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	var b [26]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[b[i]&31]
	}
	return string(b[:])
}
