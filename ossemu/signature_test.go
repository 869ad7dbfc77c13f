package ossemu

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

type policyVector struct {
	Name            string `json:"name"`
	Version         string `json:"version"`
	AccessKeyID     string `json:"accessKeyId"`
	AccessKeySecret string `json:"accessKeySecret"`
	SecurityToken   string `json:"securityToken"`
	Region          string `json:"region"`
	Bucket          string `json:"bucket"`
	Date            string `json:"date"`
	XOssDate        string `json:"xOssDate"`
	Credential      string `json:"credential"`
	PolicyJSON      string `json:"policyJSON"`
	PolicyBase64    string `json:"policyBase64"`
	Signature       string `json:"signature"`
	Callback        string `json:"callback"`
}

func loadPolicyVectors(t *testing.T) []policyVector {
	t.Helper()
	var v struct{ Cases []policyVector }
	if err := json.Unmarshal(readVectors(t, "post-policy.json"), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Cases) == 0 {
		t.Fatal("no cases in post-policy.json")
	}
	return v.Cases
}

// vectorEmulator is an emulator configured as the vector's bucket, with the
// clock at the vector's signing time.
func vectorEmulator(t *testing.T, c policyVector) *Emulator {
	t.Helper()
	at, err := time.Parse(time.RFC3339, c.Date)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Bucket:      c.Bucket,
		Region:      c.Region,
		Credentials: map[string]string{c.AccessKeyID: c.AccessKeySecret},
		Dir:         t.TempDir(),
		Key:         testKey(),
		Now:         func() time.Time { return at },
	}
	if c.SecurityToken != "" {
		cfg.SecurityTokens = map[string]string{c.AccessKeyID: c.SecurityToken}
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// vectorForm is the form the SDK would send for c (without the file).
func vectorForm(c policyVector) form {
	f := form{"policy": c.PolicyBase64}
	if c.Version == "V1" {
		f["ossaccesskeyid"] = c.AccessKeyID
		f["signature"] = c.Signature
	} else {
		f["x-oss-signature-version"] = c.Version
		f["x-oss-credential"] = c.Credential
		f["x-oss-date"] = c.XOssDate
		f["x-oss-signature"] = c.Signature
	}
	if c.SecurityToken != "" {
		f["x-oss-security-token"] = c.SecurityToken
	}
	return f
}

// TestSignatureVectors: the emulator accepts every signature ali-oss made,
// refuses it once altered, and parses every policy.
func TestSignatureVectors(t *testing.T) {
	cases := loadPolicyVectors(t)
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.Version] = true
		t.Run(c.Name, func(t *testing.T) {
			e := vectorEmulator(t, c)
			f := vectorForm(c)
			auth, oerr := e.verifySignature(f)
			if oerr != nil {
				t.Fatalf("verifySignature: %v", oerr)
			}
			if auth.AccessKeyID != c.AccessKeyID || auth.Version != c.Version {
				t.Errorf("auth = %+v, want %s %s", auth, c.AccessKeyID, c.Version)
			}

			// Our own formulas agree with the SDK's output too.
			if c.Version == "V1" {
				if got := testV1Sig(c.AccessKeySecret, c.PolicyBase64); got != c.Signature {
					t.Errorf("test V1 signer = %s, want %s", got, c.Signature)
				}
			} else {
				day := c.XOssDate[:8]
				if got := testV4Sig(c.AccessKeySecret, day, strings.TrimPrefix(c.Region, "oss-"), c.PolicyBase64); got != c.Signature {
					t.Errorf("test V4 signer = %s, want %s", got, c.Signature)
				}
			}

			// One flipped character of the signature is refused.
			bad := vectorForm(c)
			sigField := "x-oss-signature"
			if c.Version == "V1" {
				sigField = "signature"
			}
			s := []byte(bad[sigField])
			s[3] ^= 1
			bad[sigField] = string(s)
			if _, oerr := e.verifySignature(bad); oerr == nil || oerr.Code != CodeSignatureDoesNotMatch {
				t.Errorf("altered signature: err = %v, want SignatureDoesNotMatch", oerr)
			}

			pol, err := decodePolicy(c.PolicyBase64)
			if err != nil {
				t.Fatalf("decodePolicy: %v", err)
			}
			if want, _ := time.Parse(time.RFC3339, mustExpiration(t, c.PolicyJSON)); !pol.Expiration.Equal(want) {
				t.Errorf("expiration = %v, want %v", pol.Expiration, want)
			}
			if pol.expired(e.now()) {
				t.Errorf("policy expired at the vector's signing time %v", e.now())
			}
			// The policy's field conditions hold for the SDK's form, with the
			// key, type and status it binds.
			full := vectorForm(c)
			for _, cond := range pol.Conditions {
				if cond.Op == opEq && cond.Field != "bucket" {
					full[cond.Field] = cond.Value
				}
				if cond.Op == opIn {
					full[cond.Field] = cond.Values[0]
				}
			}
			if oerr := pol.checkFields(full, c.Bucket); oerr != nil {
				t.Errorf("checkFields: %v", oerr)
			}
			if oerr := pol.checkFields(full, c.Bucket+"-other"); oerr == nil {
				t.Error("checkFields passed for another bucket")
			}
			if c.Callback != "" {
				if _, oerr := parseCallbackParam(c.Callback); oerr != nil {
					t.Errorf("parseCallbackParam: %v", oerr)
				}
			}
		})
	}
	if !seen["V1"] || !seen[v4Algorithm] {
		t.Errorf("vectors cover %v, want both V1 and %s", seen, v4Algorithm)
	}
}

