// Package jsontest holds the references ossgate's hand-written JSON writers
// are tested against (encoding/json itself) and the strings that stress
// their escaping. Only tests import it.
package jsontest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// Encode is v as encoding/json writes it without HTML escaping.
func Encode(t testing.TB, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// Marshal is json.Marshal of v, which escapes HTML as Echo's c.JSON does.
func Marshal(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	return string(b)
}

// StringSeeds are strings that stress JSON escaping: quotes, controls, HTML
// characters, U+2028/9, invalid UTF-8, a lone surrogate, policy variables.
var StringSeeds = []string{
	"", "plain", `quote " and backslash \`, "<script>&amp;</script>", "tab\tnl\ncr\rbs\bff\f",
	"\x00\x01\x1f\x7f", "ü日本語🙂", "\u2028\u2029", "bad \xff utf8 \xc3", "\xed\xa0\x80 surrogate",
	"${x:caption}", "\u00a0\ufeff", strings.Repeat("a\"", 100),
}
