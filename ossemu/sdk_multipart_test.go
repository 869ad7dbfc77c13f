package ossemu

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// wantMultipartETag is OSS's ETag of an object made of parts.
func wantMultipartETag(parts ...[]byte) string {
	h := md5.New()
	for _, p := range parts {
		sum := md5.Sum(p)
		h.Write(sum[:])
	}
	return `"` + strings.ToUpper(hex.EncodeToString(h.Sum(nil))) + "-" + strconv.Itoa(len(parts)) + `"`
}

func initiate(t *testing.T, c *oss.Client, key string) string {
	t.Helper()
	res, err := c.InitiateMultipartUpload(context.Background(), &oss.InitiateMultipartUploadRequest{Bucket: bucket, Key: oss.Ptr(key),
		ContentType: oss.Ptr("application/x-test")})
	if err != nil {
		t.Fatalf("InitiateMultipartUpload: %v", err)
	}
	if oss.ToString(res.Key) != key || oss.ToString(res.Bucket) != testBucket || !validUploadID(oss.ToString(res.UploadId)) {
		t.Fatalf("InitiateMultipartUpload = %s %s %s", oss.ToString(res.Bucket), oss.ToString(res.Key), oss.ToString(res.UploadId))
	}
	return oss.ToString(res.UploadId)
}

func uploadPart(t *testing.T, c *oss.Client, key, id string, n int32, data []byte) oss.UploadPart {
	t.Helper()
	res, err := c.UploadPart(context.Background(), &oss.UploadPartRequest{Bucket: bucket, Key: oss.Ptr(key), UploadId: oss.Ptr(id),
		PartNumber: n, Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatalf("UploadPart %d: %v", n, err)
	}
	if oss.ToString(res.ETag) != etagOf(data) {
		t.Errorf("UploadPart %d ETag = %s, want %s", n, oss.ToString(res.ETag), etagOf(data))
	}
	return oss.UploadPart{PartNumber: n, ETag: res.ETag}
}

// TestSDKMultipartUpload: a whole upload through the SDK's calls, each way
// it signs: initiate, parts (one re-sent), ListParts paging, complete, read.
func TestSDKMultipartUpload(t *testing.T) {
	ctx := context.Background()
	for _, s := range signers {
		t.Run(s.name, func(t *testing.T) {
			env := newSDKEnv(t, nil)
			c := sdkClient(env.testEnv, s.opts)
			const key = "mp/big file+1.bin"
			id := initiate(t, c, key)
			p1, p2, p3 := pattern(minPartSize, 1), pattern(minPartSize+7, 2), pattern(1000, 3)
			uploadPart(t, c, key, id, 2, pattern(minPartSize, 9)) // replaced below
			parts := []oss.UploadPart{uploadPart(t, c, key, id, 1, p1), uploadPart(t, c, key, id, 2, p2), uploadPart(t, c, key, id, 3, p3)}

			var listed []int32
			marker := int32(0)
			for range 5 {
				lp, err := c.ListParts(ctx, &oss.ListPartsRequest{Bucket: bucket, Key: oss.Ptr(key), UploadId: oss.Ptr(id), MaxParts: 2, PartNumberMarker: marker})
				if err != nil {
					t.Fatalf("ListParts: %v", err)
				}
				for _, p := range lp.Parts {
					listed = append(listed, p.PartNumber)
					if want := parts[p.PartNumber-1].ETag; oss.ToString(p.ETag) != oss.ToString(want) || p.Size == 0 || p.LastModified == nil {
						t.Errorf("listed part %d: etag %s size %d, want etag %s", p.PartNumber, oss.ToString(p.ETag), p.Size, oss.ToString(want))
					}
				}
				if !lp.IsTruncated {
					break
				}
				marker = lp.NextPartNumberMarker
			}
			if len(listed) != 3 || listed[0] != 1 || listed[2] != 3 {
				t.Errorf("ListParts listed %v, want [1 2 3]", listed)
			}

			done, err := c.CompleteMultipartUpload(ctx, &oss.CompleteMultipartUploadRequest{Bucket: bucket, Key: oss.Ptr(key), UploadId: oss.Ptr(id),
				CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: parts}})
			if err != nil {
				t.Fatalf("CompleteMultipartUpload: %v", err)
			}
			if want := wantMultipartETag(p1, p2, p3); oss.ToString(done.ETag) != want || oss.ToString(done.Key) != key || done.HashCRC64 == nil {
				t.Errorf("CompleteMultipartUpload = etag %s key %s, want %s %s", oss.ToString(done.ETag), oss.ToString(done.Key), want, key)
			}
			head, err := c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: bucket, Key: oss.Ptr(key)})
			if err != nil {
				t.Fatal(err)
			}
			whole := bytes.Join([][]byte{p1, p2, p3}, nil)
			if oss.ToString(head.ObjectType) != "Multipart" || head.ContentLength != int64(len(whole)) || oss.ToString(head.ContentType) != "application/x-test" {
				t.Errorf("HeadObject = type %s length %d content type %s", oss.ToString(head.ObjectType), head.ContentLength, oss.ToString(head.ContentType))
			}
			if got := mustGet(t, c, key); !bytes.Equal(got, whole) {
				t.Errorf("GetObject returned %d bytes, want the %d uploaded", len(got), len(whole))
			}
			_, err = c.ListParts(ctx, &oss.ListPartsRequest{Bucket: bucket, Key: oss.Ptr(key), UploadId: oss.Ptr(id)})
			wantServiceError(t, err, 404, CodeNoSuchUpload)
			if left, _ := os.ReadDir(filepath.Join(env.dir, "multipart")); len(left) != 0 {
				t.Errorf("completed upload left %d directories", len(left))
			}
		})
	}
}

