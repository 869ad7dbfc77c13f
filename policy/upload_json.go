package policy

import (
	"errors"
	"slices"
	"strconv"
	"time"
)

// AppendJSON appends u exactly as json.Marshal writes it (struct field
// order, map keys sorted, '<', '>' and '&' escaped as \u003c, \u003e and
// \u0026, the expiry in RFC 3339). The policy endpoint answers every
// request with one, and encoding/json's reflection and byte-by-byte escaping
// of the long base64 values were its largest single cost.
// TestSignedUploadAppendJSON and FuzzSignedUploadJSON hold it to encoding/json.
func (u *SignedUpload) AppendJSON(dst []byte) ([]byte, error) {
	if y := u.ExpiresAt.Year(); y < 0 || y > 9999 {
		return dst, errors.New("policy: SignedUpload.ExpiresAt: year outside of range [0,9999]")
	}
	dst = append(dst, `{"method":`...)
	dst = appendStringHTML(dst, u.Method)
	dst = append(dst, `,"url":`...)
	dst = appendStringHTML(dst, u.URL)
	if len(u.Fields) > 0 {
		dst = append(dst, `,"fields":`...)
		dst = appendStringMap(dst, u.Fields)
	}
	dst = append(dst, `,"headers":`...)
	dst = appendStringMap(dst, u.Headers)
	dst = append(dst, `,"key":`...)
	dst = appendStringHTML(dst, u.Key)
	dst = append(dst, `,"expiresAt":"`...)
	dst = u.ExpiresAt.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","maxSize":`...)
	dst = strconv.AppendInt(dst, u.MaxSize, 10)
	dst = append(dst, `,"ticket":`...)
	dst = appendStringHTML(dst, u.Ticket)
	return append(dst, '}'), nil
}

// JSONSizeHint is about the length of u's JSON, for sizing a buffer.
func (u *SignedUpload) JSONSizeHint() int {
	n := 128 + len(u.Method) + len(u.URL) + len(u.Key) + len(u.Ticket)
	for k, v := range u.Fields {
		n += len(k) + len(v) + 6
	}
	for k, v := range u.Headers {
		n += len(k) + len(v) + 6
	}
	return n
}

// appendStringMap writes m as encoding/json does: null for nil, keys sorted.
func appendStringMap(dst []byte, m map[string]string) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	var keyBuf [16]string // a signed form has about ten fields
	keys := keyBuf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendStringHTML(dst, k)
		dst = append(dst, ':')
		dst = appendStringHTML(dst, m[k])
	}
	return append(dst, '}')
}
