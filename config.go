package main

import (
	"crypto"
	"crypto/rand"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ossgate/ossgate/policy"
	"github.com/ossgate/ossgate/ticket"
	"github.com/ossgate/ossgate/web"
)

// Config is every setting ossgate reads, read once at start (see API.md).
type Config struct {
	Local bool // no OSS credentials: run the embedded OSS emulator

	Credentials    policy.Credentials
	Bucket, Region string
	UploadURL      string
	Addr           string
	PublicURL      string
	SignatureVer   policy.Version

	JWTSecret    []byte
	JWTPublicKey crypto.PublicKey
	JWTJWKSURL   string
	JWTIssuer    string
	JWTAudience  string

	TicketSecret     []byte
	KeyPrefix        string
	MaxSize          int64
	AllowedTypes     []string
	PolicyTTL        time.Duration
	CallbackKeyURLs  []string
	CallbackBodyType policy.BodyType
	DB               string
	TrustedProxies   []*net.IPNet
	RateLimit        web.RateLimit
	CORSOrigins      []string

	MetricsAddr     string // "" serves /metrics on Addr
	OSSEndpoint     string // where ossgate calls OSS itself
	CallbackConfirm string // "head": HeadObject before a record is made; "off"
	DownloadTTL     time.Duration
	ImageStyles     map[string]string // nil: web.DefaultImageStyles
	ServiceKeys     map[string]web.ServiceKeyHash

	Webhooks WebhookConfig // config_webhook.go

	LocalOSSAddr string // emulator listen address (local mode)
	LocalOSSDir  string // where the emulator keeps objects (local mode)

	// In local mode these follow the addresses actually bound.
	uploadURLDefaulted, publicURLDefaulted, ossEndpointDefaulted bool

	warnings []string // logged at start: allowed, but probably not meant
}

// Warnings are settings that are allowed but probably not meant.
func (c Config) Warnings() []string {
	return c.warnings
}

const (
	defaultAllowedTypes = "image/*,video/*,audio/*,application/pdf,text/plain"
	// OSS serves its callback key under this prefix, over https.
	defaultCallbackKeyURLs = "https://gosspublic.alicdn.com/"
	localBucket            = "ossgate-local"
	localRegion            = "cn-hangzhou"
)

