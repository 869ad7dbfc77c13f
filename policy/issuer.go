package policy

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/ossgate/ossgate/ticket"
)

// DefaultTicketGrace is how long a ticket outlives its policy when
// IssuerConfig.TicketGrace is 0: an upload that starts just before the policy
// expires may still be arriving, and OSS calls back only once it is stored.
const DefaultTicketGrace = 30 * time.Minute

// MaxTTL is the longest policy lifetime NewIssuer accepts.
const MaxTTL = 24 * time.Hour

// IssuerConfig configures an [Issuer].
type IssuerConfig struct {
	Credentials      Credentials
	Region, Bucket   string        // region with or without "oss-"
	UploadURL        string        // where the browser POSTs (returned as Upload.URL)
	CallbackURL      string        // PUBLIC_URL + "/api/uploads/callback"
	CallbackBodyType BodyType      // BodyJSON when empty
	TicketSecret     []byte        // at least ticket.MinSecretLen bytes
	TicketGrace      time.Duration // ticket expiry = policy expiry + grace; 0 means DefaultTicketGrace
	KeyPrefix        string        // see ObjectKey; "" or ending in "/"
	MaxSize          int64         // largest upload accepted, bytes
	AllowedTypes     []string      // "image/jpeg", "image/*", "*/*"
	TTL              time.Duration // policy lifetime, 1s..MaxTTL
	DefaultVersion   Version       // V4 when empty
	Rand             io.Reader     // crypto/rand.Reader when nil; must be safe for concurrent use
}

// Format prints the config without the access key secret, STS token or
// ticket secret, for every fmt verb.
func (c IssuerConfig) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "policy.IssuerConfig{Credentials:%v Region:%s Bucket:%s UploadURL:%s CallbackURL:%s "+
		"CallbackBodyType:%s TicketSecret:%s TicketGrace:%v KeyPrefix:%s MaxSize:%d AllowedTypes:%v TTL:%v DefaultVersion:%s}",
		c.Credentials, c.Region, c.Bucket, c.UploadURL, c.CallbackURL, c.CallbackBodyType,
		redact(string(c.TicketSecret)), c.TicketGrace, c.KeyPrefix, c.MaxSize, c.AllowedTypes, c.TTL, c.DefaultVersion)
}

// Issuer turns upload requests into signed POST forms under ossgate's
// rules. It is safe for concurrent use.
type Issuer struct {
	cfg          IssuerConfig // defaults applied; slices copied
	allowedTypes []mediaRange
	signer       *Signer
}

// NewIssuer validates cfg, applies its defaults and returns an Issuer. The
// error lists every problem, one per line, naming the IssuerConfig field.
func NewIssuer(cfg IssuerConfig) (*Issuer, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("policy: "+format, args...)) }

	if cfg.Credentials.AccessKeyID == "" || cfg.Credentials.AccessKeySecret == "" {
		bad("Credentials need both AccessKeyID and AccessKeySecret")
	}
	if !validRegion(StandardRegion(cfg.Region)) {
		bad("Region %q is not a region such as cn-hangzhou", clip(cfg.Region, 64))
	}
	if !validBucket(cfg.Bucket) {
		bad("Bucket %q is not a valid bucket name (3-63 of a-z 0-9 -, starting and ending with a letter or digit)", clip(cfg.Bucket, 64))
	}
	if err := checkHTTPURL(cfg.UploadURL); err != nil {
		bad("UploadURL %v", err)
	}
	if err := checkHTTPURL(cfg.CallbackURL); err != nil {
		bad("CallbackURL %v", err)
	}
	switch cfg.CallbackBodyType {
	case "":
		cfg.CallbackBodyType = BodyJSON
	case BodyJSON, BodyForm:
	default:
		bad("CallbackBodyType %q is neither %s nor %s", clip(string(cfg.CallbackBodyType), 64), BodyJSON, BodyForm)
	}
	if len(cfg.TicketSecret) < ticket.MinSecretLen {
		bad("TicketSecret must be at least %d bytes", ticket.MinSecretLen)
	}
	switch {
	case cfg.TicketGrace == 0:
		cfg.TicketGrace = DefaultTicketGrace
	case cfg.TicketGrace < 0:
		bad("TicketGrace must not be negative")
	}
	if err := checkPrefix(cfg.KeyPrefix); err != nil {
		errs = append(errs, err)
	}
	if cfg.MaxSize <= 0 {
		bad("MaxSize must be positive")
	}
	var types []mediaRange
	for _, t := range cfg.AllowedTypes {
		r, ok := parseMediaRange(t)
		if !ok {
			bad("AllowedTypes entry %q is not type/subtype, type/* or */*", clip(t, 64))
			continue
		}
		types = append(types, r)
	}
	if len(cfg.AllowedTypes) == 0 {
		bad("AllowedTypes is empty: no upload could be accepted")
	}
	if cfg.TTL < time.Second || cfg.TTL > MaxTTL {
		bad("TTL %v is not between 1s and %v", cfg.TTL, MaxTTL)
	}
	switch cfg.DefaultVersion {
	case "":
		cfg.DefaultVersion = V4
	case V4, V1:
	default:
		bad("DefaultVersion %q is neither v4 nor v1", clip(string(cfg.DefaultVersion), 32))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	cfg.TicketSecret = slices.Clone(cfg.TicketSecret)
	cfg.AllowedTypes = slices.Clone(cfg.AllowedTypes)
	return &Issuer{cfg: cfg, allowedTypes: types, signer: NewSigner(cfg.Credentials, cfg.Region)}, nil
}