func TestSDKListAndAbortMultipartUploads(t *testing.T) {
	ctx := context.Background()
	env := newSDKEnv(t, nil)
	c := sdkClient(env.testEnv, sdkOpts{})
	ids := map[string]bool{}
	for _, k := range []string{"up/a", "up/a", "up/b c", "up/照片", "other/x"} {
		ids[initiate(t, c, k)] = true
	}
	var got []string
	p := c.NewListMultipartUploadsPaginator(&oss.ListMultipartUploadsRequest{Bucket: bucket, Prefix: oss.Ptr("up/"), MaxUploads: 2})
	for pages := 0; p.HasNext(); pages++ {
		page, err := p.NextPage(ctx)
		if err != nil || pages > 5 {
			t.Fatalf("page %d: %v", pages, err)
		}
		for _, u := range page.Uploads {
			got = append(got, oss.ToString(u.Key))
			if !ids[oss.ToString(u.UploadId)] || u.Initiated == nil {
				t.Errorf("listed upload %s %s initiated %v", oss.ToString(u.Key), oss.ToString(u.UploadId), u.Initiated)
			}
		}
	}
	if want := "up/a,up/a,up/b c,up/照片"; strings.Join(got, ",") != want {
		t.Errorf("listed %q, want %s", got, want)
	}

	id := initiate(t, c, "up/aborted")
	uploadPart(t, c, "up/aborted", id, 1, []byte("x"))
	res, err := c.AbortMultipartUpload(ctx, &oss.AbortMultipartUploadRequest{Bucket: bucket, Key: oss.Ptr("up/aborted"), UploadId: oss.Ptr(id)})
	if err != nil || res.StatusCode != http.StatusNoContent {
		t.Fatalf("AbortMultipartUpload: %v", err)
	}
	_, err = c.AbortMultipartUpload(ctx, &oss.AbortMultipartUploadRequest{Bucket: bucket, Key: oss.Ptr("up/aborted"), UploadId: oss.Ptr(id)})
	wantServiceError(t, err, 404, CodeNoSuchUpload)
	_, err = c.UploadPart(ctx, &oss.UploadPartRequest{Bucket: bucket, Key: oss.Ptr("up/aborted"), UploadId: oss.Ptr(id), PartNumber: 1, Body: strings.NewReader("x")})
	wantServiceError(t, err, 404, CodeNoSuchUpload)
}

