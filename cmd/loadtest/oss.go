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

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/ossgate/ossgate/internal/osssim"
)

// This file plays OSS after an upload: from a policy answer it renders the
// callback body the policy asks for (internal/osssim) and signs it as OSS
// does. It is written from the OSS documentation (and
// ../shared/vectors/README.md), not with ossgate's product packages, so the
// load test talks to the binary like OSS would.

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
	cb, err := osssim.DecodeCallback(pa.Fields["callback"])
	if err != nil {
		return vegeta.Target{}, fmt.Errorf("callback field: %w", err)
	}
	u, err := url.Parse(cb.URL)
	if err != nil {
		return vegeta.Target{}, err
	}
	bodyType := cb.BodyType
	body := []byte(cb.RenderBody(osssim.Object{Bucket: o.Bucket, Key: pa.Key, ETag: o.ETag, MimeType: o.MimeType, Size: o.Size}, pa.Fields))
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
