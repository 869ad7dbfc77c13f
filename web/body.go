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
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/ossgate/ossgate/policy"
)

// readBody reads the whole (already size-limited) body, mapping the limit
// to 413 body_too_large.
func readBody(c echo.Context) ([]byte, error) {
	return readBodyInto(c, nil)
}

// readBodyInto is readBody appending to b (a pooled buffer).
func readBodyInto(c echo.Context, b []byte) ([]byte, error) {
	buf := bytes.NewBuffer(b)
	_, err := buf.ReadFrom(c.Request().Body)
	b = buf.Bytes()
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
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if ct == echo.MIMEApplicationJSON {
		return nil // what ParseMediaType would say, without its map of parameters
	}
	mt, _, err := mime.ParseMediaType(ct)
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
	// Decoding copies what it keeps, so the body's buffer is reused.
	bp := bodyBufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= apiBodyLimit {
			bodyBufs.Put(bp)
		}
	}()
	body, err := readBodyInto(c, (*bp)[:0])
	*bp = body
	if err != nil {
		return err
	}
	return decodeStrict(body, v)
}

// bodyBufs are the buffers decodeJSON reads request bodies into.
var bodyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1<<10); return &b }}

func decodeStrict(body []byte, v any) error {
	// encoding/json would replace invalid UTF-8 with U+FFFD, so what is
	// stored would not be what was sent.
	if !utf8.Valid(body) {
		return errInvalidJSON
	}
	// A type that decodes itself strictly (policy.Request does) needs no
	// second decoder around it: given exactly one valid value, the Decoder
	// below would only hand that value to UnmarshalJSON. Anything else
	// takes the Decoder, so its errors stay as they were.
	if u, ok := v.(json.Unmarshaler); ok && json.Valid(body) {
		err := u.UnmarshalJSON(bytes.TrimSpace(body))
		if err == nil {
			return nil
		}
		return strictError(err)
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
	return strictError(err)
}

// strictError maps a decoding error to the API's answer.
func strictError(err error) error {
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

// answerBufs are the buffers answerUpload writes into.
var answerBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// maxPooledAnswer keeps one huge answer from pinning its buffer.
const maxPooledAnswer = 64 << 10

// answerUpload answers 200 with up, byte for byte what c.JSON writes
// (encoding/json and a newline), without reflection. With ?pretty or in
// Echo's debug mode c.JSON indents, so those still go through it.
func answerUpload(c echo.Context, up *policy.SignedUpload) error {
	if _, pretty := c.QueryParams()["pretty"]; pretty || c.Echo().Debug {
		return c.JSON(http.StatusOK, up)
	}
	bp := answerBufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledAnswer {
			answerBufs.Put(bp)
		}
	}()
	b := slices.Grow((*bp)[:0], up.JSONSizeHint())
	b, err := up.AppendJSON(b)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	*bp = b
	// A signed form is more than the 2 KB net/http buffers before it
	// decides on framing, so without a length the answer goes out chunked,
	// in two writes to the socket; with it, in one. The body is the same.
	c.Response().Header()[echo.HeaderContentLength] = []string{strconv.Itoa(len(b))}
	return c.JSONBlob(http.StatusOK, b)
}
