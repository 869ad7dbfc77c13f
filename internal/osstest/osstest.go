// Package osstest plays OSS's side of an upload callback for ossgate's tests
// and load tool: it reads the callback parameter of a policy, renders the
// callback body and signs the callback the way OSS does. It is written from
// the OSS documentation, not with ossgate's packages, so what it sends
// checks ossgate rather than mirrors it. (The emulator in ossemu is the full
// OSS stand-in; this is the few lines a test needs without an upload.)
package osstest

import (
	"crypto"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Callback is the decoded callback parameter of a policy (the "callback"
// form field or the x-oss-callback header).
type Callback struct {
	URL      string `json:"callbackUrl"`
	Body     string `json:"callbackBody"`
	BodyType string `json:"callbackBodyType"`
}

// DecodeCallback decodes a base64 callback parameter. An empty body type is
// OSS's default, application/x-www-form-urlencoded.
func DecodeCallback(param string) (Callback, error) {
	raw, err := base64.StdEncoding.DecodeString(param)
	if err != nil {
		return Callback{}, fmt.Errorf("callback parameter is not base64: %w", err)
	}
	var cb Callback
	if err := json.Unmarshal(raw, &cb); err != nil {
		return Callback{}, fmt.Errorf("callback parameter is not JSON: %w", err)
	}
	if u, err := url.Parse(cb.URL); err != nil || u.Host == "" {
		return Callback{}, fmt.Errorf("callbackUrl %q is not a URL", cb.URL)
	}
	if cb.BodyType == "" {
		cb.BodyType = "application/x-www-form-urlencoded"
	}
	return cb, nil
}

// Object is what OSS knows after storing an object.
type Object struct {
	Bucket, Key, ETag, MimeType string
	Size                        int64
	// An image's details (${imageInfo.*}); zero for other objects, which
	// OSS renders as null in a JSON body and empty in a form.
	ImageWidth, ImageHeight int
	ImageFormat             string
}

// RenderBody substitutes OSS's variables in c.Body: in a JSON body strings
// become JSON strings and the size a number; in a form body values are
// URL-encoded. ${x:name} takes the form field "x:name" of fields. Unknown
// variables are left as they are.
func (c Callback) RenderBody(o Object, fields map[string]string) string {
	asJSON := c.BodyType == "application/json"
	quote := func(s string) string {
		if !asJSON {
			return url.QueryEscape(s)
		}
		b, _ := json.Marshal(s)
		return string(b)
	}
	pairs := []string{
		"${bucket}", quote(o.Bucket),
		"${object}", quote(o.Key),
		"${etag}", quote(o.ETag),
		"${size}", strconv.FormatInt(o.Size, 10),
		"${mimeType}", quote(o.MimeType),
	}
	if o.ImageFormat != "" {
		pairs = append(pairs, "${imageInfo.width}", strconv.Itoa(o.ImageWidth), "${imageInfo.height}", strconv.Itoa(o.ImageHeight),
			"${imageInfo.format}", quote(o.ImageFormat))
	} else if asJSON {
		pairs = append(pairs, "${imageInfo.width}", "null", "${imageInfo.height}", "null", "${imageInfo.format}", "null")
	} else {
		pairs = append(pairs, "${imageInfo.width}", "", "${imageInfo.height}", "", "${imageInfo.format}", "")
	}
	for k, v := range fields {
		if name, ok := strings.CutPrefix(k, "x:"); ok {
			pairs = append(pairs, "${x:"+name+"}", quote(v))
		}
	}
	return strings.NewReplacer(pairs...).Replace(c.Body)
}

// StringToSign is what OSS signs for a callback: the URL-decoded path, "?"
// and the raw query when there is one, "\n", the body.
func StringToSign(escapedPath, rawQuery string, body []byte) ([]byte, error) {
	p, err := url.PathUnescape(escapedPath)
	if err != nil {
		return nil, err
	}
	if rawQuery != "" {
		p += "?" + rawQuery
	}
	return append([]byte(p+"\n"), body...), nil
}

// Sign returns the callback's Authorization header as OSS makes it: base64
// of the PKCS#1 v1.5 RSA signature of the MD5 of StringToSign.
func Sign(key *rsa.PrivateKey, escapedPath, rawQuery string, body []byte) (string, error) {
	msg, err := StringToSign(escapedPath, rawQuery, body)
	if err != nil {
		return "", err
	}
	return SignMessage(key, msg)
}

// SignMessage signs an already built string to sign, for tests that
// tamper with it.
func SignMessage(key *rsa.PrivateKey, msg []byte) (string, error) {
	sum := md5.Sum(msg)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.MD5, sum[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}