// loadConfig reads the environment through getenv and returns the config or
// every problem found, one error per problem, each naming its variable.
// Secret values never appear in the errors.
func loadConfig(getenv func(string) string) (Config, []error) {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	env := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}

	var c Config
	id, secret := getenv("OSS_ACCESS_KEY_ID"), getenv("OSS_ACCESS_KEY_SECRET")
	switch {
	case id == "" && secret == "":
		c.Local = true
	case id == "":
		bad("OSS_ACCESS_KEY_ID", "must be set when OSS_ACCESS_KEY_SECRET is (set both, or neither for local mode)")
	case secret == "":
		bad("OSS_ACCESS_KEY_SECRET", "must be set when OSS_ACCESS_KEY_ID is (set both, or neither for local mode)")
	}
	c.Credentials = policy.Credentials{AccessKeyID: id, AccessKeySecret: secret, SecurityToken: getenv("OSS_SESSION_TOKEN")}

	c.LocalOSSAddr = env("OSSGATE_LOCAL_OSS_ADDR", "127.0.0.1:9000")
	c.LocalOSSDir = env("OSSGATE_LOCAL_OSS_DIR", "ossgate-local-oss")
	if c.Local {
		if _, _, err := net.SplitHostPort(c.LocalOSSAddr); err != nil {
			bad("OSSGATE_LOCAL_OSS_ADDR", "must be host:port, e.g. 127.0.0.1:9000")
		}
		// Fixed ones let a developer's own SDK code talk to the emulator.
		c.Credentials = policy.Credentials{
			AccessKeyID:     env("OSSGATE_LOCAL_OSS_ACCESS_KEY_ID", "LOCAL"+randomHex(8)),
			AccessKeySecret: env("OSSGATE_LOCAL_OSS_ACCESS_KEY_SECRET", randomHex(24)),
		}
	}

	c.Bucket = env("OSS_BUCKET", "")
	c.Region = strings.TrimPrefix(env("OSS_REGION", ""), "oss-")
	if c.Local {
		if c.Bucket == "" {
			c.Bucket = localBucket
		}
		if c.Region == "" {
			c.Region = localRegion
		}
	}
	if c.Bucket == "" {
		bad("OSS_BUCKET", "required outside local mode, e.g. examplebucket")
	}
	if c.Region == "" {
		bad("OSS_REGION", "required outside local mode, e.g. cn-hangzhou")
	}

	c.UploadURL = env("OSSGATE_UPLOAD_URL", "")
	if c.UploadURL == "" {
		if c.Local {
			c.UploadURL, c.uploadURLDefaulted = "http://"+c.LocalOSSAddr, true
		} else if c.Bucket != "" && c.Region != "" {
			c.UploadURL = fmt.Sprintf("https://%s.oss-%s.aliyuncs.com", c.Bucket, c.Region)
		}
	}

	// Local mode mints tokens for anyone who asks: loopback only, unless
	// the operator says otherwise.
	defAddr := ":8080"
	if c.Local {
		defAddr = "127.0.0.1:8080"
	}
	// The API endpoint ossgate itself calls OSS at (HeadObject, multipart,
	// deletes); browsers still use UploadURL.
	c.OSSEndpoint = env("OSSGATE_OSS_ENDPOINT", "")
	switch {
	case c.OSSEndpoint != "":
		if err := checkBaseURL(c.OSSEndpoint); err != nil {
			bad("OSSGATE_OSS_ENDPOINT", "%v", err)
		}
	case c.Local:
		c.OSSEndpoint, c.ossEndpointDefaulted = "http://"+c.LocalOSSAddr, true
	case c.Region != "":
		c.OSSEndpoint = "https://oss-" + c.Region + ".aliyuncs.com"
	}
	switch c.CallbackConfirm = env("OSSGATE_CALLBACK_CONFIRM", "head"); c.CallbackConfirm {
	case "head", "off":
	default:
		bad("OSSGATE_CALLBACK_CONFIRM", "must be head or off")
	}

	c.Addr = env("OSSGATE_ADDR", defAddr)
	if host, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("OSSGATE_ADDR", "must be host:port or :port, e.g. :8080")
	} else if c.Local && !isLoopbackHost(host) {
		c.warnings = append(c.warnings, "OSSGATE_ADDR "+c.Addr+" is not a loopback address: in local mode anyone who can reach it can mint tokens and upload")
	}
	if c.MetricsAddr = env("OSSGATE_METRICS_ADDR", ""); c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("OSSGATE_METRICS_ADDR", "must be host:port or :port, e.g. 127.0.0.1:9090")
		}
	}

	c.PublicURL = strings.TrimRight(env("OSSGATE_PUBLIC_URL", ""), "/")
	if c.PublicURL == "" && c.Local {
		c.PublicURL, c.publicURLDefaulted = "http://localhost"+portSuffix(c.Addr), true
	}
	if c.PublicURL == "" {
		bad("OSSGATE_PUBLIC_URL", "required outside local mode: the base URL OSS uses to reach this service")
	}

	v, err := policy.ParseVersion(env("OSSGATE_SIGNATURE_VERSION", "v4"))
	if err != nil {
		bad("OSSGATE_SIGNATURE_VERSION", "must be v4 or v1")
	}
	c.SignatureVer = v

	loadJWT(&c, getenv, bad)

	if s := getenv("OSSGATE_TICKET_SECRET"); s != "" {
		c.TicketSecret = []byte(s)
	} else if c.Local {
		c.TicketSecret = []byte(randomHex(32))
	} else {
		bad("OSSGATE_TICKET_SECRET", "required outside local mode (at least %d bytes, the same on every instance)", ticket.MinSecretLen)
	}

	if len(c.JWTSecret) > 0 && subtle.ConstantTimeCompare(c.JWTSecret, c.TicketSecret) == 1 {
		bad("OSSGATE_TICKET_SECRET", "must differ from OSSGATE_JWT_SECRET (an upload ticket must never pass as a login token)")
	}

	c.KeyPrefix = env("OSSGATE_KEY_PREFIX", "uploads/")

	c.MaxSize = 1 << 30
	if s := env("OSSGATE_MAX_SIZE", ""); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			bad("OSSGATE_MAX_SIZE", "must be a whole number of bytes, got %q", s)
		}
		c.MaxSize = n
	}

	c.AllowedTypes = splitList(env("OSSGATE_ALLOWED_TYPES", defaultAllowedTypes))

	c.PolicyTTL = policy.DefaultTTL
	if s := env("OSSGATE_POLICY_TTL", ""); s != "" {
		d, err := time.ParseDuration(s)
		switch {
		case err != nil:
			bad("OSSGATE_POLICY_TTL", "must be a Go duration like 10m, got %q", s)
		case d <= 0:
			bad("OSSGATE_POLICY_TTL", "must be a positive duration like 10m, got %q", s)
		default:
			c.PolicyTTL = d
		}
	}

	c.DownloadTTL = web.DefaultDownloadTTL
	if s := env("OSSGATE_DOWNLOAD_TTL", ""); s != "" {
		d, err := time.ParseDuration(s)
		switch {
		case err != nil:
			bad("OSSGATE_DOWNLOAD_TTL", "must be a Go duration like 15m, got %q", s)
		case d < time.Second || d > web.MaxDownloadTTL:
			bad("OSSGATE_DOWNLOAD_TTL", "must be between 1s and 168h (7 days, OSS's limit for signed URLs)")
		default:
			c.DownloadTTL = d
		}
	}
	if s := env("OSSGATE_IMAGE_STYLES", ""); s != "" {
		c.ImageStyles = map[string]string{}
		for _, entry := range strings.Split(s, ";") {
			name, process, ok := strings.Cut(strings.TrimSpace(entry), "=")
			if entry = strings.TrimSpace(entry); entry == "" {
				continue
			}
			if !ok {
				bad("OSSGATE_IMAGE_STYLES", "%q is not name=processing, e.g. thumb=image/resize,m_fill,w_256,h_256", entry)
				break
			}
			c.ImageStyles[strings.TrimSpace(name)] = strings.TrimSpace(process)
		}
		if err := web.CheckImageStyles(c.ImageStyles); err != nil {
			bad("OSSGATE_IMAGE_STYLES", "%v", err)
		}
	}

	for _, entry := range splitList(env("OSSGATE_SERVICE_KEYS", "")) {
		name, sum, ok := strings.Cut(entry, ":")
		h, err := web.ParseServiceKeyHash(sum)
		switch {
		case !ok || name == "" || len(name) > 64:
			bad("OSSGATE_SERVICE_KEYS", "entries are name:sha256-hex, as `ossgate service-key NAME` prints them")
		case err != nil:
			bad("OSSGATE_SERVICE_KEYS", "key %s: %v", name, err)
		default:
			if c.ServiceKeys == nil {
				c.ServiceKeys = map[string]web.ServiceKeyHash{}
			}
			c.ServiceKeys[name] = h
		}
	}

	if getenv("OSSGATE_CALLBACK_KEY_HOSTS") != "" {
		bad("OSSGATE_CALLBACK_KEY_HOSTS", "was replaced by OSSGATE_CALLBACK_KEY_URLS, which takes exact key URLs or https://host/path/ prefixes (e.g. https://gosspublic.alicdn.com/)")
	}
	c.CallbackKeyURLs = splitList(env("OSSGATE_CALLBACK_KEY_URLS", defaultCallbackKeyURLs))

	switch env("OSSGATE_CALLBACK_BODY_TYPE", "json") {
	case "json":
		c.CallbackBodyType = policy.BodyJSON
	case "form":
		c.CallbackBodyType = policy.BodyForm
	default:
		bad("OSSGATE_CALLBACK_BODY_TYPE", "must be json or form")
	}

	c.DB = env("OSSGATE_DB", "ossgate.db")

	for _, s := range splitList(env("OSSGATE_TRUSTED_PROXIES", "")) {
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			bad("OSSGATE_TRUSTED_PROXIES", "%q is not a CIDR like 100.64.0.0/10", s)
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, n)
	}

	rl, err := parseRateLimit(env("OSSGATE_RATE_LIMIT", "20/s,burst=40"))
	if err != nil {
		bad("OSSGATE_RATE_LIMIT", "%v", err)
	}
	c.RateLimit = rl

	c.CORSOrigins = splitList(env("OSSGATE_CORS_ORIGINS", ""))
	for _, o := range c.CORSOrigins {
		if o != "*" && checkBaseURL(o) != nil {
			bad("OSSGATE_CORS_ORIGINS", "%q is not an origin like https://app.example.com", redactURL(o))
		}
		if o == "*" && !c.Local {
			c.warnings = append(c.warnings, "OSSGATE_CORS_ORIGINS=* lets every web site call the API with a token it holds; list your app's origins instead")
		}
	}
	loadWebhookConfig(&c, env, bad)

	if c.JWTJWKSURL != "" && c.JWTAudience == "" {
		c.warnings = append(c.warnings, "OSSGATE_JWT_AUDIENCE is not set: any token your identity provider signs, for any application, is accepted")
	}
	errs = append(errs, c.validateLibraries(reported(errs))...)
	return c, errs
}

