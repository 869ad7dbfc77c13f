package ossemu

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Query parameters of presigned URLs.
const (
	qV4Version    = "x-oss-signature-version"
	qV4Credential = "x-oss-credential"
	qV4Date       = "x-oss-date"
	qV4Expires    = "x-oss-expires"
	qV4Additional = "x-oss-additional-headers"
	qV4Signature  = "x-oss-signature"
	qV4Token      = "x-oss-security-token"
	qV1KeyID      = "OSSAccessKeyId"
	qV1Expires    = "Expires"
	qV1Signature  = "Signature"
	qV1Token      = "security-token"
)

const (
	unsignedPayload = "UNSIGNED-PAYLOAD" // the only x-oss-content-sha256 OSS takes
	maxV4Expires    = 7 * 24 * 3600      // seconds; OSS refuses longer V4 URLs
	// How far x-oss-date may be ahead of OSS's clock before a URL is refused
	// as not yet valid.
	maxV4ClockSkew = 15 * time.Minute
)

// v1SignedParams are the sub-resources V1 signs (besides any x-oss-*
// parameter), as listed by OSS and its SDKs; other parameters are unsigned.
var v1SignedParams = map[string]bool{
	"acl": true, "bucketInfo": true, "location": true, "stat": true, "delete": true, "append": true,
	"tagging": true, "objectMeta": true, "uploads": true, "uploadId": true, "partNumber": true,
	"security-token": true, "position": true, "response-content-type": true,
	"response-content-language": true, "response-expires": true, "response-cache-control": true,
	"response-content-disposition": true, "response-content-encoding": true, "restore": true,
	"callback": true, "callback-var": true, "versions": true, "versioning": true, "versionId": true,
	"sequential": true, "continuation-token": true, "regionList": true, "cloudboxes": true, "symlink": true,
	// Sub-resources of the bucket operations the emulator serves, which the
	// SDK signs as SubResource.
	"cors": true,
}

// parseQuery decodes a query string ("+" is a space, as the SDKs sign it).
// OSS signs one value per name, so a repeated name is refused rather than
// guessed at.
func parseQuery(raw string) (map[string]string, *ossError) {
	q := map[string]string{}
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, kerr := url.QueryUnescape(k)
		v, verr := url.QueryUnescape(v)
		if kerr != nil || verr != nil {
			return nil, invalidArgument("The query string is not validly percent-encoded.")
		}
		if _, dup := q[k]; dup {
			return nil, invalidArgument("The query parameter " + quote(k) + " appears more than once.")
		}
		q[k] = v
	}
	return q, nil
}

// presignedToken is the STS token of a presigned request: the query
// parameter the SDKs put it in, else the x-oss-security-token header
// (which is then signed as any x-oss-* header).
func presignedToken(r *http.Request, q map[string]string, param string) (string, bool) {
	if v, ok := q[param]; ok {
		return v, true
	}
	if vs := r.Header.Values("x-oss-security-token"); len(vs) > 0 {
		return vs[0], true
	}
	return "", false
}

func (e *Emulator) verifyPresignedV4(r *http.Request, q map[string]string, key string) (postAuth, *ossError) {
	if v := q[qV4Version]; v != v4Algorithm {
		return postAuth{}, invalidArgument("Unsupported x-oss-signature-version " + quote(v) + "; want " + v4Algorithm + ".")
	}
	id, day, region, oerr := parseV4Credential(q[qV4Credential])
	if oerr != nil {
		return postAuth{}, oerr
	}
	token, hasToken := presignedToken(r, q, qV4Token)
	secret, oerr := e.lookupKey(id, token, hasToken)
	if oerr != nil {
		return postAuth{}, oerr
	}
	signedAt, oerr := e.checkV4Scope(day, region, q[qV4Date])
	if oerr != nil {
		return postAuth{}, oerr
	}
	expires, err := strconv.ParseInt(q[qV4Expires], 10, 64)
	if err != nil || expires < 1 || expires > maxV4Expires {
		return postAuth{}, invalidArgument("x-oss-expires must be a number of seconds from 1 to 604800 (seven days), not " + quote(q[qV4Expires]) + ".")
	}
	now := e.now()
	if signedAt.Add(time.Duration(expires) * time.Second).Before(now) {
		return postAuth{}, accessDenied("Request has expired.")
	}
	if signedAt.After(now.Add(maxV4ClockSkew)) {
		return postAuth{}, accessDenied("Request is not valid yet: x-oss-date is more than 15 minutes ahead of the server's clock.")
	}
	payload := r.Header.Get("x-oss-content-sha256")
	switch payload {
	case "":
		payload = unsignedPayload
	case unsignedPayload:
	default:
		return postAuth{}, invalidArgument("The x-oss-content-sha256 header must be " + unsignedPayload + ".")
	}
	sig := q[qV4Signature]
	if sig == "" {
		return postAuth{}, accessDenied("The presigned URL has no x-oss-signature.")
	}
	creq := e.v4CanonicalRequest(r, q, key, q[qV4Additional], payload)
	sum := sha256.Sum256([]byte(creq))
	sts := v4Algorithm + "\n" + q[qV4Date] + "\n" +
		day + "/" + region + "/" + v4Service + "/" + v4Terminator + "\n" + hex.EncodeToString(sum[:])
	if !constantTimeEqual(v4Signature(secret, day, region, sts), strings.ToLower(sig)) {
		oerr := signatureMismatch()
		oerr.StringToSign, oerr.CanonicalRequest = sts, creq
		return postAuth{}, oerr
	}
	return postAuth{AccessKeyID: id, Version: v4Algorithm}, nil
}

