package ossemu

import (
	"errors"
	"net/http"
	"strings"
)

// parseForbidOverwrite reads x-oss-forbid-overwrite (a header, or a
// PostObject form field): "true" or "false", as OSS accepts; absent is false.
func parseForbidOverwrite(v string) (bool, *ossError) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, invalidArgument("x-oss-forbid-overwrite must be true or false, not " + quote(v) + ".")
}

func fileAlreadyExists() *ossError {
	return newError(http.StatusConflict, CodeFileAlreadyExists, "The object you specified already exists and can not be overwritten.")
}

// commitObject stores a received upload, refusing to replace an existing
// object when noOverwrite is set.
func (e *Emulator) commitObject(obj *received, meta objectMeta, noOverwrite bool) *ossError {
	err := obj.commit(e.store, meta, noOverwrite)
	switch {
	case errors.Is(err, errObjectExists):
		return fileAlreadyExists()
	case err != nil:
		e.log.Error("ossemu: storing object failed", "key", meta.Key, "err", err)
		return internalError("Storing the object failed.")
	}
	return nil
}
