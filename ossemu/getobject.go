package ossemu

import (
	"errors"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
)

// objectKey is the key a request path names. Both "/{key}" and the SDKs'
// path-style "/{bucket}/{key}" are accepted, so a first segment equal to the
// bucket's name is the bucket: a key that itself starts with "{bucket}/" is
// reached as "/{bucket}/{bucket}/...". "" means the bucket itself.
func (e *Emulator) objectKey(p string) string {
	k := strings.TrimPrefix(p, "/")
	if k == e.cfg.Bucket {
		return ""
	}
	if rest, ok := strings.CutPrefix(k, e.cfg.Bucket+"/"); ok {
		return rest
	}
	return k
}

// objectPath is the path objectKey reads back as key: "/{key}", or
// "/{bucket}/{key}" when "/{key}" would be misread.
func (e *Emulator) objectPath(key string) string {
	if key == e.cfg.Bucket || strings.HasPrefix(key, e.cfg.Bucket+"/") {
		return "/" + e.cfg.Bucket + "/" + key
	}
	return "/" + key
}

// responseOverrides are the query parameters with which a signed GetObject
// chooses response headers, and the header each sets.
var responseOverrides = map[string]string{
	"response-content-type":        "Content-Type",
	"response-content-disposition": "Content-Disposition",
	"response-content-language":    "Content-Language",
	"response-content-encoding":    "Content-Encoding",
	"response-cache-control":       "Cache-Control",
	"response-expires":             "Expires",
}

// getOperations are sub-resources that make a GET or HEAD of an object some
// other operation (GetObjectACL, GetObjectTagging, ...); none is emulated,
// and answering one with the object's bytes would mislead the caller.
// ListParts (uploadId) is routed before GetObject; x-oss-process is image
// processing (serveImage).
var getOperations = []string{"acl", "tagging", "symlink", "restore", "uploads"}

// getObject serves GetObject and HeadObject (HEAD, also ?objectMeta): the
// stored bytes with the Content-Type, ETag and headers they were uploaded
// with, or with x-oss-process the processed image. The request must be
// signed (Authorization header or presigned URL) unless Config.PublicRead.
// Range and conditional requests come from http.ServeContent.
func (e *Emulator) getObject(w http.ResponseWriter, r *http.Request, q map[string]string, key string) *ossError {
	for _, op := range getOperations {
		if _, ok := q[op]; ok {
			return notImplemented(r.Method + " ?" + op)
		}
	}
	auth, oerr := e.authenticate(r, q, key)
	if oerr != nil {
		return oerr
	}
	signed := auth.Version != ""
	if !signed && !e.cfg.PublicRead {
		return accessDenied("You have no right to access this object because of bucket acl.")
	}
	var job *imageJob
	if process, ok := q["x-oss-process"]; ok {
		if job, oerr = parseProcess(process); oerr != nil {
			return oerr
		}
	}
	f, meta, err := e.store.open(key)
	if errors.Is(err, fs.ErrNotExist) {
		return newError(http.StatusNotFound, CodeNoSuchKey, "The specified key does not exist.")
	}
	if err != nil {
		e.log.Error("ossemu: reading object failed", "key", key, "err", err)
		return internalError("Reading the object failed.")
	}
	defer f.Close()
	// Signed requests may choose response headers, as OSS documents; the
	// emulator ignores the parameters on anonymous ones.
	overrides := map[string]string{}
	if signed {
		for param, header := range responseOverrides {
			if v, ok := q[param]; ok {
				overrides[header] = v
			}
		}
	}
	if job != nil {
		return e.serveImage(w, r, job, f, meta, overrides)
	}
	h := w.Header()
	for k, v := range meta.Headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", meta.ContentType)
	h.Set("ETag", `"`+meta.ETag+`"`)
	h.Set("x-oss-hash-crc64ecma", strconv.FormatUint(meta.CRC64, 10))
	h.Set("x-oss-object-type", meta.objectType())
	h.Set("x-oss-storage-class", "Standard")
	// A stored upload is never sniffed into something the uploader did not
	// declare (an HTML page from a "text/plain" upload).
	h.Set("X-Content-Type-Options", "nosniff")
	for header, v := range overrides {
		h.Set(header, v)
	}
	http.ServeContent(w, r, "", meta.LastModified, f)
	return nil
}
