package ossemu

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// TestPresignedGetAndHead: GetObject and HeadObject presigned by the SDK,
// fetched with plain net/http as a browser would, each way the SDK signs;
// expired and tampered URLs are refused as OSS refuses them.
func TestPresignedGetAndHead(t *testing.T) {
	env := newSDKEnv(t, nil)
	data := []byte("a presigned download")
	const key = "dl/report 1.txt"
	mustPut(t, sdkClient(env.testEnv, sdkOpts{}), key, data)
	for _, s := range signers {
		t.Run(s.name, func(t *testing.T) {
			c := sdkClient(env.testEnv, s.opts)
			get := presign(t, c, &oss.GetObjectRequest{Bucket: bucket, Key: oss.Ptr(key),
				ResponseContentDisposition: oss.Ptr(`attachment; filename="r.txt"`)})
			r := sendPresigned(t, get, nil, nil)
			if r.status != 200 || !bytes.Equal(r.body, data) || r.header.Get("Content-Disposition") != `attachment; filename="r.txt"` {
				t.Errorf("presigned GET = %v, disposition %q", r, r.header.Get("Content-Disposition"))
			}
			head := presign(t, c, &oss.HeadObjectRequest{Bucket: bucket, Key: oss.Ptr(key)})
			if r := sendPresigned(t, head, nil, nil); r.status != 200 || r.header.Get("ETag") != etagOf(data) {
				t.Errorf("presigned HEAD = %v, ETag %s", r, r.header.Get("ETag"))
			}

			env.skew.Store(int64(11 * time.Minute))
			wantMessage(t, wantError(t, sendPresigned(t, get, nil, nil), 403, CodeAccessDenied), "Request has expired")
			env.skew.Store(0)
			tampered := sendPresigned(t, get, nil, func(r *http.Request) {
				r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "r.txt", "evil.html", 1)
			})
			wantError(t, tampered, 403, CodeSignatureDoesNotMatch)
			otherKey := sendPresigned(t, get, nil, func(r *http.Request) { r.URL.Path = strings.Replace(r.URL.Path, "report", "other", 1) })
			wantError(t, otherKey, 403, CodeSignatureDoesNotMatch)
		})
	}
}

func wantMessage(t *testing.T, e xmlError, sub string) {
	t.Helper()
	if !strings.Contains(e.Message, sub) {
		t.Errorf("Message = %q, want it to contain %q", e.Message, sub)
	}
}

// TestPresignedUploadPart: the browser flow ossgate will use. The server
// initiates with the SDK and presigns one UploadPart URL per part; the
// browser PUTs each part with net/http; the server completes.
func TestPresignedUploadPart(t *testing.T) {
	ctx := context.Background()
	env := newSDKEnv(t, nil)
	for _, s := range signers {
		t.Run(s.name, func(t *testing.T) {
			c := sdkClient(env.testEnv, s.opts)
			key := "browser/" + s.name + ".bin"
			id := initiate(t, c, key)
			chunks := [][]byte{pattern(minPartSize+1, 7), pattern(minPartSize, 8), []byte("the end")}
			var parts []oss.UploadPart
			for i, chunk := range chunks {
				n := int32(i + 1)
				res := presign(t, c, &oss.UploadPartRequest{Bucket: bucket, Key: oss.Ptr(key), UploadId: oss.Ptr(id), PartNumber: n})
				if res.Method != http.MethodPut {
					t.Fatalf("presigned method %s", res.Method)
				}
				r := sendPresigned(t, res, chunk, nil)
				if r.status != 200 || r.header.Get("ETag") != etagOf(chunk) {
					t.Fatalf("part %d: %v, ETag %s", n, r, r.header.Get("ETag"))
				}
				if r.header.Get("x-oss-hash-crc64ecma") == "" {
					t.Errorf("part %d: no x-oss-hash-crc64ecma", n)
				}
				parts = append(parts, oss.UploadPart{PartNumber: n, ETag: oss.Ptr(r.header.Get("ETag"))})
			}
			res := presign(t, c, &oss.UploadPartRequest{Bucket: bucket, Key: oss.Ptr(key), UploadId: oss.Ptr(id), PartNumber: 1})
			wrongKey := sendPresigned(t, res, []byte("x"), func(r *http.Request) { r.URL.Path += "x" })
			wantError(t, wrongKey, 403, CodeSignatureDoesNotMatch)
			otherUpload := sendPresigned(t, res, []byte("x"), func(r *http.Request) {
				r.URL.RawQuery = strings.Replace(r.URL.RawQuery, id, newUploadID(), 1)
			})
			wantError(t, otherUpload, 403, CodeSignatureDoesNotMatch)

			done, err := c.CompleteMultipartUpload(ctx, &oss.CompleteMultipartUploadRequest{Bucket: bucket, Key: oss.Ptr(key), UploadId: oss.Ptr(id),
				CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: parts}})
			if err != nil {
				t.Fatalf("CompleteMultipartUpload: %v", err)
			}
			if want := wantMultipartETag(chunks...); oss.ToString(done.ETag) != want {
				t.Errorf("ETag = %s, want %s", oss.ToString(done.ETag), want)
			}
			if got := mustGet(t, c, key); !bytes.Equal(got, bytes.Join(chunks, nil)) {
				t.Errorf("read back %d bytes", len(got))
			}
		})
	}
}

