package ossemu

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
)

// TestSDKObjectOperations: PutObject, HeadObject, GetObject (whole and a
// range, with response overrides), ListObjectsV2 through the paginator and
// DeleteObject, signed in the Authorization header each way the SDK signs.
func TestSDKObjectOperations(t *testing.T) {
	ctx := context.Background()
	for _, s := range signers {
		t.Run(s.name, func(t *testing.T) {
			env := newSDKEnv(t, nil)
			c := sdkClient(env.testEnv, s.opts)
			data := pattern(3000, 1)
			const key = "docs/a b+c/照片.txt"
			put, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: bucket, Key: oss.Ptr(key), Body: bytes.NewReader(data),
				ContentType: oss.Ptr("text/plain"), Metadata: map[string]string{"owner": "alice"}})
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			if got := oss.ToString(put.ETag); got != etagOf(data) {
				t.Errorf("PutObject ETag = %s, want %s", got, etagOf(data))
			}

			head, err := c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: bucket, Key: oss.Ptr(key)})
			if err != nil {
				t.Fatalf("HeadObject: %v", err)
			}
			if head.ContentLength != int64(len(data)) || oss.ToString(head.ETag) != etagOf(data) ||
				oss.ToString(head.ContentType) != "text/plain" || oss.ToString(head.ObjectType) != "Normal" ||
				head.LastModified == nil || head.Metadata["owner"] != "alice" || head.HashCRC64 == nil {
				t.Errorf("HeadObject = length %d etag %s type %s object type %s modified %v meta %v crc %v",
					head.ContentLength, oss.ToString(head.ETag), oss.ToString(head.ContentType), oss.ToString(head.ObjectType),
					head.LastModified, head.Metadata, head.HashCRC64)
			}

			if got := mustGet(t, c, key); !bytes.Equal(got, data) {
				t.Errorf("GetObject returned %d bytes, want the %d put", len(got), len(data))
			}
			rng, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: bucket, Key: oss.Ptr(key), Range: oss.Ptr("bytes=10-19"),
				ResponseContentDisposition: oss.Ptr(`attachment; filename="x.txt"`), ResponseContentType: oss.Ptr("application/x-test")})
			if err != nil {
				t.Fatalf("GetObject range: %v", err)
			}
			part, _ := io.ReadAll(rng.Body)
			rng.Body.Close()
			if rng.StatusCode != http.StatusPartialContent || !bytes.Equal(part, data[10:20]) ||
				oss.ToString(rng.ContentRange) != "bytes 10-19/3000" || oss.ToString(rng.ContentType) != "application/x-test" ||
				rng.Headers.Get("Content-Disposition") != `attachment; filename="x.txt"` {
				t.Errorf("GetObject range = %d %q, range %s, type %s, disposition %q", rng.StatusCode, part,
					oss.ToString(rng.ContentRange), oss.ToString(rng.ContentType), rng.Headers.Get("Content-Disposition"))
			}
			if got := rng.Headers.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}

			if _, err := c.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: bucket, Key: oss.Ptr(key)}); err != nil {
				t.Fatalf("DeleteObject: %v", err)
			}
			_, err = c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: bucket, Key: oss.Ptr(key)})
			wantServiceError(t, err, 404, CodeNoSuchKey)
			_, err = c.GetObject(ctx, &oss.GetObjectRequest{Bucket: bucket, Key: oss.Ptr(key)})
			wantServiceError(t, err, 404, CodeNoSuchKey)
			del, err := c.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: bucket, Key: oss.Ptr(key)})
			if err != nil || del.StatusCode != http.StatusNoContent {
				t.Errorf("DeleteObject of a missing key: %v, want 204 as OSS answers", err)
			}
		})
	}
}

