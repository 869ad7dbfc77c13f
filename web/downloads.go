package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ossgate/ossgate/ossclient"
	"github.com/ossgate/ossgate/store"
)

// Download links.
const (
	DefaultDownloadTTL = 15 * time.Minute
	MaxDownloadTTL     = 7 * 24 * time.Hour // V4's limit
	// reuseMargin is how long before its expiry a page should stop reusing
	// a link (the Cache-Control max-age is the TTL less this).
	reuseMargin = time.Minute
	maxStyles   = 32
)

// DefaultImageStyles are the styles a deployment has unless it configures
// its own: a square thumbnail, as the demo page shows.
var DefaultImageStyles = map[string]string{"thumb": "image/resize,m_fill,w_256,h_256"}

// CheckImageStyles validates image styles: names of 1..32 of a-z 0-9 _ -,
// and processing strings OSS's IMG syntax could hold ("image/…", at most
// 1024 bytes of a-z A-Z 0-9 , _ / . -), so a client choosing a name can
// never pass its own processing string.
func CheckImageStyles(styles map[string]string) error {
	if len(styles) > maxStyles {
		return fmt.Errorf("at most %d styles", maxStyles)
	}
	for name, process := range styles {
		if !validStyleName(name) {
			return fmt.Errorf("style name %q is not 1-32 of a-z 0-9 _ -", truncate(name, 40))
		}
		if len(process) < 7 || len(process) > 1024 || process[:6] != "image/" || !validProcess(process) {
			return fmt.Errorf("style %s: %q is not an OSS image processing string like image/resize,m_fill,w_256,h_256", name, truncate(process, 60))
		}
	}
	return nil
}

func validStyleName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_' || b == '-') {
			return false
		}
	}
	return true
}

func validProcess(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == ',' || b == '_' || b == '/' || b == '.' || b == '-') {
			return false
		}
	}
	return true
}

type downloadLink struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// downloadURL is GET /api/uploads/:id/url: a presigned GET of the
// caller's upload, inline or as an attachment with the original filename,
// optionally through a configured image style.
func (s *Server) downloadURL(c echo.Context) error {
	opts := ossclient.GetOptions{Expires: s.opt.DownloadTTL}
	var disposition string
	switch d := c.QueryParam("disposition"); d {
	case "", "inline":
		disposition = "inline"
	case "attachment":
		disposition = d
	default:
		return invalidRequest("disposition must be inline or attachment.")
	}
	if name := c.QueryParam("style"); name != "" {
		process, ok := s.opt.ImageStyles[name]
		if !ok {
			return invalidRequest(fmt.Sprintf("style %q is not configured (OSSGATE_IMAGE_STYLES).", truncate(name, 32)))
		}
		opts.Process = process
	}
	rec, err := s.ownRecord(c)
	if err != nil {
		return err
	}
	if disposition == "attachment" {
		opts.ContentDisposition = ossclient.Attachment(rec.Filename)
	}
	start := time.Now()
	p, err := s.opt.Bucket.PresignGet(c.Request().Context(), rec.Key, opts)
	s.opt.Metrics.observeOSS("presign_get", start, err)
	if err != nil {
		return s.ossError(c, "presign_get", err)
	}
	// The link is private to the caller; a page may reuse this answer until
	// shortly before the link expires.
	maxAge := max(0, int(time.Until(p.Expires)/time.Second)-int(reuseMargin/time.Second))
	c.Response().Header().Set("Cache-Control", "private, max-age="+strconv.Itoa(maxAge))
	return c.JSON(http.StatusOK, downloadLink{URL: p.URL, ExpiresAt: p.Expires.UTC()})
}

// deleteUpload is DELETE /api/uploads/:id: the object in OSS, then the
// record. When OSS fails the record stays (503), so nothing is half gone;
// OSS answers a delete of a missing object with success, so a retry after
// a lost answer completes.
func (s *Server) deleteUpload(c echo.Context) error {
	rec, err := s.ownRecord(c)
	if err != nil {
		return err
	}
	start := time.Now()
	err = s.opt.Bucket.DeleteObject(c.Request().Context(), rec.Key)
	s.opt.Metrics.observeOSS("delete", start, err)
	if err != nil {
		return s.ossError(c, "delete", err)
	}
	start = time.Now()
	_, err = s.opt.Store.Delete(c.Request().Context(), userOf(c), rec.ID)
	s.opt.Metrics.observeStore("delete", start)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errNotFound // deleted meanwhile by another request
	case err != nil:
		s.opt.Logger.Error("deleting upload record", "err", err, "request_id", requestIDOf(c))
		return errUnavailable
	}
	return c.NoContent(http.StatusNoContent)
}

// ownRecord is the caller's record named by :id; another user's is 404,
// like a missing one.
func (s *Server) ownRecord(c echo.Context) (store.Record, error) {
	id := c.Param("id")
	if len(id) > store.MaxIDLen {
		return store.Record{}, errNotFound
	}
	start := time.Now()
	rec, err := s.opt.Store.Get(c.Request().Context(), userOf(c), id)
	s.opt.Metrics.observeStore("get", start)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Record{}, errNotFound
	case err != nil:
		s.opt.Logger.Error("getting upload", "err", err, "request_id", requestIDOf(c))
		return store.Record{}, errUnavailable
	}
	return rec, nil
}
