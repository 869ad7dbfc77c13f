package policy

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ossgate/ossgate/ticket"
)

var testTicketSecret = []byte("0123456789abcdef0123456789abcdef")

func testConfig() IssuerConfig {
	return IssuerConfig{
		Credentials:  testCreds,
		Region:       "oss-cn-hangzhou",
		Bucket:       "examplebucket",
		UploadURL:    "https://examplebucket.oss-cn-hangzhou.aliyuncs.com",
		CallbackURL:  "https://uploads.example.com/api/uploads/callback",
		TicketSecret: testTicketSecret,
		KeyPrefix:    "uploads/",
		MaxSize:      100 << 20,
		AllowedTypes: []string{"image/*", "application/pdf", "text/plain"},
		TTL:          10 * time.Minute,
		Rand:         zeroRand{},
	}
}

func newTestIssuer(t testing.TB, edit func(*IssuerConfig)) *Issuer {
	t.Helper()
	cfg := testConfig()
	if edit != nil {
		edit(&cfg)
	}
	is, err := NewIssuer(cfg)
	if err != nil {
		t.Fatalf("NewIssuer: %v", err)
	}
	return is
}

var validRequest = Request{
	Filename:    "Cat Photo.JPG",
	Size:        12345,
	ContentType: "Image/JPEG; charset=binary",
	Vars:        map[string]string{"title": "t", "caption": `hi "there" <&>`},
}

// issueNow has sub-second digits, which the policy expiry must drop.
var issueNow = time.Date(2026, 11, 25, 8, 30, 0, 999_000_000, time.UTC)

// renderCallback fills a callback body template the way OSS would and
// returns the ticket it carries.
func ticketFromCallback(t *testing.T, cbB64 string) (callbackURL, bodyType, tk string) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(cbB64)
	if err != nil {
		t.Fatalf("callback is not base64: %v", err)
	}
	var cb struct {
		URL      string `json:"callbackUrl"`
		Body     string `json:"callbackBody"`
		BodyType string `json:"callbackBodyType"`
	}
	mustUnmarshal(t, raw, &cb)
	switch BodyType(cb.BodyType) {
	case BodyJSON:
		body := cb.Body
		for _, v := range []string{"bucket", "object", "etag", "mimeType", "x:caption", "x:title"} {
			body = strings.ReplaceAll(body, "${"+v+"}", `"v"`)
		}
		body = strings.NewReplacer("${size}", "1", "${imageInfo.width}", "null", "${imageInfo.height}", "null", "${imageInfo.format}", "null").Replace(body)
		var parsed struct{ Ticket string }
		mustUnmarshal(t, []byte(body), &parsed)
		tk = parsed.Ticket
	case BodyForm:
		q, err := url.ParseQuery(cb.Body)
		if err != nil {
			t.Fatalf("form callback body %q: %v", cb.Body, err)
		}
		tk = q.Get("ticket")
	default:
		t.Fatalf("callbackBodyType %q", cb.BodyType)
	}
	return cb.URL, cb.BodyType, tk
}

