package main

import (
	"crypto"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// This file plays OSS after an upload: from a policy answer it renders the
// callback body the policy asks for and signs it as OSS does. It is written
// from the OSS documentation (and ../shared/vectors/README.md), not with
// ossgate's packages, so the load test talks to the binary like OSS would.

// ossObject is what OSS knows after storing an object.
type ossObject struct {
	Bucket   string
	ETag     string
	Size     int64
	MimeType string
}

// policyAnswer is the part of POST /api/uploads/policy's answer needed here.
type policyAnswer struct {
	Fields map[string]string `json:"fields"`
	Key    string            `json:"key"`
}

// callbackParam is the decoded "callback" form field.
type callbackParam struct {
	URL      string `json:"callbackUrl"`
	Body     string `json:"callbackBody"`
	BodyType string `json:"callbackBodyType"`
}

// renderCallbackBody substitutes OSS's variables in tmpl: in a JSON body
// strings become JSON strings and size a number; in a form body values are
// URL-encoded. ${x:name} takes the form field "x:name".
func renderCallbackBody(tmpl string, asJSON bool, key string, o ossObject, fields map[string]string) string {
	quote := func(s string) string {
		if !asJSON {
			return url.QueryEscape(s)
		}
		b, _ := json.Marshal(s)
		return string(b)
	}
	pairs := []string{
		"${bucket}", quote(o.Bucket),
		"${object}", quote(key),
		"${etag}", quote(o.ETag),
		"${size}", strconv.FormatInt(o.Size, 10),
		"${mimeType}", quote(o.MimeType),
	}
	for k, v := range fields {
		if name, ok := strings.CutPrefix(k, "x:"); ok {
			pairs = append(pairs, "${x:"+name+"}", quote(v))
		}
	}
	return strings.NewReplacer(pairs...).Replace(tmpl)
}

// ossStringToSign is what OSS signs: the URL-decoded path, "?" and the raw
// query when there is one, "\n", the body.
func ossStringToSign(u *url.URL, body []byte) ([]byte, error) {
	p, err := url.PathUnescape(u.EscapedPath())
	if err != nil {
		return nil, err
	}
	s := p
	if u.RawQuery != "" {
		s += "?" + u.RawQuery
	}
	return append([]byte(s+"\n"), body...), nil
}

// ossSign returns the Authorization value: base64 of the PKCS#1 v1.5 RSA
// signature of the MD5 of msg.
func ossSign(key *rsa.PrivateKey, msg []byte) (string, error) {
	sum := md5.Sum(msg)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.MD5, sum[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// callbackTarget turns a policy answer into the signed callback request OSS
// would send after the upload of o, with its public key at keyURL.
func callbackTarget(answer []byte, o ossObject, key *rsa.PrivateKey, keyURL string) (vegeta.Target, error) {
	var pa policyAnswer
	if err := json.Unmarshal(answer, &pa); err != nil {
		return vegeta.Target{}, fmt.Errorf("policy answer: %w", err)
	}
	if pa.Key == "" || pa.Fields["callback"] == "" {
		return vegeta.Target{}, errors.New("policy answer has no key or no callback field")
	}
	raw, err := base64.StdEncoding.DecodeString(pa.Fields["callback"])
	if err != nil {
		return vegeta.Target{}, fmt.Errorf("callback field: %w", err)
	}
	var cb callbackParam
	if err := json.Unmarshal(raw, &cb); err != nil {
		return vegeta.Target{}, fmt.Errorf("callback field: %w", err)
	}
	u, err := url.Parse(cb.URL)
	if err != nil || u.Host == "" {
		return vegeta.Target{}, fmt.Errorf("callbackUrl %q is not a URL", cb.URL)
	}
	bodyType := cb.BodyType
	if bodyType == "" {
		bodyType = "application/x-www-form-urlencoded" // OSS's default
	}
	body := []byte(renderCallbackBody(cb.Body, bodyType == "application/json", pa.Key, o, pa.Fields))
	msg, err := ossStringToSign(u, body)
	if err != nil {
		return vegeta.Target{}, err
	}
	auth, err := ossSign(key, msg)
	if err != nil {
		return vegeta.Target{}, err
	}
	h := http.Header{}
	h.Set("Content-Type", bodyType)
	h.Set("Authorization", auth)
	h.Set("X-Oss-Pub-Key-Url", base64.StdEncoding.EncodeToString([]byte(keyURL)))
	return vegeta.Target{Method: http.MethodPost, URL: cb.URL, Body: body, Header: h}, nil
}
