package ossemu

import (
	"net/http"
	"strings"
)

// The emulated bucket has one permissive CORS rule, the one a bucket serving
// browser uploads is usually given: any origin, the upload and read methods,
// any request header, and the headers a browser uploader needs to read.
const (
	corsAllowMethods  = "GET, POST, PUT, HEAD"
	corsExposeHeaders = "ETag, x-oss-request-id"
	corsMaxAge        = "600"
)

// setCORS adds the rule's headers to every response, errors included, so a
// browser can read an XML error as well as a success.
func setCORS(h http.Header, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		// Echoing (rather than "*") is what OSS does when a rule matches.
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
	}
	h.Set("Access-Control-Allow-Methods", corsAllowMethods)
	// "*" is not honoured by every browser for every header (Authorization),
	// so a preflight gets the headers it asked for echoed back.
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
	} else {
		h.Set("Access-Control-Allow-Headers", "*")
	}
	h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
	h.Set("Access-Control-Max-Age", corsMaxAge)
}

// corsMethodAllowed reports whether a preflight's requested method is one the
// rule allows.
func corsMethodAllowed(m string) bool {
	if m == "" {
		return true
	}
	for _, a := range strings.Split(corsAllowMethods, ", ") {
		if a == m {
			return true
		}
	}
	return false
}
