package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/golang-jwt/jwt/v5"

	"github.com/ossgate/ossgate/ossclient"
	"github.com/ossgate/ossgate/policy"
	"github.com/ossgate/ossgate/static"
)

const uppyTestUploadURL = "http://oss.example.test/testbucket"

// uppyHarness is a server over a real emulator, as Uppy would meet it,
// and a client of that emulator.
func uppyHarness(t *testing.T) (*harness, *ossclient.Client) {
	t.Helper()
	bucket := emulatorBucket(t)
	return newHarness(t, func(s *setup) {
		s.options.Bucket = bucket
		s.options.UploadURL = uppyTestUploadURL
	}), bucket
}

func createQuery(filename string, size int, contentType string, extra ...string) string {
	q := url.Values{"filename": {filename}, "size": {fmt.Sprint(size)}, "contentType": {contentType}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Add(extra[i], extra[i+1])
	}
	return q.Encode()
}

func xmlDecode(t *testing.T, res response, v any) {
	t.Helper()
	if res.Status != http.StatusOK {
		t.Fatalf("status %d: %s", res.Status, res.Body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/xml") {
		t.Fatalf("Content-Type %q, want application/xml", ct)
	}
	if err := xml.Unmarshal(res.Body, v); err != nil {
		t.Fatalf("%v in %s", err, res.Body)
	}
}

// putPart uploads part n's bytes to the presigned OSS URL the JSON API
// signs, as Uppy's UploadPart does.
func putPart(t *testing.T, h *harness, bearer, uploadID string, n int, data []byte) {
	t.Helper()
	res := do(t, "POST", h.URL+"/api/uploads/multipart/"+uploadID+"/parts", bearer, "application/json", fmt.Appendf(nil, `{"partNumbers":[%d]}`, n))
	var signed struct{ Parts []signedPart }
	if res.Status != 200 || json.Unmarshal(res.Body, &signed) != nil || len(signed.Parts) != 1 {
		t.Fatalf("signing part %d: %d %s", n, res.Status, res.Body)
	}
	p := signed.Parts[0]
	var header []string
	for k, v := range p.Headers {
		header = append(header, k, v)
	}
	if put := sendReq(t, p.Method, p.URL, bytes.NewReader(data), header...); put.Status != 200 || put.Header.Get("ETag") == "" {
		t.Fatalf("PUT part %d: %d %s", n, put.Status, put.Body)
	}
}

// TestUppyMultipart walks Uppy's multipart steps against the emulator:
// create, parts, list (resume), an early complete, complete, a retried
// complete, and what is left afterwards: one record, no open session.
func TestUppyMultipart(t *testing.T) {
	h, bucket := uppyHarness(t)
	alice := token(t, nil)
	ps := policy.PartSize(9 << 20)
	data := make([]byte, 9<<20+5) // two parts: 8 MiB and the rest
	rand.Read(data)
	parts := [][]byte{data[:ps], data[ps:]}

	var created initiateResult
	xmlDecode(t, do(t, "POST", h.URL+uppyRoute+"?"+createQuery("clip.pdf", len(data), "application/pdf", "x:caption", "hi"), alice, "application/pdf", nil), &created)
	if created.UploadID == "" || created.Bucket != testBucket || !strings.HasPrefix(created.Key, "uploads/alice/") || !strings.HasSuffix(created.Key, ".pdf") {
		t.Fatalf("create answered %+v", created)
	}
	target := h.URL + uppyRoute + "/" + created.UploadID

	putPart(t, h, alice, created.UploadID, 2, parts[1])
	var listed listPartsResult
	xmlDecode(t, do(t, "GET", target, alice, "", nil), &listed)
	if len(listed.Parts) != 1 || listed.Parts[0].PartNumber != 2 || listed.Parts[0].Size != int64(len(parts[1])) || !strings.HasPrefix(listed.Parts[0].ETag, `"`) {
		t.Fatalf("list after part 2: %+v", listed)
	}

	// Uppy sends its own part list; ossgate goes by what OSS holds.
	uppyBody := []byte(`<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>`)
	if res := do(t, "POST", target, alice, "application/xml", uppyBody); res.Status != 409 || res.errorCode(t) != codeUploadIncomplete {
		t.Fatalf("complete with part 1 missing: %d %s", res.Status, res.Body)
	}

	putPart(t, h, alice, created.UploadID, 1, parts[0])
	var done completeResult
	xmlDecode(t, do(t, "POST", target, alice, "application/xml", uppyBody), &done)
	if done.Key != created.Key || done.Location != uppyTestUploadURL+"/"+created.Key || done.Bucket != testBucket || len(done.ETag) < 3 {
		t.Fatalf("complete answered %+v", done)
	}

	var again completeResult
	xmlDecode(t, do(t, "POST", target, alice, "application/xml", uppyBody), &again)
	if again != done {
		t.Errorf("retried complete answered %+v, want %+v", again, done)
	}

	recs, _, err := h.Store.List(context.Background(), "alice", 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Key != created.Key || recs[0].Size != int64(len(data)) || recs[0].Vars["caption"] != "hi" || quoteETag(recs[0].ETag) != done.ETag {
		t.Fatalf("records %+v, want one of %s with %d bytes", recs, created.Key, len(data))
	}
	if obj, err := bucket.HeadObject(context.Background(), created.Key); err != nil || obj.Size != int64(len(data)) {
		t.Fatalf("the bucket holds %+v, %v; want %d bytes", obj, err, len(data))
	}

	if res := do(t, "GET", target, alice, "", nil); res.Status != 409 || res.errorCode(t) != codeUploadClosed {
		t.Errorf("list after complete: %d %s", res.Status, res.Body)
	}
}

// TestUppyAbort: DELETE aborts, like the JSON API's; the session is then
// closed to every step, and another user's upload id is not found.
func TestUppyAbort(t *testing.T) {
	h, _ := uppyHarness(t)
	alice, bob := token(t, nil), token(t, jwt.MapClaims{"sub": "bob"})
	var created initiateResult
	xmlDecode(t, do(t, "POST", h.URL+uppyRoute+"?"+createQuery("a.txt", 300, "text/plain"), alice, "text/plain", nil), &created)
	target := h.URL + uppyRoute + "/" + created.UploadID

	for _, method := range []string{"GET", "POST", "DELETE"} {
		if res := do(t, method, target, bob, "", nil); res.Status != 404 || res.errorCode(t) != codeNotFound {
			t.Errorf("bob %s: %d %s", method, res.Status, res.Body)
		}
	}
	if res := do(t, "DELETE", target, alice, "", nil); res.Status != 204 {
		t.Fatalf("abort: %d %s", res.Status, res.Body)
	}
	for _, method := range []string{"GET", "POST", "DELETE"} {
		if res := do(t, method, target, alice, "", nil); res.Status != 409 || res.errorCode(t) != codeUploadClosed {
			t.Errorf("%s after abort: %d %s", method, res.Status, res.Body)
		}
	}
}

// TestUppyCreateRefusals: the query is attacker input, read as strictly
// as the JSON body, and the policy's rules apply unchanged.
func TestUppyCreateRefusals(t *testing.T) {
	h, _ := uppyHarness(t)
	alice := token(t, nil)
	tests := []struct {
		name, query, bearer string
		status              int
		code                string
	}{
		{"no token", createQuery("a.txt", 10, "text/plain"), "", 401, codeUnauthorized},
		{"no size", "filename=a.txt&contentType=text%2Fplain", alice, 400, policy.CodeInvalidRequest},
		{"size not a number", "filename=a.txt&size=1e3&contentType=text%2Fplain", alice, 400, policy.CodeInvalidRequest},
		{"negative size", createQuery("a.txt", -1, "text/plain"), alice, 400, policy.CodeInvalidRequest},
		{"empty file", createQuery("a.txt", 0, "text/plain"), alice, 422, policy.CodeEmptyFile},
		{"too large", createQuery("a.txt", 11<<20, "text/plain"), alice, 422, policy.CodeFileTooLarge},
		{"type not allowed", createQuery("a.exe", 10, "application/x-msdownload"), alice, 422, policy.CodeTypeNotAllowed},
		{"no filename", "size=10&contentType=text%2Fplain", alice, 400, policy.CodeInvalidRequest},
		{"filename twice", createQuery("a.txt", 10, "text/plain", "filename", "b.txt"), alice, 400, policy.CodeInvalidRequest},
		{"unknown parameter", createQuery("a.txt", 10, "text/plain", "acl", "public-read"), alice, 400, policy.CodeInvalidRequest},
		{"bad var name", createQuery("a.txt", 10, "text/plain", "x:Caption", "hi"), alice, 400, policy.CodeInvalidRequest},
		{"malformed query", createQuery("a.txt", 10, "text/plain") + "&x:a=%zz", alice, 400, policy.CodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, "POST", h.URL+uppyRoute+"?"+tt.query, tt.bearer, "text/plain", nil)
			if res.Status != tt.status || res.errorCode(t) != tt.code {
				t.Errorf("got %d %s, want %d %s", res.Status, res.Body, tt.status, tt.code)
			}
		})
	}
	recs, _, _ := h.Store.List(context.Background(), "alice", 10, "")
	if len(recs) != 0 {
		t.Errorf("%d records after refusals", len(recs))
	}
}

