package web

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ossgate/ossgate/policy"
	"github.com/ossgate/ossgate/store"
)

// The S3 dialect of multipart uploads, for @uppy/aws-s3 6.x. Uppy sends its
// own S3 requests to the URLs its signRequest returns and reads S3 XML
// answers; ossgate.js's awsS3Options points Create, ListParts, Complete and
// Abort here (UploadPart goes to the presigned OSS URL of the JSON API).
// Every step is the JSON API's own (startMultipart, session, listParts,
// finishMultipart, abortMultipart): only the shapes differ. Errors stay
// ossgate's JSON, which Uppy keeps in its error's body.

const uppyRoute = "/api/uppy/multipart"

// uppyCompleteBodyLimit fits Uppy's CompleteMultipartUpload body for
// MaxParts parts (about 90 bytes each). ossgate lists the parts itself, so
// the body is read only to be bounded.
const uppyCompleteBodyLimit = 1 << 20

// registerUppy adds the S3-dialect routes.
func (s *Server) registerUppy(authn echo.MiddlewareFunc) {
	s.POST(uppyRoute, s.uppyCreate, bodyLimit(apiBodyLimit), authn)
	s.GET(uppyRoute+"/:uploadId", s.uppyListParts, authn)
	s.POST(uppyRoute+"/:uploadId", s.uppyComplete, bodyLimit(uppyCompleteBodyLimit), authn)
	s.DELETE(uppyRoute+"/:uploadId", s.abortMultipart, authn)
}

type initiateResult struct {
	XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
	Bucket   string
	Key      string
	UploadID string `xml:"UploadId"`
}

type listPartsResult struct {
	XMLName  xml.Name `xml:"ListPartsResult"`
	Bucket   string
	Key      string
	UploadID string    `xml:"UploadId"`
	Parts    []xmlPart `xml:"Part"`
}

type xmlPart struct {
	PartNumber int
	ETag       string
	Size       int64
}

type completeResult struct {
	XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
	Location string
	Bucket   string
	Key      string
	ETag     string
}

// uppyCreate is POST /api/uppy/multipart?filename=…&size=…&contentType=…
// [&x:NAME=value…]: the JSON create's request as a query (S3's
// CreateMultipartUpload has no body), answered as S3 does.
func (s *Server) uppyCreate(c echo.Context) error {
	req, err := multipartRequestFromQuery(c.Request().URL.RawQuery)
	if err != nil {
		return err
	}
	m, err := s.startMultipart(c, req)
	if err != nil {
		return err
	}
	s.opt.Metrics.policies.WithLabelValues("multipart", string(policy.V4)).Inc()
	return c.XML(http.StatusOK, initiateResult{Bucket: m.Bucket, Key: m.Key, UploadID: m.UploadID})
}

// multipartRequestFromQuery reads a policy.Request from a query as
// strictly as decodeJSON reads a body: each name once, none unknown.
func multipartRequestFromQuery(rawQuery string) (policy.Request, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return policy.Request{}, invalidRequest("The query string is malformed.")
	}
	var req policy.Request
	sizeSeen := false
	for name, values := range q {
		if len(values) != 1 {
			return policy.Request{}, invalidRequest(fmt.Sprintf("%.40q must be given once.", name))
		}
		v := values[0]
		switch {
		case name == "filename":
			req.Filename = v
		case name == "contentType":
			req.ContentType = v
		case name == "size":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return policy.Request{}, invalidRequest("size must be a whole number of bytes.")
			}
			req.Size, sizeSeen = n, true
		case strings.HasPrefix(name, "x:"):
			// The policy's rules bound the vars' number, names and values.
			if req.Vars == nil {
				req.Vars = map[string]string{}
			}
			req.Vars[strings.TrimPrefix(name, "x:")] = v
		default:
			return policy.Request{}, invalidRequest(fmt.Sprintf("Unknown query parameter %.40q.", name))
		}
	}
	if !sizeSeen {
		return policy.Request{}, invalidRequest("size is required.")
	}
	return req, nil
}

// uppyListParts is GET /api/uppy/multipart/:uploadId: the parts OSS holds,
// for Uppy's resume.
func (s *Server) uppyListParts(c echo.Context) error {
	m, err := s.session(c)
	if err != nil {
		return err
	}
	if err := openSession(m); err != nil {
		return err
	}
	parts, err := s.listParts(c.Request().Context(), m)
	if err != nil {
		return s.ossError(c, "list_parts", err)
	}
	out := listPartsResult{Bucket: m.Bucket, Key: m.Key, UploadID: m.UploadID, Parts: make([]xmlPart, 0, len(parts))}
	for _, p := range parts {
		out.Parts = append(out.Parts, xmlPart{PartNumber: p.Number, ETag: quoteETag(p.ETag), Size: p.Size})
	}
	return c.XML(http.StatusOK, out)
}

// uppyComplete is POST /api/uppy/multipart/:uploadId: completes the upload
// like the JSON complete, from the parts OSS holds. Completing a completed
// upload answers the same result again, so a retried Complete (Uppy's, or
// after ossgate.js completed it through the JSON API to get the record)
// succeeds.
func (s *Server) uppyComplete(c echo.Context) error {
	if _, err := readBody(c); err != nil { // Uppy's part list: bounded, unused
		return err
	}
	m, err := s.session(c)
	if err != nil {
		return err
	}
	var rec store.Record
	if m.State == store.SessionCompleted {
		// The record exists: recordMultipart finds it (and says so when the
		// object has gone since).
		rec, err = s.recordMultipart(c, m, "")
	} else {
		rec, err = s.finishMultipart(c, m)
	}
	if err != nil {
		return err
	}
	return c.XML(http.StatusOK, completeResult{Location: s.objectLocation(rec.Key), Bucket: rec.Bucket, Key: rec.Key, ETag: quoteETag(rec.ETag)})
}

// objectLocation is the object's URL under the upload URL, as S3 gives
// Location and as Uppy computes it for POST uploads.
func (s *Server) objectLocation(key string) string {
	segs := strings.Split(key, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return strings.TrimRight(s.opt.UploadURL, "/") + "/" + strings.Join(segs, "/")
}

// quoteETag gives an ETag S3's quoted form.
func quoteETag(etag string) string { return `"` + strings.Trim(etag, `"`) + `"` }
