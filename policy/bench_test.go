package policy

import (
	"testing"

	"github.com/ossgate/ossgate/ticket"
)

// benchPolicy builds the policy Issue builds for a typical request: a real
// ticket in a JSON callback body, one var.
func benchPolicy(b *testing.B) *Policy {
	b.Helper()
	key := "uploads/alice/2026/11/25/01M88X6XS70000000000000000.jpg"
	exp := issueNow.Add(10 * 60e9).Truncate(1e9)
	tk, err := ticket.Sign(testTicketSecret, ticket.Claims{User: "alice", Bucket: "examplebucket", Key: key,
		Size: 12345, ContentType: "image/jpeg", Filename: "Cat Photo.JPG", BodyType: string(BodyJSON), ExpiresAt: exp.Add(DefaultTicketGrace)}, issueNow)
	if err != nil {
		b.Fatal(err)
	}
	p := New(exp)
	p.SetBucket("examplebucket")
	p.SetKey(key)
	p.SetContentLengthRange(1, 12345)
	p.SetContentType("image/jpeg")
	p.SetSuccessActionStatus("200")
	if err := p.SetCallback(Callback{URL: "https://uploads.example.com/api/uploads/callback",
		Body: CallbackBody(BodyJSON, tk, []string{"caption"}), BodyType: string(BodyJSON)}); err != nil {
		b.Fatal(err)
	}
	p.SetVar("caption", "hi there")
	return p
}

// BenchmarkSignV4 is V4 signing of a full policy: the JSON document, its
// base64 and the HMAC. "Signer" is what Issue does (signing key cached per
// day); "Policy.Sign" derives the key every time.
func BenchmarkSignV4(b *testing.B) {
	p := benchPolicy(b)
	b.Run("Signer", func(b *testing.B) {
		s := NewSigner(testCreds, "oss-cn-hangzhou")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Sign(p, V4, issueNow); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Policy.Sign", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Sign(testCreds, "oss-cn-hangzhou", V4, issueNow); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSignV1(b *testing.B) {
	p := benchPolicy(b)
	s := NewSigner(testCreds, "")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign(p, V1, issueNow); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIssue is the whole policy endpoint's work: validation, object
// key (crypto/rand), ticket JWT, callback, policy and V4 signature.
func BenchmarkIssue(b *testing.B) {
	is := newTestIssuer(b, func(c *IssuerConfig) { c.Rand = nil })
	req := Request{Filename: "Cat Photo.JPG", Size: 12345, ContentType: "image/jpeg", Vars: map[string]string{"caption": "hi there"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := is.Issue("alice", req, issueNow); err != nil {
			b.Fatal(err)
		}
	}
}
