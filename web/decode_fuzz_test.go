package web

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ossgate/ossgate/policy"
)

// FuzzDecodePolicyRequest feeds arbitrary bodies to the policy endpoints'
// strict decoder and then to the rules: nothing panics; a refused body is an
// *apiError with a 4xx status and an API code (invalid_json or
// invalid_request); a decoded body was valid JSON; the rules answer nil or a
// *policy.Error with one of the API's codes; and a request the rules accept
// can be issued.
//
//	go test ./web -run '^$' -fuzz '^FuzzDecodePolicyRequest$' -fuzztime 60s
func FuzzDecodePolicyRequest(f *testing.F) {
	seeds := []string{
		`{"filename":"cat.jpg","size":12345,"contentType":"image/jpeg","vars":{"caption":"hi"},"signatureVersion":"v4"}`,
		`{"filename":"a.txt","size":1,"contentType":"text/plain","signatureVersion":"v1"}`,
		`{"filename":"a.jpg","size":1,"contentType":"image/jpeg","vars":{"a":"1","b":"2","c":"3","d":"4","e":"5","f":"6","g":"7","h":"8","i":"9","j":"10","k":"11"}}`,
		`{"filename":"a.jpg","filename":"b.exe","size":1,"size":2,"contentType":"image/jpeg"}`,
		`{"FILENAME":"a.jpg","Size":1,"contentTYPE":"image/jpeg"}`,
		`{"filename":"a.jpg","size":1e400,"contentType":"image/jpeg"}`,
		`{"filename":"a.jpg","size":99999999999999999999,"contentType":"image/jpeg"}`,
		`{"filename":"a.jpg","size":-9223372036854775808,"contentType":"image/jpeg"}`,
		`{"filename":"a.jpg","size":1.5,"contentType":"image/jpeg"}`,
		`{"filename":"a.jpg","size":"1","contentType":"image/jpeg"}`,
		`{"filename":"a.jpg","size":null,"contentType":"image/jpeg"}`,
		"{\"filename\":\"a\xff\xfe.jpg\",\"size\":1,\"contentType\":\"image/jp\xffeg\"}",
		`{"filename":"a\ud800\u2028\u0000.jpg","size":1,"contentType":"image/jpeg"}`,
		`{"filename":"../../etc/passwd","size":1,"contentType":"text/plain; charset=\"utf-8\""}`,
		`{"filename":"a.jpg","size":1,"contentType":"image/*"}`,
		`{"filename":"a.jpg","size":1,"contentType":"image/jpeg","vars":{"Bad-Name":"x"}}`,
		`{"filename":"a.jpg","size":1,"contentType":"image/jpeg","vars":{"a":{"b":"c"}}}`,
		`{"filename":"a.jpg","size":1,"contentType":"image/jpeg","vars":null,"vars":{"a":"b"}}`,
		`{"filename":"a.jpg","size":1,"contentType":"image/jpeg","signatureVersion":"V4"}`,
		`{"filename":"a.jpg","size":1,"contentType":"image/jpeg","key":"uploads/bob/x.jpg"}`,
		`{"filename":"a.jpg","size":1,"contentType":"image/jpeg"}{}`,
		`{"filename":"a.jpg","size":1,"contentType":"image/jpeg"} `,
		`{"filename":"a.jpg"`,
		"\xef\xbb\xbf{}",
		`null`, `[]`, `""`, `0`, `{}`, ``, ` `,
		strings.Repeat("[", 10001),
		`{"vars":` + strings.Repeat(`{"a":`, 2000),
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	is, err := policy.NewIssuer(policy.IssuerConfig{
		Credentials:    testCreds,
		Region:         "cn-hangzhou",
		Bucket:         testBucket,
		UploadURL:      "https://" + testBucket + ".oss-cn-hangzhou.aliyuncs.com",
		CallbackURL:    "https://ossgate.example.com/api/uploads/callback",
		TicketSecret:   testTicketSecret,
		KeyPrefix:      "uploads/",
		MaxSize:        10 << 20,
		AllowedTypes:   []string{"image/*", "application/pdf", "text/plain"},
		TTL:            10 * time.Minute,
		DefaultVersion: policy.V4,
	})
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		var req policy.Request
		err := decodeStrict(body, &req)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				t.Fatalf("decodeStrict(%q) = %T %v, want *apiError", body, err, err)
			}
			if ae.Status != 400 || (ae.Code != "invalid_json" && ae.Code != "invalid_request") || ae.Message == "" {
				t.Fatalf("decodeStrict(%q) = %d %q %q, want 400 invalid_json or invalid_request", body, ae.Status, ae.Code, ae.Message)
			}
			if len(ae.Message) > 200 {
				t.Fatalf("decodeStrict(%q): a %d-byte message echoes too much input", body, len(ae.Message))
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("decodeStrict accepted %q, which is not JSON", body)
		}
		verr := is.Validate(req)
		if verr != nil {
			var pe *policy.Error
			if !errors.As(verr, &pe) {
				t.Fatalf("Validate(%+v) = %T %v, want *policy.Error", req, verr, verr)
			}
			if _, ok := codeStatus[pe.Code]; !ok || pe.Message == "" {
				t.Fatalf("Validate(%+v) = code %q message %q, not an API error", req, pe.Code, pe.Message)
			}
			return
		}
		if _, err := is.Issue("alice", req, now); err != nil {
			t.Fatalf("Issue(%+v) after Validate passed: %v", req, err)
		}
	})
}
