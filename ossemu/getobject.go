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

// getObject serves GET and HEAD /{key} (or /{bucket}/{key}): the stored
// bytes with the Content-Type, ETag and headers they were uploaded with.
// Range and conditional requests come from http.ServeContent.
func (e *Emulator) getObject(w http.ResponseWriter, r *http.Request) *ossError {
	key := e.objectKey(r.URL.Path)
	if key == "" {
		return newError(http.StatusNotImplemented, CodeNotImplemented, "Listing the bucket is not implemented by the emulator.")
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
	h := w.Header()
	for k, v := range meta.Headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", meta.ContentType)
	h.Set("ETag", `"`+meta.ETag+`"`)
	h.Set("x-oss-hash-crc64ecma", strconv.FormatUint(meta.CRC64, 10))
	h.Set("x-oss-object-type", "Normal")
	h.Set("x-oss-storage-class", "Standard")
	http.ServeContent(w, r, "", meta.LastModified, f)
	return nil
}
