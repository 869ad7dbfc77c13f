package ossemu

import (
	"net/http"
	"strings"
)

// putOperations are sub-resources that make a PUT some other operation than
// PutObject (PutObjectACL, AppendObject, ...); none is emulated, and
// treating one as PutObject would overwrite the object with its body.
// UploadPart (partNumber and uploadId together) is routed before the check.
var putOperations = []string{"acl", "tagging", "symlink", "append", "position", "uploadId", "partNumber", "uploads", "restore", "objectMeta"}

// putObject handles PutObject, signed in the Authorization header or
// presigned (checked by route with the key): stream the body to disk,
// commit, then answer or call back.
func (e *Emulator) putObject(w http.ResponseWriter, r *http.Request, q map[string]string, key, reqID string) *ossError {
	cb, custom, oerr := putCallback(r, q)
	if oerr != nil {
		return oerr
	}
	forbidOverwrite, oerr := parseForbidOverwrite(r.Header.Get("x-oss-forbid-overwrite"))
	if oerr != nil {
		return oerr
	}
	if forbidOverwrite && e.store.exists(key) {
		return fileAlreadyExists()
	}
	md5s := r.Header.Values("Content-MD5")
	if len(md5s) > 0 {
		if oerr := checkContentMD5(md5s[0]); oerr != nil {
			return oerr
		}
	}
	// Refused before a byte is read, as OSS does, when the size is declared.
	if r.ContentLength > e.maxObjectSize {
		return e.objectTooLarge()
	}

	obj, oerr := e.receiveFile(r.Body, 0, e.maxObjectSize, key, incompleteBody)
	if oerr != nil {
		return oerr
	}
	defer obj.discard()
	if len(md5s) > 0 && md5s[0] != obj.contentMD5 {
		return md5Mismatch()
	}
	var img *imageInfo
	if cb != nil && needsImageInfo(cb.Body) {
		img = readImageInfo(obj.file)
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/octet-stream"
	}
	meta := objectMeta{
		Key:          key,
		Size:         obj.size,
		ETag:         obj.etag,
		CRC64:        obj.crc64,
		ContentType:  ct,
		Headers:      storedHeaders(headerForm(r.Header)),
		LastModified: e.now().UTC(),
	}
	if oerr := e.commitObject(obj, meta, forbidOverwrite); oerr != nil {
		return oerr
	}

	obj.setHeaders(w.Header())
	if cb != nil {
		return e.relayCallback(w, r, cb, &callbackVars{
			Operation: "PutObject", Bucket: e.cfg.Bucket, Object: key, ETag: obj.etag, MimeType: ct,
			Size: obj.size, CRC64: obj.crc64, ContentMD5: obj.contentMD5,
			ClientIP: clientIP(r), ReqID: reqID, Image: img, Custom: custom,
		})
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// putCallback reads a PUT's callback: the x-oss-callback and
// x-oss-callback-var headers, or else the callback and callback-var query
// parameters. Both are covered by the signature, V1 and V4 alike.
func putCallback(r *http.Request, q map[string]string) (*callbackParam, map[string]string, *ossError) {
	get := func(header, param string) string {
		if v := r.Header.Get(header); v != "" {
			return v
		}
		return q[param]
	}
	custom := map[string]string{}
	s := get("x-oss-callback", "callback")
	if s == "" {
		return nil, custom, nil
	}
	cb, oerr := parseCallbackParam(s)
	if oerr != nil {
		return nil, nil, oerr
	}
	if v := get("x-oss-callback-var", "callback-var"); v != "" {
		if custom, oerr = parseCallbackVar(v); oerr != nil {
			return nil, nil, oerr
		}
	}
	return cb, custom, nil
}

// headerForm lower-cases a request's headers into the shape storedHeaders
// reads, so PUT keeps the same headers with an object as PostObject does.
func headerForm(h http.Header) form {
	f := form{}
	for k, vs := range h {
		if len(vs) > 0 {
			f[strings.ToLower(k)] = vs[0]
		}
	}
	return f
}

func incompleteBody() *ossError {
	return newError(http.StatusBadRequest, CodeIncompleteBody, "You did not provide the number of bytes specified by the Content-Length HTTP header.")
}
