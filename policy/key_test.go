package policy

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// zeroRand is a deterministic rand for tests: endless zero bytes.
type zeroRand struct{}

func (zeroRand) Read(p []byte) (int, error) { clear(p); return len(p), nil }

var keyNow = time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC)

// the id of keyNow with zero entropy
const keyNowID = "01M88X6WT0" + "0000000000000000" // computed independently

func TestObjectKey(t *testing.T) {
	hashed := func(sub string) string { return userSegment(sub) }
	tests := []struct {
		name, prefix, sub, filename string
		want                        string
	}{
		{"plain", "uploads/", "alice", "cat.jpg", "uploads/alice/2026/11/25/" + keyNowID + ".jpg"},
		{"no prefix", "", "alice", "cat.jpg", "alice/2026/11/25/" + keyNowID + ".jpg"},
		{"nested prefix", "a/b-c/", "alice", "cat.jpg", "a/b-c/alice/2026/11/25/" + keyNowID + ".jpg"},
		{"email sub", "uploads/", "a.b@example.com", "x", "uploads/a.b@example.com/2026/11/25/" + keyNowID},
		{"traversal sub", "uploads/", "../../etc/passwd", "x.png", "uploads/u-3754d6cb3a38e1185e5b382d5f3ef3f1/2026/11/25/" + keyNowID + ".png"},
		{"slash sub", "uploads/", "a/b", "", "uploads/" + hashed("a/b") + "/2026/11/25/" + keyNowID},
		{"leading slash sub", "uploads/", "/x", "", "uploads/" + hashed("/x") + "/2026/11/25/" + keyNowID},
		{"NUL sub", "uploads/", "\x00", "", "uploads/" + hashed("\x00") + "/2026/11/25/" + keyNowID},
		{"dotdot sub", "uploads/", "..", "", "uploads/" + hashed("..") + "/2026/11/25/" + keyNowID},
		{"dot sub", "uploads/", ".", "", "uploads/" + hashed(".") + "/2026/11/25/" + keyNowID},
		{"embedded dotdot sub", "uploads/", "a..b", "", "uploads/" + hashed("a..b") + "/2026/11/25/" + keyNowID},
		{"non-ASCII sub", "uploads/", "ü", "", "uploads/" + hashed("ü") + "/2026/11/25/" + keyNowID},
		{"empty sub", "uploads/", "", "", "uploads/" + hashed("") + "/2026/11/25/" + keyNowID},
		{"64-char sub", "uploads/", strings.Repeat("a", 64), "", "uploads/" + strings.Repeat("a", 64) + "/2026/11/25/" + keyNowID},
		{"65-char sub", "uploads/", strings.Repeat("a", 65), "", "uploads/" + hashed(strings.Repeat("a", 65)) + "/2026/11/25/" + keyNowID},
		{"300-char sub", "uploads/", strings.Repeat("b", 300), "", "uploads/" + hashed(strings.Repeat("b", 300)) + "/2026/11/25/" + keyNowID},
		{"sub posing as a hash", "uploads/", "u-3754d6cb3a38e1185e5b382d5f3ef3f1", "", "uploads/" + hashed("u-3754d6cb3a38e1185e5b382d5f3ef3f1") + "/2026/11/25/" + keyNowID},
		{"upper ext", "", "a", "x.JPG", "a/2026/11/25/" + keyNowID + ".jpg"},
		{"double ext", "", "a", "x.tar.gz", "a/2026/11/25/" + keyNowID + ".gz"},
		{"trailing dot", "", "a", "x.", "a/2026/11/25/" + keyNowID},
		{"dotfile", "", "a", ".bashrc", "a/2026/11/25/" + keyNowID + ".bashrc"},
		{"10-char ext", "", "a", "x.abcdefghij", "a/2026/11/25/" + keyNowID + ".abcdefghij"},
		{"11-char ext", "", "a", "x.abcdefghijk", "a/2026/11/25/" + keyNowID},
		{"ext with slash", "", "a", "x.a/b", "a/2026/11/25/" + keyNowID},
		{"dir dot", "", "a", "dir.d/file", "a/2026/11/25/" + keyNowID},
		{"traversal filename", "", "a", "../../etc/passwd", "a/2026/11/25/" + keyNowID},
		{"non-ASCII ext", "", "a", "x.jpé", "a/2026/11/25/" + keyNowID},
		{"control ext", "", "a", "x.j\x00g", "a/2026/11/25/" + keyNowID},
		{"backslash ext", "", "a", `x.a\b`, "a/2026/11/25/" + keyNowID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ObjectKey(tt.prefix, tt.sub, tt.filename, keyNow, zeroRand{})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ObjectKey(%q, %q, %q)\n got: %s\nwant: %s", tt.prefix, tt.sub, tt.filename, got, tt.want)
			}
			assertSafeKey(t, tt.prefix, got)
		})
	}
}

