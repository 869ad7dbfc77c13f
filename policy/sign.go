package policy

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	dayLayout  = "20060102"         // the V4 credential scope's date
	dateLayout = "20060102T150405Z" // x-oss-date
)

// StandardRegion returns region without a leading "oss-": "oss-cn-hangzhou"
// and "cn-hangzhou" both give "cn-hangzhou", the form the V4 scope uses.
func StandardRegion(region string) string { return strings.TrimPrefix(region, "oss-") }

// SigningKeyV4 derives the V4 signing key of secret for the UTC date of day
// and region (with or without "oss-"):
//
//	k1 = HMAC-SHA256("aliyun_v4"+secret, yyyymmdd)
//	k2 = HMAC-SHA256(k1, standardRegion)
//	k3 = HMAC-SHA256(k2, "oss")
//	k4 = HMAC-SHA256(k3, "aliyun_v4_request")
func SigningKeyV4(secret string, day time.Time, region string) []byte {
	var d [8]byte
	return signingKeyV4(secret, day.UTC().AppendFormat(d[:0], dayLayout), StandardRegion(region))
}

func signingKeyV4(secret string, day []byte, region string) []byte {
	k := hmacSHA256([]byte("aliyun_v4"+secret), day)
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte("oss"))
	return hmacSHA256(k, []byte("aliyun_v4_request"))
}

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// SignV4 returns the V4 signature of a base64 policy: hex(HMAC-SHA256(k4, policy)).
func SignV4(signingKey []byte, policyBase64 string) string {
	return signV4(signingKey, []byte(policyBase64))
}

func signV4(signingKey, policyBase64 []byte) string {
	return hexMAC(hmac.New(sha256.New, signingKey), policyBase64)
}

// hexMAC returns hex(mac(msg)) for a fresh or Reset mac.
func hexMAC(mac hash.Hash, msg []byte) string {
	mac.Write(msg)
	var sum [sha256.Size]byte
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], mac.Sum(sum[:0]))
	return string(out[:])
}

// SignV1 returns the V1 signature of a base64 policy:
// base64(HMAC-SHA1(secret, policy)).
func SignV1(secret, policyBase64 string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(policyBase64))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// CredentialV4 returns the x-oss-credential value:
// accessKeyID/yyyymmdd/standardRegion/oss/aliyun_v4_request.
func CredentialV4(accessKeyID string, day time.Time, region string) string {
	return credentialV4(accessKeyID, day.UTC().Format(dayLayout), StandardRegion(region))
}

func credentialV4(accessKeyID, day, standardRegion string) string {
	return accessKeyID + "/" + day + "/" + standardRegion + "/oss/aliyun_v4_request"
}

// Signer signs policies with one access key. It caches the V4 signing key
// and credential of the current day, which [Policy.Sign] derives on every
// call, and reuses its encoding buffers. A Signer is safe for concurrent use.
type Signer struct {
	creds  Credentials
	region string // standard form, without "oss-"

	v4key atomic.Pointer[dayKey]
	bufs  sync.Pool // *[]byte for the document and its base64
}

type dayKey struct {
	day  [8]byte // yyyymmdd
	key  []byte
	cred string    // x-oss-credential
	macs sync.Pool // hash.Hash: HMAC-SHA256 keyed with key, reused via Reset
}

// sign is signV4 with a pooled, already keyed HMAC: crypto/hmac's set-up
// (key padding, two hash states) otherwise costs more than a short policy.
func (k *dayKey) sign(policyBase64 []byte) string {
	mac, _ := k.macs.Get().(hash.Hash)
	if mac == nil {
		mac = hmac.New(sha256.New, k.key)
	} else {
		mac.Reset()
	}
	sig := hexMAC(mac, policyBase64)
	k.macs.Put(mac)
	return sig
}

// NewSigner returns a Signer for creds in region (with or without "oss-";
// only V4 uses it).
func NewSigner(creds Credentials, region string) *Signer {
	return &Signer{creds: creds, region: StandardRegion(region)}
}

// Format prints the Signer without its secret, for every fmt verb.
func (s *Signer) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "policy.Signer{%v, Region:%s}", s.creds, s.region)
}

// v4Day returns the signing key and credential of day (yyyymmdd).
func (s *Signer) v4Day(day []byte) *dayKey {
	if k := s.v4key.Load(); k != nil && string(k.day[:]) == string(day) {
		return k
	}
	k := &dayKey{
		key:  signingKeyV4(s.creds.AccessKeySecret, day, s.region),
		cred: credentialV4(s.creds.AccessKeyID, string(day), s.region),
	}
	copy(k.day[:], day)
	s.v4key.Store(k) // a race only derives the same key twice
	return k
}

