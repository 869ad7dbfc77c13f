package callback

import (
	"encoding/json"
	"testing"
)

var membersSeeds = []string{
	`{"bucket":"b","object":"uploads/a b.jpg","etag":"D41D8CD98F00B204E9800998ECF8427E","size":12,"mimeType":"image/jpeg","imageWidth":null,"imageHeight":"","imageFormat":"","ticket":"x.y.z","vars":{"caption":"hi","n":"é"}}`,
	` { "a" : [1, {"b": "}"}, "\"]"], "c" : -1.5e3 , "d":true,"e":false} `,
	`{}`, `{"a":"\u0041"}`, `{"a\u0041":1}`, `{"a":1,"a":2}`, `{"a":1} {}`, `[1]`, `"s"`, `{"a":"x\\"}`,
	"{\"a\":\"\xff\"}", "{\"\xff\":1}", `{"a":{"b":{"c":[[]]}}}`, `{`, `{"a":}`, ``,
}

// FuzzMembersFastMatchesDecoder: whatever membersFast accepts, the Decoder
// path accepts too, with the same names and values in the same order.
//
//	go test ./callback -run '^$' -fuzz '^FuzzMembersFastMatchesDecoder$' -fuzztime 60s
func FuzzMembersFastMatchesDecoder(f *testing.F) {
	for _, s := range membersSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var buf [maxFastMembers]member
		fast, ok := membersFast(data, &buf)
		if !ok {
			return
		}
		var slow []member
		err := eachMemberDecoded(data, func(name string, raw json.RawMessage) error {
			slow = append(slow, member{name, raw})
			return nil
		})
		if err != nil {
			t.Fatalf("%q: fast path accepted, the Decoder says %v", data, err)
		}
		if len(fast) != len(slow) {
			t.Fatalf("%q: fast %d members, Decoder %d", data, len(fast), len(slow))
		}
		for i := range fast {
			if fast[i].name != slow[i].name || string(fast[i].raw) != string(slow[i].raw) {
				t.Fatalf("%q: member %d: fast %q=%s, Decoder %q=%s", data, i, fast[i].name, fast[i].raw, slow[i].name, slow[i].raw)
			}
		}
		for _, m := range fast {
			if s, ok := plainString(m.raw); ok {
				var want string
				if err := json.Unmarshal(m.raw, &want); err != nil || s != want {
					t.Fatalf("plainString(%s) = %q, json.Unmarshal gives %q (%v)", m.raw, s, want, err)
				}
			}
		}
	})
}

// TestMembersFastTakesCallbackBodies: the bodies OSS sends take the fast
// path; the odd ones leave it.
func TestMembersFastTakesCallbackBodies(t *testing.T) {
	for i, s := range membersSeeds {
		var buf [maxFastMembers]member
		_, ok := membersFast([]byte(s), &buf)
		if want := i <= 3 || i == 9 || i == 10 || i == 12; ok != want {
			t.Errorf("%s: fast path %v, want %v", s, ok, want)
		}
	}
}