// loadJWT reads how callers' tokens are verified: exactly one of a shared
// secret, a PEM public key file or a JWKS URL (local mode generates a secret).
func loadJWT(c *Config, getenv func(string) string, bad func(string, string, ...any)) {
	secret, keyFile, jwks := getenv("OSSGATE_JWT_SECRET"), strings.TrimSpace(getenv("OSSGATE_JWT_PUBLIC_KEY_FILE")), strings.TrimSpace(getenv("OSSGATE_JWT_JWKS_URL"))
	c.JWTIssuer = strings.TrimSpace(getenv("OSSGATE_JWT_ISSUER"))
	c.JWTAudience = strings.TrimSpace(getenv("OSSGATE_JWT_AUDIENCE"))
	set := 0
	for _, s := range []string{secret, keyFile, jwks} {
		if s != "" {
			set++
		}
	}
	switch {
	case set > 1:
		bad("OSSGATE_JWT_SECRET", "set only one of OSSGATE_JWT_SECRET, OSSGATE_JWT_PUBLIC_KEY_FILE, OSSGATE_JWT_JWKS_URL")
		return
	case set == 0 && c.Local:
		c.JWTSecret = []byte(randomHex(32))
		return
	case set == 0:
		bad("OSSGATE_JWT_SECRET", "one of OSSGATE_JWT_SECRET, OSSGATE_JWT_PUBLIC_KEY_FILE, OSSGATE_JWT_JWKS_URL is required outside local mode")
		return
	}
	switch {
	case secret != "":
		if len(secret) < 32 {
			bad("OSSGATE_JWT_SECRET", "must be at least 32 bytes for HS256 (it is %d)", len(secret))
		}
		c.JWTSecret = []byte(secret)
	case keyFile != "":
		key, err := readPublicKey(keyFile)
		if err != nil {
			bad("OSSGATE_JWT_PUBLIC_KEY_FILE", "%v", err)
		}
		c.JWTPublicKey = key
	default:
		u, err := url.Parse(jwks)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("OSSGATE_JWT_JWKS_URL", "must be an http(s) URL")
		}
		c.JWTJWKSURL = jwks
	}
}