// TestUppyCompleteBodyLimit: Uppy's part list for 10000 parts fits; more
// than 1 MiB is refused before anything is done.
func TestUppyCompleteBodyLimit(t *testing.T) {
	h, _ := uppyHarness(t)
	alice := token(t, nil)
	var created initiateResult
	xmlDecode(t, do(t, "POST", h.URL+uppyRoute+"?"+createQuery("a.txt", 300, "text/plain"), alice, "text/plain", nil), &created)
	target := h.URL + uppyRoute + "/" + created.UploadID

	var full bytes.Buffer
	full.WriteString("<CompleteMultipartUpload>")
	for n := 1; n <= policy.MaxParts; n++ {
		fmt.Fprintf(&full, "<Part><PartNumber>%d</PartNumber><ETag>5EB63BBBE01EEED093CB22BB8F5ACDC3</ETag></Part>", n)
	}
	full.WriteString("</CompleteMultipartUpload>")
	if res := do(t, "POST", target, alice, "application/xml", full.Bytes()); res.Status != 409 || res.errorCode(t) != codeUploadIncomplete {
		t.Errorf("complete with a %d-byte part list: %d %s", full.Len(), res.Status, res.Body)
	}
	over := bytes.Repeat([]byte(" "), uppyCompleteBodyLimit+1)
	if res := do(t, "POST", target, alice, "application/xml", over); res.Status != 413 || res.errorCode(t) != codeBodyTooLarge {
		t.Errorf("complete with 1 MiB + 1: %d %s", res.Status, res.Body)
	}
}

