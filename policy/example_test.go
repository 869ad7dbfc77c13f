package policy_test

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ossgate/ossgate/policy"
)

func ExampleIssuer_Issue() {
	is, err := policy.NewIssuer(policy.IssuerConfig{
		Credentials:  policy.Credentials{AccessKeyID: "LTAI5tExampleKeyId", AccessKeySecret: "example-secret"},
		Region:       "cn-hangzhou",
		Bucket:       "examplebucket",
		UploadURL:    "https://examplebucket.oss-cn-hangzhou.aliyuncs.com",
		CallbackURL:  "https://uploads.example.com/api/uploads/callback",
		TicketSecret: []byte("an-example-ticket-secret-of-32-bytes!"),
		KeyPrefix:    "uploads/",
		MaxSize:      100 << 20,
		AllowedTypes: []string{"image/*"},
		TTL:          10 * time.Minute,
		// Fixed for a reproducible example; leave nil for crypto/rand.
		Rand: strings.NewReader("0123456789"),
	})
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC)
	up, err := is.Issue("alice", policy.Request{
		Filename:    "cat.JPG",
		Size:        12345,
		ContentType: "image/jpeg",
		Vars:        map[string]string{"caption": "hi"},
	}, now)
	if err != nil {
		panic(err)
	}
	fmt.Println(up.Method, up.URL)
	fmt.Println("key:", up.Key)
	fmt.Println("expires:", up.ExpiresAt, "max size:", up.MaxSize)
	names := make([]string, 0, len(up.Fields))
	for name := range up.Fields {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		switch name {
		case "policy", "callback", "x-oss-signature":
			fmt.Printf("%s: (%d bytes)\n", name, len(up.Fields[name]))
		default:
			fmt.Printf("%s: %s\n", name, up.Fields[name])
		}
	}

	_, err = is.Issue("alice", policy.Request{Filename: "a.exe", Size: 10, ContentType: "application/x-msdownload"}, now)
	if perr, ok := err.(*policy.Error); ok {
		fmt.Println(perr.Code, perr.Field+":", perr.Message)
	}
	// Output:
	// POST https://examplebucket.oss-cn-hangzhou.aliyuncs.com
	// key: uploads/alice/2026/11/25/01M88X6WT060RK4CSM6MV3EE1S.jpg
	// expires: 2026-11-25 08:40:00 +0000 UTC max size: 12345
	// Content-Type: image/jpeg
	// callback: (1060 bytes)
	// key: uploads/alice/2026/11/25/01M88X6WT060RK4CSM6MV3EE1S.jpg
	// policy: (2100 bytes)
	// success_action_status: 200
	// x-oss-credential: LTAI5tExampleKeyId/20261125/cn-hangzhou/oss/aliyun_v4_request
	// x-oss-date: 20261125T083000Z
	// x-oss-forbid-overwrite: true
	// x-oss-signature: (64 bytes)
	// x-oss-signature-version: OSS4-HMAC-SHA256
	// x:caption: hi
	// type_not_allowed contentType: contentType "application/x-msdownload" is not allowed
}

// Validate names the field of each problem, so a program that fills the
// config from its own settings (environment variables, flags) can say which
// setting is wrong without re-checking the rules itself.
func ExampleIssuerConfig_Validate() {
	env := map[string]string{"TTL": "OSSGATE_POLICY_TTL", "AllowedTypes": "OSSGATE_ALLOWED_TYPES", "MaxSize": "OSSGATE_MAX_SIZE"}
	cfg := policy.IssuerConfig{
		Credentials:  policy.Credentials{AccessKeyID: "LTAI5tExampleKeyId", AccessKeySecret: "example-secret"},
		Region:       "cn-hangzhou",
		Bucket:       "examplebucket",
		UploadURL:    "https://examplebucket.oss-cn-hangzhou.aliyuncs.com",
		CallbackURL:  "https://uploads.example.com/api/uploads/callback",
		TicketSecret: []byte("an-example-ticket-secret-of-32-bytes!"),
		MaxSize:      6 << 30,
		AllowedTypes: []string{"image/*", "*/*"},
		TTL:          30 * time.Second,
	}
	for _, fe := range policy.FieldErrors(cfg.Validate()) {
		fmt.Printf("%s: %s\n", env[fe.Field], fe.Problem)
	}
	// Output:
	// OSSGATE_MAX_SIZE: must be between 1 and 5368709120 bytes (5 GiB, OSS's limit for one upload)
	// OSSGATE_ALLOWED_TYPES: entry "*/*" is refused: any type includes text/html, which the bucket's domain would serve as a page
	// OSSGATE_POLICY_TTL: 30s is not between 1m0s and 24h0m0s
}

func ExamplePolicy_Sign() {
	now := time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC)
	p := policy.New(now.Add(time.Hour))
	p.SetBucket("examplebucket")
	p.SetKey("uploads/alice/photo.jpg")
	p.SetForbidOverwrite(true)
	p.SetContentLengthRange(1, 1<<20)
	p.SetSuccessActionStatus("200")
	p.AddCondition(policy.StartsWith("Cache-Control", "max-age="))

	creds := policy.Credentials{AccessKeyID: "LTAI5tExampleKeyId", AccessKeySecret: "example-secret"}
	fields, err := p.Sign(creds, "oss-cn-hangzhou", policy.V1, now)
	if err != nil {
		panic(err)
	}
	doc, _ := base64.StdEncoding.DecodeString(fields["policy"])
	fmt.Println(string(doc))
	fmt.Println("OSSAccessKeyId:", fields["OSSAccessKeyId"])
	fmt.Println("Signature:", fields["Signature"])
	fmt.Println("key:", fields["key"])
	fmt.Printf("credentials: %v\n", creds)
	// Output:
	// {"expiration":"2026-11-25T09:30:00.000Z","conditions":[{"bucket":"examplebucket"},["eq","$key","uploads/alice/photo.jpg"],["eq","$x-oss-forbid-overwrite","true"],["content-length-range",1,1048576],["eq","$success_action_status","200"],["starts-with","$Cache-Control","max-age="]]}
	// OSSAccessKeyId: LTAI5tExampleKeyId
	// Signature: 3IYW5oEdViIPih3uRMin7yYXcUo=
	// key: uploads/alice/photo.jpg
	// credentials: {AccessKeyID:LTAI5tExampleKeyId AccessKeySecret:[redacted] SecurityToken:}
}
