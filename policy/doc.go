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
//     and returns what the client sends to OSS, as a [SignedUpload]: a POST
//     form ([Issuer.Issue]) or a presigned PUT URL and its headers
//     ([Issuer.Presign], which signs with [PresignPut] as the official SDKs
//     presign); or, for frontends built on the OSS samples, an
//     [OSSSample]. Every upload binds x-oss-forbid-overwrite (except
//     OSSSample, see [Issuer.IssueOSSSample]), and its ticket binds the
//     callback body's format and the var names.
//
// [IssuerConfig.Validate] checks a configuration field by field and reports
// each problem as a [FieldError] naming the field, so that a program reading
// its settings need not repeat the rules.
//
// The package is pure: it starts no server, reads no environment, has no
// mutable globals (only lookup tables) and never reads the clock; the time
// is always passed in. Randomness comes from an io.Reader that defaults to
// crypto/rand.Reader.
package policy
