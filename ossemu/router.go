package ossemu

import (
	"net/http"
)

// route picks the operation from the method, the path (the bucket, or an
// object in it) and the sub-resource in the query, as OSS does, and checks
// who may call it. Only PostObject (signed by its form), GetObject and
// HeadObject of a public-read bucket, preflights and the callback key
// answer unsigned requests.
func (e *Emulator) route(w http.ResponseWriter, r *http.Request, reqID string) *ossError {
	p := r.URL.Path
	if p == PubKeyPath && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		e.servePubKey(w, r)
		return nil
	}
	if r.Method == http.MethodOptions {
		return e.preflight(w, r)
	}
	q, oerr := parseQuery(r.URL.RawQuery)
	if oerr != nil {
		return oerr
	}
	has := func(name string) bool { _, ok := q[name]; return ok }
	key := e.objectKey(p)
	if key == "" {
		if r.Method == http.MethodPost && !has("delete") {
			return e.postObject(w, r, reqID)
		}
		return e.routeBucket(w, r, q, has)
	}

	// UploadPart, GetObject and HeadObject check the signature themselves:
	// the first after the part number, the others allow public reads.
	switch {
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && !has("uploadId"):
		return e.getObject(w, r, q, key)
	case r.Method == http.MethodPost && !has("uploads") && !has("uploadId"):
		return newError(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "PostObject is a POST to the bucket root, /, not to an object path.")
	case r.Method == http.MethodPut && !(has("uploadId") && has("partNumber")):
		for _, op := range putOperations {
			if has(op) {
				return newError(http.StatusNotImplemented, CodeNotImplemented, "PUT ?"+op+" is not implemented by the emulator; only PutObject and UploadPart are.")
			}
		}
	}
	if _, oerr := e.verifyPresigned(r, q, key); oerr != nil {
		return oerr
	}
	if oerr := validateKey(key); oerr != nil {
		return oerr
	}
	switch r.Method {
	case http.MethodGet:
		return e.listParts(w, r, q, key)
	case http.MethodHead:
		return notImplemented("HEAD ?uploadId")
	case http.MethodPut:
		if has("uploadId") && has("partNumber") {
			return e.uploadPart(w, r, q, key)
		}
		return e.putObject(w, r, q, key, reqID)
	case http.MethodPost:
		if has("uploads") {
			return e.initiateMultipartUpload(w, r, q, key)
		}
		return e.completeMultipartUpload(w, r, q, key, reqID)
	case http.MethodDelete:
		if has("uploadId") {
			return e.abortMultipartUpload(w, q, key)
		}
		return e.deleteObject(w, key)
	}
	return newError(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "The specified method is not allowed against this resource.")
}

// routeBucket serves the bucket operations the emulator knows; each needs a
// signed request.
func (e *Emulator) routeBucket(w http.ResponseWriter, r *http.Request, q map[string]string, has func(string) bool) *ossError {
	if _, oerr := e.verifyPresigned(r, q, ""); oerr != nil {
		return oerr
	}
	switch {
	case r.Method == http.MethodGet && has("cors"):
		return e.getBucketCors(w, r)
	case r.Method == http.MethodPut && has("cors"):
		return e.putBucketCors(w, r)
	case r.Method == http.MethodDelete && has("cors"):
		return e.deleteBucketCors(w)
	case r.Method == http.MethodGet && has("bucketInfo"):
		return e.getBucketInfo(w, r)
	case r.Method == http.MethodGet && has("uploads"):
		return e.listMultipartUploads(w, r, q)
	case r.Method == http.MethodGet && q["list-type"] == "2":
		return e.listObjectsV2(w, r, q)
	case r.Method == http.MethodGet:
		return newError(http.StatusNotImplemented, CodeNotImplemented, "ListObjects (V1) is not emulated; use ListObjectsV2 (list-type=2).")
	}
	return notImplemented(r.Method + " of the bucket with these parameters")
}
