package ossemu

import (
	"errors"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
)

// getObject serves GET and HEAD /{key}: the stored bytes with the
// Content-Type, ETag and headers they were uploaded with. Range and
// conditional requests come from http.ServeContent.
func (e *Emulator) getObject(w http.ResponseWriter, r *http.Request) *ossError {
	key := strings.TrimPrefix(r.URL.Path, "/")
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