func TestIssue(t *testing.T) {
	stsCreds := testCreds
	stsCreds.SecurityToken = "CAIS+sts/token=="
	tests := []struct {
		name     string
		edit     func(*IssuerConfig)
		version  string
		wantV    Version
		token    string
		bodyType BodyType
	}{
		{"v4 default", nil, "", V4, "", BodyJSON},
		{"v4 asked", func(c *IssuerConfig) { c.DefaultVersion = V1 }, "OSS4-HMAC-SHA256", V4, "", BodyJSON},
		{"v4 sts", func(c *IssuerConfig) { c.Credentials = stsCreds }, "v4", V4, stsCreds.SecurityToken, BodyJSON},
		{"v4 form callback", func(c *IssuerConfig) { c.CallbackBodyType = BodyForm }, "", V4, "", BodyForm},
		{"v1 asked", nil, "v1", V1, "", BodyJSON},
		{"v1 default", func(c *IssuerConfig) { c.DefaultVersion = V1 }, "", V1, "", BodyJSON},
		{"v1 sts", func(c *IssuerConfig) { c.Credentials = stsCreds }, "V1", V1, stsCreds.SecurityToken, BodyJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := newTestIssuer(t, tt.edit)
			cfg := is.cfg
			req := validRequest
			req.SignatureVersion = tt.version
			up, err := is.Issue("alice", req, issueNow)
			if err != nil {
				t.Fatalf("Issue: %v", err)
			}
			wantExp := time.Date(2026, 11, 25, 8, 40, 0, 0, time.UTC)
			wantKey := "uploads/alice/2026/11/25/" + "01M88X6XS7" + "0000000000000000" + ".jpg" // ULID of issueNow, zero entropy
			checks := []struct {
				what      string
				got, want any
			}{
				{"Method", up.Method, "POST"},
				{"URL", up.URL, cfg.UploadURL},
				{"Key", up.Key, wantKey},
				{"ExpiresAt", up.ExpiresAt, wantExp},
				{"MaxSize", up.MaxSize, req.Size},
				{"Headers", up.Headers, map[string]string{}},
			}
			for _, c := range checks {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("Upload.%s = %v, want %v", c.what, c.got, c.want)
				}
			}

			f := up.Fields
			// The signature must verify against the policy actually returned.
			switch tt.wantV {
			case V4:
				sig := SignV4(SigningKeyV4(testCreds.AccessKeySecret, issueNow, "cn-hangzhou"), f["policy"])
				if f["x-oss-signature"] != sig {
					t.Errorf("x-oss-signature %s does not verify (want %s)", f["x-oss-signature"], sig)
				}
			case V1:
				if sig := SignV1(testCreds.AccessKeySecret, f["policy"]); f["Signature"] != sig {
					t.Errorf("Signature %s does not verify (want %s)", f["Signature"], sig)
				}
			}
			want := map[string]string{
				"key": wantKey, "policy": f["policy"], "success_action_status": "200", "Content-Type": "image/jpeg",
				"callback": f["callback"], "x:caption": req.Vars["caption"], "x:title": "t", "x-oss-forbid-overwrite": "true",
			}
			if tt.wantV == V4 {
				want["x-oss-signature-version"] = "OSS4-HMAC-SHA256"
				want["x-oss-credential"] = "LTAI5tTestKeyId/20261125/cn-hangzhou/oss/aliyun_v4_request"
				want["x-oss-date"] = "20261125T083000Z"
				want["x-oss-signature"] = f["x-oss-signature"]
			} else {
				want["OSSAccessKeyId"] = testCreds.AccessKeyID
				want["Signature"] = f["Signature"]
			}
			if tt.token != "" {
				want["x-oss-security-token"] = tt.token
			}
			assertFields(t, f, want)

			doc := decodePolicy(t, f["policy"])
			if doc.Expiration != "2026-11-25T08:40:00.000Z" {
				t.Errorf("expiration %s, want 2026-11-25T08:40:00.000Z", doc.Expiration)
			}
			wantConds := []any{
				map[string]any{"bucket": "examplebucket"},
				[]any{"eq", "$key", wantKey},
				[]any{"eq", "$x-oss-forbid-overwrite", "true"},
				[]any{"content-length-range", 1.0, 12345.0},
				[]any{"eq", "$Content-Type", "image/jpeg"},
				[]any{"eq", "$success_action_status", "200"},
				[]any{"eq", "$callback", f["callback"]},
				[]any{"eq", "$x:caption", req.Vars["caption"]},
				[]any{"eq", "$x:title", "t"},
			}
			if tt.wantV == V4 {
				wantConds = append(wantConds,
					map[string]any{"x-oss-signature-version": "OSS4-HMAC-SHA256"},
					map[string]any{"x-oss-credential": want["x-oss-credential"]},
					map[string]any{"x-oss-date": "20261125T083000Z"})
			}
			if tt.token != "" {
				wantConds = append(wantConds, map[string]any{"x-oss-security-token": tt.token})
			}
			if !reflect.DeepEqual(doc.Conditions, wantConds) {
				g, _ := json.Marshal(doc.Conditions)
				w, _ := json.Marshal(wantConds)
				t.Errorf("conditions\n got: %s\nwant: %s", g, w)
			}

			cbURL, cbType, tk := ticketFromCallback(t, f["callback"])
			if cbURL != cfg.CallbackURL || cbType != string(tt.bodyType) {
				t.Errorf("callback url %s type %s, want %s %s", cbURL, cbType, cfg.CallbackURL, tt.bodyType)
			}
			claims, err := ticket.Verify(testTicketSecret, tk, issueNow)
			if err != nil {
				t.Fatalf("ticket does not verify: %v", err)
			}
			wantClaims := ticket.Claims{User: "alice", Bucket: "examplebucket", Key: wantKey, Size: 12345,
				ContentType: "image/jpeg", Filename: req.Filename, BodyType: string(tt.bodyType),
				VarNames: []string{"caption", "title"}, ExpiresAt: wantExp.Add(DefaultTicketGrace)}
			if !reflect.DeepEqual(claims, wantClaims) {
				t.Errorf("ticket claims\n got: %+v\nwant: %+v", claims, wantClaims)
			}
		})
	}
}

