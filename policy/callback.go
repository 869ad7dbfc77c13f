package policy

import (
	"encoding/base64"
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/ossgate/ossgate/internal/jsonstr"

	"github.com/ossgate/ossgate/ticket"
)

// BodyType is the content type of the callback body OSS sends.
type BodyType string

const (
	// BodyJSON makes OSS send a JSON body; it renders each ${…} variable as
	// a JSON string (size as a number), so the template leaves them bare.
	BodyJSON BodyType = ticket.BodyJSON
	// BodyForm makes OSS send an application/x-www-form-urlencoded body.
	BodyForm BodyType = ticket.BodyForm
)

// Callback is the OSS upload callback parameter: after storing the object,
// OSS POSTs Body (with its ${…} variables filled in) to URL and relays the
// answer to the uploader.
type Callback struct {
	URL      string // callbackUrl
	Body     string // callbackBody
	BodyType string // callbackBodyType; empty lets OSS default to form
}

// Encode returns the callback parameter: base64 of
// {"callbackUrl":…,"callbackBody":…,"callbackBodyType":…} in that order,
// without HTML escaping (the bytes the OSS SDKs produce).
func (c Callback) Encode() (string, error) {
	if c.URL == "" || c.Body == "" {
		return "", errors.New("policy: callback needs a URL and a body")
	}
	var scratch [2048]byte // a callback parameter is about 900 bytes
	return base64String(appendCallbackJSON(scratch[:0], c.URL, c.Body, c.BodyType)), nil
}

// appendCallbackJSON appends the JSON that Encode encodes.
func appendCallbackJSON[S jsonstr.Text](b []byte, url string, body S, bodyType string) []byte {
	b = append(b, `{"callbackUrl":`...)
	b = jsonstr.Append(b, url)
	b = append(b, `,"callbackBody":`...)
	b = jsonstr.Append(b, body)
	if bodyType != "" {
		b = append(b, `,"callbackBodyType":`...)
		b = jsonstr.Append(b, bodyType)
	}
	return append(b, '}')
}

// encodeCallback is Callback{url, CallbackBody(bodyType, ticket, names),
// bodyType}.Encode() for names that are valid, sorted and unique, without
// the body as a string of its own.
func encodeCallback(url string, bodyType BodyType, ticket string, names []string) string {
	var body [1536]byte // the body of a ticket and a few vars is about 800 bytes
	var doc [3072]byte
	b := appendCallbackBody(body[:0], bodyType, ticket, names)
	return base64String(appendCallbackJSON(doc[:0], url, b, string(bodyType)))
}

// base64String is base64.StdEncoding.EncodeToString(src) with one
// allocation instead of two: the encoding goes through a buffer on the
// stack, in whole 3-byte groups, into a strings.Builder of the exact size.
func base64String(src []byte) string {
	var out strings.Builder
	out.Grow(base64.StdEncoding.EncodedLen(len(src)))
	var chunk [1024]byte
	const step = 3 * 240 // encodes to 960 bytes
	for len(src) > 0 {
		n := min(len(src), step)
		out.Write(appendBase64(chunk[:0], src[:n]))
		src = src[n:]
	}
	return out.String()
}

// encodeCallbackVars returns the x-oss-callback-var value of a PUT: base64
// of {"x:name":"value",…} in the order of names.
func encodeCallbackVars(names []string, vars map[string]string) string {
	b := []byte{'{'}
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, "x:"+n)
		b = append(b, ':')
		b = appendString(b, vars[n])
	}
	b = append(b, '}')
	return string(appendBase64(nil, b))
}

// systemVars are the OSS system variables every ossgate callback carries.
var systemVars = [...]string{"bucket", "object", "etag", "size", "mimeType"}

// imageVars are OSS's image variables, in the body under these names
// (OSS renders them empty, or null in JSON, for objects that are not
// images).
var imageVars = [...][2]string{{"imageWidth", "imageInfo.width"}, {"imageHeight", "imageInfo.height"}, {"imageFormat", "imageInfo.format"}}

// CallbackBody returns the callback body template ossgate uses, with the
// ticket embedded literally and one ${x:name} per var name, sorted:
//
//	JSON: {"bucket":${bucket},…,"mimeType":${mimeType},"imageWidth":${imageInfo.width},…,"ticket":"<ticket>","vars":{"caption":${x:caption}}}
//	form: bucket=${bucket}&…&mimeType=${mimeType}&imageWidth=${imageInfo.width}&…&ticket=<ticket>&x%3Acaption=${x:caption}
//
// bodyType BodyForm gives the form layout, anything else JSON. The ticket is
// escaped for the layout (a JWT needs no escaping in either). Names that are
// not valid var names (see [ValidVarName]) and duplicates are left out.
func CallbackBody(bodyType BodyType, ticket string, varNames []string) string {
	names := make([]string, 0, len(varNames))
	for _, n := range varNames {
		if ValidVarName(n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	// The fixed variables take about 200 bytes in either layout.
	b := make([]byte, 0, 256+len(ticket)+len(names)*(2*32+12))
	return string(appendCallbackBody(b, bodyType, ticket, names))
}

// appendCallbackBody appends CallbackBody's template for names that are
// valid, sorted and unique.
func appendCallbackBody(b []byte, bodyType BodyType, ticket string, names []string) []byte {
	if bodyType == BodyForm {
		for _, v := range systemVars {
			b = append(b, v...)
			b = append(b, "=${"...)
			b = append(b, v...)
			b = append(b, "}&"...)
		}
		for _, v := range imageVars {
			b = append(b, v[0]...)
			b = append(b, "=${"...)
			b = append(b, v[1]...)
			b = append(b, "}&"...)
		}
		b = append(b, "ticket="...)
		b = append(b, url.QueryEscape(ticket)...)
		for _, n := range names {
			b = append(b, "&x%3A"...)
			b = append(b, n...)
			b = append(b, "=${x:"...)
			b = append(b, n...)
			b = append(b, '}')
		}
		return b
	}
	b = append(b, '{')
	for _, v := range systemVars {
		b = append(b, '"')
		b = append(b, v...)
		b = append(b, `":${`...)
		b = append(b, v...)
		b = append(b, `},`...)
	}
	for _, v := range imageVars {
		b = append(b, '"')
		b = append(b, v[0]...)
		b = append(b, `":${`...)
		b = append(b, v[1]...)
		b = append(b, `},`...)
	}
	b = append(b, `"ticket":`...)
	b = appendString(b, ticket)
	b = append(b, `,"vars":{`...)
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, n...)
		b = append(b, `":${x:`...)
		b = append(b, n...)
		b = append(b, '}')
	}
	return append(b, "}}"...)
}

// ValidVarName reports whether name is a valid custom variable name,
// ^[a-z0-9_]{1,32}$ (OSS wants custom variables lowercase). It is
// ticket.ValidVarName, the rule the callback verifier applies too.
func ValidVarName(name string) bool { return ticket.ValidVarName(name) }