func mustExpiration(t *testing.T, policyJSON string) string {
	t.Helper()
	var p struct{ Expiration string }
	if err := json.Unmarshal([]byte(policyJSON), &p); err != nil {
		t.Fatal(err)
	}
	return p.Expiration
}

// TestSignatureVectorsWrongSetup: the same vectors fail when the emulator's
// setup disagrees with the signer's.
func TestSignatureVectorsWrongSetup(t *testing.T) {
	cases := loadPolicyVectors(t)
	var v4, v1 policyVector
	for _, c := range cases {
		if c.Version == v4Algorithm && c.SecurityToken != "" && v4.Name == "" {
			v4 = c
		}
		if c.Version == "V1" && c.SecurityToken == "" && v1.Name == "" {
			v1 = c
		}
	}
	if v4.Name == "" || v1.Name == "" {
		t.Fatal("vectors lack a V4 case with an STS token or a V1 case without")
	}
	tests := []struct {
		name string
		c    policyVector
		mod  func(*Emulator, form)
		code string
	}{
		{"v4 other region", v4, func(e *Emulator, _ form) { e.region = "cn-beijing" }, CodeInvalidArgument},
		{"v4 other secret", v4, func(e *Emulator, _ form) { e.cfg.Credentials = map[string]string{v4.AccessKeyID: "other"} }, CodeSignatureDoesNotMatch},
		{"v4 token missing", v4, func(_ *Emulator, f form) { delete(f, "x-oss-security-token") }, CodeInvalidAccessKeyID},
		{"v4 unknown key", v4, func(e *Emulator, _ form) { e.cfg.Credentials = map[string]string{} }, CodeInvalidAccessKeyID},
		{"v1 other secret", v1, func(e *Emulator, _ form) { e.cfg.Credentials = map[string]string{v1.AccessKeyID: "other"} }, CodeSignatureDoesNotMatch},
		{"v1 policy changed", v1, func(_ *Emulator, f form) {
			f["policy"] = base64.StdEncoding.EncodeToString([]byte(strings.Replace(v1.PolicyJSON, "1048576", "1048577", 1)))
		}, CodeSignatureDoesNotMatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := vectorEmulator(t, tc.c)
			f := vectorForm(tc.c)
			tc.mod(e, f)
			if _, oerr := e.verifySignature(f); oerr == nil || oerr.Code != tc.code {
				t.Errorf("verifySignature: err = %v, want %s", oerr, tc.code)
			}
		})
	}
}

func TestStandardRegion(t *testing.T) {
	for in, want := range map[string]string{"oss-cn-hangzhou": "cn-hangzhou", "cn-hangzhou": "cn-hangzhou", " oss-ap-southeast-1 ": "ap-southeast-1"} {
		if got := standardRegion(in); got != want {
			t.Errorf("standardRegion(%q) = %q, want %q", in, got, want)
		}
	}
}
