package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"

	"github.com/ossgate/ossgate/callback"
	"github.com/ossgate/ossgate/ossclient"
	"github.com/ossgate/ossgate/ossemu"
	"github.com/ossgate/ossgate/policy"
	"github.com/ossgate/ossgate/static"
	"github.com/ossgate/ossgate/store"
	"github.com/ossgate/ossgate/web"
)

// shutdownGrace bounds how long in-flight requests may take to finish after
// SIGINT/SIGTERM.
const shutdownGrace = 20 * time.Second

// app is a started ossgate: listeners bound, database open.
type app struct {
	cfg Config
	log *slog.Logger
	emu *ossemu.Emulator // local mode only
	db  store.Store
	ln  net.Listener
	hs  *http.Server
	web *web.Server

	bucket    *ossclient.Client
	hooks     *webhooks    // OSSGATE_WEBHOOK_URL only
	metricsLn net.Listener // OSSGATE_METRICS_ADDR only
	metricsHS *http.Server
}

// start binds the API's listener, in local mode starts the emulator (so the
// URLs that name either are right even on port 0), opens the database and
// wires the server. The caller runs serve. On failure everything opened so
// far is closed again.
func start(ctx context.Context, cfg Config, log *slog.Logger) (*app, error) {
	a := &app{cfg: cfg, log: log}
	started := false
	defer func() {
		if !started {
			a.close() // whatever was opened before the failure
		}
	}()
	var err error
	if a.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		return nil, fmt.Errorf("OSSGATE_ADDR %s: %w", cfg.Addr, err)
	}
	if cfg.Local {
		if err = a.startEmulator(); err != nil {
			return nil, err
		}
	}
	if a.db, err = store.OpenWithOptions(ctx, a.cfg.DB, storeOptions(a.cfg)); err != nil {
		return nil, fmt.Errorf("OSSGATE_DB: %w", err)
	}
	srv, err := a.server(ctx)
	if err != nil {
		return nil, err
	}
	a.web = srv
	if a.hooks, err = newWebhooks(a.cfg, a.db, srv.Metrics(), a.log); err != nil {
		return nil, err
	}
	if cfg.MetricsAddr != "" {
		if a.metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return nil, fmt.Errorf("OSSGATE_METRICS_ADDR %s: %w", cfg.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", srv.Metrics().Handler())
		a.metricsHS = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	}
	a.hs = &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      65 * time.Second, // past ReadTimeout, so a slow body still gets its error answer
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	started = true
	return a, nil
}

func (a *app) server(ctx context.Context) (*web.Server, error) {
	c := a.cfg
	issuer, err := policy.NewIssuer(c.issuerConfig())
	if err != nil {
		return nil, err
	}
	metrics := web.NewMetrics()
	fc := c.fetcherConfig()
	fc.OnFetch = metrics.KeyLookup
	keys, err := callback.NewFetcher(fc)
	if err != nil {
		return nil, fmt.Errorf("OSSGATE_CALLBACK_KEY_URLS: %w", err)
	}
	auth := web.AuthConfig{Secret: c.JWTSecret, PublicKey: c.JWTPublicKey, Issuer: c.JWTIssuer, Audience: c.JWTAudience, Leeway: 30 * time.Second, ServiceKeys: c.ServiceKeys}
	if c.JWTJWKSURL != "" {
		jwks, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{c.JWTJWKSURL}, keyfunc.Override{
			RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
				return func(ctx context.Context, err error) {
					a.log.ErrorContext(ctx, "refreshing the JWKS failed", "url", redactURL(u), "err", redactErr(err, u))
				}
			},
		})
		if err != nil {
			return nil, fmt.Errorf("OSSGATE_JWT_JWKS_URL: %s", redactErr(err, c.JWTJWKSURL))
		}
		auth.JWKS = jwks.Keyfunc
	}
	if a.bucket, err = newOSSClient(c); err != nil {
		return nil, fmt.Errorf("OSSGATE_OSS_ENDPOINT: %w", err)
	}
	return web.New(web.Options{
		Bucket:           a.bucket,
		ConfirmObjects:   c.CallbackConfirm == "head",
		DownloadTTL:      c.DownloadTTL,
		ImageStyles:      c.ImageStyles,
		Issuer:           issuer,
		Verifier:         &callback.Verifier{Keys: keys, TicketSecret: c.TicketSecret, BodyType: string(c.CallbackBodyType)},
		Store:            a.db,
		Auth:             auth,
		DevTokens:        c.Local,
		Static:           static.FS,
		RateLimit:        c.RateLimit,
		CORSOrigins:      c.CORSOrigins,
		TrustedProxies:   c.TrustedProxies,
		UploadURL:        c.UploadURL,
		CallbackPath:     callbackPath(c.PublicURL),
		DevHosts:         devHosts(c),
		Metrics:          metrics,
		MetricsElsewhere: c.MetricsAddr != "",
		Logger:           a.log,
	})
}

