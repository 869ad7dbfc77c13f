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

// postAuth is who signed a PostObject form, once verified.
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
	secret, err := e.lookupKey(id, f)
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
	cred := f["x-oss-credential"]
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" || parts[3] != v4Service || parts[4] != v4Terminator {
		return postAuth{}, invalidArgument("Invalid x-oss-credential " + quote(cred) + "; want <AccessKeyId>/<yyyymmdd>/<region>/oss/aliyun_v4_request.")
	}
	id, day, region := parts[0], parts[1], parts[2]
	secret, err := e.lookupKey(id, f)
	if err != nil {
		return postAuth{}, err
	}
	if region != e.region {
		return postAuth{}, invalidArgument("Invalid signing region in x-oss-credential: " + quote(region) + ", the bucket is in " + quote(e.region) + ".")
	}
	date := f["x-oss-date"]
	if _, perr := time.Parse(v4DateLayout, date); perr != nil {
		return postAuth{}, invalidArgument("Invalid x-oss-date " + quote(date) + "; want yyyymmddTHHMMSSZ.")
	}
	if date[:8] != day {
		return postAuth{}, invalidArgument("The date in x-oss-credential (" + day + ") is not the day of x-oss-date (" + date + ").")
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

// lookupKey finds the secret of id and checks the STS token the form must
// carry for it. OSS answers InvalidAccessKeyId both for an unknown key and
// for a temporary key without its token.
func (e *Emulator) lookupKey(id string, f form) (string, *ossError) {
	secret, ok := e.cfg.Credentials[id]
	if !ok {
		return "", newError(http.StatusForbidden, CodeInvalidAccessKeyID, "The OSS Access Key Id you provided does not exist in our records.")
	}
	want, needToken := e.cfg.SecurityTokens[id]
	got, hasToken := f["x-oss-security-token"]
	switch {
	case needToken && !hasToken:
		return "", newError(http.StatusForbidden, CodeInvalidAccessKeyID, "The access key is temporary and the form carries no x-oss-security-token.")
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

// v1Signature is base64(HMAC-SHA1(secret, policy)).
func v1Signature(secret, policyB64 string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(policyB64))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// v4Signature is hex(HMAC-SHA256(signingKey, policy)), the signing key being
// the chain aliyun_v4+secret -> day -> region -> "oss" -> "aliyun_v4_request".
func v4Signature(secret, day, region, policyB64 string) string {
	k := hmacSHA256([]byte("aliyun_v4"+secret), day)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, v4Service)
	k = hmacSHA256(k, v4Terminator)
	return hex.EncodeToString(hmacSHA256(k, policyB64))
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
