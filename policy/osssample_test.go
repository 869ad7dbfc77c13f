package policy

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ossgate/ossgate/ticket"
)

func TestIssueOSSSample(t *testing.T) {
	is := newTestIssuer(t, nil)
	req := Request{Filename: "cat.jpg", Size: 2048, ContentType: "image/jpeg"}
	s, err := is.IssueOSSSample("alice", req, issueNow)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Dir, "uploads/alice/2026/11/25/") || !strings.HasSuffix(s.Dir, "/") || strings.Contains(s.Dir, ".jpg") {
		t.Fatalf("dir %q", s.Dir)
	}
	if s.AccessID != testCreds.AccessKeyID || s.Host != testConfig().UploadURL || s.Expire != issueNow.Add(10*time.Minute).Truncate(time.Second).Unix() {
		t.Fatalf("sample %+v", s)
	}
	if want := SignV1(testCreds.AccessKeySecret, s.Policy); s.Signature != want {
		t.Fatalf("signature %q, want %q", s.Signature, want)
	}
	doc, _ := base64.StdEncoding.DecodeString(s.Policy)
	for _, want := range []string{`["starts-with","$key","` + s.Dir + `"]`, `["content-length-range",1,2048]`, `{"bucket":"examplebucket"}`, `["eq","$success_action_status","200"]`, `["eq","$callback","` + s.Callback + `"]`} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("policy %s lacks %s", doc, want)
		}
	}
	_, _, tk := ticketFromCallback(t, s.Callback)
	claims, err := ticket.Verify(testTicketSecret, tk, issueNow)
	if err != nil {
		t.Fatal(err)
	}
	if claims.Key != "" || claims.KeyPrefix != s.Dir || !claims.AllowsKey(s.Dir+"cat.jpg") || claims.AllowsKey(s.Dir+"a/b.jpg") || claims.ContentType != "image/jpeg" || claims.Size != 2048 {
		t.Fatalf("ticket %+v", claims)
	}

	refused := []struct {
		name string
		req  Request
	}{
		{"vars", Request{Filename: "a.jpg", Size: 1, ContentType: "image/jpeg", Vars: map[string]string{"a": "b"}}},
		{"v4", Request{Filename: "a.jpg", Size: 1, ContentType: "image/jpeg", SignatureVersion: "v4"}},
		{"empty", Request{Filename: "a.jpg", Size: 0, ContentType: "image/jpeg"}},
	}
	for _, tc := range refused {
		var pe *Error
		if _, err := is.IssueOSSSample("alice", tc.req, issueNow); !errors.As(err, &pe) {
			t.Errorf("%s: err %v, want *Error", tc.name, err)
		}
	}
}
