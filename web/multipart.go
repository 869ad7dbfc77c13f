package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ossgate/ossgate/callback"
	"github.com/ossgate/ossgate/ossclient"
	"github.com/ossgate/ossgate/policy"
	"github.com/ossgate/ossgate/store"
)

// Multipart uploads: ossgate creates the upload in OSS, signs each part's
// PUT, and completes it itself. Every step is checked against the stored
// session (what ossgate authorised), never against what the client says.

// maxPartsPerSign bounds one sign-parts request.
const maxPartsPerSign = 100

// DefaultMultipartTTL is how long a multipart session may stay open
// before the sweeper aborts it.
const DefaultMultipartTTL = 24 * time.Hour

// multipartSession is the answer of create and status.
type multipartSession struct {
	UploadID  string    `json:"uploadId"`
	Key       string    `json:"key"`
	Size      int64     `json:"size"`
	PartSize  int64     `json:"partSize"`
	PartCount int       `json:"partCount"`
	ExpiresAt time.Time `json:"expiresAt"`
	State     string    `json:"state"`
	Parts     []partDTO `json:"parts,omitempty"` // status only: the parts OSS holds
}

type partDTO struct {
	PartNumber int    `json:"partNumber"`
	ETag       string `json:"etag"`
	Size       int64  `json:"size"`
}

type signedPart struct {
	PartNumber int               `json:"partNumber"`
	Method     string            `json:"method"`
	URL        string            `json:"url"`
	Headers    map[string]string `json:"headers"`
	Size       int64             `json:"size"` // the exact size this part must have
}

func sessionDTO(m store.Session) multipartSession {
	return multipartSession{UploadID: m.UploadID, Key: m.Key, Size: m.Size, PartSize: m.PartSize,
		PartCount: m.PartCount, ExpiresAt: m.ExpiresAt, State: string(m.State)}
}

// plan turns a session back into what was authorised.
func plan(m store.Session) *policy.MultipartPlan {
	return &policy.MultipartPlan{Key: m.Key, ContentType: m.ContentType, Filename: m.Filename, Vars: m.Vars,
		Size: m.Size, PartSize: m.PartSize, PartCount: m.PartCount}
}

// createMultipart is POST /api/uploads/multipart.
func (s *Server) createMultipart(c echo.Context) error {
	var req policy.Request
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	m, err := s.startMultipart(c, req)
	if err != nil {
		return err
	}
	s.opt.Metrics.policies.WithLabelValues("multipart", string(policy.V4)).Inc()
	return c.JSON(http.StatusOK, sessionDTO(m))
}

// startMultipart plans, initiates in OSS and stores one multipart upload.
func (s *Server) startMultipart(c echo.Context, req policy.Request) (store.Session, error) {
	now := s.opt.Now()
	p, err := s.opt.Issuer.PlanMultipart(userOf(c), req, now)
	var pe *policy.Error
	switch {
	case errors.As(err, &pe):
		return store.Session{}, newError(pe.Code, pe.Message)
	case err != nil:
		return store.Session{}, err
	}
	ctx := c.Request().Context()
	start := time.Now()
	id, err := s.opt.Bucket.InitiateMultipart(ctx, p.Key, ossclient.InitiateOptions{ContentType: p.ContentType, ForbidOverwrite: true})
	s.opt.Metrics.observeOSS("initiate", start, err)
	if err != nil {
		return store.Session{}, s.ossError(c, "initiate", err)
	}
	m := store.Session{UploadID: id, User: userOf(c), Bucket: s.opt.Issuer.Bucket(), Key: p.Key, Size: p.Size,
		ContentType: p.ContentType, Filename: p.Filename, Vars: p.Vars, PartSize: p.PartSize, PartCount: p.PartCount,
		CreatedAt: now, ExpiresAt: now.Add(s.opt.MultipartTTL)}
	if err := s.opt.Store.CreateSession(ctx, m); err != nil {
		s.opt.Logger.Error("storing a multipart session", "err", err, "request_id", requestIDOf(c))
		s.abortQuietly(id, p.Key)
		return store.Session{}, errUnavailable
	}
	m.State = store.SessionOpen
	return m, nil
}