// v4CanonicalRequest is, joined by "\n": the method; the URI-encoded
// "/{bucket}/{key}" (the bucket is part of it even on a path without it);
// the query minus x-oss-signature, names and values URI-encoded, sorted by
// encoded name, "name" alone for an empty value, joined by "&"; the canonical
// headers ("name:value\n" for content-type, content-md5, every x-oss-* header
// and the additional headers present, lower-case names, trimmed values,
// sorted); the additional headers as signed (x-oss-additional-headers of a
// presigned URL, AdditionalHeaders of an Authorization header); the hashed
// payload. Presigned URLs and Authorization headers share it, as in the SDK.
func (e *Emulator) v4CanonicalRequest(r *http.Request, q map[string]string, key, additional, payload string) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	b.WriteString(uriEncode("/"+e.cfg.Bucket+"/"+key, false) + "\n")

	type pair struct{ k, v string }
	params := make([]pair, 0, len(q))
	for k, v := range q {
		if k != qV4Signature {
			params = append(params, pair{uriEncode(k, true), uriEncode(v, true)})
		}
	}
	sort.Slice(params, func(i, j int) bool { return params[i].k < params[j].k })
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		if p.v != "" {
			b.WriteString("=" + p.v)
		}
	}
	b.WriteString("\n")

	extra := map[string]bool{}
	for _, h := range strings.Split(additional, ";") {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			extra[h] = true
		}
	}
	h := r.Header
	if extra["host"] { // the server moves Host out of the header map
		h = h.Clone()
		h.Set("Host", r.Host)
	}
	b.WriteString(canonicalHeaders(h, func(name string) bool {
		return isV4DefaultSigned(name) || extra[name]
	}))
	b.WriteString("\n" + additional + "\n" + payload)
	return b.String()
}

// isV4DefaultSigned reports whether V4 signs a header without it being
// listed in x-oss-additional-headers.
func isV4DefaultSigned(name string) bool {
	return strings.HasPrefix(name, "x-oss-") || name == "content-type" || name == "content-md5"
}

// canonicalHeaders is "name:value\n" for each header that include accepts,
// by lower-case name, sorted; repeated values are trimmed and joined by ",".
func canonicalHeaders(h http.Header, include func(lowerName string) bool) string {
	var names []string
	for k := range h {
		if lk := strings.ToLower(k); include(lk) {
			names = append(names, lk)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		vs := h.Values(k)
		trimmed := make([]string, len(vs))
		for i, v := range vs {
			trimmed[i] = strings.TrimSpace(v)
		}
		b.WriteString(k + ":" + strings.Join(trimmed, ",") + "\n")
	}
	return b.String()
}

// uriEncode percent-encodes every byte but A-Z a-z 0-9 - _ . ~ (and "/"
// unless encodeSlash), upper-case hex, as V4 canonicalisation wants.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~', c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

func (e *Emulator) verifyPresignedV1(r *http.Request, q map[string]string, key string) (postAuth, *ossError) {
	id, sig := q[qV1KeyID], q[qV1Signature]
	if id == "" || sig == "" {
		return postAuth{}, accessDenied("A V1 presigned URL needs OSSAccessKeyId, Expires and Signature.")
	}
	token, hasToken := presignedToken(r, q, qV1Token)
	secret, oerr := e.lookupKey(id, token, hasToken)
	if oerr != nil {
		return postAuth{}, oerr
	}
	expires, err := strconv.ParseInt(q[qV1Expires], 10, 64)
	if err != nil {
		return postAuth{}, invalidArgument("Expires must be a Unix time in seconds, not " + quote(q[qV1Expires]) + ".")
	}
	if e.now().Unix() > expires {
		return postAuth{}, accessDenied("Request has expired.")
	}
	sts := e.v1StringToSign(r, q, key, q[qV1Expires])
	if !constantTimeEqual(v1Signature(secret, sts), sig) {
		oerr := signatureMismatch()
		oerr.StringToSign = sts
		return postAuth{}, oerr
	}
	return postAuth{AccessKeyID: id, Version: "V1"}, nil
}

// v1StringToSign is method, Content-MD5, Content-Type and date (Expires of a
// presigned URL, the Date header of an Authorization header), each followed
// by "\n"; then the x-oss-* headers ("name:value\n", lower-case,
// sorted); then the resource "/{bucket}/{key}", not encoded, followed by
// "?" and the signed sub-resources and x-oss-* parameters (decoded, sorted,
// "name=value" or "name", joined by "&") when there are any.
func (e *Emulator) v1StringToSign(r *http.Request, q map[string]string, key, date string) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n" + r.Header.Get("Content-MD5") + "\n" + r.Header.Get("Content-Type") + "\n" + date + "\n")
	b.WriteString(canonicalHeaders(r.Header, func(name string) bool { return strings.HasPrefix(name, "x-oss-") }))
	b.WriteString("/" + e.cfg.Bucket + "/" + key)
	var names []string
	for k := range q {
		if v1SignedParams[k] || strings.HasPrefix(k, "x-oss-") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for i, k := range names {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(k)
		if q[k] != "" {
			b.WriteString("=" + q[k])
		}
	}
	return b.String()
}
