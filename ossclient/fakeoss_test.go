package ossclient

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// The fake OSS tests talk to: a real HTTP server on 127.0.0.1:0 whose
// answers each test writes, with canned OSS XML. The emulator tests
// (emulator_test.go) cover signing and real OSS behaviour.

const (
	testID     = "LTAI5tFakeAccessKeyID"
	testSecret = "fake-secret-9f8e7d6c5b4a"
	testToken  = "CAIS-fake-sts-token-0123456789"
	testBucket = "examplebucket"
	testRegion = "cn-hangzhou"
)

type seenRequest struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   string
}

type fakeOSS struct {
	t   *testing.T
	srv *httptest.Server

	mu     sync.Mutex
	seen   []seenRequest
	handle func(w http.ResponseWriter, r *http.Request, n int) // n counts requests from 1
}

func newFake(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, n int)) *fakeOSS {
	t.Helper()
	f := &fakeOSS{t: t, handle: handle}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOSS) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	f.mu.Lock()
	f.seen = append(f.seen, seenRequest{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(body)})
	n := len(f.seen)
	f.mu.Unlock()
	w.Header().Set("x-oss-request-id", fmt.Sprintf("5C3D9175B6FC201293AD%04d", n))
	f.handle(w, r, n)
}

func (f *fakeOSS) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.seen...)
}

func (f *fakeOSS) count() int { return len(f.requests()) }

// config is a valid Config for the fake; edit may change it.
func (f *fakeOSS) config(edit func(*Config)) Config {
	cfg := Config{
		AccessKeyID:     testID,
		AccessKeySecret: testSecret,
		Region:          testRegion,
		Bucket:          testBucket,
		Endpoint:        f.srv.URL,
		UsePathStyle:    true,
	}
	if edit != nil {
		edit(&cfg)
	}
	return cfg
}

func (f *fakeOSS) client(edit func(*Config)) *Client {
	f.t.Helper()
	c, err := New(f.config(edit))
	if err != nil {
		f.t.Fatalf("New: %v", err)
	}
	return c
}

// writeOSSError answers like OSS: the XML error body (none for HEAD, which
// carries it base64 in x-oss-err when withErrHeader).
func writeOSSError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	body := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>%s</Code>
  <Message>%s</Message>
  <RequestId>%s</RequestId>
  <HostId>%s.oss-cn-hangzhou.aliyuncs.com</HostId>
  <EC>0002-00000001</EC>
</Error>`, html.EscapeString(code), html.EscapeString(msg), w.Header().Get("x-oss-request-id"), testBucket)
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		io.WriteString(w, body)
	}
}

func writeXML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+body)
}

func partsXML(truncated bool, next int, numbers ...int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<ListPartsResult><Bucket>%s</Bucket><Key>k</Key><UploadId>u</UploadId>"+
		"<NextPartNumberMarker>%d</NextPartNumberMarker><MaxParts>1000</MaxParts><IsTruncated>%t</IsTruncated>",
		testBucket, next, truncated)
	for _, n := range numbers {
		fmt.Fprintf(&b, `<Part><PartNumber>%d</PartNumber><LastModified>2026-11-30T07:01:34.000Z</LastModified>`+
			`<ETag>"ETAG%04d"</ETag><Size>%d</Size></Part>`, n, n, 100*1024+n)
	}
	b.WriteString("</ListPartsResult>")
	return b.String()
}
