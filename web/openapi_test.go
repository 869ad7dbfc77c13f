package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/golang-jwt/jwt/v5"

	"github.com/ossgate/ossgate/api"
	"github.com/ossgate/ossgate/policy"
	"github.com/ossgate/ossgate/static"
)

// loadSpec parses and validates api/openapi.yaml.
func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatalf("loading the spec: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("the spec is OpenAPI %s, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the spec does not validate: %v", err)
	}
	return doc
}

// specOps is every "METHOD /path" the spec describes.
func specOps(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

var echoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// TestOpenAPICoversRoutes: every route the server registers, configured as
// the app configures it (local mode, with the demo page), is in the spec,
// and every operation of the spec is routed.
func TestOpenAPICoversRoutes(t *testing.T) {
	doc := loadSpec(t)
	h := newHarness(t, func(s *setup) { s.options.Static = static.FS })
	var routed []string
	for _, r := range h.Server.Routes() {
		if strings.Contains(r.Path, "*") {
			t.Errorf("route %s %s: wildcard routes cannot be described", r.Method, r.Path)
		}
		routed = append(routed, r.Method+" "+echoParam.ReplaceAllString(r.Path, "{$1}"))
	}
	slices.Sort(routed)
	routed = slices.Compact(routed)
	spec := specOps(doc)
	for _, r := range routed {
		if !slices.Contains(spec, r) {
			t.Errorf("route %s is not in api/openapi.yaml", r)
		}
	}
	for _, op := range spec {
		if !slices.Contains(routed, op) {
			t.Errorf("api/openapi.yaml describes %s, which the server does not route", op)
		}
	}
	// Every static asset is described, so the list above is not an accident
	// of the harness.
	entries, err := fs.ReadDir(static.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !slices.Contains(spec, "GET /"+e.Name()) {
			t.Errorf("static asset %s is not in api/openapi.yaml", e.Name())
		}
	}
}

// exchange is one request through the spec proxy and its verdicts.
type exchange struct {
	Method, Target string // as the client sent them
	Op             string // "METHOD /spec/path" of the matched operation, "" when none
	RouteErr       error  // why no operation matched
	RequestErr     error  // the request against the spec
	ResponseErr    error  // the response against the spec
	Status         int
	Header         http.Header
	Body           []byte
}

// code is the error code of an error response, "" otherwise.
func (x exchange) code() string {
	var e struct{ Error struct{ Code string } }
	json.Unmarshal(x.Body, &e)
	return e.Error.Code
}

// specProxy sits between the test's client and the server under test and
// holds every real request and response against api/openapi.yaml. It
// forwards requests untouched (path, raw query, headers, body), so OSS
// callback signatures stay valid through it.
type specProxy struct {
	URL    string
	doc    *openapi3.T
	router routers.Router
	target string // the server's base URL, set once the harness runs
	srv    *httptest.Server

	mu  sync.Mutex
	log []exchange
}

var specOptions = &openapi3filter.Options{
	AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	IncludeResponseStatus: true,
	MultiError:            true,
}

func newSpecProxy(t *testing.T) *specProxy {
	t.Helper()
	p := &specProxy{doc: loadSpec(t)}
	p.srv = httptest.NewServer(p)
	t.Cleanup(p.srv.Close)
	p.URL = p.srv.URL
	p.doc.Servers = openapi3.Servers{{URL: p.URL}}
	var err error
	if p.router, err = gorillamux.NewRouter(p.doc); err != nil {
		t.Fatal(err)
	}
	return p
}

// newSpecHarness is newHarness behind a spec proxy: h.URL and the callback
// URL in every policy point at the proxy.
func newSpecHarness(t *testing.T, tweak ...func(*setup)) (*harness, *specProxy) {
	t.Helper()
	p := newSpecProxy(t)
	tweak = append(tweak, func(s *setup) { s.issuer.CallbackURL = p.URL + "/api/uploads/callback" })
	h := newHarness(t, tweak...)
	p.target, h.URL = h.URL, p.URL
	return h, p
}

func (p *specProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	x := exchange{Method: r.Method, Target: r.RequestURI}

	// The request as the client sent it, with the absolute URL the router
	// matches against the spec's server.
	vreq := r.Clone(ctx)
	vreq.RequestURI = ""
	vreq.URL, _ = url.Parse(p.URL + r.RequestURI)
	vreq.Body = io.NopCloser(bytes.NewReader(body))
	var in *openapi3filter.RequestValidationInput
	route, params, err := p.router.FindRoute(vreq)
	if err != nil {
		x.RouteErr = err
	} else {
		x.Op = route.Method + " " + route.Path
		in = &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: specOptions}
		x.RequestErr = openapi3filter.ValidateRequest(ctx, in)
	}

	freq, err := http.NewRequestWithContext(ctx, r.Method, p.target+r.RequestURI, bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	freq.Header = r.Header.Clone()
	res, err := http.DefaultTransport.RoundTrip(freq)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer res.Body.Close()
	x.Body, err = io.ReadAll(res.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	x.Status, x.Header = res.StatusCode, res.Header.Clone()

	if in != nil {
		rin := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode, Header: res.Header, Options: specOptions}
		rin.SetBodyBytes(x.Body)
		x.ResponseErr = openapi3filter.ValidateResponse(ctx, rin)
	}
	p.mu.Lock()
	p.log = append(p.log, x)
	p.mu.Unlock()

	for k, v := range res.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(res.StatusCode)
	w.Write(x.Body)
}

// last is the latest exchange.
func (p *specProxy) last(t *testing.T) exchange {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.log) == 0 {
		t.Fatal("no request went through the spec proxy")
	}
	return p.log[len(p.log)-1]
}

