// Package callback verifies the upload callbacks Alibaba Cloud OSS sends
// after a POST upload made with an ossgate policy: the RSA/MD5 request
// signature (with the public key fetched only from allowlisted hosts, and
// cached), the callback body, and the upload ticket inside it.
//
// It is a library: it runs no server, reads no environment and keeps no
// global state, and the time is always passed in. The web layer turns the
// HTTP request into a Request, calls Verifier.Verify, and maps errors to API
// codes with Code.
//
// Errors wrap one of five sentinels (ErrUntrustedKeyURL, ErrKeyUnavailable,
// ErrInvalidSignature, ErrInvalidCallback, ErrInvalidTicket); Code names the
// API error for each. Error texts never hold signatures, tickets or keys.
package callback