func TestIssueUploadJSON(t *testing.T) {
	up, err := newTestIssuer(t, nil).Issue("alice", Request{Filename: "a.pdf", Size: 1, ContentType: "application/pdf"}, issueNow)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(up)
	var m map[string]json.RawMessage
	mustUnmarshal(t, raw, &m)
	for k, want := range map[string]string{"method": `"POST"`, "headers": `{}`, "expiresAt": `"2026-11-25T08:40:00Z"`, "maxSize": `1`} {
		if string(m[k]) != want {
			t.Errorf("%s = %s, want %s", k, m[k], want)
		}
	}
}

func TestIssueTicketGrace(t *testing.T) {
	is := newTestIssuer(t, func(c *IssuerConfig) { c.TicketGrace = 5 * time.Minute })
	up, err := is.Issue("alice", Request{Filename: "a.txt", Size: 3, ContentType: "text/plain"}, issueNow)
	if err != nil {
		t.Fatal(err)
	}
	_, _, tk := ticketFromCallback(t, up.Fields["callback"])
	claims, err := ticket.Verify(testTicketSecret, tk, issueNow)
	if err != nil || !claims.ExpiresAt.Equal(up.ExpiresAt.Add(5*time.Minute)) {
		t.Errorf("ticket expiry %v (%v), want %v", claims.ExpiresAt, err, up.ExpiresAt.Add(5*time.Minute))
	}
}

func TestIssueNeedsUser(t *testing.T) {
	_, err := newTestIssuer(t, nil).Issue("", validRequest, issueNow)
	var perr *Error
	if err == nil || errors.As(err, &perr) {
		t.Errorf("err = %v: want a non-*Error error (a missing sub is the caller's 401, not a bad request)", err)
	}
}