// requestVerdict is what the spec should say about a request.
type requestVerdict int

const (
	specAccepts requestVerdict = iota // the request is valid by the spec
	specRefuses                       // the spec refuses it too (the server's 4xx agrees)
)

// check asserts that the latest exchange hit op (e.g. "POST
// /api/uploads/policy"), got status and error code, that the spec accepts
// or refuses the request as said, and that the response conforms.
func (p *specProxy) check(t *testing.T, name, op string, status int, code string, req requestVerdict) exchange {
	t.Helper()
	x := p.last(t)
	if x.Op != op {
		t.Errorf("%s: %s %s matched %q (%v), want %s", name, x.Method, x.Target, x.Op, x.RouteErr, op)
		return x
	}
	if x.Status != status || x.code() != code {
		t.Errorf("%s: %s %s answered %d %q, want %d %q; body %.300s", name, x.Method, x.Target, x.Status, x.code(), status, code, x.Body)
	}
	switch {
	case req == specAccepts && x.RequestErr != nil:
		t.Errorf("%s: the spec refuses the request: %v", name, x.RequestErr)
	case req == specRefuses && x.RequestErr == nil:
		t.Errorf("%s: the server refuses the request with %d %s but the spec accepts it", name, x.Status, x.code())
	}
	if x.ResponseErr != nil {
		t.Errorf("%s: the %d response does not conform: %v", name, x.Status, x.ResponseErr)
	}
	return x
}

// checkUnrouted asserts that the latest exchange matched no operation
// (unknown path or method) and that its error body is the given Error<n>
// schema of the spec.
func (p *specProxy) checkUnrouted(t *testing.T, name string, routeErr error, status int, code string) {
	t.Helper()
	x := p.last(t)
	if !errors.Is(x.RouteErr, routeErr) {
		t.Errorf("%s: route error %v, want %v", name, x.RouteErr, routeErr)
	}
	if x.Status != status || x.code() != code {
		t.Errorf("%s: %d %q, want %d %q", name, x.Status, x.code(), status, code)
	}
	var v any
	if err := json.Unmarshal(x.Body, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	schema := p.doc.Components.Schemas[fmt.Sprintf("Error%d", status)]
	if schema == nil {
		t.Fatalf("%s: the spec has no Error%d schema", name, status)
	}
	if err := schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		t.Errorf("%s: body does not match Error%d: %v", name, status, err)
	}
	if x.Header.Get("X-Request-Id") == "" {
		t.Errorf("%s: no X-Request-Id", name)
	}
}

