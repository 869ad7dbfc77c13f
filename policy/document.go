package policy

import (
	"strconv"
	"time"
)

// expirationLayout is the policy's "expiration" format (ISO 8601, UTC, ms),
// as the OSS SDKs write it.
const expirationLayout = "2006-01-02T15:04:05.000Z"

// Policy is an OSS POST policy under construction, together with the form
// fields the upload must send. Each setter adds the condition and the field
// in one call, so the signed policy and the form cannot drift apart; calling
// a setter again replaces what it set before.
//
// A Policy is not safe for concurrent modification. [Policy.Sign] does not
// modify it, so a built Policy may be signed from several goroutines.
type Policy struct {
	expiration time.Time
	conds      []Condition
	fields     []formField // fields owned by setters, in the order set
}

type formField struct{ name, value string }

// New returns an empty policy that expires at expiration.
func New(expiration time.Time) *Policy {
	return &Policy{expiration: expiration, conds: make([]Condition, 0, 8), fields: make([]formField, 0, 6)}
}

// put adds or replaces condition c and, when name is not empty, the form
// field name=value.
func (p *Policy) put(c Condition, name, value string) {
	replaced := false
	for i := range p.conds {
		if p.conds[i].sameTarget(c) {
			p.conds[i] = c
			replaced = true
			break
		}
	}
	if !replaced {
		p.conds = append(p.conds, c)
	}
	if name == "" {
		return
	}
	for i := range p.fields {
		if p.fields[i].name == name {
			p.fields[i].value = value
			return
		}
	}
	p.fields = append(p.fields, formField{name, value})
}

// SetBucket binds the bucket: {"bucket":bucket}. The bucket is not a form
// field; OSS takes it from the host the form is posted to.
func (p *Policy) SetBucket(bucket string) { p.put(Match("bucket", bucket), "", "") }

// SetKey binds the exact object key, ["eq","$key",key], and sets field "key".
func (p *Policy) SetKey(key string) { p.put(Eq("key", key), "key", key) }

// forbidOverwrite is the field (POST) and header (PUT) that makes OSS refuse
// an upload whose key already holds an object.
const forbidOverwrite = "x-oss-forbid-overwrite"

// SetForbidOverwrite binds ["eq","$x-oss-forbid-overwrite","true"] (or
// "false") and sets the field: with true, OSS refuses the upload (409
// FileAlreadyExists) when the key already holds an object.
func (p *Policy) SetForbidOverwrite(forbid bool) {
	v := strconv.FormatBool(forbid)
	p.put(Eq(forbidOverwrite, v), forbidOverwrite, v)
}

// SetContentType binds ["eq","$Content-Type",ct] and sets field
// "Content-Type", which OSS stores as the object's content type.
func (p *Policy) SetContentType(ct string) { p.put(Eq("Content-Type", ct), "Content-Type", ct) }

// SetContentTypeIn allows any of types: ["in","$content-type",[types…]].
// It sets no field: the uploader chooses one of them.
func (p *Policy) SetContentTypeIn(types ...string) { p.put(In("content-type", types...), "", "") }

// SetContentLengthRange limits the file to min..max bytes, inclusive.
func (p *Policy) SetContentLengthRange(min, max int64) { p.put(ContentLengthRange(min, max), "", "") }

// SetSuccessActionStatus binds ["eq","$success_action_status",status] and
// sets the field: the HTTP status OSS answers a successful upload with
// when there is no callback.
func (p *Policy) SetSuccessActionStatus(status string) {
	p.put(Eq("success_action_status", status), "success_action_status", status)
}

// SetCallback binds the upload callback: c is encoded with [Callback.Encode]
// and set as ["eq","$callback",b64] and field "callback". On error the policy
// is unchanged.
func (p *Policy) SetCallback(c Callback) error {
	b64, err := c.Encode()
	if err != nil {
		return err
	}
	p.setEncodedCallback(b64)
	return nil
}

// setEncodedCallback is SetCallback with the parameter already encoded.
func (p *Policy) setEncodedCallback(b64 string) {
	cond := Eq("callback", b64)
	cond.b64 = true // the largest value of a policy: skip scanning it
	p.put(cond, "callback", b64)
}

// SetVar binds a custom callback variable: ["eq","$x:name",value] and field
// "x:name". OSS substitutes ${x:name} in the callback body with the value.
func (p *Policy) SetVar(name, value string) {
	f := "x:" + name
	p.put(Eq(f, value), f, value)
}

// AddCondition appends c as is, with no form field: the escape hatch for
// conditions the setters do not cover. Unlike the setters it never replaces.
func (p *Policy) AddCondition(c Condition) { p.conds = append(p.conds, c) }

// Expiration returns the policy's expiry.
func (p *Policy) Expiration() time.Time { return p.expiration }

// JSON returns the policy document with the conditions added so far
// (without the signing conditions [Policy.Sign] adds). The bytes are those
// of encoding/json with SetEscapeHTML(false), which are also JavaScript's
// JSON.stringify's except that U+2028 and U+2029 are escaped.
func (p *Policy) JSON() ([]byte, error) {
	return p.appendDocument(make([]byte, 0, p.sizeHint(nil)), nil)
}

func (p *Policy) sizeHint(extra []Condition) int {
	n := 64
	for _, c := range p.conds {
		n += c.sizeHint()
	}
	for _, c := range extra {
		n += c.sizeHint()
	}
	return n
}

// appendDocument appends the document: p's conditions, then extra.
func (p *Policy) appendDocument(b []byte, extra []Condition) ([]byte, error) {
	b = append(b, `{"expiration":"`...)
	b = appendExpiration(b, p.expiration)
	b = append(b, `","conditions":[`...)
	var err error
	for i, c := range p.conds {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = c.appendJSON(b); err != nil {
			return nil, err
		}
	}
	for i, c := range extra {
		if i > 0 || len(p.conds) > 0 {
			b = append(b, ',')
		}
		if b, err = c.appendJSON(b); err != nil {
			return nil, err
		}
	}
	return append(b, "]}"...), nil
}
