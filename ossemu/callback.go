package ossemu

import (
	"bytes"
	"context"
	"crypto"
	"crypto/md5"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const (
	bodyTypeForm = "application/x-www-form-urlencoded"
	bodyTypeJSON = "application/json"

	maxCallbackURLs = 5       // OSS tries at most five URLs, in order
	maxCallbackResp = 1 << 20 // larger callback answers are refused
)

// callbackParam is the decoded `callback` form field.
type callbackParam struct {
	URLs     []*url.URL
	Host     string // Host header of the callback request; "" = the URL's
	Body     string // template with ${...} variables
	BodyType string // bodyTypeForm or bodyTypeJSON
}

// parseCallbackParam decodes and checks the callback field before any byte of
// the file is stored, as OSS refuses a bad one with 400 up front.
func parseCallbackParam(b64 string) (*callbackParam, *ossError) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, invalidArgument("The callback configuration is not base64 encoded.")
	}
	var j struct {
		URL      string `json:"callbackUrl"`
		Host     string `json:"callbackHost"`
		Body     string `json:"callbackBody"`
		BodyType string `json:"callbackBodyType"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, invalidArgument("The callback configuration is not json format.")
	}
	p := &callbackParam{Host: strings.TrimSpace(j.Host), Body: j.Body}

	// OSS treats an empty callbackUrl as "no callback"; the emulator refuses
	// it instead, so a caller that meant to ask for one hears about it.
	if strings.TrimSpace(j.URL) == "" {
		return nil, invalidArgument("The callbackUrl of the callback configuration is empty.")
	}
	for _, s := range strings.Split(j.URL, ";") {
		u, err := parseCallbackURL(strings.TrimSpace(s))
		if err != nil {
			return nil, invalidArgument("The callbackUrl " + quote(s) + " is invalid: " + err.Error() + ".")
		}
		p.URLs = append(p.URLs, u)
	}
	if len(p.URLs) > maxCallbackURLs {
		return nil, invalidArgument(fmt.Sprintf("The callbackUrl lists %d URLs, at most %d are allowed.", len(p.URLs), maxCallbackURLs))
	}
	if p.Body == "" {
		return nil, invalidArgument("The callbackBody of the callback configuration is empty.")
	}
	switch bt := strings.ToLower(strings.TrimSpace(j.BodyType)); bt {
	case "", bodyTypeForm:
		p.BodyType = bodyTypeForm
	case bodyTypeJSON:
		p.BodyType = bodyTypeJSON
		// Every variable renders as a JSON value, so the template is valid
		// JSON for the real values iff it is for any: check it now.
		if !json.Valid(renderBody(p.Body, true, sampleLookup)) {
			return nil, invalidArgument("The callback configuration is not json format: callbackBody is not JSON once its variables are replaced.")
		}
	default:
		return nil, invalidArgument("The callbackBodyType " + quote(j.BodyType) + " is not supported; use " + bodyTypeForm + " or " + bodyTypeJSON + ".")
	}
	return p, nil
}

// parseCallbackURL accepts http and https URLs; like OSS, a URL without a
// scheme is taken as http.
func parseCallbackURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("empty URL")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.New("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.New("only http and https are allowed")
	}
	if u.Host == "" {
		return nil, errors.New("no host")
	}
	if u.User != nil {
		return nil, errors.New("user info is not allowed")
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// parseCallbackVar decodes the optional `callback-var` field: base64 JSON
// of {"x:name": "value"}. OSS requires lower-case names starting with "x:".
func parseCallbackVar(b64 string) (map[string]string, *ossError) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, invalidArgument("The callback-var is not base64 encoded.")
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, invalidArgument("The callback-var is not a json object of strings.")
	}
	for k := range m {
		if !strings.HasPrefix(k, "x:") || k != strings.ToLower(k) {
			return nil, invalidArgument("The callback-var name " + quote(k) + " must be lower case and start with x:.")
		}
	}
	return m, nil
}

// valueKind says how a variable is written into a JSON body.
type valueKind int

const (
	kindString valueKind = iota // a quoted, escaped JSON string
	kindNumber                  // a bare JSON number
	kindNull                    // null (and "" in a form body)
)

type cbValue struct {
	text string
	kind valueKind
}

func (v cbValue) render(asJSON bool) string {
	switch {
	case v.kind == kindNull && asJSON:
		return "null"
	case v.kind == kindNull:
		return ""
	case v.kind == kindNumber:
		return v.text
	case asJSON:
		return quoteJSON(v.text)
	default:
		return url.QueryEscape(v.text)
	}
}

// quoteJSON quotes s as OSS does: JSON escapes, but no HTML escaping of
// <, > and &, and non-ASCII left as UTF-8.
func quoteJSON(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// callbackVars is what the variables of a callback body are taken from.
type callbackVars struct {
	Operation                      string // "PostObject", "PutObject"
	Bucket, Object, ETag, MimeType string
	Size                           int64
	CRC64                          uint64
	ContentMD5                     string // base64 of the MD5
	ClientIP, ReqID                string
	Image                          *imageInfo        // nil: not an image
	Custom                         map[string]string // "x:name" -> value
}

type imageInfo struct {
	Width, Height int
	Format        string // OSS's name: "jpg", "png", "gif", "webp", "bmp", "tiff"
}

// lookup resolves one ${name}; ok is false for an unknown system variable,
// which is then left in the body as written.
func (v *callbackVars) lookup(name string) (cbValue, bool) {
	str := func(s string) (cbValue, bool) { return cbValue{s, kindString}, true }
	num := func(s string) (cbValue, bool) { return cbValue{s, kindNumber}, true }
	if strings.HasPrefix(strings.ToLower(name), "x:") {
		return str(v.Custom[strings.ToLower(name)]) // a missing var is ""
	}
	switch name {
	case "bucket":
		return str(v.Bucket)
	case "object":
		return str(v.Object)
	case "etag":
		return str(v.ETag)
	case "size":
		return num(strconv.FormatInt(v.Size, 10))
	case "mimeType":
		return str(v.MimeType)
	case "crc64":
		return num(strconv.FormatUint(v.CRC64, 10))
	case "contentMd5":
		return str(v.ContentMD5)
	case "vpcId":
		return cbValue{"", kindNull}, true // never uploaded from a VPC here
	case "clientIp":
		return str(v.ClientIP)
	case "reqId":
		return str(v.ReqID)
	case "operation":
		return str(v.Operation)
	case "imageInfo.height", "imageInfo.width":
		if v.Image == nil {
			return cbValue{"", kindNull}, true
		}
		if name == "imageInfo.height" {
			return num(strconv.Itoa(v.Image.Height))
		}
		return num(strconv.Itoa(v.Image.Width))
	case "imageInfo.format":
		if v.Image == nil {
			return str("")
		}
		return str(v.Image.Format)
	}
	return cbValue{}, false
}

// sampleLookup stands in for real values when a JSON template is checked.
func sampleLookup(name string) (cbValue, bool) {
	v := callbackVars{Image: &imageInfo{}}
	return v.lookup(name)
}

// renderBody replaces each ${name} of tmpl by its value, written for a JSON
// or a form body.
func renderBody(tmpl string, asJSON bool, lookup func(string) (cbValue, bool)) []byte {
	var b bytes.Buffer
	for {
		i := strings.Index(tmpl, "${")
		if i < 0 {
			break
		}
		j := strings.IndexByte(tmpl[i+2:], '}')
		if j < 0 {
			break
		}
		end := i + 2 + j + 1
		b.WriteString(tmpl[:i])
		if v, ok := lookup(tmpl[i+2 : end-1]); ok {
			b.WriteString(v.render(asJSON))
		} else {
			b.WriteString(tmpl[i:end])
		}
		tmpl = tmpl[end:]
	}
	b.WriteString(tmpl)
	return b.Bytes()
}

// needsImageInfo reports whether rendering tmpl reads the image size, so the
// file is decoded only then.
func needsImageInfo(tmpl string) bool {
	return strings.Contains(tmpl, "${imageInfo.")
}

// callbackStringToSign is what OSS signs: the URL-decoded path, the raw
// query with its "?", a newline, the body.
func callbackStringToSign(u *url.URL, body []byte) []byte {
	p := u.Path
	if p == "" {
		p = "/"
	}
	var b bytes.Buffer
	b.WriteString(p)
	if u.RawQuery != "" {
		b.WriteString("?" + u.RawQuery)
	}
	b.WriteByte('\n')
	b.Write(body)
	return b.Bytes()
}

// signCallback is base64(RSA PKCS#1 v1.5 over MD5(string to sign)).
func (e *Emulator) signCallback(u *url.URL, body []byte) (string, error) {
	sum := md5.Sum(callbackStringToSign(u, body))
	sig, err := rsa.SignPKCS1v15(nil, e.key, crypto.MD5, sum[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// relayCallback renders cb's body from vars, sends it, and answers the
// uploader with the callback server's JSON. The upload is done, so the
// callback runs even if the uploader hangs up; a failure is 203
// CallbackFailed and the object stays stored.
func (e *Emulator) relayCallback(w http.ResponseWriter, r *http.Request, cb *callbackParam, vars *callbackVars) *ossError {
	body := renderBody(cb.Body, cb.BodyType == bodyTypeJSON, vars.lookup)
	data, oerr := e.sendCallback(context.WithoutCancel(r.Context()), cb, body, e.pubKeyURLFor(r))
	if oerr != nil {
		return oerr
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
	return nil
}

// callbackFailed is the 203 answer OSS gives when the object is stored but
// the callback did not succeed.
func callbackFailed(msg string) *ossError {
	return newError(http.StatusNonAuthoritativeInfo, CodeCallbackFailed, msg)
}

// sendCallback posts body to each callback URL in turn until one answers 200
// with JSON, and returns that JSON. pubKeyURL goes, base64, in
// x-oss-pub-key-url.
func (e *Emulator) sendCallback(ctx context.Context, p *callbackParam, body []byte, pubKeyURL string) ([]byte, *ossError) {
	var last *ossError
	for _, u := range p.URLs {
		resp, err := e.postCallback(ctx, u, p, body, pubKeyURL)
		if err == nil {
			return resp, nil
		}
		e.log.Info("ossemu: callback failed", "url", u.Redacted(), "reason", err.Message)
		last = err
	}
	return nil, last
}

func (e *Emulator) postCallback(ctx context.Context, u *url.URL, p *callbackParam, body []byte, pubKeyURL string) ([]byte, *ossError) {
	sig, err := e.signCallback(u, body)
	if err != nil {
		return nil, callbackFailed("Signing the callback request failed: " + err.Error())
	}
	ctx, cancel := context.WithTimeout(ctx, e.callbackTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, callbackFailed("The callbackUrl is invalid: " + err.Error())
	}
	if p.Host != "" {
		req.Host = p.Host
	}
	req.Header.Set("Content-Type", p.BodyType)
	req.Header.Set("Authorization", sig)
	req.Header.Set("x-oss-pub-key-url", base64.StdEncoding.EncodeToString([]byte(pubKeyURL)))
	req.Header.Set("User-Agent", "aliyun-oss-callback")
	req.Header.Set("Date", e.now().UTC().Format(http.TimeFormat))

	resp, err := e.client.Do(req)
	if err != nil {
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			return nil, callbackFailed("Cost too long time.")
		}
		return nil, callbackFailed("Error status : -1.OSS can not connect to your callbackUrl, please check it.")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, callbackFailed(fmt.Sprintf("Error status : %d.", resp.StatusCode))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxCallbackResp+1))
	switch {
	case err != nil:
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			return nil, callbackFailed("Cost too long time.")
		}
		return nil, callbackFailed("Reading the callback response failed.")
	case len(data) > maxCallbackResp:
		return nil, callbackFailed("Error status : 200.User server return too long content-length value.")
	case !json.Valid(data):
		return nil, callbackFailed("Response body is not valid json format.")
	}
	return data, nil
}