// startEmulator runs the local OSS emulator and points the upload URL, the
// key allowlist and (when not set) the public URL at the bound addresses.
func (a *app) startEmulator() error {
	c := &a.cfg
	emu, err := ossemu.New(ossemu.Config{
		Bucket:      c.Bucket,
		Region:      c.Region,
		Credentials: map[string]string{c.Credentials.AccessKeyID: c.Credentials.AccessKeySecret},
		Dir:         c.LocalOSSDir,
		// Like the bucket CORS rule a real deployment needs: the demo
		// page's own origins and the configured ones, nothing else.
		CORS: []ossemu.CORSRule{ossemu.DefaultCORSRule(a.pageOrigins()...)},
		// Private, as a real bucket should be: objects are read through
		// signed links (GET /api/uploads/{id}/url).
		Logger: a.log.With("component", "ossemu"),
	})
	if err != nil {
		return fmt.Errorf("local OSS emulator: %w", err)
	}
	ln, err := emu.Listen(c.LocalOSSAddr)
	if err != nil {
		return fmt.Errorf("OSSGATE_LOCAL_OSS_ADDR %s: %w", c.LocalOSSAddr, err)
	}
	a.emu = emu
	go func() {
		if err := emu.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("local OSS emulator stopped", "err", err)
		}
	}()
	if c.uploadURLDefaulted {
		c.UploadURL = "http://" + emu.Addr()
	}
	if c.ossEndpointDefaulted {
		c.OSSEndpoint = "http://" + emu.Addr()
	}
	// Only the emulator's own key URL: its host also serves every uploaded
	// object, and an uploaded .pem must not pass as OSS's key.
	c.CallbackKeyURLs = append(c.CallbackKeyURLs, emu.PublicKeyURL())
	if c.publicURLDefaulted {
		_, port, _ := net.SplitHostPort(a.ln.Addr().String())
		c.PublicURL = "http://localhost:" + port
	}
	return nil
}

// sweepInterval is how often expired multipart sessions are aborted.
const sweepInterval = time.Minute

// sweepMultipart aborts, until ctx is done, the multipart uploads whose
// session expired without being completed (the bucket's lifecycle rule,
// see README, is the backstop for parts OSS keeps anyway).
func (a *app) sweepMultipart(ctx context.Context) {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for {
			n, err := a.web.SweepMultipart(ctx, 100)
			if err != nil {
				a.log.Warn("sweeping expired multipart uploads", "err", err)
			}
			if n > 0 {
				a.log.Info("aborted expired multipart uploads", "count", n)
			}
			if n < 100 {
				break
			}
		}
	}
}

// newOSSClient is ossgate's own client for its bucket: the emulator,
// addressed path-style, in local mode.
func newOSSClient(c Config) (*ossclient.Client, error) {
	sv := ossclient.SignatureV4
	if c.SignatureVer == policy.V1 {
		sv = ossclient.SignatureV1
	}
	return ossclient.New(ossclient.Config{
		AccessKeyID:      c.Credentials.AccessKeyID,
		AccessKeySecret:  c.Credentials.AccessKeySecret,
		SecurityToken:    c.Credentials.SecurityToken,
		Region:           c.Region,
		Bucket:           c.Bucket,
		Endpoint:         c.OSSEndpoint,
		UsePathStyle:     c.Local,
		SignatureVersion: sv,
	})
}

