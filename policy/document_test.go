package policy

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

var (
	testNow   = time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC)
	testExp   = testNow.Add(10 * time.Minute)
	testCreds = Credentials{AccessKeyID: "LTAI5tTestKeyId", AccessKeySecret: "TestSecretKey0123456789abcdef"}
)

func TestConditionsJSON(t *testing.T) {
	tests := []struct {
		name string
		cond Condition
		want string
	}{
		{"eq adds $", Eq("key", "a/b.jpg"), `["eq","$key","a/b.jpg"]`},
		{"eq keeps $", Eq("$key", "k"), `["eq","$key","k"]`},
		{"starts-with", StartsWith("key", "uploads/"), `["starts-with","$key","uploads/"]`},
		{"in", In("content-type", "image/jpeg", "image/png"), `["in","$content-type",["image/jpeg","image/png"]]`},
		{"in empty", In("content-type"), `["in","$content-type",[]]`},
		{"not-in", NotIn("$content-encoding", "gzip"), `["not-in","$content-encoding",["gzip"]]`},
		{"range", ContentLengthRange(0, 10), `["content-length-range",0,10]`},
		{"match drops $", Match("$bucket", "b"), `{"bucket":"b"}`},
		{"escaping", Eq("x:v", "\"<&>\n"), `["eq","$x:v","\"<&>\n"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cond.appendJSON(nil)
			if err != nil || string(got) != tt.want {
				t.Errorf("got %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}

func TestBadConditions(t *testing.T) {
	tests := []struct {
		name string
		cond Condition
	}{
		{"zero", Condition{}},
		{"empty eq field", Eq("", "v")},
		{"empty match field", Match("", "v")},
		{"negative range", ContentLengthRange(-1, 10)},
		{"inverted range", ContentLengthRange(10, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := New(testExp)
			p.AddCondition(tt.cond)
			if _, err := p.JSON(); err == nil {
				t.Error("JSON: want error")
			}
			if _, err := p.Sign(testCreds, "cn-hangzhou", V4, testNow); err == nil {
				t.Error("Sign: want error")
			}
		})
	}
}

func TestSettersReplace(t *testing.T) {
	p := New(testExp)
	p.SetBucket("one")
	p.SetKey("a")
	p.SetForbidOverwrite(false)
	p.SetContentLengthRange(1, 5)
	p.SetContentType("image/png")
	p.SetVar("caption", "first")
	p.SetBucket("two")
	p.SetKey("b")
	p.SetForbidOverwrite(true)
	p.SetContentLengthRange(1, 9)
	p.SetContentType("image/jpeg")
	p.SetVar("caption", "second")
	p.AddCondition(Eq("key", "b")) // AddCondition appends, even a duplicate

	got, err := p.JSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"expiration":"2026-11-25T08:40:00.000Z","conditions":[{"bucket":"two"},["eq","$key","b"],` +
		`["eq","$x-oss-forbid-overwrite","true"],["content-length-range",1,9],["eq","$Content-Type","image/jpeg"],["eq","$x:caption","second"],["eq","$key","b"]]}`
	if string(got) != want {
		t.Errorf("JSON\n got: %s\nwant: %s", got, want)
	}
	fields, err := p.Sign(testCreds, "cn-hangzhou", V1, testNow)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"key": "b", "Content-Type": "image/jpeg", "x:caption": "second", "x-oss-forbid-overwrite": "true"} {
		if fields[k] != v {
			t.Errorf("field %q = %q, want %q", k, fields[k], v)
		}
	}
}

func TestSetCallbackErrorLeavesPolicy(t *testing.T) {
	p := New(testExp)
	if err := p.SetCallback(Callback{Body: "x"}); err == nil {
		t.Fatal("want error for a callback without URL")
	}
	if len(p.conds) != 0 || len(p.fields) != 0 {
		t.Errorf("policy changed: %v %v", p.conds, p.fields)
	}
}

func TestExpirationFormat(t *testing.T) {
	loc := time.FixedZone("UTC+8", 8*3600)
	p := New(time.Date(2026, 11, 25, 16, 40, 5, 123456789, loc))
	got, _ := p.JSON()
	if want := `{"expiration":"2026-11-25T08:40:05.123Z","conditions":[]}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func decodePolicy(t *testing.T, b64 string) (doc struct {
	Expiration string `json:"expiration"`
	Conditions []any  `json:"conditions"`
}) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("policy is not base64: %v", err)
	}
	mustUnmarshal(t, raw, &doc)
	return doc
}

func TestSignConditions(t *testing.T) {
	sts := testCreds
	sts.SecurityToken = "CAIS-token"
	tests := []struct {
		name       string
		creds      Credentials
		region     string
		v          Version
		wantTail   []string // the map conditions Sign appends, in order
		wantFields []string
	}{
		{"v4", testCreds, "oss-cn-hangzhou", V4,
			[]string{"x-oss-signature-version", "x-oss-credential", "x-oss-date"},
			[]string{"key", "policy", "x-oss-signature-version", "x-oss-credential", "x-oss-date", "x-oss-signature"}},
		{"v4 sts", sts, "cn-hangzhou", V4,
			[]string{"x-oss-signature-version", "x-oss-credential", "x-oss-date", "x-oss-security-token"},
			[]string{"key", "policy", "x-oss-signature-version", "x-oss-credential", "x-oss-date", "x-oss-signature", "x-oss-security-token"}},
		{"v1", testCreds, "", V1, nil, []string{"key", "policy", "OSSAccessKeyId", "Signature"}},
		{"v1 sts", sts, "", V1, []string{"x-oss-security-token"},
			[]string{"key", "policy", "OSSAccessKeyId", "Signature", "x-oss-security-token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := New(testExp)
			p.SetKey("k")
			for range 2 { // a second Sign must not see the first one's conditions
				fields, err := p.Sign(tt.creds, tt.region, tt.v, testNow)
				if err != nil {
					t.Fatal(err)
				}
				doc := decodePolicy(t, fields["policy"])
				if got, want := len(doc.Conditions), 1+len(tt.wantTail); got != want {
					t.Fatalf("%d conditions, want %d: %v", got, want, doc.Conditions)
				}
				for i, name := range tt.wantTail {
					m, _ := doc.Conditions[1+i].(map[string]any)
					if v, ok := m[name]; !ok || v != fields[name] {
						t.Errorf("condition %d = %v, want {%q: %q}", 1+i, doc.Conditions[1+i], name, fields[name])
					}
				}
				if len(fields) != len(tt.wantFields) {
					t.Errorf("fields %v, want keys %v", fields, tt.wantFields)
				}
				for _, k := range tt.wantFields {
					if fields[k] == "" {
						t.Errorf("field %q missing", k)
					}
				}
			}
		})
	}
}

func TestSignErrors(t *testing.T) {
	tests := []struct {
		name   string
		creds  Credentials
		region string
		v      Version
		now    time.Time
	}{
		{"no key id", Credentials{AccessKeySecret: "s"}, "cn-hangzhou", V4, testNow},
		{"no secret", Credentials{AccessKeyID: "id"}, "cn-hangzhou", V4, testNow},
		{"v4 without region", testCreds, "", V4, testNow},
		{"unknown version", testCreds, "cn-hangzhou", "v2", testNow},
		{"empty version", testCreds, "cn-hangzhou", "", testNow},
		{"expired", testCreds, "cn-hangzhou", V4, testExp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(testExp).Sign(tt.creds, tt.region, tt.v, tt.now); err == nil {
				t.Error("want error")
			}
		})
	}
}

func TestSignerCachesPerDay(t *testing.T) {
	s := NewSigner(testCreds, "oss-cn-hangzhou")
	p := New(testNow.Add(48 * time.Hour))
	p.SetKey("k")
	for _, now := range []time.Time{testNow, testNow.Add(time.Hour), testNow.Add(24 * time.Hour), testNow} {
		got, err := s.Sign(p, V4, now)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := p.Sign(testCreds, "cn-hangzhou", V4, now)
		if got["x-oss-signature"] != want["x-oss-signature"] {
			t.Errorf("at %v: cached signer gives %s, fresh key %s", now, got["x-oss-signature"], want["x-oss-signature"])
		}
	}
}

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in      string
		want    Version
		wantErr bool
	}{
		{"v4", V4, false}, {"V4", V4, false}, {"OSS4-HMAC-SHA256", V4, false},
		{"v1", V1, false}, {"V1", V1, false},
		{"", "", true}, {"v2", "", true}, {"v4 ", "", true}, {"HMAC-SHA1", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseVersion(tt.in)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("ParseVersion(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestCredentialsNeverPrinted(t *testing.T) {
	secrets := []string{"hunter2-sk", "sts-tok-42", "ticket-key-7"}
	c := Credentials{AccessKeyID: "LTAIvisible", AccessKeySecret: secrets[0], SecurityToken: secrets[1]}
	cfg := IssuerConfig{Credentials: c, TicketSecret: []byte(secrets[2])}
	is := &Issuer{cfg: cfg}
	var sb strings.Builder
	slog.New(slog.NewJSONHandler(&sb, nil)).Info("x", "creds", c)
	slog.New(slog.NewTextHandler(&sb, nil)).Info("x", "creds", c, "cfg", cfg)
	js, _ := json.Marshal(struct{ C Credentials }{c})
	outputs := []string{sb.String(), string(js), c.String(), c.GoString()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v"} {
		outputs = append(outputs,
			fmt.Sprintf(verb, c), fmt.Sprintf(verb, &c),
			fmt.Sprintf(verb, cfg), fmt.Sprintf(verb, &cfg),
			fmt.Sprintf(verb, is), fmt.Sprintf(verb, NewSigner(c, "cn-hangzhou")),
			fmt.Sprintf(verb, []Credentials{c}), fmt.Sprintf(verb, map[string]any{"c": c}))
	}
	for _, out := range outputs {
		for _, secret := range secrets {
			// hex catches %x; the byte values catch a []byte printed with %v.
			for _, form := range []string{secret, fmt.Sprintf("%x", secret), strings.Trim(fmt.Sprint([]byte(secret)[:4]), "[]")} {
				if strings.Contains(strings.ToLower(out), strings.ToLower(form)) {
					t.Errorf("output leaks %s: %s", secret, out)
				}
			}
		}
	}
	if !strings.Contains(c.String(), "LTAIvisible") || !strings.Contains(c.String(), redacted) {
		t.Errorf("String() = %s: want the key ID and %s", c, redacted)
	}
}
