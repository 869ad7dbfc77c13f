package callback_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/ossgate/ossgate/callback"
	"github.com/ossgate/ossgate/ticket"
)

const (
	ctJSON = "application/json"
	ctForm = "application/x-www-form-urlencoded"
	etag   = "5B3C1A2E053D763E1B002CC607C5A0FE" // an ETag as OSS gives it: MD5, upper-case hex
)

func TestParseBody(t *testing.T) {
	okJSON := callback.Body{
		Bucket: "b", Object: "uploads/u/k.jpg", ETag: etag, MimeType: "image/jpeg", Size: 123,
		Ticket: "t.k.n", Vars: map[string]string{"caption": "hi"},
	}
	noVars := okJSON
	noVars.Vars = map[string]string{}
	cases := []struct {
		name        string
		contentType string
		body        string
		want        callback.Body // zero: want ErrInvalidCallback
	}{
		{"json", ctJSON, `{"bucket":"b","object":"uploads/u/k.jpg","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","size":123,"mimeType":"image/jpeg","ticket":"t.k.n","vars":{"caption":"hi"}}`, okJSON},
		{"json with params", "Application/JSON; charset=UTF-8", `{"bucket":"b","object":"uploads/u/k.jpg","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","size":123,"mimeType":"image/jpeg","ticket":"t.k.n","vars":{"caption":"hi"}}`, okJSON},
		{"json whitespace, any order", ctJSON, " {\n \"vars\" : {\"caption\":\"hi\"}, \"ticket\":\"t.k.n\",\"mimeType\":\"image/jpeg\",\"size\":123,\"etag\":\"5B3C1A2E053D763E1B002CC607C5A0FE\",\"object\":\"uploads/u/k.jpg\",\"bucket\":\"b\"}\n", okJSON},
		{"json size as string", ctJSON, `{"bucket":"b","object":"uploads/u/k.jpg","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","size":"123","mimeType":"image/jpeg","ticket":"t.k.n","vars":{"caption":"hi"}}`, okJSON},
		{"json no vars", ctJSON, `{"bucket":"b","object":"uploads/u/k.jpg","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","size":123,"mimeType":"image/jpeg","ticket":"t.k.n"}`, noVars},
		{"json null vars", ctJSON, `{"bucket":"b","object":"uploads/u/k.jpg","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","size":123,"mimeType":"image/jpeg","ticket":"t.k.n","vars":null}`, noVars},
		{"json unknown fields ignored", ctJSON, `{"bucket":"b","object":"uploads/u/k.jpg","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","size":123,"mimeType":"image/jpeg","ticket":"t.k.n","caption":"x","imageInfo":{"height":1},"vpcId":null}`, noVars},
		{"json escapes", ctJSON, `{"bucket":"b","object":"uploads\/u\/\u006b.jpg","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","size":123,"mimeType":"image/jpeg","ticket":"t.k.n"}`, noVars},
		{"json size zero", ctJSON, `{"bucket":"b","object":"k","size":0,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"}`, callback.Body{Bucket: "b", Object: "k", ETag: etag, MimeType: "image/jpeg", Ticket: "t", Vars: map[string]string{}}},
		{"json max int64", ctJSON, `{"bucket":"b","object":"k","size":9223372036854775807,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"}`, callback.Body{Bucket: "b", Object: "k", ETag: etag, MimeType: "image/jpeg", Ticket: "t", Size: 1<<63 - 1, Vars: map[string]string{}}},
		{"form", ctForm, "bucket=b&object=uploads%2Fu%2Fk.jpg&etag=5B3C1A2E053D763E1B002CC607C5A0FE&size=123&mimeType=image%2Fjpeg&ticket=t.k.n&x%3Acaption=hi", okJSON},
		{"form raw colon, unknown field", ctForm + "; charset=utf-8", "bucket=b&object=uploads/u/k.jpg&etag=5B3C1A2E053D763E1B002CC607C5A0FE&size=123&mimeType=image/jpeg&ticket=t.k.n&x:caption=hi&my_var1=v", okJSON},
		{"form plus is space", ctForm, "bucket=b&object=a+b&size=1&ticket=t&etag=5B3C1A2E053D763E1B002CC607C5A0FE&mimeType=image%2Fjpeg&x:c=1+2", callback.Body{Bucket: "b", Object: "a b", ETag: etag, MimeType: "image/jpeg", Size: 1, Ticket: "t", Vars: map[string]string{"c": "1 2"}}},

		{"json size negative", ctJSON, `{"bucket":"b","object":"k","size":-1,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"}`, callback.Body{}},
		{"json size float", ctJSON, `{"bucket":"b","object":"k","size":1.0,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"}`, callback.Body{}},
		{"json size exponent", ctJSON, `{"bucket":"b","object":"k","size":1e3,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"}`, callback.Body{}},
		{"json size huge", ctJSON, `{"bucket":"b","object":"k","size":9223372036854775808,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"}`, callback.Body{}},
		{"json size huge string", ctJSON, `{"bucket":"b","object":"k","size":"99999999999999999999","ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"}`, callback.Body{}},
		{"json size negative string", ctJSON, `{"bucket":"b","object":"k","size":"-1","ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"}`, callback.Body{}},
		{"json size empty string", ctJSON, `{"bucket":"b","object":"k","size":"","ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"}`, callback.Body{}},
		{"json size spaced string", ctJSON, `{"bucket":"b","object":"k","size":" 1","ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"}`, callback.Body{}},
		{"json size null", ctJSON, `{"bucket":"b","object":"k","size":null,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"}`, callback.Body{}},
		{"json size bool", ctJSON, `{"bucket":"b","object":"k","size":true,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"}`, callback.Body{}},
		{"json size missing", ctJSON, `{"bucket":"b","object":"k","ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"}`, callback.Body{}},
		{"json bucket missing", ctJSON, `{"object":"k","size":1,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"}`, callback.Body{}},
		{"json object empty", ctJSON, `{"bucket":"b","object":"","size":1,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"}`, callback.Body{}},
		{"json ticket missing", ctJSON, `{"bucket":"b","object":"k","size":1,"etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"}`, callback.Body{}},
		{"json bucket not a string", ctJSON, `{"bucket":1,"object":"k","size":1,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"}`, callback.Body{}},
		{"json duplicate key", ctJSON, `{"bucket":"b","object":"k","object":"other","size":1,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"}`, callback.Body{}},
		{"json duplicate unknown key", ctJSON, `{"bucket":"b","object":"k","size":1,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg","z":1,"z":2}`, callback.Body{}},
		{"json duplicate var", ctJSON, `{"bucket":"b","object":"k","size":1,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg","vars":{"a":"1","a":"2"}}`, callback.Body{}},
		{"json var not a string", ctJSON, `{"bucket":"b","object":"k","size":1,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg","vars":{"a":1}}`, callback.Body{}},
		{"json vars not an object", ctJSON, `{"bucket":"b","object":"k","size":1,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg","vars":["a"]}`, callback.Body{}},
		{"json trailing data", ctJSON, `{"bucket":"b","object":"k","size":1,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"}{}`, callback.Body{}},
		{"json trailing garbage", ctJSON, `{"bucket":"b","object":"k","size":1,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"} x`, callback.Body{}},
		{"json array", ctJSON, `[{"bucket":"b"}]`, callback.Body{}},
		{"json truncated", ctJSON, `{"bucket":"b","object":"k","size":1,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"`, callback.Body{}},
		{"json empty", ctJSON, ``, callback.Body{}},
		{"json invalid utf-8", ctJSON, "{\"bucket\":\"b\xff\",\"object\":\"k\",\"size\":1,\"ticket\":\"t\"}", callback.Body{}},
		{"json other charset", ctJSON + "; charset=latin1", `{"bucket":"b","object":"k","size":1,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"}`, callback.Body{}},
		{"form duplicate key", ctForm, "bucket=b&object=k&object=k2&size=1&ticket=t&etag=5B3C1A2E053D763E1B002CC607C5A0FE&mimeType=image%2Fjpeg", callback.Body{}},
		{"form duplicate after decoding", ctForm, "bucket=b&object=k&obj%65ct=k2&size=1&ticket=t&etag=5B3C1A2E053D763E1B002CC607C5A0FE&mimeType=image%2Fjpeg", callback.Body{}},
		{"form duplicate var", ctForm, "bucket=b&object=k&size=1&ticket=t&etag=5B3C1A2E053D763E1B002CC607C5A0FE&mimeType=image%2Fjpeg&x:a=1&x%3Aa=2", callback.Body{}},
		{"form empty var name", ctForm, "bucket=b&object=k&size=1&ticket=t&etag=5B3C1A2E053D763E1B002CC607C5A0FE&mimeType=image%2Fjpeg&x:=1", callback.Body{}},
		{"form size float", ctForm, "bucket=b&object=k&size=1.5&ticket=t&etag=5B3C1A2E053D763E1B002CC607C5A0FE&mimeType=image%2Fjpeg", callback.Body{}},
		{"form size negative", ctForm, "bucket=b&object=k&size=-1&ticket=t&etag=5B3C1A2E053D763E1B002CC607C5A0FE&mimeType=image%2Fjpeg", callback.Body{}},
		{"form size huge", ctForm, "bucket=b&object=k&size=9223372036854775808&ticket=t&etag=5B3C1A2E053D763E1B002CC607C5A0FE&mimeType=image%2Fjpeg", callback.Body{}},
		{"form size missing", ctForm, "bucket=b&object=k&ticket=t&etag=5B3C1A2E053D763E1B002CC607C5A0FE&mimeType=image%2Fjpeg", callback.Body{}},
		{"form semicolon", ctForm, "bucket=b&object=k;size=1&size=1&ticket=t&etag=5B3C1A2E053D763E1B002CC607C5A0FE&mimeType=image%2Fjpeg", callback.Body{}},
		{"form bad escape", ctForm, "bucket=b&object=k%zz&size=1&ticket=t&etag=5B3C1A2E053D763E1B002CC607C5A0FE&mimeType=image%2Fjpeg", callback.Body{}},
		{"form escaped invalid utf-8", ctForm, "bucket=b&object=k%FF&size=1&ticket=t&etag=5B3C1A2E053D763E1B002CC607C5A0FE&mimeType=image%2Fjpeg", callback.Body{}},
		{"form raw invalid utf-8", ctForm, "bucket=b&object=k\xff&size=1&ticket=t&etag=5B3C1A2E053D763E1B002CC607C5A0FE&mimeType=image%2Fjpeg", callback.Body{}},
		{"form missing ticket", ctForm, "bucket=b&object=k&size=1&etag=5B3C1A2E053D763E1B002CC607C5A0FE&mimeType=image%2Fjpeg", callback.Body{}},
		{"text/plain", "text/plain", `{"bucket":"b","object":"k","size":1,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"}`, callback.Body{}},
		{"multipart", "multipart/form-data; boundary=x", "bucket=b&object=k&size=1&ticket=t&etag=5B3C1A2E053D763E1B002CC607C5A0FE&mimeType=image%2Fjpeg", callback.Body{}},
		{"no content type", "", `{"bucket":"b","object":"k","size":1,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"}`, callback.Body{}},
		{"bad content type", "application/json;;", `{"bucket":"b","object":"k","size":1,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"}`, callback.Body{}},
		{"json suffix type", "application/vnd.x+json", `{"bucket":"b","object":"k","size":1,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg"}`, callback.Body{}},
		{"too large", ctJSON, `{"bucket":"b","object":"k","size":1,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg","pad":"` + strings.Repeat("a", callback.MaxBodyBytes) + `"}`, callback.Body{}},
		{"deep nesting", ctJSON, `{"bucket":"b","object":"k","size":1,"ticket":"t","etag":"5B3C1A2E053D763E1B002CC607C5A0FE","mimeType":"image/jpeg","x":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`, callback.Body{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := callback.ParseBody(c.contentType, []byte(c.body))
			if c.want.Bucket == "" {
				if !errors.Is(err, callback.ErrInvalidCallback) {
					t.Fatalf("ParseBody = %+v, %v; want ErrInvalidCallback", got, err)
				}
				if code := callback.Code(err); code != "invalid_callback" {
					t.Errorf("Code = %q, want invalid_callback", code)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseBody: %v", err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("ParseBody =\n %+v\nwant\n %+v", got, c.want)
			}
		})
	}
}

func FuzzParseBody(f *testing.F) {
	f.Add(ctJSON, []byte(`{"bucket":"b","object":"k","etag":"`+etag+`","size":123,"mimeType":"image/jpeg","ticket":"t","vars":{"caption":"hi"}}`))
	f.Add(ctJSON, []byte(`{"bucket":"b","object":"k","size":"12","ticket":"t","vars":null}`))
	f.Add(ctJSON, []byte(`{"a":{"b":[1,2,{"c":null}]},"size":-0.5e9}`))
	f.Add(ctForm, []byte("bucket=b&object=k&etag="+etag+"-2&size=123&mimeType=image%2Fjpeg&ticket=t&x%3Acaption=hi"))
	f.Add(ctForm+"; charset=utf-8", []byte("a=%&b=;&&=&x:=1"))
	f.Add("text/plain", []byte("x"))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		b, err := callback.ParseBody(contentType, body)
		if err != nil {
			if !errors.Is(err, callback.ErrInvalidCallback) {
				t.Fatalf("error %v does not wrap ErrInvalidCallback", err)
			}
			return
		}
		if b.Bucket == "" || b.Object == "" || b.Ticket == "" || b.Size < 0 || b.Vars == nil {
			t.Fatalf("accepted an incomplete body: %+v", b)
		}
		if len(b.ETag) < 32 || len(b.ETag) > 38 || !ticket.PlainMediaType(b.MimeType) || len(b.Vars) > ticket.MaxVars {
			t.Fatalf("accepted an unbounded field: %.300v", b)
		}
		for name, v := range b.Vars {
			if !ticket.ValidVarName(name) || !ticket.ValidVarValue(v) {
				t.Fatalf("accepted var %q = %.300q", name, v)
			}
		}
	})
}

