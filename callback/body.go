package callback

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ossgate/ossgate/ticket"
)

// MaxBodyBytes is the largest callback body ParseBody accepts (the HTTP
// contract's 1 MiB callback limit; callers should stop reading there too).
const MaxBodyBytes = 1 << 20

// Body is a parsed callback body in ossgate's layout (see ParseBody).
type Body struct {
	Bucket, Object string
	// ETag is OSS's ETag of the object, without quotes: 32 upper-case hex
	// digits, and "-N" for a multipart object.
	ETag string
	// MimeType is the content type OSS reports: a bare "type/subtype"
	// (ticket.PlainMediaType), as OSS gives it.
	MimeType string
	// Size is the object size OSS reports, never negative.
	Size int64
	// Ticket is the upload ticket ossgate put in the callback body.
	Ticket string
	// Vars are the custom x:name variables, by name without "x:"; never
	// nil. At most ticket.MaxVars, each name ticket.ValidVarName and each
	// value ticket.ValidVarValue.
	Vars map[string]string
	// Image is what OSS reports of an image object (imageWidth,
	// imageHeight, imageFormat from ${imageInfo.*}); nil for other objects
	// or values that are not a plausible image's.
	Image *Image
}

// Image is an image's size and format, as OSS reports it.
type Image struct {
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Format string `json:"format"` // OSS's name: jpg, png, gif, webp, bmp, tiff, …
}

// maxImageSide bounds the dimensions taken from a callback (OSS processes
// images of at most 30 000 pixels a side).
const maxImageSide = 30000

// image builds the Image of raw width, height and format values; nil when
// any is missing or implausible (an object that is not an image).
func image(w, h, format string) *Image {
	width, err1 := strconv.Atoi(w)
	height, err2 := strconv.Atoi(h)
	format = strings.ToLower(format)
	if err1 != nil || err2 != nil || width < 1 || height < 1 || width > maxImageSide || height > maxImageSide ||
		format == "" || len(format) > 8 || strings.Trim(format, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
		return nil
	}
	return &Image{Width: width, Height: height, Format: format}
}

// ParseBody parses a callback body in one of ossgate's layouts, chosen by
// contentType:
//
//	application/json:                  {"bucket":"b","object":"k","etag":"E","size":123,"mimeType":"image/jpeg","ticket":"<jwt>","vars":{"caption":"hi"}}
//	application/x-www-form-urlencoded: bucket=b&object=k&etag=E&size=123&mimeType=image%2Fjpeg&ticket=<jwt>&x%3Acaption=hi
//
// size may be a JSON integer or a string of decimal digits, and must fit an
// int64. bucket, object, etag, size, mimeType and ticket are required;
// unknown fields are ignored. etag must have OSS's shape: 32 upper-case hex
// digits, then "-N" (1 ≤ N ≤ 10000) for a multipart object; one pair of
// surrounding double quotes, as in the HTTP ETag header, is removed.
// mimeType must be a bare media type (ticket.PlainMediaType: no parameters,
// at most 255 bytes). Variables are bounded as the policy bounds them: at
// most ticket.MaxVars, names [a-z0-9_]{1,32}, values ticket.ValidVarValue.
// A repeated field, invalid UTF-8, another content type or charset, or a
// body over MaxBodyBytes is refused. Every error wraps ErrInvalidCallback.
func ParseBody(contentType string, body []byte) (Body, error) {
	if len(body) > MaxBodyBytes {
		return Body{}, errorf(ErrInvalidCallback, "body over %d bytes", MaxBodyBytes)
	}
	format, err := BodyFormat(contentType)
	if err != nil {
		return Body{}, err
	}
	if !utf8.Valid(body) {
		return Body{}, errorf(ErrInvalidCallback, "body is not valid UTF-8")
	}
	if format == ticket.BodyJSON {
		return parseJSONBody(body)
	}
	return parseFormBody(string(body))
}

// BodyFormat returns the body format a callback's Content-Type names,
// ticket.BodyJSON or ticket.BodyForm, or an error wrapping
// ErrInvalidCallback for any other type or a charset other than UTF-8.
// OSS does not sign the Content-Type: Verify accepts the format only if the
// ticket inside the body was issued for it.
func BodyFormat(contentType string) (string, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", errorf(ErrInvalidCallback, "bad content type %s", quote(contentType))
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return "", errorf(ErrInvalidCallback, "unsupported charset %s", quote(cs))
	}
	if mt != ticket.BodyJSON && mt != ticket.BodyForm {
		return "", errorf(ErrInvalidCallback, "unsupported content type %s", quote(mt))
	}
	return mt, nil
}

