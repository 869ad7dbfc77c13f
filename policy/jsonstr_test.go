package policy

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/ossgate/ossgate/internal/jsontest"
)

// referenceDocument writes what Policy.JSON should give, with encoding/json.
func referenceDocument(t testing.TB, exp time.Time, conds ...any) string {
	return jsontest.Encode(t, struct {
		Expiration string `json:"expiration"`
		Conditions []any  `json:"conditions"`
	}{exp.UTC().Format(expirationLayout), conds})
}

// FuzzPolicyJSON checks whole documents against encoding/json, with hostile
// values in every string position.
func FuzzPolicyJSON(f *testing.F) {
	for _, s := range jsontest.StringSeeds {
		f.Add(s, "image/jpeg", s, int64(7))
	}
	exp := time.Date(2026, 11, 25, 8, 40, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, key, ct, val string, max int64) {
		if max < 1 {
			max = 1
		}
		p := New(exp)
		p.SetBucket(val)
		p.SetKey(key)
		p.SetContentLengthRange(1, max)
		p.SetContentType(ct)
		p.SetContentTypeIn(ct, val)
		p.SetVar("v", val)
		cb := Callback{URL: "https://h/" + val, Body: "b" + key, BodyType: ct}
		if err := p.SetCallback(cb); err != nil {
			t.Fatal(err)
		}
		cb64, _ := cb.Encode()
		cbJSON, _ := base64.StdEncoding.DecodeString(cb64)
		if want := jsontest.Encode(t, struct {
			URL      string `json:"callbackUrl"`
			Body     string `json:"callbackBody"`
			BodyType string `json:"callbackBodyType,omitempty"`
		}{cb.URL, cb.Body, cb.BodyType}); string(cbJSON) != want {
			t.Fatalf("callback JSON\n got: %s\nwant: %s", cbJSON, want)
		}
		p.AddCondition(StartsWith("$key", key))
		p.AddCondition(NotIn("content-encoding", val))
		p.AddCondition(Match("x-oss-meta-a", val))
		got, err := p.JSON()
		if err != nil {
			t.Fatal(err)
		}
		want := referenceDocument(t, exp,
			map[string]string{"bucket": val},
			[]any{"eq", "$key", key},
			[]any{"content-length-range", 1, max},
			[]any{"eq", "$Content-Type", ct},
			[]any{"in", "$content-type", []string{ct, val}},
			[]any{"eq", "$x:v", val},
			[]any{"eq", "$callback", cb64},
			[]any{"starts-with", "$key", key},
			[]any{"not-in", "$content-encoding", []string{val}},
			map[string]string{"x-oss-meta-a": val},
		)
		if string(got) != want {
			t.Fatalf("JSON\n got: %s\nwant: %s", got, want)
		}
	})
}