func TestValidate(t *testing.T) {
	is := newTestIssuer(t, func(c *IssuerConfig) { c.MaxSize = 1000 })
	ok := Request{Filename: "a.jpg", Size: 10, ContentType: "image/jpeg"}
	with := func(edit func(*Request)) Request { r := ok; edit(&r); return r }
	manyVars := map[string]string{}
	for _, n := range strings.Split("a b c d e f g h i j k", " ") {
		manyVars[n] = "v"
	}
	tests := []struct {
		name      string
		req       Request
		code      string
		field     string
		wantInMsg string
	}{
		{"filename missing", with(func(r *Request) { r.Filename = "" }), CodeInvalidRequest, "filename", "filename"},
		{"filename too long", with(func(r *Request) { r.Filename = strings.Repeat("a", 256) }), CodeInvalidRequest, "filename", "255"},
		{"filename invalid UTF-8", with(func(r *Request) { r.Filename = "a\xff.jpg" }), CodeInvalidRequest, "filename", "UTF-8"},
		{"filename NUL", with(func(r *Request) { r.Filename = "a\x00.jpg" }), CodeInvalidRequest, "filename", "control"},
		{"filename newline", with(func(r *Request) { r.Filename = "a\n.jpg" }), CodeInvalidRequest, "filename", "control"},
		{"filename DEL", with(func(r *Request) { r.Filename = "a\x7f.jpg" }), CodeInvalidRequest, "filename", "control"},
		{"filename C1", with(func(r *Request) { r.Filename = "a\u0085.jpg" }), CodeInvalidRequest, "filename", "control"},
		{"filename line separator", with(func(r *Request) { r.Filename = "a\u2028.jpg" }), CodeInvalidRequest, "filename", "control"},
		{"size negative", with(func(r *Request) { r.Size = -1 }), CodeInvalidRequest, "size", "size"},
		{"size zero", with(func(r *Request) { r.Size = 0 }), CodeEmptyFile, "size", "size"},
		{"size too large", with(func(r *Request) { r.Size = 1001 }), CodeFileTooLarge, "size", "1000"},
		{"contentType missing", with(func(r *Request) { r.ContentType = "" }), CodeInvalidRequest, "contentType", "contentType"},
		{"contentType no slash", with(func(r *Request) { r.ContentType = "image" }), CodeInvalidRequest, "contentType", "contentType"},
		{"contentType garbage", with(func(r *Request) { r.ContentType = "image/jpeg/x" }), CodeInvalidRequest, "contentType", "contentType"},
		{"contentType bad params", with(func(r *Request) { r.ContentType = "image/jpeg; =x" }), CodeInvalidRequest, "contentType", "contentType"},
		{"contentType not an RFC 6838 name", with(func(r *Request) { r.ContentType = "image/x{y}" }), CodeInvalidRequest, "contentType", "contentType"},
		{"contentType wildcard", with(func(r *Request) { r.ContentType = "image/*" }), CodeInvalidRequest, "contentType", "contentType"},
		{"contentType huge", with(func(r *Request) { r.ContentType = "image/" + strings.Repeat("x", 300) }), CodeInvalidRequest, "contentType", "contentType"},
		{"contentType not allowed", with(func(r *Request) { r.ContentType = "video/mp4" }), CodeTypeNotAllowed, "contentType", "video/mp4"},
		{"too many vars", with(func(r *Request) { r.Vars = manyVars }), CodeInvalidRequest, "vars", "10"},
		{"var name upper", with(func(r *Request) { r.Vars = map[string]string{"Caption": "x"} }), CodeInvalidRequest, "vars", "vars"},
		{"var name empty", with(func(r *Request) { r.Vars = map[string]string{"": "x"} }), CodeInvalidRequest, "vars", "vars"},
		{"var name long", with(func(r *Request) { r.Vars = map[string]string{strings.Repeat("a", 33): "x"} }), CodeInvalidRequest, "vars", "vars"},
		{"var name colon", with(func(r *Request) { r.Vars = map[string]string{"x:a": "x"} }), CodeInvalidRequest, "vars", "vars"},
		{"var value long", with(func(r *Request) { r.Vars = map[string]string{"a": strings.Repeat("v", 257)} }), CodeInvalidRequest, "vars", "vars.a"},
		{"var value control", with(func(r *Request) { r.Vars = map[string]string{"a": "x\ny"} }), CodeInvalidRequest, "vars", "vars.a"},
		{"var value invalid UTF-8", with(func(r *Request) { r.Vars = map[string]string{"a": "\xc3"} }), CodeInvalidRequest, "vars", "vars.a"},
		{"signatureVersion unknown", with(func(r *Request) { r.SignatureVersion = "v2" }), CodeInvalidRequest, "signatureVersion", "signatureVersion"},
		{"malformed before too large", with(func(r *Request) { r.Size = 5000; r.ContentType = "bad" }), CodeInvalidRequest, "contentType", "contentType"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, err := range []error{is.Validate(tt.req), issueErr(is, tt.req)} {
				var perr *Error
				if !errors.As(err, &perr) {
					t.Fatalf("err = %v (%T), want *Error", err, err)
				}
				if perr.Code != tt.code || perr.Field != tt.field {
					t.Errorf("got code %q field %q, want %q %q (%s)", perr.Code, perr.Field, tt.code, tt.field, perr.Message)
				}
				if !strings.Contains(perr.Message, tt.wantInMsg) || len(perr.Message) > 160 || perr.Error() != perr.Message {
					t.Errorf("message %q: want it to mention %q, stay short and be Error()", perr.Message, tt.wantInMsg)
				}
			}
		})
	}
	t.Run("valid", func(t *testing.T) {
		for _, r := range []Request{
			ok,
			with(func(r *Request) { r.Size = 1000 }),
			with(func(r *Request) { r.Filename = strings.Repeat("é", 127) + "a" }),
			with(func(r *Request) { r.ContentType = "text/plain; charset=utf-8" }),
			with(func(r *Request) { r.Vars = map[string]string{"a": strings.Repeat("v", 256), "b": ""} }),
			with(func(r *Request) { r.SignatureVersion = "V1" }),
		} {
			if err := is.Validate(r); err != nil {
				t.Errorf("Validate(%+v) = %v, want nil", r, err)
			}
		}
	})
}

