package jsonstr

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// stdJSON is the reference of Append: encoding/json without HTML escaping.
func stdJSON(t testing.TB, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// marshalJSON is the reference of AppendHTML: json.Marshal.
func marshalJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	return string(b)
}

var jsonStringSeeds = []string{
	"", "plain", `quote " and backslash \`, "<script>&amp;</script>", "tab\tnl\ncr\rbs\bff\f",
	"\x00\x01\x1f\x7f", "ü日本語🙂", "\u2028\u2029", "bad \xff utf8 \xc3", "\xed\xa0\x80 surrogate",
	"${x:caption}", "\u00a0\ufeff", strings.Repeat("a\"", 100),
}

func TestAppend(t *testing.T) {
	for _, s := range jsonStringSeeds {
		t.Run(strings.ToValidUTF8(s, "?"), func(t *testing.T) {
			if got, want := string(Append(nil, s)), stdJSON(t, s); got != want {
				t.Errorf("Append(%q)\n got: %s\nwant: %s", s, got, want)
			}
		})
	}
}

// TestAppendEveryOffset puts each kind of special byte at every
// position of the eight-byte fast path.
func TestAppendEveryOffset(t *testing.T) {
	for _, special := range []string{`"`, `\`, "\x00", "\x1f", "\x7f", "\x80", "\xff", "é", "\u2028", " ", "~"} {
		for off := range 20 {
			s := strings.Repeat("a", off) + special + strings.Repeat("b", 20-off)
			if got, want := string(Append(nil, s)), stdJSON(t, s); got != want {
				t.Errorf("Append(%q)\n got: %s\nwant: %s", s, got, want)
			}
		}
	}
}

// TestAppendRandom is the property FuzzAppend checks, run on
// every `go test` over strings drawn from the bytes that matter.
func TestAppendRandom(t *testing.T) {
	alphabet := []string{"a", "Z", "0", `"`, `\`, "/", "<", ">", "&", "\x00", "\x1f", "\x7f", "\n",
		"é", "日", "🙂", "\u2028", "\u2029", "\xff", "\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		var b strings.Builder
		for range r.IntN(24) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		s := b.String()
		if got, want := string(Append(nil, s)), stdJSON(t, s); got != want {
			t.Fatalf("Append(%q)\n got: %s\nwant: %s", s, got, want)
		}
		if got, want := string(AppendHTML(nil, s)), marshalJSON(t, s); got != want {
			t.Fatalf("AppendHTML(%q)\n got: %s\nwant: %s", s, got, want)
		}
		checkBytesAsString(t, s)
	}
}

// checkBytesAsString: the []byte forms write what the string forms do.
func checkBytesAsString(t *testing.T, s string) {
	t.Helper()
	if got, want := string(Append(nil, []byte(s))), string(Append(nil, s)); got != want {
		t.Fatalf("Append([]byte(%q)) = %s, want %s", s, got, want)
	}
	if got, want := string(AppendHTML(nil, []byte(s))), string(AppendHTML(nil, s)); got != want {
		t.Fatalf("AppendHTML([]byte(%q)) = %s, want %s", s, got, want)
	}
}

func FuzzAppend(f *testing.F) {
	for _, s := range jsonStringSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(Append(nil, s)), stdJSON(t, s); got != want {
			t.Fatalf("Append(%q)\n got: %s\nwant: %s", s, got, want)
		}
		if got, want := string(AppendHTML(nil, s)), marshalJSON(t, s); got != want {
			t.Fatalf("AppendHTML(%q)\n got: %s\nwant: %s", s, got, want)
		}
		checkBytesAsString(t, s)
	})
}