// Format prints the Issuer without its secrets, for every fmt verb.
func (is *Issuer) Format(f fmt.State, verb rune) {
	fmt.Fprint(f, "policy.Issuer{")
	is.cfg.Format(f, verb)
	fmt.Fprint(f, "}")
}

func validRegion(r string) bool {
	if r == "" || len(r) > 64 {
		return false
	}
	for i := 0; i < len(r); i++ {
		if c := r[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 || b[0] == '-' || b[len(b)-1] == '-' {
		return false
	}
	for i := 0; i < len(b); i++ {
		if c := b[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func checkHTTPURL(s string) error {
	if s == "" {
		return errors.New("is empty")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", clip(s, 128))
	}
	return nil
}

// upload is what Issue and Presign decide before signing.
type upload struct {
	contentType string
	version     Version
	key         string
	expires     time.Time
	callback    Callback
	varNames    []string // sorted
}

// prepare validates req and chooses the key, expiry, ticket and callback of
// one upload for user at now. With inDir, the key is a directory of its own
// (the object key without its extension, and "/") and the ticket allows any
// plain name in it.
func (is *Issuer) prepare(user string, req Request, now time.Time, inDir bool) (*upload, error) {
	ct, v, verr := is.check(req)
	if verr != nil {
		return nil, verr
	}
	if user == "" {
		return nil, errors.New("policy: Issue needs a user")
	}
	key, err := ObjectKey(is.cfg.KeyPrefix, user, req.Filename, now, is.cfg.Rand)
	if err != nil {
		return nil, err
	}
	exp := now.Add(is.cfg.TTL).UTC().Truncate(time.Second)
	claims := ticket.Claims{
		User:        user,
		Bucket:      is.cfg.Bucket,
		Key:         key,
		Size:        req.Size,
		ContentType: ct,
		Filename:    req.Filename,
		ExpiresAt:   exp.Add(is.cfg.TicketGrace),
	}
	if inDir {
		key = strings.TrimSuffix(key, path.Ext(key)) + "/"
		claims.Key, claims.KeyPrefix = "", key
	}
	tk, err := ticket.Sign(is.cfg.TicketSecret, claims, now)
	if err != nil {
		return nil, fmt.Errorf("policy: signing ticket: %w", err)
	}
	names := make([]string, 0, len(req.Vars))
	for n := range req.Vars {
		names = append(names, n)
	}
	slices.Sort(names)
	return &upload{
		contentType: ct,
		version:     v,
		key:         key,
		expires:     exp,
		varNames:    names,
		callback: Callback{
			URL:      is.cfg.CallbackURL,
			Body:     CallbackBody(is.cfg.CallbackBodyType, tk, names),
			BodyType: string(is.cfg.CallbackBodyType),
		},
	}, nil
}

// Issue validates req and returns the signed form for user (the caller's
// JWT sub) at time now. A request the rules refuse gives an *Error; any other
// error is a fault of the server (randomness, signing).
//
// The policy binds, in this order: the bucket, the exact key,
// content-length-range 1..req.Size, Content-Type, success_action_status
// "200", the callback, each var (sorted), then the signing conditions. The
// callback body carries a ticket binding user, bucket, key, size, content
// type and filename until the policy's expiry plus TicketGrace.
func (is *Issuer) Issue(user string, req Request, now time.Time) (*SignedUpload, error) {
	u, err := is.prepare(user, req, now, false)
	if err != nil {
		return nil, err
	}
	p := New(u.expires)
	p.SetBucket(is.cfg.Bucket)
	p.SetKey(u.key)
	p.SetContentLengthRange(1, req.Size)
	p.SetContentType(u.contentType)
	p.SetSuccessActionStatus("200")
	if err := p.SetCallback(u.callback); err != nil {
		return nil, err
	}
	for _, n := range u.varNames {
		p.SetVar(n, req.Vars[n])
	}
	fields, err := is.signer.Sign(p, u.version, now)
	if err != nil {
		return nil, err
	}
	return &SignedUpload{
		Method:    "POST",
		URL:       is.cfg.UploadURL,
		Fields:    fields,
		Headers:   map[string]string{},
		Key:       u.key,
		ExpiresAt: u.expires,
		MaxSize:   req.Size,
		Version:   u.version,
	}, nil
}

// Presign is Issue for clients that cannot send a multipart form: it returns
// a presigned PUT URL (Method "PUT", no fields) and the headers the client
// must send with the file as the body: Content-Type, x-oss-callback and,
// with vars, x-oss-callback-var. The signature binds the key, the content
// type and the callback; the size cannot be bound in a presigned URL, so the
// callback's ticket check (size ≤ declared) is what refuses a larger file.
func (is *Issuer) Presign(user string, req Request, now time.Time) (*SignedUpload, error) {
	u, err := is.prepare(user, req, now, false)
	if err != nil {
		return nil, err
	}
	cb, err := u.callback.Encode()
	if err != nil {
		return nil, err
	}
	headers := map[string]string{"Content-Type": u.contentType, "x-oss-callback": cb}
	if len(u.varNames) > 0 {
		headers["x-oss-callback-var"] = encodeCallbackVars(u.varNames, req.Vars)
	}
	url, err := PresignPut(is.cfg.Credentials, is.cfg.Region, is.cfg.Bucket, u.key, is.cfg.UploadURL, headers, u.version, now, u.expires.Sub(now))
	if err != nil {
		return nil, err
	}
	return &SignedUpload{
		Method:    "PUT",
		URL:       url,
		Headers:   headers,
		Key:       u.key,
		ExpiresAt: u.expires,
		MaxSize:   req.Size,
		Version:   u.version,
	}, nil
}
