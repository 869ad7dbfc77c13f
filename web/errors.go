package web

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ossgate/ossgate/policy"
)

// apiError is the one error shape clients see:
// {"error":{"code":"...","message":"..."}} with an HTTP status.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// Errors used in several places.
var (
	errNotFound    = newError(codeNotFound, "No such resource.")
	errBodyTooBig  = newError(codeBodyTooLarge, "The request body is over its size limit.")
	errUnavailable = newError(codeUnavailable, "The service cannot reach its database; try again.")
)

// echoStatusCodes names the errors Echo and its middleware raise themselves.
var echoStatusCodes = map[int]string{
	http.StatusBadRequest:            policy.CodeInvalidRequest,
	http.StatusUnauthorized:          codeUnauthorized,
	http.StatusForbidden:             codeForbidden,
	http.StatusNotFound:              codeNotFound,
	http.StatusMethodNotAllowed:      codeMethodNotAllowed,
	http.StatusRequestEntityTooLarge: codeBodyTooLarge,
	http.StatusUnsupportedMediaType:  codeUnsupportedMediaType,
	http.StatusTooManyRequests:       codeRateLimited,
	http.StatusServiceUnavailable:    codeUnavailable,
}

// errorHandler turns every error a handler or middleware returns into the
// JSON shape. Messages of 5xx errors are never shown to clients.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		var ae *apiError
		var he *echo.HTTPError
		switch {
		case errors.As(err, &ae):
		case errors.As(err, &he):
			code, ok := echoStatusCodes[he.Code]
			switch {
			case ok:
			case he.Code >= 500:
				code = codeInternal
			default:
				code = policy.CodeInvalidRequest
			}
			msg := http.StatusText(he.Code)
			if m, ok := he.Message.(string); ok && he.Code < 500 {
				msg = m
			}
			if he.Code == http.StatusRequestEntityTooLarge {
				msg = errBodyTooBig.Message
			}
			ae = newError(code, msg)
			ae.Status = he.Code // an unnamed 4xx/5xx keeps its status
		default:
			log.Error("internal error", "err", err, "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
			ae = newError(codeInternal, "Internal server error.")
		}
		if ae.Status == http.StatusTooManyRequests && c.Response().Header().Get("Retry-After") == "" {
			c.Response().Header().Set("Retry-After", "1")
		}
		var werr error
		if c.Request().Method == http.MethodHead {
			werr = c.NoContent(ae.Status)
		} else {
			werr = c.JSON(ae.Status, map[string]*apiError{"error": ae})
		}
		if werr != nil {
			log.Debug("writing error response", "err", werr)
		}
	}
}
