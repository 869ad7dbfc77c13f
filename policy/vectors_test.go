package policy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// The known-answer vectors were made with the official OSS Node SDK, ali-oss
// (see testdata/README.md).
const postPolicyVectors = "testdata/post-policy.json"

type postPolicyCase struct {
	Name            string `json:"name"`
	Version         string `json:"version"`
	AccessKeyID     string `json:"accessKeyId"`
	AccessKeySecret string `json:"accessKeySecret"`
	SecurityToken   string `json:"securityToken"`
	Region          string `json:"region"`
	StandardRegion  string `json:"standardRegion"`
	Bucket          string `json:"bucket"`
	Date            string `json:"date"`
	XOssDate        string `json:"xOssDate"`
	Credential      string `json:"credential"`
	CallbackParam   *struct {
		URL      string `json:"callbackUrl"`
		Body     string `json:"callbackBody"`
		BodyType string `json:"callbackBodyType"`
	} `json:"callbackParam"`
	Callback       string `json:"callback"`
	PolicyJSON     string `json:"policyJSON"`
	PolicyBase64   string `json:"policyBase64"`
	OSSAccessKeyID string `json:"OSSAccessKeyId"`
	Signature      string `json:"signature"`
}

// loadPostPolicyVectors fails, never skips, when the file is missing: the
// repository carries it, and a skip would turn the known-answer tests
// silently green.
func loadPostPolicyVectors(t testing.TB) []postPolicyCase {
	t.Helper()
	data, err := os.ReadFile(postPolicyVectors)
	if err != nil {
		t.Fatalf("reading vectors: %v", err)
	}
	var file struct {
		Cases []postPolicyCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatalf("decoding %s: %v", postPolicyVectors, err)
	}
	if len(file.Cases) == 0 {
		t.Fatalf("%s has no cases", postPolicyVectors)
	}
	return file.Cases
}

// buildFromVector rebuilds the vector's policy with the setters, condition
// by condition in the vector's order. The x-oss-* map conditions are left
// out: Sign must add them itself.
func buildFromVector(t *testing.T, c postPolicyCase) *Policy {
	t.Helper()
	var doc struct {
		Expiration string            `json:"expiration"`
		Conditions []json.RawMessage `json:"conditions"`
	}
	dec := json.NewDecoder(strings.NewReader(c.PolicyJSON))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("vector policyJSON: %v", err)
	}
	exp, err := time.Parse(expirationLayout, doc.Expiration)
	if err != nil {
		t.Fatalf("vector expiration: %v", err)
	}
	p := New(exp)
	for _, raw := range doc.Conditions {
		if raw[0] == '{' {
			var m map[string]string
			mustUnmarshal(t, raw, &m)
			for k, v := range m {
				switch {
				case k == "bucket":
					p.SetBucket(v)
				case strings.HasPrefix(k, "x-oss-"):
				default:
					t.Fatalf("unexpected map condition %s", raw)
				}
			}
			continue
		}
		var arr []any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&arr); err != nil {
			t.Fatalf("condition %s: %v", raw, err)
		}
		switch op := arr[0].(string); {
		case op == "content-length-range":
			lo, _ := arr[1].(json.Number).Int64()
			hi, _ := arr[2].(json.Number).Int64()
			p.SetContentLengthRange(lo, hi)
		case op == "eq" && arr[1] == "$key":
			p.SetKey(arr[2].(string))
		case op == "eq" && arr[1] == "$success_action_status":
			p.SetSuccessActionStatus(arr[2].(string))
		case op == "eq" && arr[1] == "$callback":
			if c.CallbackParam == nil {
				t.Fatal("vector binds a callback but has no callbackParam")
			}
			cp := c.CallbackParam
			if err := p.SetCallback(Callback{URL: cp.URL, Body: cp.Body, BodyType: cp.BodyType}); err != nil {
				t.Fatalf("SetCallback: %v", err)
			}
		case op == "in" && arr[1] == "$content-type":
			var types []string
			for _, v := range arr[2].([]any) {
				types = append(types, v.(string))
			}
			p.SetContentTypeIn(types...)
		default:
			t.Fatalf("unexpected condition %s", raw)
		}
	}
	return p
}

