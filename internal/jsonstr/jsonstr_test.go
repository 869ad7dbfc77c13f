package jsonstr

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ossgate/ossgate/internal/jsontest"
)

func TestAppend(t *testing.T) {
	for _, s := range jsontest.StringSeeds {
		t.Run(strings.ToValidUTF8(s, "?"), func(t *testing.T) {
			if got, want := string(Append(nil, s)), jsontest.Encode(t, s); got != want {
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
			if got, want := string(Append(nil, s)), jsontest.Encode(t, s); got != want {
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
		if got, want := string(Append(nil, s)), jsontest.Encode(t, s); got != want {
			t.Fatalf("Append(%q)\n got: %s\nwant: %s", s, got, want)
		}
		if got, want := string(AppendHTML(nil, s)), jsontest.Marshal(t, s); got != want {
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
	for _, s := range jsontest.StringSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(Append(nil, s)), jsontest.Encode(t, s); got != want {
			t.Fatalf("Append(%q)\n got: %s\nwant: %s", s, got, want)
		}
		if got, want := string(AppendHTML(nil, s)), jsontest.Marshal(t, s); got != want {
			t.Fatalf("AppendHTML(%q)\n got: %s\nwant: %s", s, got, want)
		}
		checkBytesAsString(t, s)
	})
}
