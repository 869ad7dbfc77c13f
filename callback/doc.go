// Package callback verifies the upload callbacks Alibaba Cloud OSS sends
// after an upload made with an ossgate policy or presigned URL: the RSA/MD5
// request signature (with the public key fetched only from allowlisted URLs,
// and cached), the callback body (every stored field bounded and
// well-formed), and the upload ticket inside it, which binds the body's
// format and the var names as well as the user, bucket, key, size and type.
//
// It is a library: it runs no server, reads no environment and keeps no
// global state; Verify takes the time as an argument, and the key cache's
// clock is FetcherConfig.Now (time.Now when nil). The web layer turns the
// HTTP request into a Request, calls Verifier.Verify, and maps errors to API
// codes with Code. FetcherConfig.Validate (called by NewFetcher) reports
// each configuration problem as a FieldError naming the field.
//
// Errors wrap one of five sentinels (ErrUntrustedKeyURL, ErrKeyUnavailable,
// ErrInvalidSignature, ErrInvalidCallback, ErrInvalidTicket); Code names the
// API error for each. Error texts never hold signatures, tickets or keys.
package callback
