package ossemu

import (
	"bytes"
	"context"
	"image/gif"
	"net/http"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"golang.org/x/image/bmp"
)

// TestCallbackImageInfo: ${imageInfo.width}, ${imageInfo.height} and
// ${imageInfo.format} are the uploaded image's, in every callback path and
// both body types; for a file that is no image they are empty (null for the
// numbers of a JSON body, which an empty value would make invalid).
func TestCallbackImageInfo(t *testing.T) {
	postEnv := newEnv(t, nil)   // PostObject forms are signed on the tests' clock
	sdkEnv := newSDKEnv(t, nil) // the SDK signs with the real one
	srv, got := callbackServer(t, answerJSON(`{"ok":true}`))
	c := sdkClient(sdkEnv.testEnv, sdkOpts{})
	var gifData, bmpData bytes.Buffer
	if err := gif.Encode(&gifData, gradient(30, 20), nil); err != nil {
		t.Fatal(err)
	}
	if err := bmp.Encode(&bmpData, gradient(40, 10)); err != nil {
		t.Fatal(err)
	}

	uploads := []struct {
		name   string
		upload func(t *testing.T, key, ct, cb string, data []byte)
	}{
		{"PostObject", func(t *testing.T, key, ct, cb string, data []byte) {
			if r := postEnv.postForm(t, callbackForm(key, ct, len(data), cb, nil), data, nil); r.status != http.StatusOK {
				t.Fatalf("PostObject: %v", r)
			}
		}},
		{"presigned PutObject", func(t *testing.T, key, ct, cb string, data []byte) {
			res := presignPut(t, c, &oss.PutObjectRequest{Key: oss.Ptr(key), ContentType: oss.Ptr(ct), Callback: oss.Ptr(cb)})
			if r := do(t, putRequest(t, res, bytes.NewReader(data), false)); r.status != http.StatusOK {
				t.Fatalf("PUT: %v", r)
			}
		}},
		{"CompleteMultipartUpload", func(t *testing.T, key, _, cb string, data []byte) {
			id := initiate(t, c, key)
			part := uploadPart(t, c, key, id, 1, data)
			if _, err := c.CompleteMultipartUpload(context.Background(), &oss.CompleteMultipartUploadRequest{Bucket: bucket, Key: oss.Ptr(key),
				UploadId: oss.Ptr(id), CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: []oss.UploadPart{part}},
				Callback: oss.Ptr(cb)}); err != nil {
				t.Fatalf("CompleteMultipartUpload: %v", err)
			}
		}},
	}
	files := []struct {
		name, ct           string
		data               []byte
		wantJSON, wantForm string
	}{
		{"png", "image/png", encodePNG(t, gradient(1000, 600)), `{"w":1000,"h":600,"f":"png"}`, "w=1000&h=600&f=png"},
		{"jpeg", "image/jpeg", encodeJPEG(t, gradient(640, 480)), `{"w":640,"h":480,"f":"jpg"}`, "w=640&h=480&f=jpg"},
		{"gif", "image/gif", gifData.Bytes(), `{"w":30,"h":20,"f":"gif"}`, "w=30&h=20&f=gif"},
		{"bmp", "image/bmp", bmpData.Bytes(), `{"w":40,"h":10,"f":"bmp"}`, "w=40&h=10&f=bmp"},
		{"text", "text/plain", []byte("just words, no pixels"), `{"w":null,"h":null,"f":""}`, "w=&h=&f="},
	}
	for _, u := range uploads {
		for _, f := range files {
			for _, asJSON := range []bool{true, false} {
				name := u.name + " " + f.name + " form"
				cb := map[string]string{"callbackUrl": srv.URL + "/cb",
					"callbackBody": "w=${imageInfo.width}&h=${imageInfo.height}&f=${imageInfo.format}"}
				want := f.wantForm
				if asJSON {
					name = u.name + " " + f.name + " json"
					cb["callbackBody"] = `{"w":${imageInfo.width},"h":${imageInfo.height},"f":${imageInfo.format}}`
					cb["callbackBodyType"] = "application/json"
					want = f.wantJSON
				}
				t.Run(name, func(t *testing.T) {
					u.upload(t, "cb/"+f.name, f.ct, callbackField(cb), f.data)
					if g := receive(t, got); string(g.body) != want {
						t.Errorf("callback body %s, want %s", g.body, want)
					}
				})
			}
		}
	}
}
