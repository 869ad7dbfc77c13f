package main

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/ossgate/ossgate/internal/osstest"
)

// This file plays OSS after an upload: from a policy answer it renders the
// callback body the policy asks for (internal/osstest) and signs it as OSS
// does. It is written from the OSS documentation (see
// policy/testdata/README.md), not with ossgate's product packages, so the
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
	cb, err := osstest.DecodeCallback(pa.Fields["callback"])
	if err != nil {
		return vegeta.Target{}, fmt.Errorf("callback field: %w", err)
	}
	u, err := url.Parse(cb.URL)
	if err != nil {
		return vegeta.Target{}, err
	}
	bodyType := cb.BodyType
	body := []byte(cb.RenderBody(osstest.Object{Bucket: o.Bucket, Key: pa.Key, ETag: o.ETag, MimeType: o.MimeType, Size: o.Size}, pa.Fields))
	auth, err := osstest.Sign(key, u.EscapedPath(), u.RawQuery, body)
	if err != nil {
		return vegeta.Target{}, err
	}
	h := http.Header{}
	h.Set("Content-Type", bodyType)
	h.Set("Authorization", auth)
	h.Set("X-Oss-Pub-Key-Url", base64.StdEncoding.EncodeToString([]byte(keyURL)))
	return vegeta.Target{Method: http.MethodPost, URL: cb.URL, Body: body, Header: h}, nil
}
