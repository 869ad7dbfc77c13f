package web

import (
	"io/fs"
	"mime"
	"net/http"
	"path"

	"github.com/labstack/echo/v4"
)

// serveStatic serves the embedded demo page at / and its assets by name.
func (s *Server) serveStatic(files fs.FS) {
	serve := func(name string) echo.HandlerFunc {
		return func(c echo.Context) error {
			data, err := fs.ReadFile(files, name)
			if err != nil {
				return errNotFound
			}
			ct := mime.TypeByExtension(path.Ext(name))
			if ct == "" {
				ct = echo.MIMEOctetStream
			}
			c.Response().Header().Set("Cache-Control", "no-cache")
			return c.Blob(http.StatusOK, ct, data)
		}
	}
	s.GET("/", serve("index.html"))
	entries, _ := fs.ReadDir(files, ".")
	for _, e := range entries {
		if !e.IsDir() && path.Ext(e.Name()) != ".go" {
			s.GET("/"+e.Name(), serve(e.Name()))
		}
	}
}
