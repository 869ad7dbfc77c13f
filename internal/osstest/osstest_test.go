package osstest

import (
	"encoding/base64"
	"testing"
)

func TestRenderBody(t *testing.T) {
	o := Object{Bucket: "b", Key: "a b.txt", ETag: "E", Size: 7, MimeType: "text/plain"}
	fields := map[string]string{"x:caption": `say "hi" & bye`, "key": "ignored"}
	cases := []struct {
		name, tmpl, bodyType, want string
	}{
		{"json", `{"bucket":${bucket},"object":${object},"size":${size},"c":${x:caption}}`, "application/json",
			`{"bucket":"b","object":"a b.txt","size":7,"c":"say \"hi\" \u0026 bye"}`},
		{"form", `object=${object}&size=${size}&mimeType=${mimeType}&c=${x:caption}`, "application/x-www-form-urlencoded",
			`object=a+b.txt&size=7&mimeType=text%2Fplain&c=say+%22hi%22+%26+bye`},
		{"unknown variable left alone", `${imageInfo.colorModel}`, "application/json", `${imageInfo.colorModel}`},
		{"not an image: null in JSON", `{"w":${imageInfo.width},"f":${imageInfo.format}}`, "application/json", `{"w":null,"f":null}`},
		{"not an image: empty in a form", `w=${imageInfo.width}&f=${imageInfo.format}`, "application/x-www-form-urlencoded", `w=&f=`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := (Callback{Body: c.tmpl, BodyType: c.bodyType}).RenderBody(o, fields); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestDecodeCallback(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	cb, err := DecodeCallback(b64(`{"callbackUrl":"https://h/cb","callbackBody":"a=${bucket}"}`))
	if err != nil || cb.URL != "https://h/cb" || cb.Body != "a=${bucket}" || cb.BodyType != "application/x-www-form-urlencoded" {
		t.Fatalf("got %+v, %v", cb, err)
	}
	for _, bad := range []string{"%%%", b64("nope"), b64(`{"callbackBody":"x"}`), b64(`{"callbackUrl":"/relative"}`)} {
		if _, err := DecodeCallback(bad); err == nil {
			t.Errorf("DecodeCallback(%q) accepted", bad)
		}
	}
}
