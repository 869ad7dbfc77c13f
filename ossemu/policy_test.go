package ossemu

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParsePolicy(t *testing.T) {
	exp := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		name string
		doc  string
		want []condition // nil with wantErr
		err  bool
	}{
		{
			name: "every form",
			doc: `{"expiration":"2026-11-24T09:30:00.000Z","conditions":[{"bucket":"b"},["eq","$Key","k"],["starts-with","$key","u/"],` +
				`["in","$content-type",["image/png","image/jpeg"]],["not-in","$Cache-Control",["no-cache"]],["content-length-range",1,10485760]]}`,
			want: []condition{
				{Op: opEq, Field: "bucket", Value: "b"},
				{Op: opEq, Field: "key", Value: "k"},
				{Op: opStartsWith, Field: "key", Value: "u/"},
				{Op: opIn, Field: "content-type", Values: []string{"image/png", "image/jpeg"}},
				{Op: opNotIn, Field: "cache-control", Values: []string{"no-cache"}},
				{Op: opContentLengthRange, Min: 1, Max: 10485760},
			},
		},
		{
			name: "map with two entries, operator case, numeric strings",
			doc:  `{"expiration":"2026-11-24T17:30:00+08:00","conditions":[{"x:b":"2","x:a":"1"},["EQ","x:c","3"],["content-length-range","0","5"]]}`,
			want: []condition{
				{Op: opEq, Field: "x:a", Value: "1"},
				{Op: opEq, Field: "x:b", Value: "2"},
				{Op: opEq, Field: "x:c", Value: "3"},
				{Op: opContentLengthRange, Min: 0, Max: 5},
			},
		},
		{name: "empty conditions", doc: `{"expiration":"2026-11-24T09:30:00Z","conditions":[]}`, want: nil},
		{name: "not json", doc: `{"expiration":`, err: true},
		{name: "not an object", doc: `[1,2]`, err: true},
		{name: "null", doc: `null`, err: true},
		{name: "no expiration", doc: `{"conditions":[]}`, err: true},
		{name: "expiration not a string", doc: `{"expiration":5,"conditions":[]}`, err: true},
		{name: "expiration not ISO 8601", doc: `{"expiration":"Tue, 24 Nov 2026 09:30:00 GMT","conditions":[]}`, err: true},
		{name: "no conditions", doc: `{"expiration":"2026-11-24T09:30:00Z"}`, err: true},
		{name: "conditions not a list", doc: `{"expiration":"2026-11-24T09:30:00Z","conditions":123}`, err: true},
		{name: "condition a number", doc: `{"expiration":"2026-11-24T09:30:00Z","conditions":[123]}`, err: true},
		{name: "empty map", doc: `{"expiration":"2026-11-24T09:30:00Z","conditions":[{}]}`, err: true},
		{name: "map value not a string", doc: `{"expiration":"2026-11-24T09:30:00Z","conditions":[{"key":1}]}`, err: true},
		{name: "missing operator", doc: `{"expiration":"2026-11-24T09:30:00Z","conditions":[["$key"]]}`, err: true},
		{name: "too many elements", doc: `{"expiration":"2026-11-24T09:30:00Z","conditions":[["starts-with","$key","a","b"]]}`, err: true},
		{name: "unknown operator", doc: `{"expiration":"2026-11-24T09:30:00Z","conditions":[["regex","$key","a"]]}`, err: true},
		{name: "not-in with a string", doc: `{"expiration":"2026-11-24T09:30:00Z","conditions":[["not-in","$cache-control","no-cache"]]}`, err: true},
		{name: "in with a number", doc: `{"expiration":"2026-11-24T09:30:00Z","conditions":[["in","$a",[1]]]}`, err: true},
		{name: "eq null", doc: `{"expiration":"2026-11-24T09:30:00Z","conditions":[["eq","$a",null]]}`, err: true},
		{name: "empty field", doc: `{"expiration":"2026-11-24T09:30:00Z","conditions":[["eq","$",""]]}`, err: true},
		{name: "range reversed", doc: `{"expiration":"2026-11-24T09:30:00Z","conditions":[["content-length-range",10,1]]}`, err: true},
		{name: "range negative", doc: `{"expiration":"2026-11-24T09:30:00Z","conditions":[["content-length-range",-1,1]]}`, err: true},
		{name: "range fraction", doc: `{"expiration":"2026-11-24T09:30:00Z","conditions":[["content-length-range",0,1.5]]}`, err: true},
		{name: "range not a number", doc: `{"expiration":"2026-11-24T09:30:00Z","conditions":[["content-length-range",0,"ten"]]}`, err: true},
		{name: "trailing garbage", doc: `{"expiration":"2026-11-24T09:30:00Z","conditions":[]} x`, err: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parsePolicy([]byte(tc.doc))
			if tc.err {
				if err == nil || !errors.Is(err, errPolicy) {
					t.Fatalf("parsePolicy: err = %v, want an errPolicy", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parsePolicy: %v", err)
			}
			if !p.Expiration.Equal(exp) {
				t.Errorf("Expiration = %v, want %v", p.Expiration, exp)
			}
			if !reflect.DeepEqual(p.Conditions, tc.want) {
				t.Errorf("Conditions\n got %+v\nwant %+v", p.Conditions, tc.want)
			}
		})
	}
}