// session loads the caller's session named by the :uploadId parameter;
// another user's is 404, like a missing one.
func (s *Server) session(c echo.Context) (store.Session, error) {
	m, err := s.opt.Store.Session(c.Request().Context(), userOf(c), c.Param("uploadId"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Session{}, errNotFound
	case err != nil:
		s.opt.Logger.Error("reading a multipart session", "err", err, "request_id", requestIDOf(c))
		return store.Session{}, errUnavailable
	}
	return m, nil
}

func openSession(m store.Session) error {
	if m.State != store.SessionOpen {
		return newError(codeUploadClosed, fmt.Sprintf("The multipart upload is %s.", m.State))
	}
	return nil
}

// signParts is POST /api/uploads/multipart/:uploadId/parts.
func (s *Server) signParts(c echo.Context) error {
	var req struct {
		PartNumbers []int `json:"partNumbers"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	m, err := s.session(c)
	if err != nil {
		return err
	}
	parts, expires, err := s.presignParts(c, m, req.PartNumbers)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"parts": parts, "expiresAt": expires})
}

// presignParts signs UploadPart URLs for the part numbers, each within the
// session's layout.
func (s *Server) presignParts(c echo.Context, m store.Session, numbers []int) ([]signedPart, time.Time, error) {
	if err := openSession(m); err != nil {
		return nil, time.Time{}, err
	}
	if len(numbers) == 0 || len(numbers) > maxPartsPerSign {
		return nil, time.Time{}, invalidRequest(fmt.Sprintf("partNumbers must list 1 to %d part numbers.", maxPartsPerSign))
	}
	p := plan(m)
	ttl := s.opt.PartURLTTL
	if left := time.Until(m.ExpiresAt); left < ttl {
		ttl = max(left, time.Second)
	}
	out := make([]signedPart, 0, len(numbers))
	var expires time.Time
	for _, n := range numbers {
		if n < 1 || n > p.PartCount {
			return nil, time.Time{}, invalidRequest(fmt.Sprintf("part number %d is outside 1..%d.", n, p.PartCount))
		}
		start := time.Now()
		ps, err := s.opt.Bucket.PresignUploadPart(c.Request().Context(), m.Key, m.UploadID, n, ttl)
		s.opt.Metrics.observeOSS("presign_part", start, err)
		if err != nil {
			return nil, time.Time{}, s.ossError(c, "presign_part", err)
		}
		headers := map[string]string{}
		for k := range ps.Header {
			headers[k] = ps.Header.Get(k)
		}
		out = append(out, signedPart{PartNumber: n, Method: ps.Method, URL: ps.URL, Headers: headers, Size: p.ExpectedPartSize(n)})
		expires = ps.Expires
	}
	return out, expires.UTC(), nil
}

// multipartStatus is GET /api/uploads/multipart/:uploadId: the session and
// the parts OSS holds, for resuming.
func (s *Server) multipartStatus(c echo.Context) error {
	m, err := s.session(c)
	if err != nil {
		return err
	}
	out := sessionDTO(m)
	out.Parts = []partDTO{}
	if m.State == store.SessionOpen {
		parts, err := s.listParts(c.Request().Context(), m)
		if err != nil {
			return s.ossError(c, "list_parts", err)
		}
		for _, p := range parts {
			out.Parts = append(out.Parts, partDTO{PartNumber: p.Number, ETag: p.ETag, Size: p.Size})
		}
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) listParts(ctx context.Context, m store.Session) ([]ossclient.Part, error) {
	start := time.Now()
	parts, err := s.opt.Bucket.ListParts(ctx, m.Key, m.UploadID)
	s.opt.Metrics.observeOSS("list_parts", start, err)
	return parts, err
}

// completeMultipart is POST /api/uploads/multipart/:uploadId/complete.
func (s *Server) completeMultipart(c echo.Context) error {
	m, err := s.session(c)
	if err != nil {
		return err
	}
	rec, err := s.finishMultipart(c, m)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]store.Record{"upload": rec})
}

// finishMultipart completes the session's upload in OSS from the parts OSS
// holds, after checking them against the layout ossgate signed, confirms
// the object with HeadObject and records it once.
func (s *Server) finishMultipart(c echo.Context, m store.Session) (store.Record, error) {
	if err := openSession(m); err != nil {
		return store.Record{}, err
	}
	ctx := c.Request().Context()
	p := plan(m)
	parts, err := s.listParts(ctx, m)
	if errors.Is(err, ossclient.ErrNoSuchUpload) {
		// Completed by an earlier attempt that did not get to record it
		// (or aborted behind ossgate's back): the bucket says which.
		return s.recordMultipart(c, m, "")
	}
	if err != nil {
		return store.Record{}, s.ossError(c, "list_parts", err)
	}
	if err := checkParts(p, parts); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Code == codeSizeMismatch {
			// More bytes than declared can never complete: free them now.
			s.abortQuietly(m.UploadID, m.Key)
			s.closeSession(c, m, store.SessionAborted)
		}
		return store.Record{}, err
	}
	start := time.Now()
	res, err := s.opt.Bucket.CompleteMultipart(ctx, m.Key, m.UploadID, parts, ossclient.CompleteOptions{ForbidOverwrite: true})
	s.opt.Metrics.observeOSS("complete", start, err)
	switch {
	case errors.Is(err, ossclient.ErrNoSuchUpload):
		return s.recordMultipart(c, m, "")
	case errors.Is(err, ossclient.ErrInvalidPart):
		return store.Record{}, newError(codeUploadIncomplete, "OSS refused the parts; list them and upload the missing or damaged ones.")
	case errors.Is(err, ossclient.ErrAlreadyExists):
		return store.Record{}, newError(codeObjectMismatch, "Another object already exists under this key.")
	case err != nil:
		return store.Record{}, s.ossError(c, "complete", err)
	}
	return s.recordMultipart(c, m, res.ETag)
}

// checkParts holds the parts OSS reports against the layout: exactly parts
// 1..PartCount, each of its expected size.
func checkParts(p *policy.MultipartPlan, parts []ossclient.Part) error {
	var total int64
	var missing []string
	have := make(map[int]int64, len(parts))
	for _, pt := range parts {
		if pt.Number < 1 || pt.Number > p.PartCount {
			return newError(codeSizeMismatch, fmt.Sprintf("Part %d is outside the %d parts declared; the upload was aborted.", pt.Number, p.PartCount))
		}
		have[pt.Number] = pt.Size
		total += pt.Size
	}
	if total > p.Size {
		return newError(codeSizeMismatch, fmt.Sprintf("The parts hold %d bytes, more than the %d declared; the upload was aborted.", total, p.Size))
	}
	for n := 1; n <= p.PartCount; n++ {
		size, ok := have[n]
		switch {
		case !ok:
			if len(missing) < 20 {
				missing = append(missing, fmt.Sprint(n))
			}
		case size > p.ExpectedPartSize(n):
			return newError(codeSizeMismatch, fmt.Sprintf("Part %d holds %d bytes, more than its %d; the upload was aborted.", n, size, p.ExpectedPartSize(n)))
		case size < p.ExpectedPartSize(n):
			return newError(codeUploadIncomplete, fmt.Sprintf("Part %d holds %d of its %d bytes; upload it again.", n, size, p.ExpectedPartSize(n)))
		}
	}
	if len(missing) > 0 {
		return newError(codeUploadIncomplete, "Parts missing: "+strings.Join(missing, ", ")+".")
	}
	return nil
}

// recordMultipart confirms the completed object and records it once.
func (s *Server) recordMultipart(c echo.Context, m store.Session, etag string) (store.Record, error) {
	obj, err := s.headObject(c.Request().Context(), m.Key)
	switch {
	case errors.Is(err, ossclient.ErrNotFound):
		// No object and no upload: it was aborted.
		s.closeSession(c, m, store.SessionAborted)
		return store.Record{}, newError(codeUploadClosed, "The multipart upload was aborted.")
	case err != nil:
		return store.Record{}, s.ossError(c, "head", err)
	}
	up := callback.VerifiedUpload{User: m.User, Bucket: m.Bucket, Key: m.Key, Size: m.Size, ContentType: m.ContentType,
		Filename: m.Filename, Vars: m.Vars, ETag: strings.ToUpper(strings.Trim(obj.ETag, `"`))}
	if etag != "" && !strings.EqualFold(etag, up.ETag) {
		return store.Record{}, newError(codeObjectMismatch, "The object in the bucket is not the one just completed.")
	}
	if err := callback.CheckObject(up, obj); err != nil {
		return store.Record{}, newError(codeObjectMismatch, "The object in the bucket is not the one declared.")
	}
	rec, err := s.record(c, up)
	if err != nil {
		return store.Record{}, err
	}
	s.closeSession(c, m, store.SessionCompleted)
	return rec, nil
}

// abortMultipart is DELETE /api/uploads/multipart/:uploadId.
func (s *Server) abortMultipart(c echo.Context) error {
	m, err := s.session(c)
	if err != nil {
		return err
	}
	if err := openSession(m); err != nil {
		return err
	}
	start := time.Now()
	err = s.opt.Bucket.AbortMultipart(c.Request().Context(), m.Key, m.UploadID)
	s.opt.Metrics.observeOSS("abort", start, err)
	if err != nil && !errors.Is(err, ossclient.ErrNoSuchUpload) {
		return s.ossError(c, "abort", err)
	}
	s.closeSession(c, m, store.SessionAborted)
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) closeSession(c echo.Context, m store.Session, to store.SessionState) {
	err := s.opt.Store.CloseSession(context.WithoutCancel(c.Request().Context()), m.UploadID, to)
	if err != nil && !errors.Is(err, store.ErrSessionClosed) {
		s.opt.Logger.Warn("closing a multipart session", "err", err, "request_id", requestIDOf(c))
	}
}

// abortQuietly aborts an upload nobody will complete; the bucket's
// lifecycle rule (README) is the backstop when OSS fails here.
func (s *Server) abortQuietly(uploadID, key string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.opt.Bucket.AbortMultipart(ctx, key, uploadID); err != nil && !errors.Is(err, ossclient.ErrNoSuchUpload) {
		s.opt.Logger.Warn("aborting a multipart upload", "err", err)
	}
}

// SweepMultipart aborts open sessions past their expiry, at most limit at
// a time, and returns how many it closed. Run it periodically.
func (s *Server) SweepMultipart(ctx context.Context, limit int) (int, error) {
	expired, err := s.opt.Store.ExpiredSessions(ctx, s.opt.Now(), limit)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range expired {
		err := s.opt.Bucket.AbortMultipart(ctx, m.Key, m.UploadID)
		if err != nil && !errors.Is(err, ossclient.ErrNoSuchUpload) {
			s.opt.Logger.Warn("sweeping a multipart upload", "err", err)
			continue // next sweep
		}
		if err := s.opt.Store.CloseSession(ctx, m.UploadID, store.SessionAborted); err == nil {
			n++
		}
	}
	return n, nil
}