// TestSDKBucketCors: GetBucketCors shows Config.CORS, PutBucketCors
// replaces it (and preflights follow), DeleteBucketCors removes it.
func TestSDKBucketCors(t *testing.T) {
	ctx := context.Background()
	env := newSDKEnv(t, func(c *Config) { c.CORS = []CORSRule{DefaultCORSRule("https://app.example")} })
	for _, s := range signers[:2] {
		t.Run(s.name, func(t *testing.T) {
			c := sdkClient(env.testEnv, s.opts)
			got, err := c.GetBucketCors(ctx, &oss.GetBucketCorsRequest{Bucket: bucket})
			if err != nil {
				t.Fatalf("GetBucketCors: %v", err)
			}
			rules := got.CORSConfiguration.CORSRules
			if len(rules) != 1 || rules[0].AllowedOrigins[0] != "https://app.example" || len(rules[0].AllowedMethods) != 5 ||
				oss.ToInt64(rules[0].MaxAgeSeconds) != 600 {
				t.Errorf("GetBucketCors = %+v, want the configured rule", rules)
			}
			_, err = c.PutBucketCors(ctx, &oss.PutBucketCorsRequest{Bucket: bucket, CORSConfiguration: &oss.CORSConfiguration{
				CORSRules: []oss.CORSRule{{AllowedOrigins: []string{"http://*.example.com"}, AllowedMethods: []string{"GET"},
					AllowedHeaders: []string{"x-oss-*"}, ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: oss.Ptr(int64(30))}}}})
			if err != nil {
				t.Fatalf("PutBucketCors: %v", err)
			}
			if r := preflightReq(t, env.url, "http://a.example.com", "GET", "x-oss-date"); r.status != 200 || r.header.Get("Access-Control-Max-Age") != "30" {
				t.Errorf("preflight after PutBucketCors: %v, Max-Age %q", r, r.header.Get("Access-Control-Max-Age"))
			}
			wantError(t, preflightReq(t, env.url, "https://app.example", "PUT", ""), 403, CodeAccessForbidden)
			_, err = c.PutBucketCors(ctx, &oss.PutBucketCorsRequest{Bucket: bucket, CORSConfiguration: &oss.CORSConfiguration{
				CORSRules: []oss.CORSRule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"PATCH"}}}}})
			wantServiceError(t, err, 400, CodeInvalidArgument)

			if _, err := c.DeleteBucketCors(ctx, &oss.DeleteBucketCorsRequest{Bucket: bucket}); err != nil {
				t.Fatalf("DeleteBucketCors: %v", err)
			}
			_, err = c.GetBucketCors(ctx, &oss.GetBucketCorsRequest{Bucket: bucket})
			wantServiceError(t, err, 404, CodeNoSuchCORSConfig)
			wantMessage(t, wantError(t, preflightReq(t, env.url, "http://a.example.com", "GET", ""), 403, CodeAccessForbidden), "not enabled")
			env.emu.cors.put([]CORSRule{DefaultCORSRule("https://app.example")}, false) // for the next signer
		})
	}
}

func preflightReq(t *testing.T, base, origin, method, headers string) result {
	t.Helper()
	req, _ := http.NewRequest(http.MethodOptions, base+"/"+testBucket+"/any/key", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", method)
	if headers != "" {
		req.Header.Set("Access-Control-Request-Headers", headers)
	}
	return do(t, req)
}
