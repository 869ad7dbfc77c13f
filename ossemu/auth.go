package ossemu

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// maxClockSkew is how far the date of a header-signed request may be from
// OSS's clock, either way, before it is refused as RequestTimeTooSkewed.
const maxClockSkew = 15 * time.Minute

// authenticate finds who signed a REST request for key ("" for the bucket):
// an Authorization header (V4 "OSS4-HMAC-SHA256 ..." or V1 "OSS AK:sig") or
// a presigned query (V4 or V1). An unsigned request yields the zero postAuth
// and no error; the caller decides whether the operation allows that. Both
// forms share one canonicalisation, as in the SDK's signer.
func (e *Emulator) authenticate(r *http.Request, q map[string]string, key string) (postAuth, *ossError) {
	has := func(names ...string) bool {
		for _, n := range names {
			if _, ok := q[n]; ok {
				return true
			}
		}
		return false
	}
	isV4, isV1 := has(qV4Version, qV4Credential, qV4Signature), has(qV1KeyID, qV1Signature)
	authz := r.Header.Get("Authorization")
	switch {
	case authz != "" && (isV4 || isV1):
		return postAuth{}, invalidArgument("A request carries its signature in the URL or in the Authorization header, not in both.")
	case isV4:
		return e.verifyPresignedV4(r, q, key)
	case isV1:
		return e.verifyPresignedV1(r, q, key)
	case strings.HasPrefix(authz, v4Algorithm+" "):
		return e.verifyHeaderV4(r, q, key, strings.TrimPrefix(authz, v4Algorithm+" "))
	case strings.HasPrefix(authz, "OSS "):
		return e.verifyHeaderV1(r, q, key, strings.TrimPrefix(authz, "OSS "))
	case authz != "":
		return postAuth{}, invalidArgument("The Authorization header is neither OSS4-HMAC-SHA256 nor OSS (V1).")
	}
	return postAuth{}, nil
}

// verifyPresigned authenticates a request that must be signed: an unsigned
// one is refused, as the emulated bucket is private.
func (e *Emulator) verifyPresigned(r *http.Request, q map[string]string, key string) (postAuth, *ossError) {
	a, oerr := e.authenticate(r, q, key)
	if oerr == nil && a.Version == "" {
		return a, accessDenied("You have no right to access this object because of bucket acl.")
	}
	return a, oerr
}

// verifyHeaderV4 checks "Credential=AK/day/region/oss/aliyun_v4_request,
// [AdditionalHeaders=a;b,]Signature=hex" against x-oss-date and the
// canonical request.
func (e *Emulator) verifyHeaderV4(r *http.Request, q map[string]string, key, params string) (postAuth, *ossError) {
	var cred, additional, sig string
	for _, kv := range strings.Split(params, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		switch k {
		case "Credential":
			cred = v
		case "AdditionalHeaders":
			additional = v
		case "Signature":
			sig = v
		}
	}
	if cred == "" || sig == "" {
		return postAuth{}, invalidArgument("The Authorization header needs Credential and Signature.")
	}
	id, day, region, oerr := parseV4Credential(cred)
	if oerr != nil {
		return postAuth{}, oerr
	}
	token, hasToken := headerToken(r)
	secret, oerr := e.lookupKey(id, token, hasToken)
	if oerr != nil {
		return postAuth{}, oerr
	}
	date := r.Header.Get("x-oss-date")
	signedAt, oerr := e.checkV4Scope(day, region, date)
	if oerr != nil {
		return postAuth{}, oerr
	}
	if oerr := e.checkSkew(signedAt); oerr != nil {
		return postAuth{}, oerr
	}
	payload := r.Header.Get("x-oss-content-sha256")
	if payload != unsignedPayload {
		return postAuth{}, invalidArgument("The x-oss-content-sha256 header is required and must be " + unsignedPayload + ".")
	}
	creq := e.v4CanonicalRequest(r, q, key, additional, payload)
	sum := sha256.Sum256([]byte(creq))
	sts := v4Algorithm + "\n" + date + "\n" +
		day + "/" + region + "/" + v4Service + "/" + v4Terminator + "\n" + hex.EncodeToString(sum[:])
	if !constantTimeEqual(v4Signature(secret, day, region, sts), strings.ToLower(sig)) {
		oerr := signatureMismatch()
		oerr.StringToSign, oerr.CanonicalRequest = sts, creq
		return postAuth{}, oerr
	}
	return postAuth{AccessKeyID: id, Version: v4Algorithm}, nil
}

// verifyHeaderV1 checks "AK:base64sig" against the Date header.
func (e *Emulator) verifyHeaderV1(r *http.Request, q map[string]string, key, cred string) (postAuth, *ossError) {
	id, sig, ok := strings.Cut(cred, ":")
	if !ok || id == "" || sig == "" {
		return postAuth{}, invalidArgument("The Authorization header must be OSS AccessKeyId:Signature.")
	}
	token, hasToken := headerToken(r)
	secret, oerr := e.lookupKey(id, token, hasToken)
	if oerr != nil {
		return postAuth{}, oerr
	}
	date := r.Header.Get("Date")
	signedAt, err := http.ParseTime(date)
	if err != nil {
		return postAuth{}, accessDenied("The Date header of a signed request is missing or not an HTTP date.")
	}
	if oerr := e.checkSkew(signedAt); oerr != nil {
		return postAuth{}, oerr
	}
	sts := e.v1StringToSign(r, q, key, date)
	if !constantTimeEqual(v1Signature(secret, sts), sig) {
		oerr := signatureMismatch()
		oerr.StringToSign = sts
		return postAuth{}, oerr
	}
	return postAuth{AccessKeyID: id, Version: "V1"}, nil
}

// headerToken is the STS token of a header-signed request.
func headerToken(r *http.Request) (string, bool) {
	if vs := r.Header.Values("x-oss-security-token"); len(vs) > 0 {
		return vs[0], true
	}
	return "", false
}

// checkSkew refuses a request dated more than 15 minutes from OSS's clock.
// The error carries both times, and the answer's Date header is OSS's time,
// from which the SDK corrects its clock.
func (e *Emulator) checkSkew(signedAt time.Time) *ossError {
	now := e.now()
	if d := now.Sub(signedAt); d <= maxClockSkew && d >= -maxClockSkew {
		return nil
	}
	oerr := newError(http.StatusForbidden, CodeRequestTimeTooSkewed, "The difference between the request time and the current time is too large.")
	oerr.Extra = [][2]string{
		{"RequestTime", signedAt.UTC().Format(http.TimeFormat)},
		{"ServerTime", now.UTC().Format(http.TimeFormat)},
	}
	return oerr
}
