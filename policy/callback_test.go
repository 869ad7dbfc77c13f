package policy

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

const testTicket = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.sig-_"

func TestCallbackBody(t *testing.T) {
	tests := []struct {
		name     string
		bodyType BodyType
		ticket   string
		vars     []string
		want     string
	}{
		{"json no vars", BodyJSON, testTicket, nil,
			`{"bucket":${bucket},"object":${object},"etag":${etag},"size":${size},"mimeType":${mimeType},"imageWidth":${imageInfo.width},"imageHeight":${imageInfo.height},"imageFormat":${imageInfo.format},"ticket":"` + testTicket + `","vars":{}}`},
		{"json vars sorted, deduplicated, invalid dropped", BodyJSON, testTicket, []string{"title", "caption", "title", "Bad", "a}b"},
			`{"bucket":${bucket},"object":${object},"etag":${etag},"size":${size},"mimeType":${mimeType},"imageWidth":${imageInfo.width},"imageHeight":${imageInfo.height},"imageFormat":${imageInfo.format},"ticket":"` + testTicket +
				`","vars":{"caption":${x:caption},"title":${x:title}}}`},
		{"json ticket escaped", BodyJSON, `a"b`, nil,
			`{"bucket":${bucket},"object":${object},"etag":${etag},"size":${size},"mimeType":${mimeType},"imageWidth":${imageInfo.width},"imageHeight":${imageInfo.height},"imageFormat":${imageInfo.format},"ticket":"a\"b","vars":{}}`},
		{"form", BodyForm, testTicket, []string{"title", "caption"},
			"bucket=${bucket}&object=${object}&etag=${etag}&size=${size}&mimeType=${mimeType}&imageWidth=${imageInfo.width}&imageHeight=${imageInfo.height}&imageFormat=${imageInfo.format}&ticket=" + testTicket +
				"&x%3Acaption=${x:caption}&x%3Atitle=${x:title}"},
		{"form ticket escaped", BodyForm, "a&b=c", nil,
			"bucket=${bucket}&object=${object}&etag=${etag}&size=${size}&mimeType=${mimeType}&imageWidth=${imageInfo.width}&imageHeight=${imageInfo.height}&imageFormat=${imageInfo.format}&ticket=a%26b%3Dc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CallbackBody(tt.bodyType, tt.ticket, tt.vars); got != tt.want {
				t.Errorf("\n got: %s\nwant: %s", got, tt.want)
			}
		})
	}
}

// TestCallbackBodyRendered fills the template the way OSS does (each
// variable a JSON string, size a number; form values URL-encoded) and checks
// that the result parses back to the values.
func TestCallbackBodyRendered(t *testing.T) {
	vals := map[string]string{"bucket": "b", "object": `we"ird/k\ey`, "etag": `"ABC"`, "mimeType": "image/jpeg", "x:caption": "hi & <bye>"}
	t.Run("json", func(t *testing.T) {
		body := CallbackBody(BodyJSON, testTicket, []string{"caption"})
		for k, v := range vals {
			q, _ := json.Marshal(v)
			body = strings.ReplaceAll(body, "${"+k+"}", string(q))
		}
		body = strings.NewReplacer("${size}", "42", "${imageInfo.width}", "1000", "${imageInfo.height}", "600", "${imageInfo.format}", `"png"`).Replace(body)
		var got struct {
			Bucket, Object, Etag, MimeType, Ticket string
			Size, ImageWidth, ImageHeight          int64
			ImageFormat                            string
			Vars                                   map[string]string
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("rendered body %s: %v", body, err)
		}
		if got.Object != vals["object"] || got.Size != 42 || got.Ticket != testTicket || got.Vars["caption"] != vals["x:caption"] ||
			got.ImageWidth != 1000 || got.ImageHeight != 600 || got.ImageFormat != "png" {
			t.Errorf("parsed %+v from %s", got, body)
		}
	})
	t.Run("form", func(t *testing.T) {
		body := CallbackBody(BodyForm, testTicket, []string{"caption"})
		for k, v := range vals {
			body = strings.ReplaceAll(body, "${"+k+"}", url.QueryEscape(v))
		}
		body = strings.ReplaceAll(body, "${size}", "42")
		q, err := url.ParseQuery(body)
		if err != nil {
			t.Fatal(err)
		}
		if q.Get("object") != vals["object"] || q.Get("size") != "42" || q.Get("ticket") != testTicket || q.Get("x:caption") != vals["x:caption"] {
			t.Errorf("parsed %v from %s", q, body)
		}
	})
}

func TestCallbackEncode(t *testing.T) {
	tests := []struct {
		name    string
		cb      Callback
		want    string // decoded JSON
		wantErr bool
	}{
		{"order and no HTML escaping", Callback{URL: "https://h/cb?a=1&b=<2>", Body: `{"k":${object}}`, BodyType: string(BodyJSON)},
			`{"callbackUrl":"https://h/cb?a=1&b=<2>","callbackBody":"{\"k\":${object}}","callbackBodyType":"application/json"}`, false},
		{"body type omitted when empty", Callback{URL: "https://h/cb", Body: "a=${object}"},
			`{"callbackUrl":"https://h/cb","callbackBody":"a=${object}"}`, false},
		{"no URL", Callback{Body: "x"}, "", true},
		{"no body", Callback{URL: "https://h/cb"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cb.Encode()
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			raw, err := base64.StdEncoding.DecodeString(got)
			if err != nil || string(raw) != tt.want {
				t.Errorf("decoded %s (%v)\nwant    %s", raw, err, tt.want)
			}
		})
	}
}

func TestValidVarName(t *testing.T) {
	for name, want := range map[string]bool{
		"caption": true, "a_1": true, strings.Repeat("a", 32): true,
		"": false, strings.Repeat("a", 33): false, "Caption": false, "x:a": false, "a-b": false, "é": false,
	} {
		if got := ValidVarName(name); got != want {
			t.Errorf("ValidVarName(%q) = %v, want %v", name, got, want)
		}
	}
}
