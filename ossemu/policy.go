package ossemu

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Condition operators of a POST policy.
const (
	opEq                 = "eq"
	opStartsWith         = "starts-with"
	opIn                 = "in"
	opNotIn              = "not-in"
	opContentLengthRange = "content-length-range"
)

// policyDoc is a decoded POST policy.
type policyDoc struct {
	Expiration time.Time // UTC
	Conditions []condition
}

// condition is one entry of the policy's conditions, in one shape whatever
// its JSON form: a map entry {"field":"v"} becomes an eq condition.
type condition struct {
	Op     string   // one of the op* constants
	Field  string   // form field, lowercased, without "$"
	Value  string   // eq, starts-with
	Values []string // in, not-in
	Min    int64    // content-length-range
	Max    int64    // content-length-range
}

// errPolicy marks a malformed policy document (400 InvalidPolicyDocument).
var errPolicy = errors.New("invalid policy document")

func policyErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errPolicy, fmt.Sprintf(format, args...))
}

// decodePolicy decodes the base64 policy form field and parses it.
func decodePolicy(b64 string) (*policyDoc, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, policyErrorf("policy is not valid base64")
	}
	return parsePolicy(raw)
}

// parsePolicy parses a policy JSON document. It never panics on any input
// (FuzzParsePolicy) and rejects anything OSS would reject as malformed.
func parsePolicy(data []byte) (*policyDoc, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil || top == nil {
		return nil, policyErrorf("policy is not a JSON object")
	}
	var p policyDoc
	expRaw, ok := top["expiration"]
	if !ok {
		return nil, policyErrorf("policy has no expiration")
	}
	exp, err := jsonString(expRaw)
	if err != nil {
		return nil, policyErrorf("expiration is not a string")
	}
	t, err := time.Parse(time.RFC3339Nano, exp)
	if err != nil {
		return nil, policyErrorf("expiration %q is not an ISO 8601 time", exp)
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return nil, policyErrorf("expiration %q is out of range", exp)
	}
	p.Expiration = t.UTC()

	condRaw, ok := top["conditions"]
	if !ok {
		return nil, policyErrorf("policy has no conditions")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(condRaw, &items); err != nil || items == nil {
		return nil, policyErrorf("conditions is not a list")
	}
	for i, item := range items {
		cs, err := parseCondition(item)
		if err != nil {
			return nil, policyErrorf("condition %d: %v", i, err)
		}
		p.Conditions = append(p.Conditions, cs...)
	}
	return &p, nil
}

func parseCondition(item json.RawMessage) ([]condition, error) {
	item = bytes.TrimSpace(item)
	if len(item) == 0 {
		return nil, errors.New("empty")
	}
	switch item[0] {
	case '{':
		var m map[string]json.RawMessage
		if err := json.Unmarshal(item, &m); err != nil {
			return nil, errors.New("not a map of strings")
		}
		if len(m) == 0 {
			return nil, errors.New("empty map")
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys) // deterministic order for error messages
		out := make([]condition, 0, len(m))
		for _, k := range keys {
			v, err := jsonString(m[k])
			if err != nil {
				return nil, fmt.Errorf("value of %q is not a string", k)
			}
			f, err := fieldName(k)
			if err != nil {
				return nil, err
			}
			out = append(out, condition{Op: opEq, Field: f, Value: v})
		}
		return out, nil
	case '[':
		var list []json.RawMessage
		if err := json.Unmarshal(item, &list); err != nil {
			return nil, errors.New("not a list")
		}
		c, err := parseListCondition(list)
		if err != nil {
			return nil, err
		}
		return []condition{c}, nil
	default:
		return nil, errors.New("not a map or a list")
	}
}

func parseListCondition(list []json.RawMessage) (condition, error) {
	if len(list) != 3 {
		return condition{}, fmt.Errorf("has %d elements, want 3", len(list))
	}
	op, err := jsonString(list[0])
	if err != nil {
		return condition{}, errors.New("operator is not a string")
	}
	op = strings.ToLower(op)
	c := condition{Op: op}
	if op == opContentLengthRange {
		lo, err := parseSize(list[1])
		if err != nil {
			return condition{}, fmt.Errorf("content-length-range minimum: %v", err)
		}
		hi, err := parseSize(list[2])
		if err != nil {
			return condition{}, fmt.Errorf("content-length-range maximum: %v", err)
		}
		if lo > hi {
			return condition{}, errors.New("content-length-range minimum is above its maximum")
		}
		c.Min, c.Max = lo, hi
		return c, nil
	}
	field, err := jsonString(list[1])
	if err != nil {
		return condition{}, errors.New("field is not a string")
	}
	f, err := fieldName(field)
	if err != nil {
		return condition{}, err
	}
	c.Field = f
	switch op {
	case opEq, opStartsWith:
		if c.Value, err = jsonString(list[2]); err != nil {
			return condition{}, fmt.Errorf("%s value is not a string", op)
		}
	case opIn, opNotIn:
		var raws []json.RawMessage
		if err := json.Unmarshal(list[2], &raws); err != nil || raws == nil {
			return condition{}, fmt.Errorf("%s value is not a list of strings", op)
		}
		c.Values = make([]string, len(raws))
		for i, r := range raws {
			if c.Values[i], err = jsonString(r); err != nil {
				return condition{}, fmt.Errorf("%s value is not a list of strings", op)
			}
		}
	default:
		return condition{}, fmt.Errorf("unknown operator %q", op)
	}
	return c, nil
}

// jsonString decodes a JSON string; null, which encoding/json would quietly
// turn into "", is refused.
func jsonString(raw json.RawMessage) (string, error) {
	var s *string
	if err := json.Unmarshal(raw, &s); err != nil || s == nil {
		return "", errors.New("not a string")
	}
	return *s, nil
}

// fieldName normalises a condition's field: "$Content-Type" and
// "content-type" name the same form field, as OSS matches them
// case-insensitively. The "$" is optional, as in OSS's own examples.
func fieldName(s string) (string, error) {
	s = strings.ToLower(strings.TrimPrefix(s, "$"))
	if s == "" {
		return "", errors.New("empty field name")
	}
	return s, nil
}

// parseSize reads a content-length-range bound: a non-negative integer, as a
// JSON number or a numeric string.
func parseSize(raw json.RawMessage) (int64, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return 0, errors.New("not a number")
	}
	var s string
	switch v := v.(type) {
	case json.Number:
		s = v.String()
	case string:
		s = v
	default:
		return 0, errors.New("not a number")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a non-negative integer", s)
	}
	return n, nil
}

