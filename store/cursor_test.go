package store

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCursorRoundtrip(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
		id   string
	}{
		{"typical", time.Date(2026, 11, 25, 8, 30, 0, 123456000, time.UTC), "01JDQ7ZB3K4V5W6X7Y8Z9A0B1C"},
		{"before 1970", time.Date(1969, 7, 20, 20, 17, 0, 1000, time.UTC), "apollo"},
		{"year 9999", time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), "x"},
		{"unicode id", time.Unix(0, 0).UTC(), "文件-ü"},
		{"longest id", time.Unix(1, 0).UTC(), strings.Repeat("z", maxCursorID)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := encodeCursor(tt.at, tt.id)
			gotAt, gotID, err := decodeCursor(c)
			if err != nil {
				t.Fatalf("decodeCursor(%q): %v", c, err)
			}
			if !gotAt.Equal(tt.at) || gotAt.Location() != time.UTC || gotID != tt.id {
				t.Errorf("decodeCursor = %v, %q; want %v, %q", gotAt, gotID, tt.at, tt.id)
			}
		})
	}
}

// TestCursorEveryTamperRejected: any single changed character of a cursor
// is ErrBadCursor, never another position.
func TestCursorEveryTamperRejected(t *testing.T) {
	c := encodeCursor(time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC), "01JDQ7ZB3K4V5W6X7Y8Z9A0B1C")
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range len(c) {
		for j := range len(alphabet) {
			if alphabet[j] == c[i] {
				continue
			}
			bad := c[:i] + alphabet[j:j+1] + c[i+1:]
			if at, id, err := decodeCursor(bad); !errors.Is(err, ErrBadCursor) {
				t.Fatalf("decodeCursor(%q) = %v, %q, %v; want ErrBadCursor", bad, at, id, err)
			}
		}
	}
}
