package policy

import (
	"unicode/utf8"
)

// decodeRequestFast decodes the plain form of a request body that clients
// send: one object whose keys are exactly the field names, each at most
// once, with unescaped strings, an integer size and a vars object of
// unescaped strings. It reports false for anything else (escapes, null,
// other spellings of the keys, duplicates, other number forms, unknown
// fields), and the caller then decodes with encoding/json, so every such
// body still gets encoding/json's result and errors. For a body it accepts,
// the result is what encoding/json gives (FuzzRequestFastMatchesJSON checks
// this), without reflection or a Decoder.
func decodeRequestFast(data []byte, r *Request) bool {
	d := fastDecoder{data: data}
	d.space()
	if !d.consume('{') {
		return false
	}
	var out Request
	var seen uint8
	d.space()
	if d.consume('}') {
		out.sizeMissing = true
		return d.end(r, out)
	}
	for {
		d.space()
		key, ok := d.rawString()
		if !ok {
			return false
		}
		d.space()
		if !d.consume(':') {
			return false
		}
		d.space()
		var bit uint8
		switch string(key) {
		case "filename":
			bit = 1
			out.Filename, ok = d.stringValue()
		case "size":
			bit = 2
			out.Size, ok = d.integer()
		case "contentType":
			bit = 4
			out.ContentType, ok = d.stringValue()
		case "vars":
			bit = 8
			out.Vars, ok = d.vars()
		case "signatureVersion":
			bit = 16
			out.SignatureVersion, ok = d.stringValue()
		default:
			return false
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		d.space()
		if d.consume('}') {
			break
		}
		if !d.consume(',') {
			return false
		}
	}
	out.sizeMissing = seen&2 == 0
	return d.end(r, out)
}

type fastDecoder struct {
	data []byte
	i    int
}

func (d *fastDecoder) end(r *Request, out Request) bool {
	d.space()
	if d.i != len(d.data) {
		return false
	}
	*r = out
	return true
}

func (d *fastDecoder) space() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *fastDecoder) consume(c byte) bool {
	if d.i < len(d.data) && d.data[d.i] == c {
		d.i++
		return true
	}
	return false
}

// rawString reads a string without escapes or control characters, in
// valid UTF-8 (encoding/json would replace invalid bytes), and returns its
// bytes.
func (d *fastDecoder) rawString() ([]byte, bool) {
	if !d.consume('"') {
		return nil, false
	}
	start := d.i
	ascii := true
	for d.i < len(d.data) {
		c := d.data[d.i]
		switch {
		case c == '"':
			s := d.data[start:d.i]
			d.i++
			return s, ascii || utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		d.i++
	}
	return nil, false
}

func (d *fastDecoder) stringValue() (string, bool) {
	s, ok := d.rawString()
	return string(s), ok
}

// integer reads -?(0|[1-9][0-9]*) of at most 18 digits, which always fits
// an int64.
func (d *fastDecoder) integer() (int64, bool) {
	neg := d.consume('-')
	start := d.i
	var n int64
	for d.i < len(d.data) && d.data[d.i] >= '0' && d.data[d.i] <= '9' {
		n = n*10 + int64(d.data[d.i]-'0')
		d.i++
	}
	digits := d.i - start
	if digits == 0 || digits > 18 || digits > 1 && d.data[start] == '0' {
		return 0, false
	}
	if d.i < len(d.data) {
		switch d.data[d.i] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	if neg {
		n = -n
	}
	return n, true
}

// vars reads an object of strings, each name at most once (encoding/json
// would keep the last; the fallback does that).
func (d *fastDecoder) vars() (map[string]string, bool) {
	if !d.consume('{') {
		return nil, false
	}
	m := map[string]string{}
	d.space()
	if d.consume('}') {
		return m, true
	}
	for len(m) <= MaxVars { // more is refused anyway; the fallback says so
		d.space()
		k, ok := d.rawString()
		if !ok {
			return nil, false
		}
		d.space()
		if !d.consume(':') {
			return nil, false
		}
		d.space()
		v, ok := d.rawString()
		if !ok {
			return nil, false
		}
		if _, dup := m[string(k)]; dup {
			return nil, false
		}
		m[string(k)] = string(v)
		d.space()
		if d.consume('}') {
			return m, true
		}
		if !d.consume(',') {
			return nil, false
		}
	}
	return nil, false
}