// TestUppyConformance holds the S3-dialect routes' real requests and
// answers against api/openapi.yaml, XML bodies included.
func TestUppyConformance(t *testing.T) {
	h, p := newSpecHarness(t, func(s *setup) { s.options.UploadURL = uppyTestUploadURL; s.options.Static = static.FS })
	h.Bucket.mp = emulatorBucket(t)
	uppyConformance(t, h, p, token(t, jwt.MapClaims{"sub": "dave"}))
}

// uppyConformance exercises every S3-dialect operation through the spec
// proxy, as TestOpenAPIConformance does for the JSON routes (which can
// call it with its own harness and proxy).
func uppyConformance(t *testing.T, h *harness, p *specProxy, bearer string) {
	t.Helper()
	const (
		opCreate   = "POST /api/uppy/multipart"
		opList     = "GET /api/uppy/multipart/{uploadId}"
		opComplete = "POST /api/uppy/multipart/{uploadId}"
		opAbort    = "DELETE /api/uppy/multipart/{uploadId}"
	)
	res := do(t, "POST", h.URL+uppyRoute+"?"+createQuery("big.pdf", 300000, "application/pdf", "x:caption", "hi"), bearer, "application/pdf", nil)
	p.check(t, "uppy create", opCreate, 200, "", specAccepts)
	var created initiateResult
	xmlDecode(t, res, &created)
	target := uppyRoute + "/" + created.UploadID
	do(t, "POST", h.URL+uppyRoute+"?filename=a.pdf&contentType=application%2Fpdf", bearer, "", nil)
	p.check(t, "uppy create, no size", opCreate, 400, "invalid_request", specRefuses)
	do(t, "POST", h.URL+uppyRoute+"?"+createQuery("a.pdf", 0, "application/pdf"), bearer, "", nil)
	p.check(t, "uppy create, empty", opCreate, 422, "empty_file", specRefuses)
	do(t, "POST", h.URL+uppyRoute+"?"+createQuery("a.zip", 10, "application/zip"), bearer, "", nil)
	p.check(t, "uppy create, type", opCreate, 422, "type_not_allowed", specAccepts)
	do(t, "POST", h.URL+uppyRoute+"?"+createQuery("a.pdf", 10, "application/pdf"), "", "", nil)
	p.check(t, "uppy create, no token", opCreate, 401, "unauthorized", specAccepts)

	do(t, "GET", h.URL+target, bearer, "", nil)
	p.check(t, "uppy list, none yet", opList, 200, "", specAccepts)
	do(t, "POST", h.URL+target, bearer, "application/xml", []byte("<CompleteMultipartUpload></CompleteMultipartUpload>"))
	p.check(t, "uppy complete, nothing uploaded", opComplete, 409, "upload_incomplete", specAccepts)
	putPart(t, h, bearer, created.UploadID, 1, make([]byte, 300000))
	do(t, "GET", h.URL+target, bearer, "", nil)
	p.check(t, "uppy list", opList, 200, "", specAccepts)
	do(t, "GET", h.URL+uppyRoute+"/nope", bearer, "", nil)
	p.check(t, "uppy list, unknown", opList, 404, "not_found", specAccepts)
	do(t, "POST", h.URL+target, bearer, "application/xml", []byte("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>"))
	p.check(t, "uppy complete", opComplete, 200, "", specAccepts)
	do(t, "POST", h.URL+target, bearer, "application/xml", nil)
	p.check(t, "uppy complete again", opComplete, 200, "", specAccepts)
	do(t, "GET", h.URL+target, bearer, "", nil)
	p.check(t, "uppy list, completed", opList, 409, "upload_closed", specAccepts)
	do(t, "DELETE", h.URL+target, bearer, "", nil)
	p.check(t, "uppy abort, completed", opAbort, 409, "upload_closed", specAccepts)

	res = do(t, "POST", h.URL+uppyRoute+"?"+createQuery("b.pdf", 10, "application/pdf"), bearer, "", nil)
	xmlDecode(t, res, &created)
	do(t, "DELETE", h.URL+uppyRoute+"/"+created.UploadID, bearer, "", nil)
	p.check(t, "uppy abort", opAbort, 204, "", specAccepts)
	do(t, "DELETE", h.URL+uppyRoute+"/"+created.UploadID, "", "", nil)
	p.check(t, "uppy abort, no token", opAbort, 401, "unauthorized", specAccepts)

	do(t, "GET", h.URL+"/uppy.js", "", "", nil)
	if x := p.check(t, "/uppy.js", "GET /uppy.js", 200, "", specAccepts); !strings.HasPrefix(x.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("uppy.js served as %q", x.Header.Get("Content-Type"))
	}
}

