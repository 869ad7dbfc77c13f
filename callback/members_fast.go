package callback

import (
	"encoding/json"
	"unicode/utf8"
)

// maxFastMembers is the most members membersFast collects: an ossgate
// callback body has about ten.
const maxFastMembers = 32

type member struct {
	name string
	raw  []byte // the value's JSON, a slice of the body
}

// membersFast lists the members of the JSON object data when data is one
// valid JSON object whose member names are plain (no escapes, UTF-8, at
// most maxFastMembers, no duplicates). It reports false for anything else,
// and eachMember then walks data with encoding/json's Decoder, which gives
// every error its message; for what it accepts, the names and values are
// what the Decoder gives (FuzzMembersFastMatchesDecoder). Without it, a
// callback body cost about a hundred allocations of Decoder tokens.
func membersFast(data []byte, buf *[maxFastMembers]member) ([]member, bool) {
	if !json.Valid(data) {
		return nil, false
	}
	// data is valid JSON from here on, so skipping a value only has to
	// find where it ends.
	i := skipSpace(data, 0)
	if i == len(data) || data[i] != '{' {
		return nil, false
	}
	out := buf[:0]
	i = skipSpace(data, i+1)
	if data[i] == '}' {
		return out, true
	}
	for {
		// A name.
		end, plain := stringEnd(data, i)
		if !plain || len(out) == maxFastMembers {
			return nil, false
		}
		name := data[i+1 : end-1]
		for _, m := range out {
			if m.name == string(name) {
				return nil, false // the Decoder path says "duplicate field"
			}
		}
		i = skipSpace(data, end)
		i = skipSpace(data, i+1) // past ':'
		vend := valueEnd(data, i)
		out = append(out, member{name: string(name), raw: data[i:vend]})
		i = skipSpace(data, vend)
		if data[i] == '}' {
			return out, true
		}
		i = skipSpace(data, i+1) // past ','
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// stringEnd returns the index after the valid JSON string starting at i,
// and whether it is plain: no escapes, valid UTF-8.
func stringEnd(data []byte, i int) (int, bool) {
	plain := true
	ascii := true
	start := i + 1
	for j := start; ; j++ {
		switch c := data[j]; {
		case c == '"':
			return j + 1, plain && (ascii || utf8.Valid(data[start:j]))
		case c == '\\':
			plain = false
			j++ // the escaped byte; \uXXXX's hex digits are skipped as plain bytes
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
}

// valueEnd returns the index after the valid JSON value starting at i.
func valueEnd(data []byte, i int) int {
	switch data[i] {
	case '"':
		end, _ := stringEnd(data, i)
		return end
	case '{', '[':
		depth := 0
		for j := i; ; j++ {
			switch data[j] {
			case '"':
				end, _ := stringEnd(data, j)
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
	default: // a number, true, false or null
		j := i
		for j < len(data) {
			switch data[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return j
			}
			j++
		}
		return j
	}
}

// plainString returns the JSON string raw (quotes included) when it has no
// escapes and is valid UTF-8: then its text is the bytes between the quotes.
func plainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	end, plain := stringEnd(raw, 0)
	if !plain || end != len(raw) {
		return "", false
	}
	return string(raw[1 : len(raw)-1]), true
}
