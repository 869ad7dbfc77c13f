package policy

import (
	"crypto/rand"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/ossgate/ossgate/ticket"
)

// Issuer turns upload requests into signed POST forms under ossgate's
// rules. It is safe for concurrent use.
type Issuer struct {
	cfg          IssuerConfig // defaults applied; slices copied
	allowedTypes []mediaRange
	signer       *Signer
	tickets      *ticket.Signer
}

// NewIssuer validates cfg ([IssuerConfig.Validate]), applies its defaults
// and returns an Issuer. The error is Validate's: one *FieldError per
// problem, one per line.
func NewIssuer(cfg IssuerConfig) (*Issuer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	types := make([]mediaRange, 0, len(cfg.AllowedTypes))
	for _, t := range cfg.AllowedTypes {
		r, _ := parseMediaRange(t)
		types = append(types, r)
	}
	cfg.CallbackBodyType = orDefault(cfg.CallbackBodyType, BodyJSON)
	cfg.TicketGrace = orDefault(cfg.TicketGrace, DefaultTicketGrace)
	cfg.TTL = orDefault(cfg.TTL, DefaultTTL)
	cfg.DefaultVersion = orDefault(cfg.DefaultVersion, V4)
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	cfg.TicketSecret = slices.Clone(cfg.TicketSecret)
	cfg.AllowedTypes = slices.Clone(cfg.AllowedTypes)
	return &Issuer{cfg: cfg, allowedTypes: types, signer: NewSigner(cfg.Credentials, cfg.Region), tickets: ticket.NewSigner(cfg.TicketSecret)}, nil
}

// orDefault returns v, or def when v is zero.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Format prints the Issuer without its secrets, for every fmt verb.
func (is *Issuer) Format(f fmt.State, verb rune) {
	fmt.Fprint(f, "policy.Issuer{")
	is.cfg.Format(f, verb)
	fmt.Fprint(f, "}")
}

// upload is what Issue and Presign decide before signing.
type upload struct {
	ticket      string
	contentType string
	version     Version
	key         string
	expires     time.Time
	callback    string   // the encoded callback parameter
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
	names := make([]string, 0, len(req.Vars))
	for n := range req.Vars {
		names = append(names, n)
	}
	slices.Sort(names)
	claims := ticket.Claims{
		User:        user,
		Bucket:      is.cfg.Bucket,
		Key:         key,
		Size:        req.Size,
		ContentType: ct,
		Filename:    req.Filename,
		BodyType:    string(is.cfg.CallbackBodyType),
		VarNames:    names,
		ExpiresAt:   exp.Add(is.cfg.TicketGrace),
	}
	if inDir {
		key = strings.TrimSuffix(key, path.Ext(key)) + "/"
		claims.Key, claims.KeyPrefix = "", key
	}
	tk, err := is.tickets.Sign(claims, now)
	if err != nil {
		return nil, fmt.Errorf("policy: signing ticket: %w", err)
	}
	return &upload{
		ticket:      tk,
		contentType: ct,
		version:     v,
		key:         key,
		expires:     exp,
		varNames:    names,
		// The names are checked var names (check), sorted and unique.
		callback: encodeCallback(is.cfg.CallbackURL, is.cfg.CallbackBodyType, tk, names),
	}, nil
}

// Issue validates req and returns the signed form for user (the caller's
// JWT sub) at time now. A request the rules refuse gives an *Error; any other
// error is a fault of the server (randomness, signing).
//
// The policy binds, in this order: the bucket, the exact key,
// x-oss-forbid-overwrite "true" (the upload never replaces an existing
// object), content-length-range 1..req.Size, Content-Type,
// success_action_status "200", the callback, each var (sorted), then the
// signing conditions. The callback body carries a ticket binding user,
// bucket, key, size, content type, filename, the callback body's format and
// the var names until the policy's expiry plus TicketGrace.
func (is *Issuer) Issue(user string, req Request, now time.Time) (*SignedUpload, error) {
	u, err := is.prepare(user, req, now, false)
	if err != nil {
		return nil, err
	}
	p := New(u.expires)
	p.SetBucket(is.cfg.Bucket)
	p.SetKey(u.key)
	p.SetForbidOverwrite(true)
	p.SetContentLengthRange(1, req.Size)
	p.SetContentType(u.contentType)
	p.SetSuccessActionStatus("200")
	p.setEncodedCallback(u.callback)
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
		Ticket:    u.ticket,
		Version:   u.version,
	}, nil
}

// Presign is Issue for clients that cannot send a multipart form: it returns
// a presigned PUT URL (Method "PUT", no fields) and the headers the client
// must send with the file as the body: Content-Type, x-oss-forbid-overwrite
// "true", x-oss-callback and, with vars, x-oss-callback-var. The signature
// binds the key and all those headers; the size cannot be bound in a
// presigned URL, so the callback's ticket check (1 ≤ size ≤ declared) is
// what refuses an empty or larger file.
func (is *Issuer) Presign(user string, req Request, now time.Time) (*SignedUpload, error) {
	u, err := is.prepare(user, req, now, false)
	if err != nil {
		return nil, err
	}
	cb := u.callback
	headers := map[string]string{"Content-Type": u.contentType, forbidOverwrite: "true", "x-oss-callback": cb}
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
		Ticket:    u.ticket,
		Version:   u.version,
	}, nil
}