// seen is every operation some exchange of these proxies matched.
func seen(ps ...*specProxy) map[string]bool {
	out := map[string]bool{}
	for _, p := range ps {
		p.mu.Lock()
		for _, x := range p.log {
			if x.Op != "" {
				out[x.Op] = true
			}
		}
		p.mu.Unlock()
	}
	return out
}

func jsonBody(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestOpenAPIConformance makes real requests to every endpoint, through the
// spec proxy, and holds each request and response against the spec.
func TestOpenAPIConformance(t *testing.T) {
	const (
		opPolicy   = "POST /api/uploads/policy"
		opCallback = "POST /api/uploads/callback"
		opList     = "GET /api/uploads"
		opGet      = "GET /api/uploads/{id}"
		opDev      = "POST /api/dev/token"
		opPresign  = "POST /api/uploads/presign"
	)
	h, p := newSpecHarness(t, func(s *setup) { s.options.Static = static.FS })
	post := func(path, bearer, ct string, body []byte) response {
		return do(t, "POST", h.URL+path, bearer, ct, body)
	}
	get := func(path, bearer string) response { return do(t, "GET", h.URL+path, bearer, "", nil) }

	// Local mode: a dev token.
	res := post("/api/dev/token", "", "application/json", []byte(`{"sub":"alice"}`))
	p.check(t, "dev token", opDev, 200, "", specAccepts)
	var tok struct{ Token string }
	if err := json.Unmarshal(res.Body, &tok); err != nil || tok.Token == "" {
		t.Fatalf("dev token: %s", res.Body)
	}
	alice, bob := tok.Token, token(t, jwt.MapClaims{"sub": "bob"})
	post("/api/dev/token", "", "application/json", []byte(`{"sub":""}`))
	p.check(t, "dev token, empty sub", opDev, 400, "invalid_request", specRefuses)
	post("/api/dev/token", "", "application/json", []byte(`{"sub":"alice","admin":true}`))
	p.check(t, "dev token, unknown field", opDev, 400, "invalid_request", specRefuses)
	post("/api/dev/token", "", "application/json", []byte(`{"sub":`))
	p.check(t, "dev token, bad JSON", opDev, 400, "invalid_json", specRefuses)
	post("/api/dev/token", "", "text/plain", []byte(`alice`))
	p.check(t, "dev token, text body", opDev, 415, "unsupported_media_type", specRefuses)

	// The policy endpoint.
	upV4, _ := h.policy(t, alice, map[string]any{"filename": "Cat Photo.JPG", "size": 500, "contentType": "image/jpeg", "vars": map[string]string{"caption": "hi", "album_2": "summer"}})
	p.check(t, "policy v4", opPolicy, 200, "", specAccepts)
	upV1, _ := h.policy(t, alice, map[string]any{"filename": "notes.txt", "size": 6, "contentType": "text/plain; charset=utf-8", "signatureVersion": "v1"})
	p.check(t, "policy v1", opPolicy, 200, "", specAccepts)
	if upV4.Fields["x-oss-signature-version"] == "" || upV1.Fields["Signature"] == "" {
		t.Fatalf("policies: v4 %v, v1 %v", upV4.Fields, upV1.Fields)
	}
	for _, v := range []string{"v4", "v1"} {
		post("/api/uploads/presign", alice, "application/json", []byte(`{"filename":"a.png","size":10,"contentType":"image/png","vars":{"a":"b"},"signatureVersion":"`+v+`"}`))
		p.check(t, "presign "+v, opPresign, 200, "", specAccepts)
	}
	post("/api/uploads/policy?format=oss-sample", alice, "application/json", []byte(`{"filename":"a.png","size":10,"contentType":"image/png"}`))
	p.check(t, "policy oss-sample", opPolicy, 200, "", specAccepts)
	post("/api/uploads/policy?format=xml", alice, "application/json", []byte(`{"filename":"a.png","size":10,"contentType":"image/png"}`))
	p.check(t, "policy unknown format", opPolicy, 400, "invalid_request", specRefuses)
	post("/api/uploads/presign", alice, "application/json", []byte(`{"filename":"a.png","size":0,"contentType":"image/png"}`))
	p.check(t, "presign empty file", opPresign, 422, "empty_file", specRefuses)
	post("/api/uploads/presign", "", "application/json", []byte(`{"filename":"a.png","size":10,"contentType":"image/png"}`))
	p.check(t, "presign without token", opPresign, 401, "unauthorized", specAccepts)
	valid := map[string]any{"filename": "a.png", "size": 10, "contentType": "image/png"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range valid {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	policyCases := []struct {
		name, bearer, ct string
		body             []byte
		status           int
		code             string
		req              requestVerdict
	}{
		{"bad JSON", alice, "application/json", []byte(`{"filename":`), 400, "invalid_json", specRefuses},
		{"two objects", alice, "application/json", []byte(`{} {}`), 400, "invalid_json", specRefuses},
		{"missing filename", alice, "application/json", jsonBody(t, with("filename", nil)), 400, "invalid_request", specRefuses},
		{"unknown field", alice, "application/json", jsonBody(t, with("user", "bob")), 400, "invalid_request", specRefuses},
		{"size not an integer", alice, "application/json", jsonBody(t, with("size", 1.5)), 400, "invalid_request", specRefuses},
		{"negative size", alice, "application/json", jsonBody(t, with("size", -1)), 400, "invalid_request", specRefuses},
		{"long filename", alice, "application/json", jsonBody(t, with("filename", strings.Repeat("a", 256))), 400, "invalid_request", specRefuses},
		{"control character", alice, "application/json", jsonBody(t, with("filename", "a\nb.png")), 400, "invalid_request", specRefuses},
		{"eleven vars", alice, "application/json", jsonBody(t, with("vars", map[string]string{"a": "", "b": "", "c": "", "d": "", "e": "", "f": "", "g": "", "h": "", "i": "", "j": "", "k": ""})), 400, "invalid_request", specRefuses},
		{"bad var name", alice, "application/json", jsonBody(t, with("vars", map[string]string{"Caption": "x"})), 400, "invalid_request", specRefuses},
		{"long var value", alice, "application/json", jsonBody(t, with("vars", map[string]string{"c": strings.Repeat("x", 257)})), 400, "invalid_request", specRefuses},
		{"bad signature version", alice, "application/json", jsonBody(t, with("signatureVersion", "v2")), 400, "invalid_request", specRefuses},
		{"no token", "", "application/json", jsonBody(t, valid), 401, "unauthorized", specAccepts},
		{"expired token", token(t, jwt.MapClaims{"exp": time.Now().Add(-time.Hour).Unix()}), "application/json", jsonBody(t, valid), 401, "unauthorized", specAccepts},
		{"garbage token", "not.a.jwt", "application/json", jsonBody(t, valid), 401, "unauthorized", specAccepts},
		{"body over 64 KiB", alice, "application/json", jsonBody(t, with("filename", strings.Repeat("a", 70<<10))), 413, "body_too_large", specRefuses},
		{"text body", alice, "text/plain", []byte("a.png"), 415, "unsupported_media_type", specRefuses},
		{"file too large", alice, "application/json", jsonBody(t, with("size", 11<<20)), 422, "file_too_large", specAccepts},
		{"type not allowed", alice, "application/json", jsonBody(t, with("contentType", "application/zip")), 422, "type_not_allowed", specAccepts},
		{"empty file", alice, "application/json", jsonBody(t, with("size", 0)), 422, "empty_file", specRefuses},
	}
	for _, c := range policyCases {
		post("/api/uploads/policy", c.bearer, c.ct, c.body)
		x := p.check(t, "policy: "+c.name, opPolicy, c.status, c.code, c.req)
		if c.status == 401 && x.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("policy: %s: no WWW-Authenticate", c.name)
		}
	}

	// The callback, as OSS sends it.
	ok := ossUpload{Size: 480, ETag: "D8E8FCA2DC0F896FD7CB4CB0031BA249", MimeType: "image/jpeg"}
	res = h.ossCallback(t, upV4, ok, nil, nil)
	p.check(t, "callback", opCallback, 200, "", specAccepts)
	var first recordResponse
	if err := json.Unmarshal(res.Body, &first); err != nil {
		t.Fatal(err)
	}
	res = h.ossCallback(t, upV4, ok, nil, nil)
	p.check(t, "callback repeated", opCallback, 200, "", specAccepts)
	var again recordResponse
	if err := json.Unmarshal(res.Body, &again); err != nil || again.Upload.ID != first.Upload.ID {
		t.Errorf("a repeated callback answered %s, want the record %s", res.Body, first.Upload.ID)
	}
	h.ossCallback(t, upV4, ok, nil, func(r *ossRequest) { r.Body = bytes.Replace(r.Body, []byte(ok.ETag), []byte("0000"), 1) })
	p.check(t, "callback, body changed after signing", opCallback, 403, "invalid_signature", specAccepts)
	h.ossCallback(t, upV4, ok, func(r *ossRequest) { r.KeyURL = "https://evil.example/callback_pub_key_v1.pem" }, nil)
	p.check(t, "callback, key URL not allowlisted", opCallback, 403, "untrusted_key_url", specAccepts)
	h.ossCallback(t, upV4, ossUpload{Size: 501, ETag: ok.ETag, MimeType: ok.MimeType}, nil, nil)
	p.check(t, "callback, size over the declared", opCallback, 403, "invalid_ticket", specAccepts)
	h.ossCallback(t, upV4, ok, func(r *ossRequest) { r.Body = []byte(`{"bucket":"testbucket","object":"k","size":1}`) }, nil)
	p.check(t, "callback, no ticket", opCallback, 400, "invalid_callback", specRefuses)
	h.ossCallback(t, upV1, ossUpload{Size: 6, ETag: testETag, MimeType: "text/plain"}, nil, nil)
	p.check(t, "callback of the v1 upload", opCallback, 200, "", specAccepts)

	// Confirming an upload whose callback failed (carol's, so the lists
	// below stay as they are).
	carol := token(t, jwt.MapClaims{"sub": "carol"})
	upC, _ := h.policy(t, carol, map[string]any{"filename": "c.png", "size": 10, "contentType": "image/png", "vars": map[string]string{"a": "b"}})
	h.Bucket.put(upC.Key, 10, testETag, "image/png")
	confirmBody := func(key, ticket string) []byte {
		b, _ := json.Marshal(map[string]any{"key": key, "ticket": ticket, "vars": map[string]string{"a": "b"}})
		return b
	}
	const opConfirm = "POST /api/uploads/confirm"
	post("/api/uploads/confirm", carol, "application/json", confirmBody(upC.Key, upC.Ticket))
	p.check(t, "confirm", opConfirm, 200, "", specAccepts)
	post("/api/uploads/confirm", carol, "application/json", confirmBody(upC.Key, upC.Ticket))
	p.check(t, "confirm again", opConfirm, 200, "", specAccepts)
	post("/api/uploads/confirm", alice, "application/json", confirmBody(upC.Key, upC.Ticket))
	p.check(t, "confirm, another user's ticket", opConfirm, 403, "invalid_ticket", specAccepts)
	post("/api/uploads/confirm", carol, "application/json", confirmBody(upC.Key+"x", upC.Ticket))
	p.check(t, "confirm, no such object", opConfirm, 404, "not_found", specAccepts)
	post("/api/uploads/confirm", carol, "application/json", []byte(`{"key":"k"}`))
	p.check(t, "confirm, no ticket", opConfirm, 400, "invalid_request", specRefuses)

	// Multipart, against the emulator (carol's too).
	h.Bucket.mp = emulatorBucket(t)
	const (
		opMPCreate   = "POST /api/uploads/multipart"
		opMPStatus   = "GET /api/uploads/multipart/{uploadId}"
		opMPParts    = "POST /api/uploads/multipart/{uploadId}/parts"
		opMPComplete = "POST /api/uploads/multipart/{uploadId}/complete"
		opMPAbort    = "DELETE /api/uploads/multipart/{uploadId}"
	)
	res = post("/api/uploads/multipart", carol, "application/json", []byte(`{"filename":"big.pdf","size":300000,"contentType":"application/pdf"}`))
	p.check(t, "multipart create", opMPCreate, 200, "", specAccepts)
	var mps struct{ UploadID string }
	if err := json.Unmarshal(res.Body, &mps); err != nil {
		t.Fatal(err)
	}
	mpPath := "/api/uploads/multipart/" + mps.UploadID
	post("/api/uploads/multipart", carol, "application/json", []byte(`{"filename":"big.pdf","size":0,"contentType":"application/pdf"}`))
	p.check(t, "multipart create, empty", opMPCreate, 422, "empty_file", specRefuses)
	post(mpPath+"/parts", carol, "application/json", []byte(`{"partNumbers":[2]}`))
	p.check(t, "multipart sign, part out of range", opMPParts, 400, "invalid_request", specAccepts)
	post(mpPath+"/complete", carol, "application/json", []byte(`{}`))
	p.check(t, "multipart complete, nothing uploaded", opMPComplete, 409, "upload_incomplete", specAccepts)
	res = post(mpPath+"/parts", carol, "application/json", []byte(`{"partNumbers":[1]}`))
	p.check(t, "multipart sign", opMPParts, 200, "", specAccepts)
	var signed struct{ Parts []struct{ URL string } }
	json.Unmarshal(res.Body, &signed)
	put, _ := http.NewRequest("PUT", signed.Parts[0].URL, bytes.NewReader(make([]byte, 300000)))
	if pres, err := http.DefaultClient.Do(put); err != nil || pres.StatusCode != 200 {
		t.Fatalf("PUT part: %v %v", pres, err)
	}
	get(mpPath, carol)
	p.check(t, "multipart status", opMPStatus, 200, "", specAccepts)
	get("/api/uploads/multipart/nope", carol)
	p.check(t, "multipart status, unknown", opMPStatus, 404, "not_found", specAccepts)
	post(mpPath+"/complete", carol, "application/json", []byte(`{}`))
	p.check(t, "multipart complete", opMPComplete, 200, "", specAccepts)
	post(mpPath+"/complete", carol, "application/json", []byte(`{}`))
	p.check(t, "multipart complete again", opMPComplete, 409, "upload_closed", specAccepts)
	res = post("/api/uploads/multipart", carol, "application/json", []byte(`{"filename":"b.pdf","size":10,"contentType":"application/pdf"}`))
	json.Unmarshal(res.Body, &mps)
	do(t, "DELETE", h.URL+"/api/uploads/multipart/"+mps.UploadID, carol, "", nil)
	p.check(t, "multipart abort", opMPAbort, 204, "", specAccepts)
	do(t, "DELETE", h.URL+"/api/uploads/multipart/"+mps.UploadID, carol, "", nil)
	p.check(t, "multipart abort again", opMPAbort, 409, "upload_closed", specAccepts)

	// Download links and deletes, of carol's completed multipart upload.
	var carolList struct{ Uploads []struct{ ID, Key string } }
	json.Unmarshal(get("/api/uploads", carol).Body, &carolList)
	var mpID string
	for _, u := range carolList.Uploads {
		if strings.HasSuffix(u.Key, ".pdf") {
			mpID = u.ID
		}
	}
	const (
		opURL    = "GET /api/uploads/{id}/url"
		opDelete = "DELETE /api/uploads/{id}"
	)
	get("/api/uploads/"+mpID+"/url?disposition=attachment", carol)
	p.check(t, "download link", opURL, 200, "", specAccepts)
	get("/api/uploads/"+mpID+"/url?style=nope", carol)
	p.check(t, "download link, unknown style", opURL, 400, "invalid_request", specAccepts)
	get("/api/uploads/"+mpID+"/url", alice)
	p.check(t, "download link, another user's", opURL, 404, "not_found", specAccepts)
	do(t, "DELETE", h.URL+"/api/uploads/"+mpID, carol, "", nil)
	p.check(t, "delete", opDelete, 204, "", specAccepts)
	do(t, "DELETE", h.URL+"/api/uploads/"+mpID, carol, "", nil)
	p.check(t, "delete again", opDelete, 404, "not_found", specAccepts)

	// Listing and getting records.
	res = get("/api/uploads?limit=1", alice)
	p.check(t, "list, first page", opList, 200, "", specAccepts)
	var page struct {
		Uploads    []json.RawMessage
		NextCursor *string
	}
	if err := json.Unmarshal(res.Body, &page); err != nil || len(page.Uploads) != 1 || page.NextCursor == nil {
		t.Fatalf("first page %s", res.Body)
	}
	res = get("/api/uploads?limit=1&cursor="+url.QueryEscape(*page.NextCursor), alice)
	p.check(t, "list, last page", opList, 200, "", specAccepts)
	if !bytes.Contains(res.Body, []byte(`"nextCursor":null`)) {
		t.Errorf("last page %s, want nextCursor null", res.Body)
	}
	get("/api/uploads", bob)
	p.check(t, "list, nothing", opList, 200, "", specAccepts)
	get("/api/uploads?limit=0", alice)
	p.check(t, "list, limit 0", opList, 400, "invalid_request", specRefuses)
	get("/api/uploads?limit=201", alice)
	p.check(t, "list, limit 201", opList, 400, "invalid_request", specRefuses)
	get("/api/uploads?limit=ten", alice)
	p.check(t, "list, limit not a number", opList, 400, "invalid_request", specRefuses)
	get("/api/uploads?cursor=bm90LWEtY3Vyc29y", alice)
	p.check(t, "list, foreign cursor", opList, 400, "invalid_request", specAccepts)
	get("/api/uploads", "")
	p.check(t, "list, no token", opList, 401, "unauthorized", specAccepts)

	get("/api/uploads/"+first.Upload.ID, alice)
	p.check(t, "get own", opGet, 200, "", specAccepts)
	get("/api/uploads/"+first.Upload.ID, bob)
	p.check(t, "get another's", opGet, 404, "not_found", specAccepts)
	get("/api/uploads/0000000000000000000000000a", alice)
	p.check(t, "get missing", opGet, 404, "not_found", specAccepts)
	get("/api/uploads/"+first.Upload.ID, "")
	p.check(t, "get, no token", opGet, 401, "unauthorized", specAccepts)

	uppyConformance(t, h, p, carol)

	// Operations and the demo page.
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/openapi.yaml", "/", "/index.html", "/app.js", "/style.css", "/favicon.svg", "/ossgate.js"} {
		get(path, "")
		p.check(t, path, "GET "+path, 200, "", specAccepts)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		do(t, "HEAD", h.URL+path, "", "", nil)
		p.check(t, "HEAD "+path, "HEAD "+path, 200, "", specAccepts)
	}
	get("/ossgate.js", "")
	if x := p.last(t); !strings.HasPrefix(x.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("ossgate.js served as %q", x.Header.Get("Content-Type"))
	}
	get("/openapi.yaml", "")
	if x := p.last(t); x.Header.Get("Content-Type") != "application/yaml" || !bytes.Equal(x.Body, api.OpenAPI) {
		t.Errorf("/openapi.yaml: %q, %d bytes", x.Header.Get("Content-Type"), len(x.Body))
	}

	// Outside the spec's operations: unknown paths and methods.
	do(t, "GET", h.URL+"/api/nope", alice, "", nil)
	p.checkUnrouted(t, "unknown path", routers.ErrPathNotFound, 404, "not_found")
	do(t, "PUT", h.URL+"/api/uploads/policy", alice, "", nil)
	p.checkUnrouted(t, "unknown method", routers.ErrMethodNotAllowed, 405, "method_not_allowed")

	// Form callbacks, STS tokens, rate limits and a database that is down,
	// each on its own server.
	hf, pf := newSpecHarness(t, func(s *setup) {
		s.issuer.CallbackBodyType = policy.BodyForm
		s.issuer.Credentials.SecurityToken = "CAIS-test-sts-token"
	})
	for _, v := range []string{"v4", "v1"} {
		up, _ := hf.policy(t, alice, map[string]any{"filename": "x.pdf", "size": 100, "contentType": "application/pdf", "vars": map[string]string{"caption": "a & b"}, "signatureVersion": v})
		pf.check(t, "policy with STS "+v, opPolicy, 200, "", specAccepts)
		if up.Fields["x-oss-security-token"] == "" {
			t.Errorf("policy with STS %s: no x-oss-security-token in %v", v, up.Fields)
		}
		hf.ossCallback(t, up, ossUpload{Size: 100, ETag: testETag, MimeType: "application/pdf"}, nil, nil)
		x := pf.check(t, "form callback "+v, opCallback, 200, "", specAccepts)
		if !bytes.Contains(x.Body, []byte(`"caption":"a \u0026 b"`)) {
			t.Errorf("form callback %s: %s", v, x.Body)
		}
	}

	hr, pr := newSpecHarness(t, func(s *setup) { s.options.RateLimit = RateLimit{PerSecond: 0.01, Burst: 1} })
	for i := 0; i < 2; i++ {
		hr.policy(t, alice, valid)
	}
	pr.check(t, "policy, rate limited", opPolicy, 429, "rate_limited", specAccepts)
	for i := 0; i < 2; i++ {
		do(t, "GET", hr.URL+"/api/uploads", alice, "", nil)
	}
	x := pr.check(t, "list, rate limited", opList, 429, "rate_limited", specAccepts)
	if x.Header.Get("Retry-After") != "100" {
		t.Errorf("Retry-After %q, want 100", x.Header.Get("Retry-After"))
	}
	do(t, "POST", hr.URL+"/api/dev/token", "", "application/json", []byte(`{"sub":"alice"}`))
	pr.check(t, "dev token, rate limited", opDev, 429, "rate_limited", specAccepts)

	hd, pd := newSpecHarness(t)
	hd.Store.Close()
	do(t, "GET", hd.URL+"/readyz", "", "", nil)
	pd.check(t, "readyz, database down", "GET /readyz", 503, "unavailable", specAccepts)
	do(t, "GET", hd.URL+"/api/uploads", alice, "", nil)
	pd.check(t, "list, database down", opList, 503, "unavailable", specAccepts)
	do(t, "GET", hd.URL+"/api/uploads/"+first.Upload.ID, alice, "", nil)
	pd.check(t, "get, database down", opGet, 503, "unavailable", specAccepts)

	// The doctor's challenge: answered when signed with the ticket secret.
	get(DoctorPathPrefix+NewDoctorChallenge(testTicketSecret, time.Now()), "")
	p.check(t, "doctor challenge", "GET /api/doctor/{challenge}", 200, "", specAccepts)
	get(DoctorPathPrefix+"d1.0.x.y", "")
	p.check(t, "doctor, foreign challenge", "GET /api/doctor/{challenge}", 404, "not_found", specAccepts)

	// Every operation of the spec was exercised.
	hit := seen(p, pf, pr, pd)
	for _, op := range specOps(p.doc) {
		if !hit[op] {
			t.Errorf("no conformance request for %s", op)
		}
	}
}

// codesOf returns the codes an Error<status> schema allows.
func codesOf(t *testing.T, s *openapi3.Schema) []string {
	t.Helper()
	if len(s.AllOf) != 2 || s.AllOf[0].Ref != "#/components/schemas/Error" {
		t.Fatalf("want allOf [Error, {code restriction}]")
	}
	code := s.AllOf[1].Value.Properties["error"].Value.Properties["code"].Value
	var out []string
	if code.Const != nil {
		out = append(out, code.Const.(string))
	}
	for _, v := range code.Enum {
		out = append(out, v.(string))
	}
	slices.Sort(out)
	return out
}

// TestSpecErrorCodesMatchServer: the spec's Error<status> schemas and its
// ErrorCode enum hold exactly the server's table of codes.
func TestSpecErrorCodesMatchServer(t *testing.T) {
	errorCodes := map[int][]string{}
	for code, status := range ErrorCodes() {
		errorCodes[status] = append(errorCodes[status], code)
	}
	doc := loadSpec(t)
	schemas := doc.Components.Schemas
	var all []string
	for status, want := range errorCodes {
		name := fmt.Sprintf("Error%d", status)
		ref := schemas[name]
		if ref == nil {
			t.Errorf("no schema %s", name)
			continue
		}
		want = slices.Sorted(slices.Values(want))
		if got := codesOf(t, ref.Value); !slices.Equal(got, want) {
			t.Errorf("%s codes %v, want %v", name, got, want)
		}
		all = append(all, want...)
	}
	slices.Sort(all)
	var enum []string
	for _, v := range schemas["ErrorCode"].Value.Enum {
		enum = append(enum, v.(string))
	}
	slices.Sort(enum)
	if !slices.Equal(enum, all) {
		t.Errorf("ErrorCode enum %v, want %v", enum, all)
	}
}
