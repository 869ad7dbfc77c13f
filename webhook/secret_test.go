package webhook

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

func TestParseSecret(t *testing.T) {
	key := func(n int) string { return "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, n)) }
	tests := []struct {
		name, in string
		wantErr  string // "" for none
	}{
		{"the specification's example", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", ""},
		{"24 bytes", key(24), ""},
		{"64 bytes", key(64), ""},
		{"23 bytes", key(23), "24 to 64 bytes (this one is 23)"},
		{"65 bytes", key(65), "24 to 64 bytes (this one is 65)"},
		{"no prefix", strings.TrimPrefix(key(32), "whsec_"), "must start with whsec_"},
		{"other prefix", "whsex_" + strings.TrimPrefix(key(32), "whsec_"), "must start with whsec_"},
		{"not base64", "whsec_!!!!not-base64!!!!not-base64!!!!", "standard base64"},
		{"URL-safe base64", "whsec_" + base64.URLEncoding.EncodeToString([]byte(strings.Repeat("\xff", 30))), "standard base64"},
		{"empty", "", "must start with whsec_"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSecret(tt.in)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("ParseSecret: %v", err)
			case tt.wantErr == "" && s.IsZero():
				t.Fatal("ParseSecret returned no key")
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("ParseSecret error = %v, want one saying %q", err, tt.wantErr)
			}
			if err != nil && len(tt.in) > 10 && strings.Contains(err.Error(), tt.in[6:]) {
				t.Errorf("error %q quotes the secret", err)
			}
		})
	}
}

func TestParseSecrets(t *testing.T) {
	a, b := "whsec_"+base64.StdEncoding.EncodeToString([]byte(strings.Repeat("a", 32))), "whsec_"+base64.StdEncoding.EncodeToString([]byte(strings.Repeat("b", 32)))
	tests := []struct {
		name, in string
		want     int
		wantErr  string
	}{
		{"one", a, 1, ""},
		{"two, comma", a + "," + b, 2, ""},
		{"two, space", a + " " + b, 2, ""},
		{"two, comma and spaces", " " + a + " , " + b + " ", 2, ""},
		{"three", a + "," + b + "," + a, 0, "at most 2 secrets"},
		{"none", " , ", 0, "no secret"},
		{"second bad", a + ",whsec_short", 0, "secret 2: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSecrets(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(got) != tt.want {
				t.Fatalf("ParseSecrets = %d secrets, %v; want %d", len(got), err, tt.want)
			}
		})
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	s, err := ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{s.String(), fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, s, s, s), fmt.Sprint([]Secret{s})} {
		if strings.Contains(out, "MfKQ") || strings.Contains(out, string(s.key)) {
			t.Errorf("printed secret: %q", out)
		}
	}
}
