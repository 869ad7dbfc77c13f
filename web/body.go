package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/ossgate/ossgate/policy"
)

// readBody reads the whole (already size-limited) body, mapping the limit
// to 413 body_too_large.
func readBody(c echo.Context) ([]byte, error) {
	b, err := io.ReadAll(c.Request().Body)
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, errBodyTooBig
	case err != nil:
		return nil, newError(policy.CodeInvalidRequest, "The request body could not be read.")
	}
	return b, nil
}

// requireJSON refuses anything but an application/json body with 415.
func requireJSON(c echo.Context) error {
	mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEApplicationJSON {
		return newError(codeUnsupportedMediaType, "Send the body as application/json.")
	}
	return nil
}

// decodeJSON strictly decodes one JSON object into v: unknown fields, wrong
// types and trailing data are refused with the field named.
func decodeJSON(c echo.Context, v any) error {
	if err := requireJSON(c); err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	return decodeStrict(body, v)
}

func decodeStrict(body []byte, v any) error {
	// encoding/json would replace invalid UTF-8 with U+FFFD, so what is
	// stored would not be what was sent.
	if !utf8.Valid(body) {
		return errInvalidJSON
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		// Exactly one value: anything after it, even another value, is refused.
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("trailing data")
		}
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return invalidRequest(fmt.Sprintf("%s has the wrong type (want %s).", typeErr.Field, jsonKind(typeErr.Type.Kind().String())))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return invalidRequest(fmt.Sprintf("Unknown field %.64s.", name))
	default:
		return errInvalidJSON
	}
}

var errInvalidJSON = newError(codeInvalidJSON, "The body is not a single valid JSON object in UTF-8.")

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int64", "int32", "uint", "uint64":
		return "an integer"
	case "string":
		return "a string"
	case "map", "struct":
		return "an object"
	default:
		return goKind
	}
}

func invalidRequest(msg string) *apiError {
	return newError(policy.CodeInvalidRequest, msg)
}

func contextTimeout(c echo.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request().Context(), d)
}
