package ossname

import "testing"

func TestNames(t *testing.T) {
	for _, tt := range []struct {
		s              string
		bucket, region bool
	}{
		{"examplebucket", true, true},
		{"cn-hangzhou", true, true},
		{"ab", false, true},
		{"a", false, false},
		{"-ab", false, false},
		{"ab-", false, false},
		{"Ab1", false, false},
		{"a_b", false, false},
		{string(make([]byte, 64)), false, false},
		{"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk", true, true},   // 63
		{"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl", false, true}, // 64
	} {
		if got := Bucket(tt.s); got != tt.bucket {
			t.Errorf("Bucket(%q) = %v", tt.s, got)
		}
		if got := Region(tt.s); got != tt.region {
			t.Errorf("Region(%q) = %v", tt.s, got)
		}
	}
}