// Fields the ticket does not bind are still bounded and well-formed: an
// ETag of OSS's shape, a bare media type, and vars within the policy's
// limits. Each refused case was stored as sent before.
func TestParseBodyBoundsStoredFields(t *testing.T) {
	manyVars := map[string]string{}
	for i := range 1000 {
		manyVars[fmt.Sprintf("v%d", i)] = strings.Repeat("x", 900)
	}
	elevenVars := map[string]string{}
	for i := range 11 {
		elevenVars[fmt.Sprintf("v%d", i)] = "x"
	}
	cases := []struct {
		name     string
		mod      map[string]any // fields replaced in the valid body; nil value: removed
		wantETag string         // "" when the body must be refused
	}{
		{"valid", nil, etag},
		{"quoted etag: quotes removed", map[string]any{"etag": `"` + etag + `"`}, etag},
		{"multipart etag", map[string]any{"etag": etag + "-3"}, etag + "-3"},
		{"multipart etag, 10000 parts", map[string]any{"etag": etag + "-10000"}, etag + "-10000"},
		{"upper-case media type", map[string]any{"mimeType": "IMAGE/JPEG"}, etag},
		{"media type of 255 bytes", map[string]any{"mimeType": "image/" + strings.Repeat("x", 127)}, etag},
		{"10 vars of 256 bytes", map[string]any{"vars": func() map[string]string {
			m := map[string]string{}
			for i := range 10 {
				m[fmt.Sprintf("v%d", i)] = strings.Repeat("é", 128)
			}
			return m
		}()}, etag},

		{"900 KB etag", map[string]any{"etag": strings.Repeat("A", 900<<10)}, ""},
		{"lower-case etag", map[string]any{"etag": strings.ToLower(etag)}, ""},
		{"31 hex digits", map[string]any{"etag": etag[:31]}, ""},
		{"33 hex digits", map[string]any{"etag": etag + "0"}, ""},
		{"non-hex etag", map[string]any{"etag": "G" + etag[1:]}, ""},
		{"one quote", map[string]any{"etag": `"` + etag}, ""},
		{"two pairs of quotes", map[string]any{"etag": `""` + etag + `""`}, ""},
		{"10001 parts", map[string]any{"etag": etag + "-10001"}, ""},
		{"0 parts", map[string]any{"etag": etag + "-0"}, ""},
		{"leading zero parts", map[string]any{"etag": etag + "-01"}, ""},
		{"empty parts", map[string]any{"etag": etag + "-"}, ""},
		{"etag missing", map[string]any{"etag": nil}, ""},
		{"media type with a script parameter", map[string]any{"mimeType": `TEXT/PLAIN; x="<script>"`}, ""},
		{"media type with charset", map[string]any{"mimeType": "text/plain; charset=utf-8"}, ""},
		{"media type of 256 bytes", map[string]any{"mimeType": strings.Repeat("a", 127) + "/" + strings.Repeat("b", 128)}, ""},
		{"media type without subtype", map[string]any{"mimeType": "image"}, ""},
		{"media type with space", map[string]any{"mimeType": "image/ jpeg"}, ""},
		{"media type missing", map[string]any{"mimeType": nil}, ""},
		{"1000 vars of 900 bytes", map[string]any{"vars": manyVars}, ""},
		{"11 vars", map[string]any{"vars": elevenVars}, ""},
		{"var of 257 bytes", map[string]any{"vars": map[string]string{"caption": strings.Repeat("x", 257)}}, ""},
		{"var with a newline", map[string]any{"vars": map[string]string{"caption": "a\nb"}}, ""},
		{"var with U+2028", map[string]any{"vars": map[string]string{"caption": "a\u2028b"}}, ""},
		{"upper-case var name", map[string]any{"vars": map[string]string{"Caption": "x"}}, ""},
		{"long var name", map[string]any{"vars": map[string]string{strings.Repeat("a", 33): "x"}}, ""},
	}
	for _, c := range cases {
		for _, form := range []bool{false, true} {
			name := c.name + map[bool]string{false: ", json", true: ", form"}[form]
			t.Run(name, func(t *testing.T) {
				fields := map[string]any{
					"bucket": "b", "object": "k", "etag": etag, "size": 1, "mimeType": "image/jpeg", "ticket": "t",
					"vars": map[string]string{"caption": "hi"},
				}
				for k, v := range c.mod {
					if v == nil {
						delete(fields, k)
					} else {
						fields[k] = v
					}
				}
				ct, body := encodeBody(t, fields, form)
				got, err := callback.ParseBody(ct, body)
				if c.wantETag == "" {
					if !errors.Is(err, callback.ErrInvalidCallback) {
						t.Fatalf("ParseBody accepted it: %.200v, %v", got, err)
					}
					return
				}
				if err != nil || got.ETag != c.wantETag {
					t.Fatalf("ParseBody = ETag %q, %v; want ETag %q", got.ETag, err, c.wantETag)
				}
			})
		}
	}
}

// encodeBody renders fields as OSS would for ossgate's template: JSON, or a
// form with vars as x:name.
func encodeBody(t testing.TB, fields map[string]any, form bool) (contentType string, body []byte) {
	t.Helper()
	if !form {
		b, err := json.Marshal(fields)
		if err != nil {
			t.Fatal(err)
		}
		return ctJSON, b
	}
	q := url.Values{}
	for k, v := range fields {
		if k == "vars" {
			for name, s := range v.(map[string]string) {
				q.Set("x:"+name, s)
			}
			continue
		}
		q.Set(k, fmt.Sprint(v))
	}
	return ctForm, []byte(q.Encode())
}
