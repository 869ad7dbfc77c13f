package callback_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ossgate/ossgate/callback"
)

const (
	ctJSON = "application/json"
	ctForm = "application/x-www-form-urlencoded"
)

func TestParseBody(t *testing.T) {
	okJSON := callback.Body{
		Bucket: "b", Object: "uploads/u/k.jpg", ETag: "ABC", MimeType: "image/jpeg", Size: 123,
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
		{"json", ctJSON, `{"bucket":"b","object":"uploads/u/k.jpg","etag":"ABC","size":123,"mimeType":"image/jpeg","ticket":"t.k.n","vars":{"caption":"hi"}}`, okJSON},
		{"json with params", "Application/JSON; charset=UTF-8", `{"bucket":"b","object":"uploads/u/k.jpg","etag":"ABC","size":123,"mimeType":"image/jpeg","ticket":"t.k.n","vars":{"caption":"hi"}}`, okJSON},
		{"json whitespace, any order", ctJSON, " {\n \"vars\" : {\"caption\":\"hi\"}, \"ticket\":\"t.k.n\",\"mimeType\":\"image/jpeg\",\"size\":123,\"etag\":\"ABC\",\"object\":\"uploads/u/k.jpg\",\"bucket\":\"b\"}\n", okJSON},
		{"json size as string", ctJSON, `{"bucket":"b","object":"uploads/u/k.jpg","etag":"ABC","size":"123","mimeType":"image/jpeg","ticket":"t.k.n","vars":{"caption":"hi"}}`, okJSON},
		{"json no vars", ctJSON, `{"bucket":"b","object":"uploads/u/k.jpg","etag":"ABC","size":123,"mimeType":"image/jpeg","ticket":"t.k.n"}`, noVars},
		{"json null vars", ctJSON, `{"bucket":"b","object":"uploads/u/k.jpg","etag":"ABC","size":123,"mimeType":"image/jpeg","ticket":"t.k.n","vars":null}`, noVars},
		{"json unknown fields ignored", ctJSON, `{"bucket":"b","object":"uploads/u/k.jpg","etag":"ABC","size":123,"mimeType":"image/jpeg","ticket":"t.k.n","caption":"x","imageInfo":{"height":1},"vpcId":null}`, noVars},
		{"json escapes", ctJSON, `{"bucket":"b","object":"uploads\/u\/\u006b.jpg","etag":"ABC","size":123,"mimeType":"image/jpeg","ticket":"t.k.n"}`, noVars},
		{"json size zero", ctJSON, `{"bucket":"b","object":"k","size":0,"ticket":"t"}`, callback.Body{Bucket: "b", Object: "k", Ticket: "t", Vars: map[string]string{}}},
		{"json max int64", ctJSON, `{"bucket":"b","object":"k","size":9223372036854775807,"ticket":"t"}`, callback.Body{Bucket: "b", Object: "k", Ticket: "t", Size: 1<<63 - 1, Vars: map[string]string{}}},
		{"form", ctForm, "bucket=b&object=uploads%2Fu%2Fk.jpg&etag=ABC&size=123&mimeType=image%2Fjpeg&ticket=t.k.n&x%3Acaption=hi", okJSON},
		{"form raw colon, unknown field", ctForm + "; charset=utf-8", "bucket=b&object=uploads/u/k.jpg&etag=ABC&size=123&mimeType=image/jpeg&ticket=t.k.n&x:caption=hi&my_var1=v", okJSON},
		{"form plus is space", ctForm, "bucket=b&object=a+b&size=1&ticket=t&x:c=1+2", callback.Body{Bucket: "b", Object: "a b", Size: 1, Ticket: "t", Vars: map[string]string{"c": "1 2"}}},

		{"json size negative", ctJSON, `{"bucket":"b","object":"k","size":-1,"ticket":"t"}`, callback.Body{}},
		{"json size float", ctJSON, `{"bucket":"b","object":"k","size":1.0,"ticket":"t"}`, callback.Body{}},
		{"json size exponent", ctJSON, `{"bucket":"b","object":"k","size":1e3,"ticket":"t"}`, callback.Body{}},
		{"json size huge", ctJSON, `{"bucket":"b","object":"k","size":9223372036854775808,"ticket":"t"}`, callback.Body{}},
		{"json size huge string", ctJSON, `{"bucket":"b","object":"k","size":"99999999999999999999","ticket":"t"}`, callback.Body{}},
		{"json size negative string", ctJSON, `{"bucket":"b","object":"k","size":"-1","ticket":"t"}`, callback.Body{}},
		{"json size empty string", ctJSON, `{"bucket":"b","object":"k","size":"","ticket":"t"}`, callback.Body{}},
		{"json size spaced string", ctJSON, `{"bucket":"b","object":"k","size":" 1","ticket":"t"}`, callback.Body{}},
		{"json size null", ctJSON, `{"bucket":"b","object":"k","size":null,"ticket":"t"}`, callback.Body{}},
		{"json size bool", ctJSON, `{"bucket":"b","object":"k","size":true,"ticket":"t"}`, callback.Body{}},
		{"json size missing", ctJSON, `{"bucket":"b","object":"k","ticket":"t"}`, callback.Body{}},
		{"json bucket missing", ctJSON, `{"object":"k","size":1,"ticket":"t"}`, callback.Body{}},
		{"json object empty", ctJSON, `{"bucket":"b","object":"","size":1,"ticket":"t"}`, callback.Body{}},
		{"json ticket missing", ctJSON, `{"bucket":"b","object":"k","size":1}`, callback.Body{}},
		{"json bucket not a string", ctJSON, `{"bucket":1,"object":"k","size":1,"ticket":"t"}`, callback.Body{}},
		{"json duplicate key", ctJSON, `{"bucket":"b","object":"k","object":"other","size":1,"ticket":"t"}`, callback.Body{}},
		{"json duplicate unknown key", ctJSON, `{"bucket":"b","object":"k","size":1,"ticket":"t","z":1,"z":2}`, callback.Body{}},
		{"json duplicate var", ctJSON, `{"bucket":"b","object":"k","size":1,"ticket":"t","vars":{"a":"1","a":"2"}}`, callback.Body{}},
		{"json var not a string", ctJSON, `{"bucket":"b","object":"k","size":1,"ticket":"t","vars":{"a":1}}`, callback.Body{}},
		{"json vars not an object", ctJSON, `{"bucket":"b","object":"k","size":1,"ticket":"t","vars":["a"]}`, callback.Body{}},
		{"json trailing data", ctJSON, `{"bucket":"b","object":"k","size":1,"ticket":"t"}{}`, callback.Body{}},
		{"json trailing garbage", ctJSON, `{"bucket":"b","object":"k","size":1,"ticket":"t"} x`, callback.Body{}},
		{"json array", ctJSON, `[{"bucket":"b"}]`, callback.Body{}},
		{"json truncated", ctJSON, `{"bucket":"b","object":"k","size":1,"ticket":"t"`, callback.Body{}},
		{"json empty", ctJSON, ``, callback.Body{}},
		{"json invalid utf-8", ctJSON, "{\"bucket\":\"b\xff\",\"object\":\"k\",\"size\":1,\"ticket\":\"t\"}", callback.Body{}},
		{"json other charset", ctJSON + "; charset=latin1", `{"bucket":"b","object":"k","size":1,"ticket":"t"}`, callback.Body{}},
		{"form duplicate key", ctForm, "bucket=b&object=k&object=k2&size=1&ticket=t", callback.Body{}},
		{"form duplicate after decoding", ctForm, "bucket=b&object=k&obj%65ct=k2&size=1&ticket=t", callback.Body{}},
		{"form duplicate var", ctForm, "bucket=b&object=k&size=1&ticket=t&x:a=1&x%3Aa=2", callback.Body{}},
		{"form empty var name", ctForm, "bucket=b&object=k&size=1&ticket=t&x:=1", callback.Body{}},
		{"form size float", ctForm, "bucket=b&object=k&size=1.5&ticket=t", callback.Body{}},
		{"form size negative", ctForm, "bucket=b&object=k&size=-1&ticket=t", callback.Body{}},
		{"form size huge", ctForm, "bucket=b&object=k&size=9223372036854775808&ticket=t", callback.Body{}},
		{"form size missing", ctForm, "bucket=b&object=k&ticket=t", callback.Body{}},
		{"form semicolon", ctForm, "bucket=b&object=k;size=1&size=1&ticket=t", callback.Body{}},
		{"form bad escape", ctForm, "bucket=b&object=k%zz&size=1&ticket=t", callback.Body{}},
		{"form escaped invalid utf-8", ctForm, "bucket=b&object=k%FF&size=1&ticket=t", callback.Body{}},
		{"form raw invalid utf-8", ctForm, "bucket=b&object=k\xff&size=1&ticket=t", callback.Body{}},
		{"form missing ticket", ctForm, "bucket=b&object=k&size=1", callback.Body{}},
		{"text/plain", "text/plain", `{"bucket":"b","object":"k","size":1,"ticket":"t"}`, callback.Body{}},
		{"multipart", "multipart/form-data; boundary=x", "bucket=b&object=k&size=1&ticket=t", callback.Body{}},
		{"no content type", "", `{"bucket":"b","object":"k","size":1,"ticket":"t"}`, callback.Body{}},
		{"bad content type", "application/json;;", `{"bucket":"b","object":"k","size":1,"ticket":"t"}`, callback.Body{}},
		{"json suffix type", "application/vnd.x+json", `{"bucket":"b","object":"k","size":1,"ticket":"t"}`, callback.Body{}},
		{"too large", ctJSON, `{"bucket":"b","object":"k","size":1,"ticket":"t","pad":"` + strings.Repeat("a", callback.MaxBodyBytes) + `"}`, callback.Body{}},
		{"deep nesting", ctJSON, `{"bucket":"b","object":"k","size":1,"ticket":"t","x":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`, callback.Body{}},
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
	f.Add(ctJSON, []byte(`{"bucket":"b","object":"k","etag":"E","size":123,"mimeType":"image/jpeg","ticket":"t","vars":{"caption":"hi"}}`))
	f.Add(ctJSON, []byte(`{"bucket":"b","object":"k","size":"12","ticket":"t","vars":null}`))
	f.Add(ctJSON, []byte(`{"a":{"b":[1,2,{"c":null}]},"size":-0.5e9}`))
	f.Add(ctForm, []byte("bucket=b&object=k&etag=E&size=123&mimeType=image%2Fjpeg&ticket=t&x%3Acaption=hi"))
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
	})
}
