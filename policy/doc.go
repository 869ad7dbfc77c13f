// Package policy builds and signs Alibaba Cloud OSS POST policies, the
// signed forms that let a browser upload an object straight to a bucket.
//
// It has two layers:
//
//   - Low level: [Policy], whose setters each add a policy condition and the
//     matching form field in one call (so the two cannot drift apart), and
//     the signing primitives [SigningKeyV4], [SignV4] and [SignV1].
//   - High level: [Issuer], which applies ossgate's rules to an upload
//     [Request] (size, content type, vars, object key, callback, ticket)
//     and returns the form the browser posts, as an [Upload].
//
// The package is pure: it starts no server, reads no environment, has no
// mutable globals (only lookup tables) and never reads the clock; the time
// is always passed in. Randomness comes from an io.Reader that defaults to
// crypto/rand.Reader.
package policy
