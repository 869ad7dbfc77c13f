package api

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

func load(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(OpenAPI)
	if err != nil {
		t.Fatalf("loading openapi.yaml: %v", err)
	}
	return doc
}

func TestSpecIsValidOpenAPI31(t *testing.T) {
	doc := load(t)
	if doc.OpenAPI != "3.1.0" || !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	// Validate checks the examples against their schemas too.
	if err := doc.Validate(context.Background(), openapi3.EnableMultiError()); err != nil {
		t.Fatalf("openapi.yaml does not validate:\n%v", err)
	}
	if doc.Info == nil || !strings.Contains(doc.Info.Description, "Local mode") {
		t.Error("info.description must explain local mode")
	}
}

// ops calls fn for every operation of the document.
func ops(doc *openapi3.T, fn func(method, path string, op *openapi3.Operation)) {
	for _, path := range slices.Sorted(maps.Keys(doc.Paths.Map())) {
		item := doc.Paths.Value(path)
		for _, method := range slices.Sorted(maps.Keys(item.Operations())) {
			fn(method, path, item.GetOperation(method))
		}
	}
}

func TestSpecOperationsAreComplete(t *testing.T) {
	doc := load(t)
	ids := map[string]string{}
	ops(doc, func(method, path string, op *openapi3.Operation) {
		where := method + " " + path
		if op.OperationID == "" || op.Summary == "" || len(op.Tags) == 0 {
			t.Errorf("%s: needs operationId, summary and tags", where)
		}
		if prev, dup := ids[op.OperationID]; dup {
			t.Errorf("%s: operationId %s already used by %s", where, op.OperationID, prev)
		}
		ids[op.OperationID] = where
		bearer := op.Security != nil && slices.ContainsFunc(*op.Security, func(r openapi3.SecurityRequirement) bool {
			_, ok := r["bearerAuth"]
			return ok
		})
		for code, ref := range op.Responses.Map() {
			status, err := strconv.Atoi(code)
			if err != nil {
				t.Errorf("%s: response %q is not a status", where, code)
				continue
			}
			resp := ref.Value
			if h := resp.Headers["X-Request-Id"]; h == nil || !h.Value.Required {
				t.Errorf("%s %d: X-Request-Id must be a required header", where, status)
			}
			if status == 429 {
				if h := resp.Headers["Retry-After"]; h == nil || !h.Value.Required {
					t.Errorf("%s 429: Retry-After must be a required header", where)
				}
			}
			if status >= 400 && method != "HEAD" { // a HEAD answer has no body
				mt := resp.Content.Get("application/json")
				want := fmt.Sprintf("#/components/schemas/Error%d", status)
				if mt == nil || mt.Schema == nil || mt.Schema.Ref != want {
					t.Errorf("%s %d: body must be %s", where, status, want)
				}
			}
		}
		if bearer && op.Responses.Status(401) == nil {
			t.Errorf("%s: bearer-authenticated but no 401", where)
		}
	})
}

