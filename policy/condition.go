package policy

import (
	"errors"
	"strconv"
	"strings"
)

type condKind uint8

const (
	kindNone condKind = iota // zero Condition: refused when the document is written
	kindMatch
	kindEq
	kindStartsWith
	kindIn
	kindNotIn
	kindRange
)

var kindOps = [...]string{
	kindEq:         "eq",
	kindStartsWith: "starts-with",
	kindIn:         "in",
	kindNotIn:      "not-in",
	kindRange:      "content-length-range",
}

// Condition is one entry of a policy's "conditions" array. Make one with
// [Eq], [StartsWith], [In], [NotIn], [ContentLengthRange] or [Match].
//
// Field names are form field names, with or without the leading "$" (it is
// added for the array forms and dropped for the map form). OSS compares
// field names without regard to case.
type Condition struct {
	kind     condKind
	field    string // "$key" for the array forms, "bucket" for the map form
	value    string
	values   []string
	min, max int64
	b64      bool // value is our own base64: nothing to escape
}

func dollar(field string) string {
	// The fields every Issue sets, without a concatenation each.
	switch field {
	case "key":
		return "$key"
	case "Content-Type":
		return "$Content-Type"
	case "success_action_status":
		return "$success_action_status"
	case "callback":
		return "$callback"
	case forbidOverwrite:
		return "$" + forbidOverwrite
	}
	if strings.HasPrefix(field, "$") {
		return field
	}
	return "$" + field
}

// Eq is ["eq","$field",value]: the form field must equal value.
func Eq(field, value string) Condition {
	return Condition{kind: kindEq, field: dollar(field), value: value}
}

// StartsWith is ["starts-with","$field",prefix].
func StartsWith(field, prefix string) Condition {
	return Condition{kind: kindStartsWith, field: dollar(field), value: prefix}
}

// In is ["in","$field",[values…]]: the field must be one of values.
func In(field string, values ...string) Condition {
	return Condition{kind: kindIn, field: dollar(field), values: append([]string(nil), values...)}
}

// NotIn is ["not-in","$field",[values…]]: the field must be none of values.
func NotIn(field string, values ...string) Condition {
	return Condition{kind: kindNotIn, field: dollar(field), values: append([]string(nil), values...)}
}

// ContentLengthRange is ["content-length-range",min,max]: the file's size in
// bytes must be within [min, max].
func ContentLengthRange(min, max int64) Condition {
	return Condition{kind: kindRange, min: min, max: max}
}

// Match is the map form {"field":value}, an exact match. OSS uses it for
// "bucket" and for the x-oss-* signing fields.
func Match(field, value string) Condition {
	return Condition{kind: kindMatch, field: strings.TrimPrefix(field, "$"), value: value}
}

// sameTarget reports whether c and o constrain the same field the same way,
// so that a setter called twice replaces its condition instead of adding a
// second, contradictory one.
func (c Condition) sameTarget(o Condition) bool {
	return c.kind == o.kind && strings.EqualFold(c.field, o.field)
}

var errZeroCondition = errors.New("policy: condition has no field (use Eq, In, Match… to make one)")

// appendJSON appends c as a JSON value.
func (c Condition) appendJSON(b []byte) ([]byte, error) {
	switch c.kind {
	case kindMatch:
		if c.field == "" {
			return b, errZeroCondition
		}
		b = append(b, '{')
		b = appendString(b, c.field)
		b = append(b, ':')
		b = appendString(b, c.value)
		return append(b, '}'), nil
	case kindEq, kindStartsWith:
		if c.field == "$" {
			return b, errZeroCondition
		}
		b = c.appendOpField(b)
		if c.b64 {
			b = append(b, '"')
			b = append(b, c.value...)
			b = append(b, '"')
		} else {
			b = appendString(b, c.value)
		}
		return append(b, ']'), nil
	case kindIn, kindNotIn:
		if c.field == "$" {
			return b, errZeroCondition
		}
		b = append(c.appendOpField(b), '[')
		for i, v := range c.values {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, v)
		}
		return append(b, "]]"...), nil
	case kindRange:
		if c.min < 0 || c.max < c.min {
			return b, errors.New("policy: content-length-range needs 0 <= min <= max")
		}
		b = append(b, `["content-length-range",`...)
		b = strconv.AppendInt(b, c.min, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, c.max, 10)
		return append(b, ']'), nil
	}
	return b, errZeroCondition
}

// sizeHint is roughly the JSON length of c, to size the document buffer once.
func (c Condition) sizeHint() int {
	n := 32 + len(c.field) + len(c.value)
	for _, v := range c.values {
		n += 3 + len(v)
	}
	return n
}

// appendOpField writes the head every list condition shares: ["op","$field",
func (c Condition) appendOpField(b []byte) []byte {
	b = append(b, `["`...)
	b = append(b, kindOps[c.kind]...)
	b = append(b, `",`...)
	b = appendString(b, c.field)
	return append(b, ',')
}
