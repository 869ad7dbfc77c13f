package ossemu

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

const (
	v4Algorithm  = "OSS4-HMAC-SHA256"
	v4DateLayout = "20060102T150405Z"
	v4Service    = "oss"
	v4Terminator = "aliyun_v4_request"
)

// postAuth is who signed an upload (a PostObject form or a presigned PUT),
// once verified.
type postAuth struct {
	AccessKeyID string
	Version     string // "OSS4-HMAC-SHA256" or "V1"
}

// verifySignature authenticates a PostObject form: which access key signed
// it, with which scheme, and that the signature over the policy field is
// right. It neither parses the policy nor checks its conditions. It is written
// from the OSS documentation alone, independently of ossgate's signer, so the
// two cross-check each other.
func (e *Emulator) verifySignature(f form) (postAuth, *ossError) {
	_, hasVersion := f["x-oss-signature-version"]
	_, hasCredential := f["x-oss-credential"]
	switch {
	case hasVersion || hasCredential:
		return e.verifyV4(f)
	case f["ossaccesskeyid"] != "":
		return e.verifyV1(f)
	case f["signature"] != "" || f["x-oss-signature"] != "":
		return postAuth{}, accessDenied("The OSSAccessKeyId field is missing from the form.")
	default:
		// The emulated bucket is private: an unsigned POST is refused.
		return postAuth{}, accessDenied("You have no right to access this object because of bucket acl.")
	}
}

func (e *Emulator) verifyV1(f form) (postAuth, *ossError) {
	id := f["ossaccesskeyid"]
	token, hasToken := f["x-oss-security-token"]
	secret, err := e.lookupKey(id, token, hasToken)
	if err != nil {
		return postAuth{}, err
	}
	policy, sig := f["policy"], f["signature"]
	if policy == "" || sig == "" {
		return postAuth{}, accessDenied("A signed POST needs both the policy and the Signature fields.")
	}
	if !constantTimeEqual(v1Signature(secret, policy), sig) {
		return postAuth{}, signatureMismatch()
	}
	return postAuth{AccessKeyID: id, Version: "V1"}, nil
}

func (e *Emulator) verifyV4(f form) (postAuth, *ossError) {
	if v := f["x-oss-signature-version"]; v != v4Algorithm {
		return postAuth{}, invalidArgument("Unsupported x-oss-signature-version " + quote(v) + "; want " + v4Algorithm + ".")
	}
	id, day, region, oerr := parseV4Credential(f["x-oss-credential"])
	if oerr != nil {
		return postAuth{}, oerr
	}
	token, hasToken := f["x-oss-security-token"]
	secret, oerr := e.lookupKey(id, token, hasToken)
	if oerr != nil {
		return postAuth{}, oerr
	}
	if _, oerr := e.checkV4Scope(day, region, f["x-oss-date"]); oerr != nil {
		return postAuth{}, oerr
	}
	policy, sig := f["policy"], f["x-oss-signature"]
	if policy == "" || sig == "" {
		return postAuth{}, accessDenied("A signed POST needs both the policy and the x-oss-signature fields.")
	}
	if !constantTimeEqual(v4Signature(secret, day, region, policy), strings.ToLower(sig)) {
		return postAuth{}, signatureMismatch()
	}
	return postAuth{AccessKeyID: id, Version: v4Algorithm}, nil
}

// parseV4Credential splits x-oss-credential,
// <AccessKeyId>/<yyyymmdd>/<region>/oss/aliyun_v4_request.
func parseV4Credential(cred string) (id, day, region string, oerr *ossError) {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" || parts[3] != v4Service || parts[4] != v4Terminator {
		return "", "", "", invalidArgument("Invalid x-oss-credential " + quote(cred) + "; want <AccessKeyId>/<yyyymmdd>/<region>/oss/aliyun_v4_request.")
	}
	return parts[0], parts[1], parts[2], nil
}

// checkV4Scope checks the credential's region against the bucket's and its
// day against x-oss-date, and returns the parsed x-oss-date.
func (e *Emulator) checkV4Scope(day, region, date string) (time.Time, *ossError) {
	if region != e.region {
		return time.Time{}, invalidArgument("Invalid signing region in x-oss-credential: " + quote(region) + ", the bucket is in " + quote(e.region) + ".")
	}
	t, err := time.Parse(v4DateLayout, date)
	if err != nil {
		return time.Time{}, invalidArgument("Invalid x-oss-date " + quote(date) + "; want yyyymmddTHHMMSSZ.")
	}
	if date[:8] != day {
		return time.Time{}, invalidArgument("The date in x-oss-credential (" + day + ") is not the day of x-oss-date (" + date + ").")
	}
	return t, nil
}

// lookupKey finds the secret of id and checks the STS token the request
// must carry for it. OSS answers InvalidAccessKeyId both for an unknown key
// and for a temporary key without its token.
func (e *Emulator) lookupKey(id, got string, hasToken bool) (string, *ossError) {
	secret, ok := e.cfg.Credentials[id]
	if !ok {
		return "", newError(http.StatusForbidden, CodeInvalidAccessKeyID, "The OSS Access Key Id you provided does not exist in our records.")
	}
	want, needToken := e.cfg.SecurityTokens[id]
	switch {
	case needToken && !hasToken:
		return "", newError(http.StatusForbidden, CodeInvalidAccessKeyID, "The access key is temporary and the request carries no x-oss-security-token (security-token for V1 presigned URLs).")
	case needToken && !constantTimeEqual(want, got):
		return "", newError(http.StatusForbidden, CodeInvalidAccessKeyID, "The security token you provided is invalid.")
	case !needToken && hasToken:
		return "", newError(http.StatusForbidden, CodeInvalidAccessKeyID, "The security token you provided is invalid: the access key is not a temporary one.")
	}
	return secret, nil
}

func signatureMismatch() *ossError {
	return newError(http.StatusForbidden, CodeSignatureDoesNotMatch, "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
}

// v1Signature is base64(HMAC-SHA1(secret, msg)); msg is the policy of a
// form, or the string to sign of a presigned URL.
func v1Signature(secret, msg string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// v4Signature is hex(HMAC-SHA256(signingKey, msg)), the signing key being
// the chain aliyun_v4+secret -> day -> region -> "oss" -> "aliyun_v4_request";
// msg is the policy of a form, or the string to sign of a presigned URL.
func v4Signature(secret, day, region, msg string) string {
	k := hmacSHA256([]byte("aliyun_v4"+secret), day)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, v4Service)
	k = hmacSHA256(k, v4Terminator)
	return hex.EncodeToString(hmacSHA256(k, msg))
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// constantTimeEqual compares secrets without leaking where they differ.
func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// standardRegion strips the "oss-" prefix that V4 signing leaves out.
func standardRegion(r string) string {
	return strings.TrimPrefix(strings.TrimSpace(r), "oss-")
}