// pageOrigins are the origins browsers may upload to the emulator from:
// the API's own (as localhost and 127.0.0.1), the public URL's, and
// OSSGATE_CORS_ORIGINS.
func (a *app) pageOrigins() []string {
	_, port, _ := net.SplitHostPort(a.ln.Addr().String())
	origins := []string{"http://localhost:" + port, "http://127.0.0.1:" + port}
	if u, err := url.Parse(a.cfg.PublicURL); err == nil && !a.cfg.publicURLDefaulted {
		origins = append(origins, u.Scheme+"://"+u.Host)
	}
	return append(origins, a.cfg.CORSOrigins...)
}

// serve answers requests until ctx is done, then lets in-flight requests
// finish (bounded by shutdownGrace) and closes everything.
func (a *app) serve(ctx context.Context) error {
	defer a.close()
	defer a.hooks.run(ctx)() // stopped, its attempts recorded, before the database closes
	served := make(chan error, 1)
	go func() { served <- a.hs.Serve(a.ln) }()
	if a.metricsHS != nil {
		go func() {
			if err := a.metricsHS.Serve(a.metricsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.log.Error("metrics listener stopped", "err", err)
			}
		}()
		defer a.metricsHS.Close()
	}
	for _, w := range a.cfg.Warnings() {
		a.log.Warn(w)
	}
	go a.sweepMultipart(ctx)
	// What `ossgate doctor` would say of the bucket's CORS rules and the
	// clock, as warnings: it may take seconds against a slow OSS.
	go func() {
		for _, m := range startupFindings(ctx, a.cfg, a.bucket) {
			a.log.Warn(m)
		}
	}()
	a.log.Info("listening", "addr", a.ln.Addr().String(), "metrics_addr", a.metricsAddr(), "local_mode", a.cfg.Local, "bucket", a.cfg.Bucket, "db", store.Backend(a.cfg.DB))
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	a.log.Info("shutting down: finishing in-flight requests", "grace", shutdownGrace.String())
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := a.hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (a *app) close() {
	if a.emu != nil {
		a.emu.Close()
	}
	if a.db != nil {
		a.db.Close()
	}
	if a.ln != nil {
		a.ln.Close()
	}
	if a.metricsLn != nil {
		a.metricsLn.Close()
	}
}

// metricsAddr is where /metrics is served: its own listener, or the API's.
func (a *app) metricsAddr() string {
	if a.metricsLn != nil {
		return a.metricsLn.Addr().String()
	}
	return a.ln.Addr().String()
}

// callbackPath is the path OSS calls back, as it signs it: the public URL's
// path (a reverse proxy's prefix) and the route.
func callbackPath(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil {
		return "/api/uploads/callback"
	}
	return strings.TrimRight(u.EscapedPath(), "/") + "/api/uploads/callback"
}

// devHosts are the Host names, beyond loopback ones, that may mint dev
// tokens: the public URL's host, when the operator set one.
func devHosts(c Config) []string {
	if !c.Local || c.publicURLDefaulted {
		return nil
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil {
		return nil
	}
	return []string{strings.ToLower(u.Hostname())}
}

// redactErr is err's text with rawURL's password hidden, wherever the
// error quotes it.
func redactErr(err error, rawURL string) string {
	msg := err.Error()
	if u, perr := url.Parse(rawURL); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	return msg
}

// URL is where the API listens, as a browser on this machine reaches it.
func (a *app) URL() string {
	_, port, _ := net.SplitHostPort(a.ln.Addr().String())
	return "http://localhost:" + port
}

// announce tells a person where to look; it prints no secrets.
func (a *app) announce(w io.Writer) {
	fmt.Fprintf(w, "ossgate listening on %s — open %s/\n", a.ln.Addr(), a.URL())
	if a.emu != nil {
		fmt.Fprintf(w, "local mode (no OSS credentials): OSS emulator at http://%s, bucket %q, objects in %s/, records in %s\n",
			a.emu.Addr(), a.cfg.Bucket, a.cfg.LocalOSSDir, a.cfg.DB)
		fmt.Fprintln(w, "set OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET (and see README.md) to use real OSS")
	}
}