func issueErr(is *Issuer, r Request) error {
	_, err := is.Issue("alice", r, issueNow)
	return err
}

func TestAllowedTypes(t *testing.T) {
	tests := []struct {
		allowed []string
		ct      string
		want    bool
	}{
		{[]string{"image/*"}, "image/png", true},
		{[]string{"image/*"}, "IMAGE/PNG", true},
		{[]string{"image/*"}, "video/mp4", false},
		{[]string{"image/*"}, "imagex/png", false},
		{[]string{" Application/PDF "}, "application/pdf", true},
		{[]string{"application/pdf"}, "application/pdfx", false},
		{[]string{"IMAGE/*"}, "image/png", true},
		{[]string{"image/svg+xml"}, "image/svg+xml", true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.allowed, ",")+" "+tt.ct, func(t *testing.T) {
			is := newTestIssuer(t, func(c *IssuerConfig) { c.AllowedTypes = tt.allowed })
			err := is.Validate(Request{Filename: "f", Size: 1, ContentType: tt.ct})
			if (err == nil) != tt.want {
				t.Errorf("Validate = %v, want allowed %v", err, tt.want)
			}
		})
	}
}

func TestNewIssuerErrors(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*IssuerConfig)
		field string // the config field the error must name
	}{
		{"no key id", func(c *IssuerConfig) { c.Credentials.AccessKeyID = "" }, "Credentials"},
		{"no secret", func(c *IssuerConfig) { c.Credentials.AccessKeySecret = "" }, "Credentials"},
		{"no region", func(c *IssuerConfig) { c.Region = "" }, "Region"},
		{"bad region", func(c *IssuerConfig) { c.Region = "cn hangzhou" }, "Region"},
		{"one-letter region", func(c *IssuerConfig) { c.Region = "oss-x" }, "Region"},
		{"no bucket", func(c *IssuerConfig) { c.Bucket = "" }, "Bucket"},
		{"bad bucket", func(c *IssuerConfig) { c.Bucket = "Example_Bucket" }, "Bucket"},
		{"bucket ends with -", func(c *IssuerConfig) { c.Bucket = "bucket-" }, "Bucket"},
		{"no upload URL", func(c *IssuerConfig) { c.UploadURL = "" }, "UploadURL"},
		{"relative upload URL", func(c *IssuerConfig) { c.UploadURL = "/upload" }, "UploadURL"},
		{"upload URL with query", func(c *IssuerConfig) { c.UploadURL = "https://h/?a=1" }, "UploadURL"},
		{"upload URL with userinfo", func(c *IssuerConfig) { c.UploadURL = "https://u:p@h" }, "UploadURL"},
		{"ftp callback URL", func(c *IssuerConfig) { c.CallbackURL = "ftp://h/cb" }, "CallbackURL"},
		{"callback URL with fragment", func(c *IssuerConfig) { c.CallbackURL = "https://h/cb#x" }, "CallbackURL"},
		{"callback URL after a query", func(c *IssuerConfig) { c.CallbackURL = "https://h?x=1/api/uploads/callback" }, "CallbackURL"},
		{"bad body type", func(c *IssuerConfig) { c.CallbackBodyType = "text/plain" }, "CallbackBodyType"},
		{"short ticket secret", func(c *IssuerConfig) { c.TicketSecret = c.TicketSecret[:31] }, "TicketSecret"},
		{"negative grace", func(c *IssuerConfig) { c.TicketGrace = -time.Second }, "TicketGrace"},
		{"bad prefix", func(c *IssuerConfig) { c.KeyPrefix = "../" }, "KeyPrefix"},
		{"prefix without slash", func(c *IssuerConfig) { c.KeyPrefix = "uploads" }, "KeyPrefix"},
		{"prefix with //", func(c *IssuerConfig) { c.KeyPrefix = "a//b/" }, "KeyPrefix"},
		{"zero max size", func(c *IssuerConfig) { c.MaxSize = 0 }, "MaxSize"},
		{"max size over 5 GiB", func(c *IssuerConfig) { c.MaxSize = 5<<30 + 1 }, "MaxSize"},
		{"no allowed types", func(c *IssuerConfig) { c.AllowedTypes = nil }, "AllowedTypes"},
		{"bad allowed type", func(c *IssuerConfig) { c.AllowedTypes = []string{"image"} }, "AllowedTypes"},
		{"star type", func(c *IssuerConfig) { c.AllowedTypes = []string{"*/png"} }, "AllowedTypes"},
		{"any type", func(c *IssuerConfig) { c.AllowedTypes = []string{"image/*", "*/*"} }, "AllowedTypes"},
		{"allowed type with params", func(c *IssuerConfig) { c.AllowedTypes = []string{"text/plain; charset=utf-8"} }, "AllowedTypes"},
		{"allowed type list in one entry", func(c *IssuerConfig) { c.AllowedTypes = []string{"image/png,image/gif"} }, "AllowedTypes"},
		{"TTL under a minute", func(c *IssuerConfig) { c.TTL = MinTTL - time.Second }, "TTL"},
		{"negative TTL", func(c *IssuerConfig) { c.TTL = -time.Minute }, "TTL"},
		{"huge TTL", func(c *IssuerConfig) { c.TTL = 25 * time.Hour }, "TTL"},
		{"bad version", func(c *IssuerConfig) { c.DefaultVersion = "v2" }, "DefaultVersion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			tt.edit(&cfg)
			_, err := NewIssuer(cfg)
			fes := FieldErrors(err)
			if len(fes) != 1 || fes[0].Field != tt.field {
				t.Fatalf("err = %v (field errors %v), want exactly one naming %s", err, fes, tt.field)
			}
			if !errors.Is(err, fes[0]) || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("NewIssuer's error %q does not carry its *FieldError", err)
			}
			if cfg.Validate() == nil {
				t.Error("Validate accepts what NewIssuer refuses")
			}
			if strings.Contains(err.Error(), string(testTicketSecret)) {
				t.Errorf("error leaks the ticket secret: %v", err)
			}
		})
	}
	t.Run("every problem listed", func(t *testing.T) {
		err := IssuerConfig{}.Validate()
		var fields []string
		for _, fe := range FieldErrors(err) {
			fields = append(fields, fe.Field)
		}
		want := []string{"Credentials", "Region", "Bucket", "UploadURL", "CallbackURL", "TicketSecret", "MaxSize", "AllowedTypes"}
		if !reflect.DeepEqual(fields, want) {
			t.Errorf("fields %v, want %v", fields, want)
		}
		if n := strings.Count(err.Error(), "\n") + 1; n != len(want) {
			t.Errorf("%d lines, want one per problem:\n%v", n, err)
		}
	})
	t.Run("valid", func(t *testing.T) {
		for name, edit := range map[string]func(*IssuerConfig){
			"as is":       nil,
			"minimum TTL": func(c *IssuerConfig) { c.TTL = MinTTL },
			"maximum TTL": func(c *IssuerConfig) { c.TTL = MaxTTL },
			"5 GiB":       func(c *IssuerConfig) { c.MaxSize = MaxUploadSize },
			"no prefix":   func(c *IssuerConfig) { c.KeyPrefix = "" },
			"zero defaults": func(c *IssuerConfig) {
				c.TTL, c.TicketGrace, c.CallbackBodyType, c.DefaultVersion, c.Rand = 0, 0, "", "", nil
			},
			"region oss-":    func(c *IssuerConfig) { c.Region = "oss-cn-hangzhou" },
			"spaced types":   func(c *IssuerConfig) { c.AllowedTypes = []string{" image/* ", "Application/PDF"} },
			"URL with path":  func(c *IssuerConfig) { c.UploadURL = "http://127.0.0.1:9000/bucket" },
			"form callbacks": func(c *IssuerConfig) { c.CallbackBodyType = BodyForm },
		} {
			cfg := testConfig()
			if edit != nil {
				edit(&cfg)
			}
			if err := cfg.Validate(); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	})
}