// TestMultipartRefusals: CompleteMultipartUpload and UploadPart refuse what
// OSS refuses. The SDK sorts parts itself, so out-of-order lists and bad
// part numbers are sent to presigned URLs with net/http.
func TestMultipartRefusals(t *testing.T) {
	ctx := context.Background()
	env := newSDKEnv(t, nil)
	c := sdkClient(env.testEnv, sdkOpts{})
	const key = "mp/refused.bin"
	id := initiate(t, c, key)
	big, small := pattern(minPartSize, 1), pattern(minPartSize-1, 2)
	pBig := uploadPart(t, c, key, id, 1, big)
	pSmall := uploadPart(t, c, key, id, 2, small)
	pLast := uploadPart(t, c, key, id, 3, []byte("tail"))
	complete := func(parts ...oss.UploadPart) error {
		_, err := c.CompleteMultipartUpload(ctx, &oss.CompleteMultipartUploadRequest{Bucket: bucket, Key: oss.Ptr(key), UploadId: oss.Ptr(id),
			CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: parts}})
		return err
	}
	rawComplete := func(body string) result {
		res := presign(t, c, &oss.CompleteMultipartUploadRequest{Bucket: bucket, Key: oss.Ptr(key), UploadId: oss.Ptr(id)})
		return sendPresigned(t, res, []byte(body), nil)
	}
	partXML := func(n int, etag *string) string {
		return "<Part><PartNumber>" + strconv.Itoa(n) + "</PartNumber><ETag>" + oss.ToString(etag) + "</ETag></Part>"
	}
	wrongETag := oss.UploadPart{PartNumber: 1, ETag: oss.Ptr(etagOf([]byte("other")))}

	t.Run("complete", func(t *testing.T) {
		tests := []struct {
			name   string
			err    func() error
			raw    string
			status int
			code   string
		}{
			{name: "part too small", err: func() error { return complete(pBig, pSmall, pLast) }, status: 400, code: CodeEntityTooSmall},
			{name: "wrong etag", err: func() error { return complete(wrongETag, pLast) }, status: 400, code: CodeInvalidPart},
			{name: "unknown part", err: func() error { return complete(pBig, oss.UploadPart{PartNumber: 7, ETag: pLast.ETag}) }, status: 400, code: CodeInvalidPart},
			{name: "out of order", raw: "<CompleteMultipartUpload>" + partXML(3, pLast.ETag) + partXML(1, pBig.ETag) + "</CompleteMultipartUpload>", status: 400, code: CodeInvalidPartOrder},
			{name: "repeated part", raw: "<CompleteMultipartUpload>" + partXML(1, pBig.ETag) + partXML(1, pBig.ETag) + "</CompleteMultipartUpload>", status: 400, code: CodeInvalidPartOrder},
			{name: "not xml", raw: "<CompleteMultipartUpload><Part>", status: 400, code: CodeMalformedXML},
			{name: "no parts", raw: "<CompleteMultipartUpload></CompleteMultipartUpload>", status: 400, code: CodeMalformedXML},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if tc.err != nil {
					wantServiceError(t, tc.err(), tc.status, tc.code)
				} else {
					wantError(t, rawComplete(tc.raw), tc.status, tc.code)
				}
			})
		}
	})
	t.Run("upload part", func(t *testing.T) {
		for _, n := range []int32{10001, -1} {
			res := presign(t, c, &oss.UploadPartRequest{Bucket: bucket, Key: oss.Ptr(key), UploadId: oss.Ptr(id), PartNumber: n})
			wantError(t, sendPresigned(t, res, []byte("x"), nil), 400, CodeInvalidArgument)
		}
		_, err := c.UploadPart(ctx, &oss.UploadPartRequest{Bucket: bucket, Key: oss.Ptr("mp/other-key"), UploadId: oss.Ptr(id), PartNumber: 1, Body: strings.NewReader("x")})
		wantServiceError(t, err, 404, CodeNoSuchUpload)
		_, err = c.UploadPart(ctx, &oss.UploadPartRequest{Bucket: bucket, Key: oss.Ptr(key), UploadId: oss.Ptr("../../objects"), PartNumber: 1, Body: strings.NewReader("x")})
		wantServiceError(t, err, 404, CodeNoSuchUpload)
	})
	t.Run("forbid overwrite at complete", func(t *testing.T) {
		mustPut(t, c, key, []byte("already here"))
		_, err := c.CompleteMultipartUpload(ctx, &oss.CompleteMultipartUploadRequest{Bucket: bucket, Key: oss.Ptr(key), UploadId: oss.Ptr(id),
			ForbidOverwrite: oss.Ptr("true"), CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: []oss.UploadPart{pBig, pLast}}})
		wantServiceError(t, err, 409, CodeFileAlreadyExists)
		_, err = c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: bucket, Key: oss.Ptr(key), ForbidOverwrite: oss.Ptr("true")})
		wantServiceError(t, err, 409, CodeFileAlreadyExists)
		if got := mustGet(t, c, key); string(got) != "already here" {
			t.Errorf("object = %q, want it untouched", got)
		}
	})
	t.Run("complete all", func(t *testing.T) {
		id := initiate(t, c, "mp/all.bin")
		a := uploadPart(t, c, "mp/all.bin", id, 1, big)
		b := uploadPart(t, c, "mp/all.bin", id, 2, []byte("end"))
		res, err := c.CompleteMultipartUpload(ctx, &oss.CompleteMultipartUploadRequest{Bucket: bucket, Key: oss.Ptr("mp/all.bin"), UploadId: oss.Ptr(id), CompleteAll: oss.Ptr("yes")})
		if err != nil {
			t.Fatal(err)
		}
		if want := wantMultipartETag(big, []byte("end")); oss.ToString(res.ETag) != want {
			t.Errorf("ETag %s, want %s (parts %s %s)", oss.ToString(res.ETag), want, oss.ToString(a.ETag), oss.ToString(b.ETag))
		}
	})
}