// Sign signs p at time now with creds and returns every form field the
// upload must send: the setters' fields, "policy", and the signature fields.
//
// V4 appends to the signed document, in this order, {"x-oss-signature-version"},
// {"x-oss-credential"}, {"x-oss-date"} and, with an STS token,
// {"x-oss-security-token"}, and adds those fields and "x-oss-signature" (hex).
// V1 appends only the token condition, and adds "OSSAccessKeyId" and
// "Signature" (base64). The signing conditions are not kept in p, so signing
// twice never duplicates them. The policy must expire after now.
func (p *Policy) Sign(creds Credentials, region string, v Version, now time.Time) (map[string]string, error) {
	s := Signer{creds: creds, region: StandardRegion(region)}
	return s.Sign(p, v, now)
}

// Sign is [Policy.Sign] with the Signer's credentials and cached V4 key.
func (s *Signer) Sign(p *Policy, v Version, now time.Time) (map[string]string, error) {
	c := &s.creds
	if c.AccessKeyID == "" || c.AccessKeySecret == "" {
		return nil, errors.New("policy: credentials need an access key ID and secret")
	}
	if !p.expiration.After(now) {
		return nil, errors.New("policy: expiration is not after the signing time")
	}
	now = now.UTC()
	var extraBuf [4]Condition
	extra := extraBuf[:0]
	fields := make(map[string]string, len(p.fields)+7)
	for _, f := range p.fields {
		fields[f.name] = f.value
	}

	switch v {
	case V4:
		if s.region == "" {
			return nil, errors.New("policy: V4 signing needs a region")
		}
		var dateBuf [16]byte
		date := appendXOSSDate(dateBuf[:0], now)
		dk := s.v4Day(date[:8])
		dateStr := string(date)
		extra = append(extra,
			Match("x-oss-signature-version", v4Algorithm),
			Match("x-oss-credential", dk.cred),
			Match("x-oss-date", dateStr))
		if c.SecurityToken != "" {
			extra = append(extra, Match("x-oss-security-token", c.SecurityToken))
		}
		buf, b64, err := s.encode(p, extra)
		if err != nil {
			return nil, err
		}
		fields["policy"] = string(b64)
		fields["x-oss-signature-version"] = v4Algorithm
		fields["x-oss-credential"] = dk.cred
		fields["x-oss-date"] = dateStr
		fields["x-oss-signature"] = dk.sign(b64)
		s.release(buf)
	case V1:
		if c.SecurityToken != "" {
			extra = append(extra, Match("x-oss-security-token", c.SecurityToken))
		}
		buf, b64, err := s.encode(p, extra)
		if err != nil {
			return nil, err
		}
		policy := string(b64)
		s.release(buf)
		fields["policy"] = policy
		fields["OSSAccessKeyId"] = c.AccessKeyID
		fields["Signature"] = SignV1(c.AccessKeySecret, policy)
	default:
		return nil, fmt.Errorf("policy: unknown signature version %q", clip(string(v), 32))
	}
	if c.SecurityToken != "" {
		fields["x-oss-security-token"] = c.SecurityToken
	}
	return fields, nil
}

// encode writes the document with extra appended, then its base64, into
// one buffer (reused across calls; release gives it back) and returns the
// buffer and the base64 part of it.
func (s *Signer) encode(p *Policy, extra []Condition) (buf *[]byte, b64 []byte, err error) {
	hint := p.sizeHint(extra)
	hint += base64.StdEncoding.EncodedLen(hint)
	buf, _ = s.bufs.Get().(*[]byte)
	if buf == nil || cap(*buf) < hint {
		b := make([]byte, 0, hint)
		buf = &b
	}
	doc, err := p.appendDocument((*buf)[:0], extra)
	if err != nil {
		return nil, nil, err
	}
	n := len(doc)
	*buf = appendBase64(doc, doc[:n])
	return buf, (*buf)[n:], nil
}

// maxPooledBuf keeps one freak policy from pinning a large buffer.
const maxPooledBuf = 64 << 10

func (s *Signer) release(buf *[]byte) {
	if cap(*buf) <= maxPooledBuf {
		s.bufs.Put(buf)
	}
}
