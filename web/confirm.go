package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ossgate/ossgate/callback"
	"github.com/ossgate/ossgate/ossclient"
	"github.com/ossgate/ossgate/store"
)

// headTimeout bounds the HeadObject that confirms a callback: OSS gives the
// whole callback 5 s, so the check must leave room for the commit.
const headTimeout = 2 * time.Second

// headObject asks OSS what the bucket holds under key.
func (s *Server) headObject(ctx context.Context, key string) (callback.Object, error) {
	ctx, cancel := context.WithTimeout(ctx, headTimeout)
	defer cancel()
	start := time.Now()
	info, err := s.opt.Bucket.HeadObject(ctx, key)
	s.opt.Metrics.observeOSS("head", start, err)
	if err != nil {
		return callback.Object{}, err
	}
	return callback.Object{Size: info.Size, ETag: info.ETag, ContentType: info.ContentType}, nil
}

// confirmObject checks a verified callback against the bucket, when
// ConfirmObjects is on: the object must exist and be what the callback
// says. A missing object is a mismatch; OSS failing is 503, so OSS's
// client sees a failure rather than a false record.
func (s *Server) confirmObject(ctx context.Context, up callback.VerifiedUpload) error {
	if !s.opt.ConfirmObjects {
		return nil
	}
	obj, err := s.headObject(ctx, up.Key)
	switch {
	case errors.Is(err, ossclient.ErrNotFound):
		return errorf(callback.ErrObjectMismatch, "no object %s in the bucket", up.Key)
	case err != nil:
		return err
	}
	return callback.CheckObject(up, obj)
}

// errorf wraps a core sentinel for the code mapping.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}

// ossError maps an ossclient error to the API's: never the SDK's message,
// which may carry signed URLs.
func (s *Server) ossError(c echo.Context, op string, err error) error {
	switch {
	case errors.Is(err, ossclient.ErrNotFound):
		return errNotFound
	case errors.Is(err, ossclient.ErrAccessDenied), errors.Is(err, ossclient.ErrNoSuchBucket):
		// ossgate's credentials or bucket are wrong: the operator's to fix.
		s.opt.Logger.Error("OSS refused ossgate's request: check the credentials, bucket and RAM policy", "op", op, "err", err, "request_id", requestIDOf(c))
		return errOSSUnavailable
	default:
		s.opt.Logger.Warn("OSS request failed", "op", op, "err", err, "request_id", requestIDOf(c))
		return errOSSUnavailable
	}
}

var errOSSUnavailable = newError(codeOSSUnavailable, "OSS did not answer ossgate in time; try again.")

func requestIDOf(c echo.Context) string { return c.Response().Header().Get(echo.HeaderXRequestID) }

type confirmRequest struct {
	Key    string            `json:"key"`
	Ticket string            `json:"ticket"`
	Vars   map[string]string `json:"vars,omitempty"`
}

// confirm is POST /api/uploads/confirm: for an upload OSS kept but whose
// callback failed (203 CallbackFailed), the uploader sends its policy's key
// and ticket; ossgate asks OSS for the object and, when it is within the
// ticket's limits, records it exactly as the callback would have.
func (s *Server) confirm(c echo.Context) error {
	var req confirmRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Key == "" || req.Ticket == "" || len(req.Key) > store.MaxKeyLen || len(req.Ticket) > 4096 {
		return invalidRequest("key and ticket (from the policy answer) are required.")
	}
	ctx := c.Request().Context()
	obj, err := s.headObject(ctx, req.Key)
	if err != nil {
		if errors.Is(err, ossclient.ErrInvalidArgument) {
			return invalidRequest("key is not a valid object key.")
		}
		return s.ossError(c, "head", err)
	}
	up, err := s.opt.Verifier.Confirm(req.Ticket, userOf(c), req.Key, obj, req.Vars, s.opt.Now())
	if err != nil {
		code := callback.Code(err)
		if code == "" {
			return err
		}
		s.opt.Logger.Info("confirmation refused", "code", code, "reason", err.Error(), "request_id", requestIDOf(c))
		return newError(code, confirmMessage(code))
	}
	rec, err := s.record(c, up)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]store.Record{"upload": rec})
}

func confirmMessage(code string) string {
	if code == callback.CodeObjectMismatch {
		return "The object in the bucket is not within the ticket's limits."
	}
	return "The ticket is invalid, expired, another user's, or does not allow this key."
}