// TestMultipartCallback: CompleteMultipartUpload with x-oss-callback calls
// back as PostObject does and answers the callback's JSON, or 203
// CallbackFailed with the object stored.
func TestMultipartCallback(t *testing.T) {
	ctx := context.Background()
	env := newSDKEnv(t, nil)
	c := sdkClient(env.testEnv, sdkOpts{})
	ok, got := callbackServer(t, answerJSON(`{"upload":{"id":"u9"}}`))
	failing, _ := callbackServer(t, func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", 500) })
	body := `{"object":${object},"size":${size},"etag":${etag},"mimeType":${mimeType},"op":${operation},"v":${x:v}}`
	for _, tc := range []struct {
		name string
		url  string
	}{{"succeeds", ok.URL + "/cb"}, {"fails", failing.URL}} {
		t.Run(tc.name, func(t *testing.T) {
			key := "mp/cb-" + tc.name
			id := initiate(t, c, key)
			p1, p2 := pattern(minPartSize, 4), []byte("last")
			parts := []oss.UploadPart{uploadPart(t, c, key, id, 1, p1), uploadPart(t, c, key, id, 2, p2)}
			res, err := c.CompleteMultipartUpload(ctx, &oss.CompleteMultipartUploadRequest{Bucket: bucket, Key: oss.Ptr(key), UploadId: oss.Ptr(id),
				CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: parts},
				Callback:                oss.Ptr(b64JSON(map[string]string{"callbackUrl": tc.url, "callbackBody": body, "callbackBodyType": "application/json"})),
				CallbackVar:             oss.Ptr(b64JSON(map[string]string{"x:v": "hi"}))})
			if tc.name == "fails" {
				wantServiceError(t, err, http.StatusNonAuthoritativeInfo, CodeCallbackFailed)
			} else {
				if err != nil {
					t.Fatalf("CompleteMultipartUpload: %v", err)
				}
				if up, _ := res.CallbackResult["upload"].(map[string]any); up["id"] != "u9" {
					t.Errorf("CallbackResult = %v, want the callback server's answer", res.CallbackResult)
				}
				g := receive(t, got)
				want := `{"object":"` + key + `","size":` + strconv.Itoa(len(p1)+len(p2)) + `,"etag":"` + quoteStrip(wantMultipartETag(p1, p2)) +
					`","mimeType":"application/x-test","op":"CompleteMultipartUpload","v":"hi"}`
				if string(g.body) != want {
					t.Errorf("callback body\n got %s\nwant %s", g.body, want)
				}
			}
			if got := mustGet(t, c, key); len(got) != len(p1)+len(p2) {
				t.Errorf("object holds %d bytes, want %d", len(got), len(p1)+len(p2))
			}
		})
	}
}

// TestUploaderMultipart: the SDK's uploader splits a file into parts,
// uploads them concurrently and completes; the object reads back whole.
func TestUploaderMultipart(t *testing.T) {
	env := newSDKEnv(t, nil)
	for _, s := range signers[:2] {
		t.Run(s.name, func(t *testing.T) {
			c := sdkClient(env.testEnv, s.opts)
			data := pattern(1<<20+12345, 5)
			path := filepath.Join(t.TempDir(), "file.bin")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			u := c.NewUploader(func(o *oss.UploaderOptions) { o.PartSize = 256 << 10; o.ParallelNum = 3 })
			key := "uploader/" + s.name + ".bin"
			res, err := u.UploadFile(context.Background(), &oss.PutObjectRequest{Bucket: bucket, Key: oss.Ptr(key)}, path)
			if err != nil {
				t.Fatalf("UploadFile: %v", err)
			}
			if !strings.HasSuffix(oss.ToString(res.ETag), `-5"`) {
				t.Errorf("ETag = %s, want a 5-part multipart ETag", oss.ToString(res.ETag))
			}
			if got := mustGet(t, c, key); !bytes.Equal(got, data) {
				t.Errorf("read back %d bytes, want the %d uploaded", len(got), len(data))
			}
		})
	}
}