func TestSDKListObjectsV2(t *testing.T) {
	ctx := context.Background()
	env := newSDKEnv(t, nil)
	for _, s := range signers[:2] {
		t.Run(s.name, func(t *testing.T) {
			c := sdkClient(env.testEnv, s.opts)
			keys := []string{"list/a.txt", "list/b c.txt", "list/d/1.txt", "list/d/2.txt", "list/e+f.txt", "list/照片.png", "other/x.txt"}
			for _, k := range keys {
				mustPut(t, c, k, []byte(k))
			}
			var got []string
			pages := 0
			p := c.NewListObjectsV2Paginator(&oss.ListObjectsV2Request{Bucket: bucket, Prefix: oss.Ptr("list/"), MaxKeys: 2})
			for p.HasNext() {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatalf("page %d: %v", pages, err)
				}
				pages++
				for _, o := range page.Contents {
					got = append(got, oss.ToString(o.Key))
					if o.Size != int64(len(oss.ToString(o.Key))) || oss.ToString(o.ETag) != etagOf([]byte(oss.ToString(o.Key))) || o.LastModified == nil {
						t.Errorf("listed %s: size %d etag %s", oss.ToString(o.Key), o.Size, oss.ToString(o.ETag))
					}
				}
				if pages > 10 {
					t.Fatal("the paginator does not end")
				}
			}
			if want := keys[:6]; !slices.Equal(got, want) || pages != 3 {
				t.Errorf("listed %q in %d pages, want %q in 3", got, pages, want)
			}

			res, err := c.ListObjectsV2(ctx, &oss.ListObjectsV2Request{Bucket: bucket, Prefix: oss.Ptr("list/"), Delimiter: oss.Ptr("/")})
			if err != nil {
				t.Fatal(err)
			}
			var prefixes []string
			for _, cp := range res.CommonPrefixes {
				prefixes = append(prefixes, oss.ToString(cp.Prefix))
			}
			if len(res.Contents) != 4 || !slices.Equal(prefixes, []string{"list/d/"}) || res.KeyCount != 5 {
				t.Errorf("with delimiter: %d keys, prefixes %q, KeyCount %d; want 4, [list/d/], 5", len(res.Contents), prefixes, res.KeyCount)
			}
			for _, k := range keys {
				if _, err := c.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: bucket, Key: oss.Ptr(k)}); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestSDKGetBucketInfo(t *testing.T) {
	env := newSDKEnv(t, nil)
	for _, s := range signers {
		t.Run(s.name, func(t *testing.T) {
			res, err := sdkClient(env.testEnv, s.opts).GetBucketInfo(context.Background(), &oss.GetBucketInfoRequest{Bucket: bucket})
			if err != nil {
				t.Fatalf("GetBucketInfo: %v", err)
			}
			b := res.BucketInfo
			if oss.ToString(b.Name) != testBucket || oss.ToString(b.Location) != "oss-cn-hangzhou" || oss.ToString(b.ACL) != "private" ||
				b.CreationDate == nil || time.Since(*b.CreationDate) > time.Minute || oss.ToString(b.StorageClass) != "Standard" {
				t.Errorf("BucketInfo = name %s location %s acl %s created %v class %s", oss.ToString(b.Name), oss.ToString(b.Location),
					oss.ToString(b.ACL), b.CreationDate, oss.ToString(b.StorageClass))
			}
		})
	}
}

// TestSDKRefusals: what OSS refuses comes back as the SDK's ServiceError
// with OSS's status and code.
func TestSDKRefusals(t *testing.T) {
	ctx := context.Background()
	env := newSDKEnv(t, nil)
	good := sdkClient(env.testEnv, sdkOpts{})
	const key = "refused/there.txt"
	mustPut(t, good, key, []byte("there"))
	get := func(c *oss.Client) error {
		_, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: bucket, Key: oss.Ptr(key)})
		return err
	}
	anonymous := oss.NewClient(oss.LoadDefaultConfig().WithCredentialsProvider(credentials.NewAnonymousCredentialsProvider()).
		WithRegion("cn-hangzhou").WithEndpoint(strings.TrimPrefix(env.url, "http://")).WithUsePathStyle(true).WithDisableSSL(true))
	noClockFix := []func(*oss.Options){func(o *oss.Options) { o.FeatureFlags &^= oss.FeatureCorrectClockSkew }}
	tests := []struct {
		name   string
		call   func() error
		skew   time.Duration
		status int
		code   string
	}{
		{"v4 wrong secret", func() error { return get(sdkClient(env.testEnv, sdkOpts{id: testID, secret: "wrong"})) }, 0, 403, CodeSignatureDoesNotMatch},
		{"v1 wrong secret", func() error { return get(sdkClient(env.testEnv, sdkOpts{v1: true, id: testID, secret: "wrong"})) }, 0, 403, CodeSignatureDoesNotMatch},
		{"v4 unknown key", func() error { return get(sdkClient(env.testEnv, sdkOpts{id: "LTAIunknown", secret: "x"})) }, 0, 403, CodeInvalidAccessKeyID},
		{"v1 unknown key", func() error { return get(sdkClient(env.testEnv, sdkOpts{v1: true, id: "LTAIunknown", secret: "x"})) }, 0, 403, CodeInvalidAccessKeyID},
		{"v4 sts key without token", func() error { return get(sdkClient(env.testEnv, sdkOpts{id: stsID, secret: stsSecret})) }, 0, 403, CodeInvalidAccessKeyID},
		{"v1 sts wrong token", func() error {
			return get(sdkClient(env.testEnv, sdkOpts{v1: true, id: stsID, secret: stsSecret, token: "forged"}))
		}, 0, 403, CodeInvalidAccessKeyID},
		{"anonymous get of a private bucket", func() error { return get(anonymous) }, 0, 403, CodeAccessDenied},
		{"anonymous head of a private bucket", func() error {
			_, err := anonymous.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: bucket, Key: oss.Ptr(key)})
			return err
		}, 0, 403, CodeAccessDenied},
		{"anonymous put", func() error {
			_, err := anonymous.PutObject(ctx, &oss.PutObjectRequest{Bucket: bucket, Key: oss.Ptr("refused/anon"), Body: strings.NewReader("x")})
			return err
		}, 0, 403, CodeAccessDenied},
		{"anonymous list", func() error {
			_, err := anonymous.ListObjectsV2(ctx, &oss.ListObjectsV2Request{Bucket: bucket})
			return err
		}, 0, 403, CodeAccessDenied},
		{"v4 clock 20 minutes behind", func() error {
			_, err := sdkClient(env.testEnv, sdkOpts{clientOpts: noClockFix}).GetObject(ctx, &oss.GetObjectRequest{Bucket: bucket, Key: oss.Ptr(key)})
			return err
		}, 20 * time.Minute, 403, CodeRequestTimeTooSkewed},
		{"v1 clock 20 minutes ahead", func() error {
			_, err := sdkClient(env.testEnv, sdkOpts{v1: true, clientOpts: noClockFix}).GetObject(ctx, &oss.GetObjectRequest{Bucket: bucket, Key: oss.Ptr(key)})
			return err
		}, -20 * time.Minute, 403, CodeRequestTimeTooSkewed},
		{"forbid overwrite", func() error {
			_, err := good.PutObject(ctx, &oss.PutObjectRequest{Bucket: bucket, Key: oss.Ptr(key), Body: strings.NewReader("new"), ForbidOverwrite: oss.Ptr("true")})
			return err
		}, 0, 409, CodeFileAlreadyExists},
		{"content-md5 mismatch", func() error {
			_, err := good.PutObject(ctx, &oss.PutObjectRequest{Bucket: bucket, Key: oss.Ptr("refused/md5"), Body: strings.NewReader("x"),
				ContentMD5: oss.Ptr("AAAAAAAAAAAAAAAAAAAAAA==")})
			return err
		}, 0, 400, CodeInvalidDigest},
		{"missing key", func() error {
			_, err := good.GetObject(ctx, &oss.GetObjectRequest{Bucket: bucket, Key: oss.Ptr("refused/missing")})
			return err
		}, 0, 404, CodeNoSuchKey},
		{"invalid max-keys", func() error {
			_, err := good.ListObjectsV2(ctx, &oss.ListObjectsV2Request{Bucket: bucket, MaxKeys: 1001})
			return err
		}, 0, 400, CodeInvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env.skew.Store(int64(tc.skew))
			defer env.skew.Store(0)
			wantServiceError(t, tc.call(), tc.status, tc.code)
		})
	}
	if got := mustGet(t, good, key); string(got) != "there" {
		t.Errorf("after the refusals the object holds %q", got)
	}
}

