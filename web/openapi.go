package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ossgate/ossgate/api"
)

// openAPI is GET /openapi.yaml: the OpenAPI 3.1 description of this API
// (api/openapi.yaml, embedded).
func (s *Server) openAPI(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, "application/yaml", api.OpenAPI)
}
