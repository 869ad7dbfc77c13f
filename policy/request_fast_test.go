package policy

import (
	"reflect"
	"strings"
	"testing"
)

var requestFastSeeds = []string{
	`{"filename":"cat.jpg","size":12345,"contentType":"image/jpeg","vars":{"caption":"hi"},"signatureVersion":"v4"}`,
	` {"filename" : "a b.txt" ,"size":0, "contentType":"text/plain"} `,
	"{\n\t\"size\": -0,\r\n\"vars\": {}\n}",
	`{}`, `{"vars":{"a":"1","b":"2"}}`, `{"size":999999999999999999}`,
	`{"filename":"kät€.jpg","size":1,"contentType":"image/jpeg"}`,
	// Each of these leaves the fast path for encoding/json:
	`{"filename":"a.jpg","filename":"b.exe"}`, `{"FILENAME":"a.jpg"}`, `{"ſize":1}`,
	`{"size":1e3}`, `{"size":1.0}`, `{"size":01}`, `{"size":9999999999999999999}`, `{"size":-}`,
	`{"size":null}`, `{"vars":null}`, `{"filename":null}`, `{"filename":"a\"b"}`, `{"filename":"\u0041"}`,
	`{"vars":{"a":1}}`, `{"vars":{"a":"1","a":"2"}}`, `{"key":"x"}`, `{"size":1} {}`, `{"size":1,}`,
	"{\"filename\":\"a\xffb\"}", "{\"filename\":\"a\x01b\"}", `[]`, `null`, ``, `{`, `{"size":1`,
}

// TestRequestFastPathTaken: the bodies clients send take the fast path, and
// it gives what encoding/json gives.
func TestRequestFastPathTaken(t *testing.T) {
	for _, body := range requestFastSeeds[:7] {
		var fast Request
		if !decodeRequestFast([]byte(body), &fast) {
			t.Errorf("%s: not decoded by the fast path", body)
			continue
		}
		var slow Request
		if err := decodeRequestJSON([]byte(body), &slow); err != nil || !reflect.DeepEqual(fast, slow) {
			t.Errorf("%s: fast %+v, encoding/json %+v (%v)", body, fast, slow, err)
		}
	}
	for _, body := range requestFastSeeds[7:] {
		var r Request
		if decodeRequestFast([]byte(body), &r) {
			t.Errorf("%s: decoded by the fast path, want encoding/json", body)
		}
	}
}

// FuzzRequestFastMatchesJSON: whatever the fast path accepts, encoding/json
// accepts too and decodes to the same Request.
//
//	go test ./policy -run '^$' -fuzz '^FuzzRequestFastMatchesJSON$' -fuzztime 60s
func FuzzRequestFastMatchesJSON(f *testing.F) {
	for _, s := range requestFastSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"vars":{` + strings.Repeat(`"a":"b",`, 20) + `"c":"d"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast Request
		if !decodeRequestFast(body, &fast) {
			return
		}
		var slow Request
		if err := decodeRequestJSON(body, &slow); err != nil {
			t.Fatalf("%q: fast path accepted, encoding/json says %v", body, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: fast %+v, encoding/json %+v", body, fast, slow)
		}
	})
}