// fields collects the fields common to both layouts and checks the
// required ones at the end.
type fields struct {
	b       Body
	hasSize bool
	// the image values as sent; done turns them into b.Image
	imageWidth, imageHeight, imageFormat string
}

func (f *fields) set(name, value string) {
	switch name {
	case "bucket":
		f.b.Bucket = value
	case "object":
		f.b.Object = value
	case "etag":
		f.b.ETag = value
	case "mimeType":
		f.b.MimeType = value
	case "ticket":
		f.b.Ticket = value
	case "imageWidth":
		f.imageWidth = value
	case "imageHeight":
		f.imageHeight = value
	case "imageFormat":
		f.imageFormat = value
	}
}

func (f *fields) done() (Body, error) {
	switch {
	case f.b.Bucket == "":
		return Body{}, errorf(ErrInvalidCallback, "missing bucket")
	case f.b.Object == "":
		return Body{}, errorf(ErrInvalidCallback, "missing object")
	case f.b.Ticket == "":
		return Body{}, errorf(ErrInvalidCallback, "missing ticket")
	case !f.hasSize:
		return Body{}, errorf(ErrInvalidCallback, "missing size")
	case f.b.ETag == "":
		return Body{}, errorf(ErrInvalidCallback, "missing etag")
	case f.b.MimeType == "":
		return Body{}, errorf(ErrInvalidCallback, "missing mimeType")
	}
	etag, ok := parseETag(f.b.ETag)
	if !ok {
		return Body{}, errorf(ErrInvalidCallback, "etag %s is not an OSS ETag (32 upper-case hex digits, optionally -N)", quote(f.b.ETag))
	}
	f.b.ETag = etag
	if !ticket.PlainMediaType(f.b.MimeType) {
		return Body{}, errorf(ErrInvalidCallback, "mimeType %s is not a bare type/subtype", quote(f.b.MimeType))
	}
	if len(f.b.Vars) > ticket.MaxVars {
		return Body{}, errorf(ErrInvalidCallback, "more than %d vars", ticket.MaxVars)
	}
	for name, v := range f.b.Vars {
		if !ticket.ValidVarName(name) {
			return Body{}, errorf(ErrInvalidCallback, "var name %s is not [a-z0-9_]{1,32}", quote(name))
		}
		if !ticket.ValidVarValue(v) {
			return Body{}, errorf(ErrInvalidCallback, "var %s is over %d bytes or holds control characters", quote(name), ticket.MaxVarValueLen)
		}
	}
	if f.b.Vars == nil {
		f.b.Vars = map[string]string{}
	}
	f.b.Image = image(f.imageWidth, f.imageHeight, f.imageFormat)
	return f.b, nil
}

// maxMultipartParts is the most parts OSS allows in a multipart upload.
const maxMultipartParts = 10000

// parseETag checks OSS's ETag shape and returns it without surrounding
// quotes: the hex MD5 of the object (32 upper-case digits), followed for a
// multipart object by "-" and the part count.
func parseETag(s string) (string, bool) {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	sum, parts, multipart := strings.Cut(s, "-")
	if len(sum) != 32 || strings.TrimLeft(sum, "0123456789ABCDEF") != "" {
		return "", false
	}
	if multipart {
		if parts == "" || len(parts) > 5 || parts[0] == '0' || strings.TrimLeft(parts, "0123456789") != "" {
			return "", false
		}
		if n, _ := strconv.Atoi(parts); n > maxMultipartParts {
			return "", false
		}
	}
	return s, true
}

// parseSize accepts decimal digits only: no sign, fraction, exponent or
// spaces, so "1e3", "1.0", "-1" and "+1" are all refused.
func parseSize(s string) (int64, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errorf(ErrInvalidCallback, "size is not a non-negative integer")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errorf(ErrInvalidCallback, "size out of range")
	}
	return n, nil
}