// readPublicKey loads a PEM public key (PKIX "PUBLIC KEY", or a certificate)
// of a type a pinned JWT algorithm exists for: RSA, ECDSA P-256, Ed25519.
func readPublicKey(path string) (crypto.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", path, errors.Unwrap(err))
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s holds no PEM block", path)
	}
	var key crypto.PublicKey
	switch block.Type {
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: bad certificate: %v", path, err)
		}
		key = cert.PublicKey
	default:
		if key, err = x509.ParsePKIXPublicKey(block.Bytes); err != nil {
			if key, err = jwt.ParseRSAPublicKeyFromPEM(data); err != nil {
				return nil, fmt.Errorf("%s: not a PEM public key", path)
			}
		}
	}
	if _, err := web.SigningMethodFor(key); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return key, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseRateLimit reads "20/s,burst=40"; the burst defaults to twice the rate.
func parseRateLimit(s string) (web.RateLimit, error) {
	var rl web.RateLimit
	parts := strings.Split(s, ",")
	rate, ok := strings.CutSuffix(strings.TrimSpace(parts[0]), "/s")
	n, err := strconv.ParseFloat(rate, 64)
	if !ok || err != nil || n <= 0 || n > 1e6 {
		return rl, fmt.Errorf("want requests per second like 20/s,burst=40, got %q", s)
	}
	rl.PerSecond, rl.Burst = n, int(n*2)
	if rl.Burst < 1 {
		rl.Burst = 1
	}
	for _, p := range parts[1:] {
		b, ok := strings.CutPrefix(strings.TrimSpace(p), "burst=")
		v, err := strconv.Atoi(b)
		if !ok || err != nil || v < 1 || v > 1e6 {
			return rl, fmt.Errorf("want requests per second like 20/s,burst=40, got %q", s)
		}
		rl.Burst = v
	}
	return rl, nil
}

func checkBaseURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("%q is not an http(s) base URL like https://example.com", redactURL(s))
	case u.User != nil:
		return fmt.Errorf("%q must not hold a user name or password", redactURL(s))
	}
	return nil
}

// redactURL hides the password of a URL (and anything that might be one,
// when s does not parse), for errors and logs.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		if at := strings.LastIndex(s, "@"); at >= 0 {
			return "xxxxx" + s[at:]
		}
		return s
	}
	return u.Redacted()
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func portSuffix(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "80" {
		return ""
	}
	return ":" + port
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}