func TestFieldErrors(t *testing.T) {
	a, b := &FieldError{"TTL", "x"}, &FieldError{"MaxSize", "y"}
	cases := []struct {
		name string
		err  error
		want []*FieldError
	}{
		{"nil", nil, nil},
		{"other", errors.New("x"), nil},
		{"one", a, []*FieldError{a}},
		{"wrapped", fmt.Errorf("config: %w", a), []*FieldError{a}},
		{"joined", errors.Join(a, errors.New("z"), b), []*FieldError{a, b}},
		{"nested", errors.Join(errors.Join(a), b), []*FieldError{a, b}},
	}
	for _, c := range cases {
		if got := FieldErrors(c.err); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: FieldErrors = %v, want %v", c.name, got, c.want)
		}
	}
	if a.Error() != "policy: TTL x" {
		t.Errorf("Error() = %q", a.Error())
	}
}

func TestNewIssuerDefaults(t *testing.T) {
	cfg := testConfig()
	cfg.Rand, cfg.TTL = nil, 0
	is, err := NewIssuer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if is.cfg.CallbackBodyType != BodyJSON || is.cfg.TicketGrace != DefaultTicketGrace || is.cfg.DefaultVersion != V4 ||
		is.cfg.Rand == nil || is.cfg.TTL != DefaultTTL {
		t.Errorf("defaults not applied: %v", is.cfg)
	}
	cfg.TicketSecret[0] ^= 1 // the Issuer keeps its own copy
	if is.cfg.TicketSecret[0] == cfg.TicketSecret[0] {
		t.Error("Issuer shares the caller's TicketSecret slice")
	}
}

