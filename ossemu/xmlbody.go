package ossemu

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// ossTimeLayout is how OSS writes times in XML bodies.
const ossTimeLayout = "2006-01-02T15:04:05.000Z"

func ossTime(t time.Time) string { return t.UTC().Format(ossTimeLayout) }

// readXMLBody reads a request body of at most limit bytes, checks its
// Content-MD5 if one is sent, and decodes it into v.
func readXMLBody(r *http.Request, limit int64, v any) *ossError {
	if r.ContentLength > limit {
		return invalidArgument(fmt.Sprintf("The request body is larger than %d bytes.", limit))
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	switch {
	case err != nil:
		return incompleteBody()
	case int64(len(b)) > limit:
		return invalidArgument(fmt.Sprintf("The request body is larger than %d bytes.", limit))
	}
	if want := r.Header.Get("Content-MD5"); want != "" {
		if oerr := checkContentMD5(want); oerr != nil {
			return oerr
		}
		sum := md5.Sum(b)
		if base64.StdEncoding.EncodeToString(sum[:]) != want {
			return md5Mismatch()
		}
	}
	if err := xml.Unmarshal(b, v); err != nil {
		return malformedXML()
	}
	return nil
}

// writeXML answers 200 with v as an XML document.
func writeXML(w http.ResponseWriter, r *http.Request, v any) *ossError {
	b, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		return internalError("Encoding the answer failed.")
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	buf.Write(b)
	buf.WriteByte('\n')
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
	return nil
}

// keyEncoder writes keys and prefixes as encoding-type asks: "url"
// percent-encodes them (the SDKs always ask, so any key survives XML), ""
// leaves them as they are.
type keyEncoder struct{ url bool }

func newKeyEncoder(q map[string]string) (keyEncoder, *ossError) {
	switch q["encoding-type"] {
	case "":
		return keyEncoder{}, nil
	case "url":
		return keyEncoder{url: true}, nil
	}
	return keyEncoder{}, invalidArgument("encoding-type must be url, not " + quote(q["encoding-type"]) + ".")
}

func (k keyEncoder) enc(s string) string {
	if k.url {
		return uriEncode(s, false)
	}
	return s
}

// encPtr is enc for optional elements: nil stays nil (element left out).
func (k keyEncoder) encPtr(s *string) *string {
	if s == nil {
		return nil
	}
	v := k.enc(*s)
	return &v
}

// encodingType is the EncodingType element: "url" when asked for, else left out.
func (k keyEncoder) encodingType() *string {
	if !k.url {
		return nil
	}
	v := "url"
	return &v
}