// TestSDKCorrectsClockSkew: the Date of a RequestTimeTooSkewed answer is
// the emulator's skewed clock, from which the SDK corrects its own and
// retries successfully, as against OSS.
func TestSDKCorrectsClockSkew(t *testing.T) {
	env := newSDKEnv(t, func(c *Config) { c.ClockOffset = 40 * time.Minute })
	for _, s := range signers[:2] {
		c := sdkClient(env.testEnv, s.opts)
		mustPut(t, c, "skew/"+s.name, []byte("x"))
		res, err := c.HeadObject(context.Background(), &oss.HeadObjectRequest{Bucket: bucket, Key: oss.Ptr("skew/" + s.name)})
		if err != nil {
			t.Fatalf("%s: HeadObject: %v", s.name, err)
		}
		date, err := http.ParseTime(res.Headers.Get("Date"))
		if err != nil || date.Sub(time.Now()) < 39*time.Minute {
			t.Errorf("%s: Date = %q, want 40 minutes ahead", s.name, res.Headers.Get("Date"))
		}
	}
}

// TestForbidOverwriteRace: of concurrent uploads to one key with
// x-oss-forbid-overwrite, exactly one wins, by PutObject and PostObject.
func TestForbidOverwriteRace(t *testing.T) {
	env := newSDKEnv(t, nil)
	c := sdkClient(env.testEnv, sdkOpts{})
	const rounds, racers = 10, 4
	for i := range rounds {
		key := fmt.Sprintf("race/%d.txt", i)
		var wg sync.WaitGroup
		errs := make([]error, racers)
		for j := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if j%2 == 0 {
					_, errs[j] = c.PutObject(context.Background(), &oss.PutObjectRequest{Bucket: bucket, Key: oss.Ptr(key),
						Body: bytes.NewReader(pattern(200<<10, byte(j))), ForbidOverwrite: oss.Ptr("true")})
					return
				}
				s := v4Signer
				s.at = time.Now()
				form := s.sign(time.Now().Add(time.Hour), stdConds(key, "text/plain", 300<<10),
					append(stdFields(key, "text/plain"), field{"x-oss-forbid-overwrite", "true"}))
				ct, body := multipartBody(form, pattern(200<<10, byte(j)), nil)
				resp, err := http.Post(env.url+"/", ct, bytes.NewReader(body))
				if err != nil {
					errs[j] = err
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs[j] = fmt.Errorf("PostObject %d %s", resp.StatusCode, b)
					if resp.StatusCode == 409 && bytes.Contains(b, []byte(CodeFileAlreadyExists)) {
						errs[j] = errConflict
					}
				}
			}()
		}
		wg.Wait()
		wins := 0
		for j, err := range errs {
			switch {
			case err == nil:
				wins++
			case err == errConflict:
			default:
				if j%2 == 0 {
					wantServiceError(t, err, 409, CodeFileAlreadyExists)
				} else {
					t.Errorf("racer %d: %v", j, err)
				}
			}
		}
		if wins != 1 {
			t.Errorf("%s: %d uploads won, want exactly one", key, wins)
		}
	}
	if left := env.tempFiles(t); len(left) != 0 {
		t.Errorf("temporary files left behind: %q", left)
	}
}

var errConflict = fmt.Errorf("409 FileAlreadyExists")

// TestPrivateByDefault: without PublicRead, unsigned reads are refused, the
// way a private bucket answers; with it they are served.
func TestPrivateByDefault(t *testing.T) {
	for _, public := range []bool{false, true} {
		env := newSDKEnv(t, func(c *Config) { c.PublicRead = public })
		mustPut(t, sdkClient(env.testEnv, sdkOpts{}), "p/x.html", []byte("<script>1</script>"))
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			r := env.get(t, method, "p/x.html")
			switch {
			case public && r.status != 200:
				t.Errorf("public-read %s: %v, want 200", method, r)
			case public && r.header.Get("X-Content-Type-Options") != "nosniff":
				t.Errorf("public-read %s: X-Content-Type-Options %q, want nosniff", method, r.header.Get("X-Content-Type-Options"))
			case !public && r.status != 403:
				t.Errorf("private %s: %v, want 403", method, r)
			case !public && method == http.MethodGet:
				wantError(t, r, 403, CodeAccessDenied)
			}
		}
	}
	var zero Config
	if zero.PublicRead {
		t.Error("the zero Config is public-read, want private")
	}
}
