package policy

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxPresignExpiry is the longest validity OSS accepts for a presigned URL.
const MaxPresignExpiry = 7 * 24 * time.Hour

// PresignPut returns a URL that lets its holder PUT one object, key, into
// bucket until now+expires, without credentials, the way the official OSS
// SDKs presign (V4: x-oss-signature in the query over a canonical request;
// V1: OSSAccessKeyId, Expires and Signature).
//
// headers are the request headers the client must send unchanged; the ones
// OSS signs by default (Content-Type, Content-MD5 and every x-oss-* header,
// such as x-oss-callback) are bound by the signature. baseURL is where the
// bucket is reached (https://bucket.oss-region.aliyuncs.com, a custom domain,
// or an emulator); the key is appended to it as a path.
func PresignPut(creds Credentials, region, bucket, key, baseURL string, headers map[string]string, v Version, now time.Time, expires time.Duration) (string, error) {
	switch {
	case creds.AccessKeyID == "" || creds.AccessKeySecret == "":
		return "", errors.New("policy: credentials need an access key ID and secret")
	case expires < time.Second || expires > MaxPresignExpiry:
		return "", errors.New("policy: presigned URLs last from 1s to 7 days")
	case bucket == "" || key == "":
		return "", errors.New("policy: presigning needs a bucket and a key")
	}
	now = now.UTC()
	q := url.Values{}
	switch v {
	case V4:
		region = StandardRegion(region)
		if region == "" {
			return "", errors.New("policy: V4 presigning needs a region")
		}
		if creds.SecurityToken != "" {
			q.Set("x-oss-security-token", creds.SecurityToken)
		}
		date := now.Format(dateLayout)
		q.Set("x-oss-signature-version", v4Algorithm)
		q.Set("x-oss-date", date)
		q.Set("x-oss-expires", strconv.FormatInt(int64(expires/time.Second), 10))
		q.Set("x-oss-credential", CredentialV4(creds.AccessKeyID, now, region))
		canonical := canonicalRequestV4("PUT", "/"+bucket+"/"+key, encodeQuery(q), headers)
		sum := sha256.Sum256([]byte(canonical))
		toSign := v4Algorithm + "\n" + date + "\n" + date[:8] + "/" + region + "/oss/aliyun_v4_request\n" + hex.EncodeToString(sum[:])
		q.Set("x-oss-signature", signV4(SigningKeyV4(creds.AccessKeySecret, now, region), []byte(toSign)))
	case V1:
		resource := "/" + bucket + "/" + key
		if creds.SecurityToken != "" {
			q.Set("security-token", creds.SecurityToken)
			resource += "?security-token=" + creds.SecurityToken
		}
		exp := strconv.FormatInt(now.Add(expires).Unix(), 10)
		toSign := "PUT\n" + header(headers, "content-md5") + "\n" + header(headers, "content-type") + "\n" + exp + "\n" + canonicalOSSHeaders(headers) + resource
		mac := hmac.New(sha1.New, []byte(creds.AccessKeySecret))
		mac.Write([]byte(toSign))
		q.Set("Expires", exp)
		q.Set("OSSAccessKeyId", creds.AccessKeyID)
		q.Set("Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	default:
		return "", errors.New("policy: unknown signature version")
	}
	return strings.TrimRight(baseURL, "/") + escapePath("/"+key) + "?" + encodeQuery(q), nil
}

// canonicalRequestV4 is OSS's V4 canonical request for a presigned URL
// (the query without x-oss-signature, no additional headers, unsigned payload).
func canonicalRequestV4(method, resource, query string, headers map[string]string) string {
	var b strings.Builder
	b.WriteString(method + "\n" + escapePath(resource) + "\n")
	params := strings.Split(query, "&")
	slices.SortFunc(params, func(a, b string) int {
		ka, _, _ := strings.Cut(a, "=")
		kb, _, _ := strings.Cut(b, "=")
		return strings.Compare(ka, kb)
	})
	for i, p := range params {
		if k, v, _ := strings.Cut(p, "="); v == "" {
			p = k
		}
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p)
	}
	b.WriteString("\n")
	for _, k := range signedHeaderNames(headers, true) {
		b.WriteString(k + ":" + header(headers, k) + "\n")
	}
	b.WriteString("\n\nUNSIGNED-PAYLOAD")
	return b.String()
}

// canonicalOSSHeaders is V1's "k:v\n" list of x-oss-* headers.
func canonicalOSSHeaders(headers map[string]string) string {
	var b strings.Builder
	for _, k := range signedHeaderNames(headers, false) {
		b.WriteString(k + ":" + header(headers, k) + "\n")
	}
	return b.String()
}

// signedHeaderNames lists, lowercased and sorted, the x-oss-* headers and,
// for V4, Content-Type and Content-MD5: the headers OSS signs by default.
func signedHeaderNames(headers map[string]string, v4 bool) []string {
	var names []string
	for k := range headers {
		low := strings.ToLower(k)
		if strings.HasPrefix(low, "x-oss-") || v4 && (low == "content-type" || low == "content-md5") {
			names = append(names, low)
		}
	}
	slices.Sort(names)
	return names
}

// header is the trimmed value of a header, looked up case-insensitively.
func header(headers map[string]string, name string) string {
	for k, v := range headers {
		if strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// encodeQuery is url.Values.Encode with spaces as %20, as OSS signs them.
func encodeQuery(q url.Values) string {
	return strings.ReplaceAll(q.Encode(), "+", "%20")
}

// escapePath percent-encodes all but A-Z a-z 0-9 - _ . ~ and "/".
func escapePath(p string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~/", c) >= 0 {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}
