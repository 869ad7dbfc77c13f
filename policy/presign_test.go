package policy

import (
	"context"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
)

// PresignPut must produce byte for byte the URL of the official Go SDK's
// Presign for the same request, time and expiry.
func TestPresignPutMatchesOfficialSDK(t *testing.T) {
	const (
		bucket = "examplebucket"
		region = "cn-hangzhou"
		base   = "https://examplebucket.oss-cn-hangzhou.aliyuncs.com"
		expiry = 10 * time.Minute
	)
	cb, err := Callback{URL: "https://app.example.com/api/uploads/callback", Body: CallbackBody(BodyJSON, "tk.tk.tk", []string{"caption"}), BodyType: string(BodyJSON)}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		version Version
		token   string
		key     string
	}{
		{"v4", V4, "", "uploads/alice/2026/11/25/01JD0000000000000000000000.jpg"},
		{"v4 sts", V4, "CAIS+token/with=chars", "uploads/alice/2026/11/25/01JD0000000000000000000001.jpg"},
		{"v4 odd key", V4, "", "uploads/a b/ü+~(x).jpg"},
		{"v1", V1, "", "uploads/alice/2026/11/25/01JD0000000000000000000002.png"},
		{"v1 sts", V1, "CAIS+token/with=chars", "uploads/bob/x.png"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			creds := Credentials{AccessKeyID: "LTAI5tExampleKeyId0001", AccessKeySecret: "ExampleSecretKey0123456789abcdefXYZ", SecurityToken: tc.token}
			cfg := oss.LoadDefaultConfig().
				WithCredentialsProvider(credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.AccessKeySecret, tc.token)).
				WithRegion(region).
				WithEndpoint("oss-cn-hangzhou.aliyuncs.com")
			if tc.version == V1 {
				cfg = cfg.WithSignatureVersion(oss.SignatureVersionV1)
			}
			res, err := oss.NewClient(cfg).Presign(context.Background(), &oss.PutObjectRequest{
				Bucket:          oss.Ptr(bucket),
				Key:             oss.Ptr(tc.key),
				ContentType:     oss.Ptr("image/jpeg"),
				ForbidOverwrite: oss.Ptr("true"),
				Callback:        oss.Ptr(cb),
				CallbackVar:     oss.Ptr("eyJ4OmNhcHRpb24iOiJoaSJ9"),
			}, oss.PresignExpires(expiry))
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(res.URL)
			if err != nil {
				t.Fatal(err)
			}
			var now time.Time
			if tc.version == V4 {
				now, err = time.Parse(dateLayout, u.Query().Get("x-oss-date"))
			} else {
				var exp int64
				exp, err = strconv.ParseInt(u.Query().Get("Expires"), 10, 64)
				now = time.Unix(exp, 0).Add(-expiry)
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := PresignPut(creds, region, bucket, tc.key, base, res.SignedHeaders, tc.version, now, expiry)
			if err != nil {
				t.Fatal(err)
			}
			if got != res.URL {
				t.Fatalf("PresignPut\n got %s\nwant %s (SDK, headers %v)", got, res.URL, res.SignedHeaders)
			}
			if res.SignedHeaders["x-oss-forbid-overwrite"] != "true" && res.SignedHeaders["X-Oss-Forbid-Overwrite"] != "true" {
				t.Errorf("the SDK did not sign x-oss-forbid-overwrite: %v", res.SignedHeaders)
			}
		})
	}
}

// Issuer.Presign answers headers that bind x-oss-forbid-overwrite, and a
// URL equal to the official SDK's presigned PUT with exactly those headers:
// so the signature covers every one of them, in V4 and V1.
func TestIssuerPresignMatchesOfficialSDK(t *testing.T) {
	for _, v := range []Version{V4, V1} {
		t.Run(string(v), func(t *testing.T) {
			is := newTestIssuer(t, func(c *IssuerConfig) { c.DefaultVersion = v })
			req := Request{Filename: "clip.jpg", Size: 1 << 20, ContentType: "image/jpeg", Vars: map[string]string{"caption": "hi"}}
			cfg := oss.LoadDefaultConfig().
				WithCredentialsProvider(credentials.NewStaticCredentialsProvider(testCreds.AccessKeyID, testCreds.AccessKeySecret)).
				WithRegion("cn-hangzhou").
				WithEndpoint("oss-cn-hangzhou.aliyuncs.com")
			if v == V1 {
				cfg = cfg.WithSignatureVersion(oss.SignatureVersionV1)
			}
			client := oss.NewClient(cfg)
			// The SDK signs at the wall clock's second: retry when the
			// second turned between the two calls.
			for attempt := 0; ; attempt++ {
				now := time.Now().UTC().Truncate(time.Second)
				up, err := is.Presign("alice", req, now)
				if err != nil {
					t.Fatal(err)
				}
				want := []string{"Content-Type", "x-oss-callback", "x-oss-callback-var", "x-oss-forbid-overwrite"}
				if got := slices.Sorted(maps.Keys(up.Headers)); !slices.Equal(got, want) || up.Headers["x-oss-forbid-overwrite"] != "true" {
					t.Fatalf("headers %v, want %v with x-oss-forbid-overwrite true", up.Headers, want)
				}
				res, err := client.Presign(context.Background(), &oss.PutObjectRequest{
					Bucket:          oss.Ptr("examplebucket"),
					Key:             oss.Ptr(up.Key),
					ContentType:     oss.Ptr(up.Headers["Content-Type"]),
					ForbidOverwrite: oss.Ptr(up.Headers["x-oss-forbid-overwrite"]),
					Callback:        oss.Ptr(up.Headers["x-oss-callback"]),
					CallbackVar:     oss.Ptr(up.Headers["x-oss-callback-var"]),
				}, oss.PresignExpires(is.cfg.TTL))
				if err != nil {
					t.Fatal(err)
				}
				if up.URL == res.URL {
					return
				}
				if attempt == 3 {
					t.Fatalf("Presign URL\n got %s\nwant %s (SDK)", up.URL, res.URL)
				}
			}
		})
	}
}

func TestPresignPutRefuses(t *testing.T) {
	creds := Credentials{AccessKeyID: "id", AccessKeySecret: "secret"}
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		creds   Credentials
		region  string
		key     string
		v       Version
		expires time.Duration
	}{
		{"no secret", Credentials{AccessKeyID: "id"}, "cn-hangzhou", "k", V4, time.Minute},
		{"no region for v4", creds, "", "k", V4, time.Minute},
		{"no key", creds, "cn-hangzhou", "", V4, time.Minute},
		{"too long", creds, "cn-hangzhou", "k", V4, 8 * 24 * time.Hour},
		{"too short", creds, "cn-hangzhou", "k", V1, 0},
		{"unknown version", creds, "cn-hangzhou", "k", "v2", time.Minute},
	}
	for _, tc := range cases {
		if _, err := PresignPut(tc.creds, tc.region, "bucket", tc.key, "https://h", nil, tc.v, now, tc.expires); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
