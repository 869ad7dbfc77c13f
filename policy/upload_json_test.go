package policy

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ossgate/ossgate/internal/jsontest"
)

func checkUploadJSON(t testing.TB, u *SignedUpload) {
	t.Helper()
	got, err := u.AppendJSON([]byte("prefix"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "prefix" + jsontest.Marshal(t, u); string(got) != want {
		t.Fatalf("AppendJSON\n got: %s\nwant: %s", got, want)
	}
}

func TestSignedUploadAppendJSON(t *testing.T) {
	exp := time.Date(2026, 11, 25, 8, 40, 0, 0, time.UTC)
	is := newTestIssuer(t, nil)
	issued, err := is.Issue("alice", Request{Filename: "cat <1>&.jpg", Size: 12345, ContentType: "image/jpeg", Vars: map[string]string{"caption": "hi <b>&amp;"}}, exp.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	presigned, err := is.Presign("alice", Request{Filename: "cat.jpg", Size: 1, ContentType: "image/jpeg"}, exp.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		u    *SignedUpload
	}{
		{"issued", issued},
		{"presigned", presigned},
		{"zero", &SignedUpload{}},
		{"empty maps", &SignedUpload{Fields: map[string]string{}, Headers: map[string]string{}}},
		{"many fields", &SignedUpload{Fields: func() map[string]string {
			m := map[string]string{}
			for _, s := range jsontest.StringSeeds {
				m[s] = s
				m["k"+s] = strings.Repeat(s, 3)
			}
			return m
		}()}},
		{"nanoseconds and zone", &SignedUpload{ExpiresAt: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.FixedZone("x", 8*3600)), MaxSize: -1}},
	} {
		t.Run(c.name, func(t *testing.T) { checkUploadJSON(t, c.u) })
	}
	for _, s := range jsontest.StringSeeds {
		checkUploadJSON(t, &SignedUpload{Method: s, URL: s, Key: s, Ticket: s, Headers: map[string]string{s: s}, Fields: map[string]string{"a": s}})
	}
}

func TestSignedUploadAppendJSONYearRange(t *testing.T) {
	u := &SignedUpload{ExpiresAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := json.Marshal(u); err == nil {
		t.Fatal("encoding/json accepts year 10000; AppendJSON should too")
	}
	if _, err := u.AppendJSON(nil); err == nil {
		t.Fatal("AppendJSON accepted year 10000, which encoding/json refuses")
	}
}

// TestAppendStringHTMLEveryOffset puts each byte the HTML variant escapes
// at every position of the eight-byte fast path.
func TestAppendStringHTMLEveryOffset(t *testing.T) {
	for _, special := range []string{"<", ">", "&", `"`, "\x00", "=", "?", "%", "'", "\xff", "\u2028"} {
		for off := range 20 {
			s := strings.Repeat("a", off) + special + strings.Repeat("b", 20-off)
			if got, want := string(appendStringHTML(nil, s)), jsontest.Marshal(t, s); got != want {
				t.Errorf("appendStringHTML(%q)\n got: %s\nwant: %s", s, got, want)
			}
		}
	}
}

func FuzzSignedUploadJSON(f *testing.F) {
	for _, s := range jsontest.StringSeeds {
		f.Add(s, s, int64(7))
	}
	f.Fuzz(func(t *testing.T, a, b string, n int64) {
		checkUploadJSON(t, &SignedUpload{Method: a, URL: b, Key: a + b, Ticket: b, MaxSize: n,
			Fields: map[string]string{a: b, b: a, "policy": a}, Headers: map[string]string{b: b},
			ExpiresAt: time.Unix(n%(1<<34), n%1e9).UTC()})
	})
}

// BenchmarkSignedUploadJSON is the answer of a policy request written by
// encoding/json (what Echo's c.JSON did) and by AppendJSON.
func BenchmarkSignedUploadJSON(b *testing.B) {
	now := time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC)
	up, err := newTestIssuer(b, nil).Issue("user0001", Request{Filename: "cat.jpg", Size: 12345, ContentType: "image/jpeg", Vars: map[string]string{"caption": "hi"}}, now)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			if err := json.NewEncoder(&buf).Encode(up); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 8<<10)
		for b.Loop() {
			if _, err := up.AppendJSON(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