func parseJSONBody(body []byte) (Body, error) {
	var f fields
	err := eachMember(body, func(name string, raw json.RawMessage) error {
		switch name {
		case "bucket", "object", "etag", "mimeType", "ticket":
			s, err := jsonString(raw)
			if err != nil {
				return errorf(ErrInvalidCallback, "%s: %v", name, err)
			}
			f.set(name, s)
		case "size":
			// A JSON number is used as written (the raw token); a string
			// must hold the same digits.
			s := string(raw)
			if strings.HasPrefix(s, `"`) {
				var err error
				if s, err = jsonString(raw); err != nil {
					return errorf(ErrInvalidCallback, "size: %v", err)
				}
			}
			n, err := parseSize(s)
			if err != nil {
				return err
			}
			f.b.Size, f.hasSize = n, true
		case "imageWidth", "imageHeight", "imageFormat":
			// A number, a string, or null (an object that is not an
			// image); anything else is no image either.
			v := strings.Trim(string(raw), `"`)
			if len(v) <= 16 {
				f.set(name, v)
			}
		case "vars":
			vars, err := jsonVars(raw)
			if err != nil {
				return err
			}
			f.b.Vars = vars
		}
		return nil
	})
	if err != nil {
		return Body{}, err
	}
	return f.done()
}

// eachMember calls fn for each member of the JSON object in data, in order.
// A duplicate member name, a non-object, or anything after the object is an
// error: duplicates are how one parser is made to see another body than the
// next one.
func eachMember(data []byte, fn func(name string, raw json.RawMessage) error) error {
	var buf [maxFastMembers]member
	if ms, ok := membersFast(data, &buf); ok {
		for _, m := range ms {
			if err := fn(m.name, m.raw); err != nil {
				return err
			}
		}
		return nil
	}
	return eachMemberDecoded(data, fn)
}

// eachMemberDecoded is eachMember through encoding/json's Decoder, for
// every body.
func eachMemberDecoded(data []byte, fn func(name string, raw json.RawMessage) error) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return errorf(ErrInvalidCallback, "malformed JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errorf(ErrInvalidCallback, "JSON body is not an object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errorf(ErrInvalidCallback, "malformed JSON")
		}
		name, ok := tok.(string)
		if !ok {
			return errorf(ErrInvalidCallback, "malformed JSON")
		}
		if seen[name] {
			return errorf(ErrInvalidCallback, "duplicate field %s", quote(name))
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return errorf(ErrInvalidCallback, "malformed JSON")
		}
		if err := fn(name, raw); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return errorf(ErrInvalidCallback, "malformed JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(ErrInvalidCallback, "data after the JSON object")
	}
	return nil
}

var errNotString = errors.New("not a string")

func jsonString(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", errNotString
	}
	if s, ok := plainString(raw); ok {
		return s, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", errNotString
	}
	return s, nil
}

// jsonVars reads the "vars" object: names to string values; null is none.
func jsonVars(raw json.RawMessage) (map[string]string, error) {
	vars := map[string]string{}
	if string(raw) == "null" {
		return vars, nil
	}
	err := eachMember(raw, func(name string, v json.RawMessage) error {
		if name == "" {
			return errorf(ErrInvalidCallback, "vars: empty name")
		}
		s, err := jsonString(v)
		if err != nil {
			return errorf(ErrInvalidCallback, "vars: %s is not a string", quote(name))
		}
		vars[name] = s
		return nil
	})
	if err != nil {
		return nil, err
	}
	return vars, nil
}

// parseFormBody parses application/x-www-form-urlencoded by hand rather
// than with url.ParseQuery, to refuse repeated names (after decoding) and
// ";" separators instead of silently choosing a value.
func parseFormBody(body string) (Body, error) {
	var f fields
	f.b.Vars = map[string]string{}
	seen := map[string]bool{}
	for part := range strings.SplitSeq(body, "&") {
		if part == "" {
			continue
		}
		if strings.Contains(part, ";") {
			return Body{}, errorf(ErrInvalidCallback, "form: semicolon in field")
		}
		k, v, _ := strings.Cut(part, "=")
		name, err1 := url.QueryUnescape(k)
		value, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return Body{}, errorf(ErrInvalidCallback, "form: bad percent-encoding")
		}
		if !utf8.ValidString(name) || !utf8.ValidString(value) {
			return Body{}, errorf(ErrInvalidCallback, "form: field is not valid UTF-8")
		}
		if seen[name] {
			return Body{}, errorf(ErrInvalidCallback, "form: duplicate field %s", quote(name))
		}
		seen[name] = true
		switch name {
		case "size":
			n, err := parseSize(value)
			if err != nil {
				return Body{}, err
			}
			f.b.Size, f.hasSize = n, true
		default:
			if v, ok := strings.CutPrefix(name, "x:"); ok {
				if v == "" {
					return Body{}, errorf(ErrInvalidCallback, "form: empty variable name")
				}
				f.b.Vars[v] = value
				continue
			}
			f.set(name, value)
		}
	}
	return f.done()
}
