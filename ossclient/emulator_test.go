package ossclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossgate/ossgate/ossemu"
)

// These tests run the whole client against the project's OSS emulator,
// which checks V4 and V1 signatures (headers and presigned URLs) the way OSS
// does: a request the SDK signed wrongly, or a URL shaped wrongly, fails.

func startEmulator(t *testing.T, edit func(*ossemu.Config)) *ossemu.Emulator {
	t.Helper()
	cfg := ossemu.Config{
		Bucket:         testBucket,
		Region:         testRegion,
		Credentials:    map[string]string{testID: testSecret, "LTAI5tSTSKeyID": "sts-secret"},
		SecurityTokens: map[string]string{"LTAI5tSTSKeyID": testToken},
		Dir:            t.TempDir(),
	}
	if edit != nil {
		edit(&cfg)
	}
	emu, err := ossemu.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := emu.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go emu.Serve(l)
	t.Cleanup(func() { emu.Close() })
	return emu
}

func emulatorClient(t *testing.T, emu *ossemu.Emulator, edit func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		AccessKeyID: testID, AccessKeySecret: testSecret, Region: testRegion, Bucket: testBucket,
		Endpoint: emu.PublicURL(), UsePathStyle: true,
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// putWithSDK stores an object with the SDK directly: the Client has no
// PutObject, as browsers upload.
func putWithSDK(t *testing.T, c *Client, key, contentType string, body []byte) {
	t.Helper()
	_, err := c.sdk.PutObject(context.Background(), &oss.PutObjectRequest{
		Bucket: &c.bucket, Key: &key, ContentType: &contentType, Body: bytes.NewReader(body),
	})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
}

// send is what a browser does with a presigned request.
func send(t *testing.T, p Presigned, body []byte) *http.Response {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(p.Method, p.URL, r)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range p.Header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var emulatorVariants = []struct {
	name string
	edit func(*Config)
}{
	{"v4", nil},
	{"v1", func(c *Config) { c.SignatureVersion = SignatureV1 }},
	{"v4 sts", func(c *Config) {
		c.AccessKeyID, c.AccessKeySecret, c.SecurityToken = "LTAI5tSTSKeyID", "sts-secret", testToken
	}},
	{"v1 sts", func(c *Config) {
		c.AccessKeyID, c.AccessKeySecret, c.SecurityToken = "LTAI5tSTSKeyID", "sts-secret", testToken
		c.SignatureVersion = SignatureV1
	}},
}

func TestEmulatorObjects(t *testing.T) {
	emu := startEmulator(t, nil)
	for _, v := range emulatorVariants {
		t.Run(v.name, func(t *testing.T) {
			c := emulatorClient(t, emu, v.edit)
			ctx := context.Background()
			key := "docs/" + strings.ReplaceAll(v.name, " ", "-") + "/hello world.txt"
			body := []byte("hello, OSS")
			putWithSDK(t, c, key, "text/plain", body)

			t.Run("HeadObject", func(t *testing.T) {
				info, err := c.HeadObject(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				if info.Size != int64(len(body)) || info.ETag != "13468421FB91A14006E231DC22FFDD69" ||
					info.ContentType != "text/plain" || info.ObjectType != "Normal" ||
					time.Since(info.LastModified) > time.Minute {
					t.Errorf("HeadObject = %+v", info)
				}
				if _, err := c.HeadObject(ctx, key+".missing"); !errors.Is(err, ErrNotFound) {
					t.Errorf("missing key: err = %v, want ErrNotFound", err)
				}
			})

			t.Run("PresignGet", func(t *testing.T) {
				p, err := c.PresignGet(ctx, key, GetOptions{Expires: time.Minute, ContentDisposition: Attachment("hello world.txt")})
				if err != nil {
					t.Fatal(err)
				}
				resp := send(t, p, nil)
				got := readAll(t, resp)
				if resp.StatusCode != 200 || !bytes.Equal(got, body) {
					t.Fatalf("GET %d %q, want 200 %q", resp.StatusCode, got, body)
				}
				if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="hello world.txt"` {
					t.Errorf("Content-Disposition = %q", cd)
				}
				// The same URL with the disposition changed no longer matches
				// its signature.
				tampered := p
				tampered.URL = strings.Replace(p.URL, "attachment", "inline", 1)
				if resp := send(t, tampered, nil); resp.StatusCode != http.StatusForbidden {
					t.Errorf("tampered URL: %d, want 403", resp.StatusCode)
				}
			})

			t.Run("PresignGet with x-oss-process", func(t *testing.T) {
				// A 300x200 PNG, resized by the emulator to 100 wide: the
				// signature over x-oss-process was accepted.
				img := image.NewRGBA(image.Rect(0, 0, 300, 200))
				var png1 bytes.Buffer
				if err := png.Encode(&png1, img); err != nil {
					t.Fatal(err)
				}
				pngKey := key + ".png"
				putWithSDK(t, c, pngKey, "image/png", png1.Bytes())
				p, err := c.PresignGet(ctx, pngKey, GetOptions{Process: "image/resize,w_100"})
				if err != nil {
					t.Fatal(err)
				}
				resp := send(t, p, nil)
				if resp.StatusCode != 200 {
					t.Fatalf("GET with x-oss-process: %d %s", resp.StatusCode, readAll(t, resp))
				}
				cfg, err := png.DecodeConfig(resp.Body)
				if err != nil || cfg.Width != 100 || cfg.Height != 67 {
					t.Errorf("resized image %dx%d (%v), want 100x67", cfg.Width, cfg.Height, err)
				}
			})

			t.Run("DeleteObject", func(t *testing.T) {
				if err := c.DeleteObject(ctx, key); err != nil {
					t.Fatal(err)
				}
				if _, err := c.HeadObject(ctx, key); !errors.Is(err, ErrNotFound) {
					t.Errorf("after delete: err = %v, want ErrNotFound", err)
				}
				if err := c.DeleteObject(ctx, key); err != nil {
					t.Errorf("second delete: %v, want nil", err)
				}
			})
		})
	}
}

// uploadParts sends the parts' bytes the way a browser would: to presigned
// URLs, with net/http. It returns the parts with the ETags OSS answered.
func uploadParts(t *testing.T, c *Client, key, id string, sizes ...int) ([]Part, []byte) {
	t.Helper()
	var parts []Part
	var all []byte
	for i, size := range sizes {
		data := bytes.Repeat([]byte{byte('a' + i)}, size)
		p, err := c.PresignUploadPart(context.Background(), key, id, i+1, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		resp := send(t, p, data)
		if resp.StatusCode != 200 {
			t.Fatalf("part %d: %d %s", i+1, resp.StatusCode, readAll(t, resp))
		}
		parts = append(parts, Part{Number: i + 1, ETag: unquote(resp.Header.Get("ETag")), Size: int64(size)})
		all = append(all, data...)
	}
	return parts, all
}

func TestEmulatorMultipart(t *testing.T) {
	emu := startEmulator(t, nil)
	for _, v := range emulatorVariants {
		t.Run(v.name, func(t *testing.T) {
			c := emulatorClient(t, emu, v.edit)
			ctx := context.Background()
			prefix := "big/" + strings.ReplaceAll(v.name, " ", "-") + "/"
			key := prefix + "video.bin"

			id, err := c.InitiateMultipart(ctx, key, InitiateOptions{ContentType: "application/x-test", ForbidOverwrite: true})
			if err != nil {
				t.Fatal(err)
			}
			ups, err := c.ListMultipartUploads(ctx, prefix, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(ups) != 1 || ups[0].Key != key || ups[0].UploadID != id || time.Since(ups[0].Initiated) > time.Minute {
				t.Fatalf("ListMultipartUploads = %+v, want the one upload", ups)
			}

			sent, data := uploadParts(t, c, key, id, 100<<10, 10)
			listed, err := c.ListParts(ctx, key, id)
			if err != nil {
				t.Fatal(err)
			}
			if len(listed) != 2 {
				t.Fatalf("ListParts = %+v, want 2 parts", listed)
			}
			for i, p := range listed {
				if p.Number != sent[i].Number || p.ETag != sent[i].ETag || p.Size != sent[i].Size {
					t.Errorf("listed part %+v, want %+v", p, sent[i])
				}
			}

			res, err := c.CompleteMultipart(ctx, key, id, listed, CompleteOptions{ForbidOverwrite: true})
			if err != nil {
				t.Fatal(err)
			}
			info, err := c.HeadObject(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if info.Size != int64(len(data)) || info.ETag != res.ETag || !strings.HasSuffix(res.ETag, "-2") ||
				info.ObjectType != "Multipart" || info.ContentType != "application/x-test" {
				t.Errorf("HeadObject = %+v after completing with ETag %q", info, res.ETag)
			}
			p, _ := c.PresignGet(ctx, key, GetOptions{})
			if got := readAll(t, send(t, p, nil)); !bytes.Equal(got, data) {
				t.Errorf("the object's %d bytes are not the parts' %d", len(got), len(data))
			}
			if ups, _ := c.ListMultipartUploads(ctx, prefix, 0); len(ups) != 0 {
				t.Errorf("after completing, uploads %+v, want none", ups)
			}
			if err := c.AbortMultipart(ctx, key, id); !errors.Is(err, ErrNoSuchUpload) {
				t.Errorf("abort after complete: err = %v, want ErrNoSuchUpload", err)
			}

			t.Run("overwrite forbidden", func(t *testing.T) {
				id, err := c.InitiateMultipart(ctx, key, InitiateOptions{})
				if err != nil {
					t.Fatal(err)
				}
				parts, _ := uploadParts(t, c, key, id, 10)
				if _, err := c.CompleteMultipart(ctx, key, id, parts, CompleteOptions{ForbidOverwrite: true}); !errors.Is(err, ErrAlreadyExists) {
					t.Errorf("err = %v, want ErrAlreadyExists", err)
				}
				if err := c.AbortMultipart(ctx, key, id); err != nil {
					t.Errorf("abort: %v", err)
				}
			})

			t.Run("parts refused", func(t *testing.T) {
				k := prefix + "refused.bin"
				id, err := c.InitiateMultipart(ctx, k, InitiateOptions{})
				if err != nil {
					t.Fatal(err)
				}
				parts, _ := uploadParts(t, c, k, id, 10, 10)
				wrong := slices.Clone(parts)
				wrong[0].ETag = "0123456789ABCDEF0123456789ABCDEF"
				for name, ps := range map[string][]Part{"first part too small": parts, "unknown ETag": wrong} {
					if _, err := c.CompleteMultipart(ctx, k, id, ps, CompleteOptions{}); !errors.Is(err, ErrInvalidPart) {
						t.Errorf("%s: err = %v, want ErrInvalidPart", name, err)
					}
				}
				if err := c.AbortMultipart(ctx, k, id); err != nil {
					t.Fatal(err)
				}
				if _, err := c.ListParts(ctx, k, id); !errors.Is(err, ErrNoSuchUpload) {
					t.Errorf("ListParts after abort: err = %v, want ErrNoSuchUpload", err)
				}
				if err := c.AbortMultipart(ctx, k, id); !errors.Is(err, ErrNoSuchUpload) {
					t.Errorf("second abort: err = %v, want ErrNoSuchUpload", err)
				}
			})
		})
	}
}

// callbackServer stands in for ossgate's callback endpoint.
type callbackServer struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
}

func newCallbackServer(t *testing.T, status int, answer string) *callbackServer {
	cs := &callbackServer{}
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		cs.mu.Lock()
		cs.bodies = append(cs.bodies, string(b))
		cs.mu.Unlock()
		if r.Header.Get("Authorization") == "" || r.Header.Get("x-oss-pub-key-url") == "" {
			t.Errorf("callback without OSS's signature headers: %v", r.Header)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(cs.Close)
	return cs
}

func b64JSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestEmulatorCompleteWithCallback(t *testing.T) {
	emu := startEmulator(t, nil)
	c := emulatorClient(t, emu, nil)
	ctx := context.Background()
	const answer = `{"upload":{"id":42,"status":"stored"}}`
	tests := []struct {
		name       string
		status     int
		wantErr    error
		wantAnswer string
	}{
		{"callback answers", 200, nil, answer},
		{"callback fails", 500, ErrCallbackFailed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := newCallbackServer(t, tt.status, answer)
			key := "cb/" + strings.ReplaceAll(tt.name, " ", "-") + ".bin"
			id, err := c.InitiateMultipart(ctx, key, InitiateOptions{ContentType: "application/octet-stream"})
			if err != nil {
				t.Fatal(err)
			}
			parts, data := uploadParts(t, c, key, id, 100<<10, 1)
			opts := CompleteOptions{
				Callback: b64JSON(t, map[string]string{
					"callbackUrl":      cs.URL + "/api/uploads/callback",
					"callbackBody":     `{"object":${object},"size":${size},"etag":${etag},"caption":${x:caption}}`,
					"callbackBodyType": "application/json",
				}),
				CallbackVar: b64JSON(t, map[string]string{"x:caption": "holiday"}),
			}
			res, err := c.CompleteMultipart(ctx, key, id, parts, opts)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if string(res.CallbackBody) != tt.wantAnswer {
				t.Errorf("CallbackBody = %q, want %q", res.CallbackBody, tt.wantAnswer)
			}
			// Either way the object is stored, and the callback was told so.
			info, err := c.HeadObject(ctx, key)
			if err != nil || info.Size != int64(len(data)) {
				t.Fatalf("HeadObject = %+v, %v; want %d bytes", info, err, len(data))
			}
			if tt.wantErr == nil && res.ETag != info.ETag {
				t.Errorf("ETag %q, HeadObject says %q", res.ETag, info.ETag)
			}
			cs.mu.Lock()
			defer cs.mu.Unlock()
			if len(cs.bodies) != 1 {
				t.Fatalf("the callback server got %d requests, want 1", len(cs.bodies))
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(cs.bodies[0]), &got); err != nil {
				t.Fatalf("callback body %q: %v", cs.bodies[0], err)
			}
			want := map[string]any{"object": key, "size": float64(len(data)), "etag": info.ETag, "caption": "holiday"}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("callback body %v, want %v", got, want)
			}
		})
	}
}

func TestEmulatorDoctor(t *testing.T) {
	emu := startEmulator(t, nil)
	c := emulatorClient(t, emu, nil)
	ctx := context.Background()

	info, err := c.BucketInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != testBucket || info.Location != "oss-"+testRegion || info.ACL != "private" {
		t.Errorf("BucketInfo = %+v", info)
	}

	rules, err := c.BucketCORS(ctx)
	if err != nil || len(rules) != 0 {
		t.Fatalf("BucketCORS of a new bucket = %+v, %v; want none", rules, err)
	}
	want := []CORSRule{{
		AllowedOrigins: []string{"https://app.example.com"},
		AllowedMethods: []string{"POST", "PUT"},
		AllowedHeaders: []string{"*"},
		ExposeHeaders:  []string{"ETag", "x-oss-request-id"},
		MaxAgeSeconds:  600,
	}}
	if err := c.PutBucketCORS(ctx, want); err != nil {
		t.Fatal(err)
	}
	if rules, err = c.BucketCORS(ctx); err != nil || !reflect.DeepEqual(rules, want) {
		t.Errorf("BucketCORS = %+v, %v; want %+v", rules, err, want)
	}

	off, err := c.ClockOffset(ctx)
	if err != nil || off < -time.Second || off > time.Second {
		t.Errorf("ClockOffset = %v, %v; want about 0", off, err)
	}
	skewed := emulatorClient(t, startEmulator(t, func(cfg *ossemu.Config) { cfg.ClockOffset = 2 * time.Hour }), nil)
	if off, err := skewed.ClockOffset(ctx); err != nil || (off-2*time.Hour).Abs() > time.Second {
		t.Errorf("ClockOffset against a clock 2h ahead = %v, %v", off, err)
	}
}

func TestEmulatorRefusesBadCredentials(t *testing.T) {
	emu := startEmulator(t, nil)
	for _, v := range emulatorVariants[:2] {
		t.Run(v.name, func(t *testing.T) {
			c := emulatorClient(t, emu, func(cfg *Config) {
				if v.edit != nil {
					v.edit(cfg)
				}
				cfg.AccessKeySecret = "not-the-secret"
			})
			const key = "private/plans.txt"
			err := c.DeleteObject(context.Background(), key)
			var e *Error
			if !errors.Is(err, ErrAccessDenied) || !errors.As(err, &e) || e.Code != "SignatureDoesNotMatch" {
				t.Fatalf("err = %v, want ErrAccessDenied with SignatureDoesNotMatch", err)
			}
			assertSanitized(t, err, key)
		})
	}
}