// MarshalJSON writes p in canonical form: every condition as a list, fields
// with "$". Parsing the result gives p back (FuzzParsePolicy checks this).
func (p *policyDoc) MarshalJSON() ([]byte, error) {
	conds := make([]json.RawMessage, 0, len(p.Conditions))
	for _, c := range p.Conditions {
		b, err := c.MarshalJSON()
		if err != nil {
			return nil, err
		}
		conds = append(conds, b)
	}
	return json.Marshal(struct {
		Expiration string            `json:"expiration"`
		Conditions []json.RawMessage `json:"conditions"`
	}{p.Expiration.UTC().Format(time.RFC3339Nano), conds})
}

// MarshalJSON writes c as a policy list condition.
func (c condition) MarshalJSON() ([]byte, error) {
	var v []any
	switch c.Op {
	case opContentLengthRange:
		v = []any{c.Op, c.Min, c.Max}
	case opIn, opNotIn:
		vals := c.Values
		if vals == nil {
			vals = []string{}
		}
		v = []any{c.Op, "$" + c.Field, vals}
	default:
		v = []any{c.Op, "$" + c.Field, c.Value}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// String renders c the way OSS quotes a failed condition in its message:
// ["eq", "$key", "value"].
func (c condition) String() string {
	b, err := c.MarshalJSON()
	if err != nil {
		return c.Op
	}
	var parts []json.RawMessage
	if json.Unmarshal(b, &parts) != nil {
		return string(b)
	}
	s := make([]string, len(parts))
	for i, p := range parts {
		s[i] = string(p)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// expired reports whether the policy is past its expiration at now.
func (p *policyDoc) expired(now time.Time) bool {
	return now.After(p.Expiration)
}

// checkFields checks every condition on form fields (all but
// content-length-range, which needs the file). A field absent from the form
// is compared as "", so it fails an eq unless "" is what is wanted. The
// "bucket" field is always the emulator's bucket: the form does not choose it.
func (p *policyDoc) checkFields(f form, bucket string) *ossError {
	for _, c := range p.Conditions {
		if c.Op == opContentLengthRange {
			continue
		}
		v := f[c.Field]
		if c.Field == "bucket" {
			v = bucket
		}
		var ok bool
		switch c.Op {
		case opEq:
			ok = v == c.Value
		case opStartsWith:
			ok = strings.HasPrefix(v, c.Value)
		case opIn:
			ok = slices.Contains(c.Values, v)
		case opNotIn:
			ok = !slices.Contains(c.Values, v)
		}
		if !ok {
			return accessDenied("Invalid according to Policy: Policy Condition failed: " + c.String())
		}
	}
	return nil
}

// sizeRange is the intersection of the policy's content-length-range
// conditions; ok is false when there is none.
func (p *policyDoc) sizeRange() (lo, hi int64, ok bool) {
	for _, c := range p.Conditions {
		if c.Op != opContentLengthRange {
			continue
		}
		if !ok {
			lo, hi, ok = c.Min, c.Max, true
			continue
		}
		lo, hi = max(lo, c.Min), min(hi, c.Max)
	}
	return lo, hi, ok
}

func policyError(err error) *ossError {
	return newError(http.StatusBadRequest, CodeInvalidPolicyDocument, err.Error())
}