func mustUnmarshal(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("unmarshal %s: %v", data, err)
	}
}

func TestPostPolicyVectors(t *testing.T) {
	for _, c := range loadPostPolicyVectors(t) {
		t.Run(c.Name, func(t *testing.T) {
			now, err := time.Parse(time.RFC3339, c.Date)
			if err != nil {
				t.Fatalf("vector date: %v", err)
			}
			v, err := ParseVersion(c.Version)
			if err != nil {
				t.Fatalf("ParseVersion(%q): %v", c.Version, err)
			}
			creds := Credentials{AccessKeyID: c.AccessKeyID, AccessKeySecret: c.AccessKeySecret, SecurityToken: c.SecurityToken}
			p := buildFromVector(t, c)

			fields, err := p.Sign(creds, c.Region, v, now)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			doc, err := base64.StdEncoding.DecodeString(fields["policy"])
			if err != nil {
				t.Fatalf("policy field is not base64: %v", err)
			}
			if string(doc) != c.PolicyJSON {
				t.Errorf("policy JSON\n got: %s\nwant: %s", doc, c.PolicyJSON)
			}
			want := map[string]string{"policy": c.PolicyBase64}
			for _, f := range p.fields {
				want[f.name] = f.value
			}
			if c.SecurityToken != "" {
				want["x-oss-security-token"] = c.SecurityToken
			}
			switch v {
			case V4:
				want["x-oss-signature-version"] = "OSS4-HMAC-SHA256"
				want["x-oss-credential"] = c.Credential
				want["x-oss-date"] = c.XOssDate
				want["x-oss-signature"] = c.Signature
				if got := fields["callback"]; got != c.Callback {
					t.Errorf("callback field\n got: %s\nwant: %s", got, c.Callback)
				}
			case V1:
				want["OSSAccessKeyId"] = c.OSSAccessKeyID
				want["Signature"] = c.Signature
			}
			assertFields(t, fields, want)

			again, err := p.Sign(creds, c.Region, v, now)
			if err != nil || again["policy"] != fields["policy"] {
				t.Errorf("second Sign differs (err %v): signing must not change the policy", err)
			}
		})
	}
}

func assertFields(t *testing.T, got, want map[string]string) {
	t.Helper()
	for k, w := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("field %q missing, want %q", k, w)
		} else if g != w {
			t.Errorf("field %q\n got: %q\nwant: %q", k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected field %q = %q", k, g)
		}
	}
}

// TestSigningPrimitivesVectors checks the exported primitives on their own,
// as the emulator uses them.
func TestSigningPrimitivesVectors(t *testing.T) {
	for _, c := range loadPostPolicyVectors(t) {
		t.Run(c.Name, func(t *testing.T) {
			now, _ := time.Parse(time.RFC3339, c.Date)
			if c.Version == "V1" {
				if got := SignV1(c.AccessKeySecret, c.PolicyBase64); got != c.Signature {
					t.Errorf("SignV1 = %s, want %s", got, c.Signature)
				}
				return
			}
			if got := StandardRegion(c.Region); got != c.StandardRegion {
				t.Errorf("StandardRegion(%q) = %q, want %q", c.Region, got, c.StandardRegion)
			}
			if got := CredentialV4(c.AccessKeyID, now, c.Region); got != c.Credential {
				t.Errorf("CredentialV4 = %s, want %s", got, c.Credential)
			}
			for _, region := range []string{c.Region, c.StandardRegion} {
				if got := SignV4(SigningKeyV4(c.AccessKeySecret, now, region), c.PolicyBase64); got != c.Signature {
					t.Errorf("SignV4 with region %q = %s, want %s", region, got, c.Signature)
				}
			}
			if c.CallbackParam != nil {
				cp := c.CallbackParam
				got, err := Callback{URL: cp.URL, Body: cp.Body, BodyType: cp.BodyType}.Encode()
				if err != nil || got != c.Callback {
					t.Errorf("Callback.Encode = %s, %v\nwant %s", got, err, c.Callback)
				}
			}
		})
	}
}