// The spec proxy reads application/xml bodies as S3 writes them: the root
// element is the schema's xml.name, each child a property, repeated
// children an array. A string schema takes the body as it is.
func init() {
	openapi3filter.RegisterBodyDecoder("application/xml", func(r io.Reader, _ http.Header, ref *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		body, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		if ref == nil || ref.Value == nil || ref.Value.Type.Is("string") {
			return string(body), nil
		}
		var root xmlNode
		if err := xml.Unmarshal(body, &root); err != nil {
			return nil, err
		}
		if want := ref.Value.XML; want != nil && want.Name != root.XMLName.Local {
			return nil, fmt.Errorf("root element %s, want %s", root.XMLName.Local, want.Name)
		}
		return root.value(ref.Value), nil
	})
}

type xmlNode struct {
	XMLName  xml.Name
	Text     string    `xml:",chardata"`
	Children []xmlNode `xml:",any"`
}

// value is n shaped by schema s: properties from children, integers
// parsed, unknown children kept (as text) for additionalProperties.
func (n xmlNode) value(s *openapi3.Schema) any {
	switch {
	case s == nil:
		return n.Text
	case s.Type.Is("integer"):
		var v int64
		if _, err := fmt.Sscan(n.Text, &v); err != nil {
			return n.Text
		}
		return v
	case !s.Type.Is("object"):
		return n.Text
	}
	out := map[string]any{}
	for _, c := range n.Children {
		name := c.XMLName.Local
		prop := s.Properties[name]
		switch {
		case prop == nil || prop.Value == nil:
			out[name] = c.Text
		case prop.Value.Type.Is("array"):
			items, _ := out[name].([]any)
			out[name] = append(items, c.value(prop.Value.Items.Value))
		default:
			out[name] = c.value(prop.Value)
		}
	}
	return out
}