func TestObjectKeyBadPrefix(t *testing.T) {
	for _, prefix := range []string{"/uploads/", "uploads", "up//loads/", "../", "a/../", "a/./", "./", "a..b/",
		"up loads/", "up\x00/", "ü/", "a\\b/", strings.Repeat("a", MaxPrefixLen) + "/"} {
		t.Run(prefix, func(t *testing.T) {
			if got, err := ObjectKey(prefix, "alice", "x.jpg", keyNow, zeroRand{}); err == nil {
				t.Errorf("ObjectKey(%q) = %q, want error", prefix, got)
			}
		})
	}
}

func TestObjectKeyRandAndTime(t *testing.T) {
	t.Run("short rand", func(t *testing.T) {
		if _, err := ObjectKey("", "a", "", keyNow, bytes.NewReader(make([]byte, 9))); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("err = %v, want io.ErrUnexpectedEOF", err)
		}
	})
	t.Run("nil rand uses crypto/rand", func(t *testing.T) {
		a, err1 := ObjectKey("", "a", "", keyNow, nil)
		b, err2 := ObjectKey("", "a", "", keyNow, nil)
		if err1 != nil || err2 != nil || a == b {
			t.Errorf("got %q, %q (%v, %v): want two different keys", a, b, err1, err2)
		}
	})
	t.Run("before 1970", func(t *testing.T) {
		if _, err := ObjectKey("", "a", "", time.Unix(-1, 0), zeroRand{}); err == nil {
			t.Error("want error")
		}
	})
	t.Run("local time uses UTC date", func(t *testing.T) {
		loc := time.FixedZone("UTC+8", 8*3600)
		got, _ := ObjectKey("", "a", "", time.Date(2026, 11, 26, 1, 0, 0, 0, loc), zeroRand{})
		if !strings.HasPrefix(got, "a/2026/11/25/") {
			t.Errorf("got %s, want the UTC date 2026/11/25", got)
		}
	})
}

func TestULID(t *testing.T) {
	tests := []struct {
		name string
		ms   int64
		ent  []byte
		want string
	}{
		{"spec example time", 1469918176385, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, "01ARYZ6S41041061050R3GG28A"},
		{"max", 1<<48 - 1, bytes.Repeat([]byte{0xff}, 10), "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"},
		{"zero", 0, make([]byte, 10), "00000000000000000000000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := newULID(time.UnixMilli(tt.ms), bytes.NewReader(tt.ent))
			if err != nil || string(got[:]) != tt.want {
				t.Errorf("got %s, %v; want %s", got[:], err, tt.want)
			}
		})
	}
	if _, err := newULID(time.UnixMilli(1<<48), zeroRand{}); err == nil {
		t.Error("time past 2^48 ms: want error")
	}
}

var keyShape = regexp.MustCompile(`^([A-Za-z0-9._@-]{1,64})/\d{4,5}/\d{2}/\d{2}/[0-7][0-9A-HJKMNP-TV-Z]{25}(\.[a-z0-9]{1,10})?$`)

// assertSafeKey checks the properties every key must have.
func assertSafeKey(t *testing.T, prefix, key string) {
	t.Helper()
	switch {
	case !strings.HasPrefix(key, prefix):
		t.Errorf("key %q does not start with prefix %q", key, prefix)
	case strings.Contains(key, ".."), strings.Contains(key, "//"), strings.HasPrefix(key, "/"):
		t.Errorf("key %q holds .., // or a leading /", key)
	case !utf8.ValidString(key):
		t.Errorf("key %q is not UTF-8", key)
	case strings.ContainsFunc(key, unicode.IsControl):
		t.Errorf("key %q holds a control character", key)
	case !keyShape.MatchString(strings.TrimPrefix(key, prefix)):
		t.Errorf("key %q after the prefix does not match %s", key, keyShape)
	}
}

func FuzzObjectKey(f *testing.F) {
	f.Add("uploads/", "alice", "cat.JPG", int64(1764059400000), []byte{1, 2, 3})
	f.Add("", "../../etc/passwd", "../x.tar.gz", int64(0), []byte{})
	f.Add("a/", "..", ".", int64(1<<48-1), []byte{0xff})
	f.Add("a/", "\x00/\n", "x.\u212a", int64(5), []byte{})
	f.Add("a//", "u-3754d6cb3a38e1185e5b382d5f3ef3f1", "x..y", int64(5), []byte{})
	f.Fuzz(func(t *testing.T, prefix, sub, filename string, ms int64, ent []byte) {
		r := io.MultiReader(bytes.NewReader(ent), zeroRand{})
		key, err := ObjectKey(prefix, sub, filename, time.UnixMilli(ms), r)
		if err != nil {
			if checkPrefix(prefix) == nil && ms >= 0 && ms < 1<<48 {
				t.Fatalf("ObjectKey(%q, %q, %q, %d): %v", prefix, sub, filename, ms, err)
			}
			return
		}
		assertSafeKey(t, prefix, key)
	})
}