func TestIssueConcurrent(t *testing.T) {
	is := newTestIssuer(t, func(c *IssuerConfig) { c.Rand = nil })
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			_, err := is.Issue("alice", validRequest, issueNow.Add(time.Duration(i)*24*time.Hour))
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// A request decoded from JSON without "size" is a malformed request (400
// invalid_request naming size), not an empty file (422 empty_file).
func TestRequestJSONSize(t *testing.T) {
	is := newTestIssuer(t, nil)
	cases := []struct {
		name      string
		body      string
		code      string // "" for a valid request
		field     string
		wantSize  int64
		decodeErr string // decoding must fail with this text in its error
	}{
		{name: "size given", body: `{"filename":"a.jpg","size":3,"contentType":"image/jpeg"}`, wantSize: 3},
		{name: "size missing", body: `{"filename":"a.jpg","contentType":"image/jpeg"}`, code: CodeInvalidRequest, field: "size"},
		{name: "size null", body: `{"filename":"a.jpg","size":null,"contentType":"image/jpeg"}`, code: CodeInvalidRequest, field: "size"},
		{name: "size zero", body: `{"filename":"a.jpg","size":0,"contentType":"image/jpeg"}`, code: CodeEmptyFile, field: "size"},
		{name: "size missing, filename first", body: `{"contentType":"image/jpeg"}`, code: CodeInvalidRequest, field: "filename"},
		{name: "unknown field", body: `{"filename":"a.jpg","size":3,"contentType":"image/jpeg","acl":"public-read"}`, decodeErr: `json: unknown field "acl"`},
		{name: "size as string", body: `{"filename":"a.jpg","size":"3","contentType":"image/jpeg"}`, decodeErr: "size"},
		{name: "not an object", body: `[]`, decodeErr: "cannot unmarshal"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The way web decodes (strict Decoder) and plain json.Unmarshal
			// must agree.
			var strict, plain Request
			dec := json.NewDecoder(strings.NewReader(c.body))
			dec.DisallowUnknownFields()
			errs := []error{dec.Decode(&strict), json.Unmarshal([]byte(c.body), &plain)}
			for i, req := range []Request{strict, plain} {
				if c.decodeErr != "" {
					if errs[i] == nil || !strings.Contains(errs[i].Error(), c.decodeErr) {
						t.Fatalf("decoding %d: err = %v, want one mentioning %q", i, errs[i], c.decodeErr)
					}
					continue
				}
				if errs[i] != nil {
					t.Fatalf("decoding %d: %v", i, errs[i])
				}
				err := is.Validate(req)
				var perr *Error
				switch {
				case c.code == "" && err != nil:
					t.Fatalf("Validate = %v, want nil", err)
				case c.code == "" && req.Size != c.wantSize:
					t.Fatalf("Size = %d, want %d", req.Size, c.wantSize)
				case c.code != "" && (!errors.As(err, &perr) || perr.Code != c.code || perr.Field != c.field):
					t.Fatalf("Validate = %#v, want code %s field %s", err, c.code, c.field)
				}
			}
		})
	}
	var typeErr *json.UnmarshalTypeError
	var req Request
	if err := json.Unmarshal([]byte(`{"size":true}`), &req); !errors.As(err, &typeErr) || typeErr.Field != "size" {
		t.Errorf("wrong type: err = %#v, want a *json.UnmarshalTypeError naming size (web names the field from it)", err)
	}
}

// Every upload Issue signs binds x-oss-forbid-overwrite: the form field and
// the policy condition together.
func TestIssueForbidsOverwrite(t *testing.T) {
	for _, v := range []Version{V4, V1} {
		up, err := newTestIssuer(t, nil).Issue("alice", Request{Filename: "a.txt", Size: 3, ContentType: "text/plain", SignatureVersion: string(v)}, issueNow)
		if err != nil {
			t.Fatal(err)
		}
		if up.Fields["x-oss-forbid-overwrite"] != "true" {
			t.Errorf("%s: field x-oss-forbid-overwrite = %q, want true", v, up.Fields["x-oss-forbid-overwrite"])
		}
		doc := decodePolicy(t, up.Fields["policy"])
		if !slices.ContainsFunc(doc.Conditions, func(c any) bool {
			return reflect.DeepEqual(c, []any{"eq", "$x-oss-forbid-overwrite", "true"})
		}) {
			t.Errorf("%s: policy has no forbid-overwrite condition: %v", v, doc.Conditions)
		}
	}
}