func TestCheckFields(t *testing.T) {
	p := &policyDoc{Conditions: []condition{
		{Op: opEq, Field: "bucket", Value: "b"},
		{Op: opEq, Field: "key", Value: "k"},
		{Op: opStartsWith, Field: "x:p", Value: "pre"},
		{Op: opIn, Field: "content-type", Values: []string{"image/png", "image/jpeg"}},
		{Op: opNotIn, Field: "cache-control", Values: []string{"no-cache"}},
		{Op: opContentLengthRange, Min: 1, Max: 2}, // not a field condition
	}}
	base := form{"key": "k", "x:p": "prefix", "content-type": "image/png"}
	with := func(k, v string) form {
		f := form{}
		for a, b := range base {
			f[a] = b
		}
		if v == "<absent>" {
			delete(f, k)
		} else {
			f[k] = v
		}
		return f
	}
	tests := []struct {
		name   string
		f      form
		bucket string
		ok     bool
		msg    string
	}{
		{"all pass", base, "b", true, ""},
		{"bucket from config, not the form", with("bucket", "b"), "other", false, `Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "b"]`},
		{"form bucket ignored", with("bucket", "evil"), "b", true, ""},
		{"eq fails", with("key", "K"), "b", false, `["eq", "$key", "k"]`},
		{"eq absent", with("key", "<absent>"), "b", false, `["eq", "$key", "k"]`},
		{"starts-with fails", with("x:p", "xpre"), "b", false, `["starts-with", "$x:p", "pre"]`},
		{"in fails", with("content-type", "image/gif"), "b", false, `["in", "$content-type", ["image/png","image/jpeg"]]`},
		{"not-in fails", with("cache-control", "no-cache"), "b", false, `["not-in", "$cache-control", ["no-cache"]]`},
		{"not-in absent passes", with("cache-control", "<absent>"), "b", true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := p.checkFields(tc.f, tc.bucket)
			if (err == nil) != tc.ok {
				t.Fatalf("checkFields: err = %v, want ok = %v", err, tc.ok)
			}
			if err != nil {
				if err.Status != 403 || err.Code != CodeAccessDenied {
					t.Errorf("error = %d %s, want 403 AccessDenied", err.Status, err.Code)
				}
				if got := err.Message; len(tc.msg) > 0 && !strings.Contains(got, tc.msg) {
					t.Errorf("Message = %q, want it to contain %q", got, tc.msg)
				}
			}
		})
	}
}

func TestSizeRange(t *testing.T) {
	tests := []struct {
		name   string
		conds  []condition
		lo, hi int64
		ok     bool
	}{
		{"none", nil, 0, 0, false},
		{"one", []condition{{Op: opContentLengthRange, Min: 1, Max: 9}}, 1, 9, true},
		{"intersection", []condition{{Op: opContentLengthRange, Min: 1, Max: 9}, {Op: opContentLengthRange, Min: 3, Max: 20}}, 3, 9, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi, ok := (&policyDoc{Conditions: tc.conds}).sizeRange()
			if lo != tc.lo || hi != tc.hi || ok != tc.ok {
				t.Errorf("sizeRange = %d, %d, %v; want %d, %d, %v", lo, hi, ok, tc.lo, tc.hi, tc.ok)
			}
		})
	}
}

// FuzzParsePolicy: the parser never panics, and whatever it accepts
// round-trips through its canonical JSON.
func FuzzParsePolicy(f *testing.F) {
	seeds := []string{
		`{"expiration":"2026-11-24T09:30:00.000Z","conditions":[{"bucket":"examplebucket"},["eq","$key","uploads/a.jpg"],["content-length-range",1,10485760],["in","$content-type",["image/jpeg","image/png"]],["not-in","$cache-control",["no-cache"]],["starts-with","$key","uploads/"]]}`,
		`{"expiration":"2026-11-24T17:30:00.123456789+08:00","conditions":[{"x:a":"1","X:B":"\u00e9\"\n"},["EQ","x:c",""],["content-length-range","0","5"]]}`,
		`{"expiration":"2026-11-24T09:30:00Z","conditions":[]}`,
		`{"expiration":"2026-11-24T09:30:00Z","conditions":[["in","$a",[]]]}`,
		`{"expiration":"x","conditions":[]}`,
		`{"conditions":[[]]}`,
		`[]`, `null`, `{}`, ``, `{"expiration":"2026-11-24T09:30:00Z","conditions":[123,null,"s",{"a":null}]}`,
		`{"expiration":"2026-11-24T09:30:00Z","conditions":[["content-length-range",9223372036854775807,9223372036854775808]]}`,
	}
	var v struct{ Cases []struct{ PolicyJSON string } }
	if err := json.Unmarshal(readVectors(f, "post-policy.json"), &v); err != nil {
		f.Fatalf("post-policy.json: %v", err)
	}
	for _, c := range v.Cases {
		seeds = append(seeds, c.PolicyJSON)
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parsePolicy(data)
		if err != nil {
			if !errors.Is(err, errPolicy) {
				t.Fatalf("error %v is not an errPolicy", err)
			}
			return
		}
		out, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("marshal of a parsed policy: %v", err)
		}
		q, err := parsePolicy(out)
		if err != nil {
			t.Fatalf("reparse of %s: %v", out, err)
		}
		if !p.Expiration.Equal(q.Expiration) {
			t.Errorf("expiration %v became %v", p.Expiration, q.Expiration)
		}
		if !reflect.DeepEqual(p.Conditions, q.Conditions) {
			t.Errorf("conditions changed in the round trip:\n%+v\n%+v\nvia %s", p.Conditions, q.Conditions, out)
		}
		// Checking a parsed policy never panics either.
		_ = p.checkFields(form{"key": string(data)}, "b")
		_, _, _ = p.sizeRange()
		_ = p.expired(time.Now())
	})
}