// TestSpecSchemas holds the main schemas against values the contract
// accepts and refuses.
func TestSpecSchemas(t *testing.T) {
	doc := load(t)
	schema := func(name string) *openapi3.Schema { return doc.Components.Schemas[name].Value }
	long := func(n int) string { return strings.Repeat("a", n) }
	vars := func(n int) string {
		var b []string
		for i := range n {
			b = append(b, fmt.Sprintf(`"v%d":"x"`, i))
		}
		return "{" + strings.Join(b, ",") + "}"
	}
	const v4Fields = `"key":"uploads/alice/2026/11/25/01JDQ2Z8V1N7K3W5R9T4XG6H0Q.jpg","policy":"e30=","success_action_status":"200","Content-Type":"image/jpeg","callback":"e30=",` +
		`"x-oss-signature-version":"OSS4-HMAC-SHA256","x-oss-credential":"LTAI/20261125/cn-hangzhou/oss/aliyun_v4_request","x-oss-date":"20261125T083000Z","x-oss-signature":"` + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" + `"`
	const v1Fields = `"key":"uploads/alice/2026/11/25/01JDQ2Z8V1N7K3W5R9T4XG6H0Q","policy":"e30=","success_action_status":"200","Content-Type":"image/jpeg","callback":"e30=",` +
		`"OSSAccessKeyId":"LTAI","Signature":"c2ln"`
	const record = `"id":"7k2mq9x4c8v1n6b3z5w0r2t9yh","bucket":"b","key":"uploads/u-0123456789abcdef0123456789abcdef/2026/11/25/01JDQ2Z8V1N7K3W5R9T4XG6H0Q.jpg","size":5,"contentType":"image/jpeg","etag":"E","filename":"cat.jpg","vars":{},"createdAt":"2026-11-25T08:31:02.417Z"`
	cases := []struct {
		schema, value string
		ok            bool
	}{
		{"PolicyRequest", `{"filename":"cat.jpg","size":12345,"contentType":"image/jpeg","vars":{"caption":"hi"},"signatureVersion":"v4"}`, true},
		{"PolicyRequest", `{"filename":"cat.jpg","size":1,"contentType":"image/jpeg"}`, true},
		{"PolicyRequest", `{"filename":"` + long(255) + `","size":1,"contentType":"text/plain","vars":` + vars(10) + `}`, true},
		{"PolicyRequest", `{"filename":"` + long(256) + `","size":1,"contentType":"text/plain"}`, false},
		{"PolicyRequest", `{"filename":"a\u0007b","size":1,"contentType":"text/plain"}`, false},
		{"PolicyRequest", `{"filename":"a\u2028b","size":1,"contentType":"text/plain"}`, false},
		{"PolicyRequest", `{"filename":"","size":1,"contentType":"text/plain"}`, false},
		{"PolicyRequest", `{"filename":"a","size":0,"contentType":"text/plain"}`, false},
		{"PolicyRequest", `{"filename":"a","size":1.5,"contentType":"text/plain"}`, false},
		{"PolicyRequest", `{"filename":"a","size":"1","contentType":"text/plain"}`, false},
		{"PolicyRequest", `{"filename":"a","size":1}`, false},
		{"PolicyRequest", `{"filename":"a","size":1,"contentType":"text/plain","vars":` + vars(11) + `}`, false},
		{"PolicyRequest", `{"filename":"a","size":1,"contentType":"text/plain","vars":{"Caption":"x"}}`, false},
		{"PolicyRequest", `{"filename":"a","size":1,"contentType":"text/plain","vars":{"` + long(33) + `":"x"}}`, false},
		{"PolicyRequest", `{"filename":"a","size":1,"contentType":"text/plain","vars":{"c":"` + long(256) + `"}}`, true},
		{"PolicyRequest", `{"filename":"a","size":1,"contentType":"text/plain","vars":{"c":"` + long(257) + `"}}`, false},
		{"PolicyRequest", `{"filename":"a","size":1,"contentType":"text/plain","signatureVersion":"v2"}`, false},
		{"PolicyRequest", `{"filename":"a","size":1,"contentType":"text/plain","user":"bob"}`, false},
		{"UploadFields", `{` + v4Fields + `,"x:caption":"hi"}`, true},
		{"UploadFields", `{` + v4Fields + `,"x-oss-security-token":"sts"}`, true},
		{"UploadFields", `{` + v1Fields + `}`, true},
		{"UploadFields", `{` + v1Fields + `,` + strings.SplitN(v4Fields, `"x-oss-signature-version"`, 2)[0] + `"x-oss-signature-version":"OSS4-HMAC-SHA256"}`, false},
		{"UploadFields", `{` + v4Fields + `,"OSSAccessKeyId":"LTAI","Signature":"c2ln"}`, false},
		{"UploadFields", `{"key":"k","policy":"e30=","success_action_status":"200","Content-Type":"a/b","callback":"e30="}`, false},
		{"UploadFields", `{` + v4Fields + `,"x:Caption":"hi"}`, false},
		{"UploadFields", `{` + v4Fields + `,"file":"x"}`, false},
		{"ObjectKey", `"uploads/alice/2026/11/25/01JDQ2Z8V1N7K3W5R9T4XG6H0Q.jpg"`, true},
		{"ObjectKey", `"01JDQ2Z8V1N7K3W5R9T4XG6H0Q"`, false},
		{"ObjectKey", `"/uploads/alice/2026/11/25/01JDQ2Z8V1N7K3W5R9T4XG6H0Q"`, false},
		{"ObjectKey", `"uploads//alice/2026/11/25/01JDQ2Z8V1N7K3W5R9T4XG6H0Q"`, false},
		{"Record", `{` + record + `}`, true},
		{"Record", `{` + record + `,"user":"alice"}`, false},
		{"Record", `{` + strings.Replace(record, `"etag":"E",`, "", 1) + `}`, false},
		{"CallbackBodyJSON", `{"bucket":"b","object":"k","size":5,"ticket":"t"}`, true},
		{"CallbackBodyJSON", `{"bucket":"b","object":"k","size":"5","ticket":"t"}`, true},
		{"CallbackBodyJSON", `{"bucket":"b","object":"k","size":"-5","ticket":"t"}`, false},
		{"CallbackBodyJSON", `{"bucket":"b","object":"k","size":5}`, false},
		{"Error", `{"error":{"code":"not_found","message":"No such resource."}}`, true},
		{"Error", `{"error":{"code":"teapot","message":"x"}}`, false},
		{"Error400", `{"error":{"code":"invalid_json","message":"x"}}`, true},
		{"Error400", `{"error":{"code":"not_found","message":"x"}}`, false},
		{"Error503", `{"error":{"code":"key_unavailable","message":"x"}}`, true},
		{"Error401", `{"error":{"code":"unauthorized","message":""}}`, false},
	}
	for _, c := range cases {
		var v any
		if err := json.Unmarshal([]byte(c.value), &v); err != nil {
			t.Fatalf("%s: %v", c.value, err)
		}
		err := schema(c.schema).VisitJSON(v, openapi3.EnableJSONSchema2020())
		if (err == nil) != c.ok {
			t.Errorf("%s %.120s: ok=%v, err=%v", c.schema, c.value, c.ok, err)
		}
	}
}
