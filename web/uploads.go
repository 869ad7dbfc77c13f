package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ossgate/ossgate/callback"
	"github.com/ossgate/ossgate/policy"
	"github.com/ossgate/ossgate/store"
)

// issuePolicy is POST /api/uploads/policy: a signed POST form, or with
// ?format=oss-sample the JSON shape of the official OSS sample app servers.
func (s *Server) issuePolicy(c echo.Context) error {
	switch format := c.QueryParam("format"); format {
	case "":
		return s.issue(c, "post", func(user string, req policy.Request, now time.Time) (any, error) {
			return s.opt.Issuer.Issue(user, req, now)
		})
	case "oss-sample":
		return s.issue(c, "oss-sample", func(user string, req policy.Request, now time.Time) (any, error) {
			return s.opt.Issuer.IssueOSSSample(user, req, now)
		})
	default:
		return invalidRequest("format must be oss-sample or absent.")
	}
}

// presign is POST /api/uploads/presign: a presigned PUT URL and headers.
func (s *Server) presign(c echo.Context) error {
	return s.issue(c, "put", func(user string, req policy.Request, now time.Time) (any, error) {
		return s.opt.Issuer.Presign(user, req, now)
	})
}

// issue decodes a policy request, lets sign apply the rules, and answers
// with what it made, mapping rule errors to their API codes.
func (s *Server) issue(c echo.Context, kind string, sign func(string, policy.Request, time.Time) (any, error)) error {
	var req policy.Request
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	out, err := sign(userOf(c), req, s.opt.Now())
	var pe *policy.Error
	switch {
	case errors.As(err, &pe):
		return newError(pe.Code, pe.Message)
	case err != nil:
		return err
	}
	up, isUpload := out.(*policy.SignedUpload)
	version := policy.V1 // the oss-sample format signs with V1 only
	if isUpload {
		version = up.Version
	}
	s.opt.Metrics.policyIssued(kind, version)
	if isUpload {
		return answerUpload(c, up)
	}
	return c.JSON(http.StatusOK, out)
}

// callback is POST /api/uploads/callback, called by OSS. It answers only
// after the record is committed, so a 200 relayed to the uploader means the
// upload is durably known.
func (s *Server) callback(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	r := c.Request()
	req := callback.NewRequest(r, body)
	// OSS signed the path it called, before any proxy rewrote it.
	req.Path = s.opt.CallbackPath
	up, err := s.opt.Verifier.Verify(r.Context(), req, s.opt.Now())
	if err != nil {
		code := callback.Code(err)
		if code == "" {
			return err // not the sender's doing: a 500
		}
		s.opt.Metrics.callbacks.WithLabelValues(code).Inc()
		s.opt.Logger.Info("callback refused", "code", code, "reason", err.Error(), "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		return newError(code, callbackMessage(code))
	}
	if err := s.confirmObject(r.Context(), up); err != nil {
		code := callback.Code(err)
		if code == "" {
			s.opt.Metrics.callbacks.WithLabelValues(codeOSSUnavailable).Inc()
			return s.ossError(c, "head", err) // 503: OSS retries the callback
		}
		s.opt.Metrics.callbacks.WithLabelValues(code).Inc()
		s.opt.Logger.Warn("callback for an object the bucket does not hold", "reason", err.Error(), "request_id", requestIDOf(c))
		return newError(code, "The object in the bucket is missing or is not the one the callback describes.")
	}
	rec, err := s.record(c, up)
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			s.opt.Metrics.callbacks.WithLabelValues(ae.Code).Inc()
		}
		return err
	}
	s.opt.Metrics.callbacks.WithLabelValues("accepted").Inc()
	return c.JSON(http.StatusOK, map[string]store.Record{"upload": rec})
}

// record stores the record of a verified upload, once per bucket+key, and
// returns it. A key already recorded for another object is refused: a
// success must never describe an object other than the stored one.
func (s *Server) record(c echo.Context, up callback.VerifiedUpload) (store.Record, error) {
	start := time.Now()
	rec, created, err := s.opt.Store.Insert(c.Request().Context(), store.Record{
		ID:          newID(),
		User:        up.User,
		Bucket:      up.Bucket,
		Key:         up.Key,
		Size:        up.Size,
		ContentType: up.ContentType,
		ETag:        up.ETag,
		Filename:    up.Filename,
		Vars:        up.Vars,
		Image:       storeImage(up.Image),
		CreatedAt:   s.opt.Now().UTC().Truncate(time.Millisecond),
	})
	s.opt.Metrics.observeStore("insert", start)
	switch {
	case errors.Is(err, store.ErrInvalid):
		return store.Record{}, newError(callback.CodeInvalidCallback, "The upload carries values that cannot be stored.")
	case err != nil:
		s.opt.Logger.Error("storing upload record", "err", err, "request_id", requestIDOf(c))
		return store.Record{}, errUnavailable
	case !created && (rec.ETag != up.ETag || rec.Size != up.Size || rec.User != up.User):
		// Policies forbid overwrites, so only a replay or a forgery gets here.
		s.opt.Logger.Warn("upload for a recorded key with another object", "request_id", requestIDOf(c))
		return store.Record{}, newError(codeObjectMismatch, "Another object is already recorded under this key.")
	}
	return rec, nil
}

func callbackMessage(code string) string {
	switch code {
	case callback.CodeUntrustedKeyURL:
		return "The callback's public key URL is not on the allowlist."
	case callback.CodeInvalidSignature:
		return "The callback is not signed by OSS."
	case callback.CodeInvalidTicket:
		return "The upload ticket is invalid, expired, or does not match the upload."
	case callback.CodeKeyUnavailable:
		return "The callback's public key could not be fetched; try again."
	default:
		return "The callback body is malformed."
	}
}

type listResponse struct {
	Uploads    []store.Record `json:"uploads"`
	NextCursor *string        `json:"nextCursor"`
}

// listUploads is GET /api/uploads: the caller's records, newest first.
func (s *Server) listUploads(c echo.Context) error {
	limit := 50
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return invalidRequest("limit must be an integer from 1 to 200.")
		}
		limit = n
	}
	cursor := c.QueryParam("cursor")
	if len(cursor) > 512 {
		return invalidRequest("cursor is not valid.")
	}
	start := time.Now()
	recs, next, err := s.opt.Store.List(c.Request().Context(), userOf(c), limit, cursor)
	s.opt.Metrics.observeStore("list", start)
	switch {
	case errors.Is(err, store.ErrBadCursor):
		return invalidRequest("cursor is not valid.")
	case err != nil:
		s.opt.Logger.Error("listing uploads", "err", err)
		return errUnavailable
	}
	resp := listResponse{Uploads: recs}
	if resp.Uploads == nil {
		resp.Uploads = []store.Record{}
	}
	if next != "" {
		resp.NextCursor = &next
	}
	return c.JSON(http.StatusOK, resp)
}

// getUpload is GET /api/uploads/:id; another user's record is 404, the same
// as a missing one, so ids reveal nothing.
func (s *Server) getUpload(c echo.Context) error {
	rec, err := s.ownRecord(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rec)
}

func storeImage(img *callback.Image) *store.Image {
	if img == nil {
		return nil
	}
	return &store.Image{Width: img.Width, Height: img.Height, Format: img.Format}
}
