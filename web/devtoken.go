package web

import (
	"net/http"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"
)

// devTokenTTL is how long a local-mode dev token lives (API.md: 1 h).
const devTokenTTL = time.Hour

// devToken is POST /api/dev/token, local mode only: it signs an HS256 JWT
// for any sub, so the demo page and curl can act as a user.
func (s *Server) devToken(c echo.Context) error {
	var req struct {
		Sub string `json:"sub"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Sub == "" || len(req.Sub) > 128 || !utf8.ValidString(req.Sub) || hasControl(req.Sub) {
		return invalidRequest("sub must be 1 to 128 bytes of printable UTF-8.")
	}
	now := s.opt.Now()
	claims := jwt.RegisteredClaims{
		Subject:   req.Sub,
		Issuer:    s.opt.Auth.Issuer,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(devTokenTTL)),
	}
	if s.opt.Auth.Audience != "" {
		claims.Audience = jwt.ClaimStrings{s.opt.Auth.Audience}
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.opt.Auth.Secret)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"token": tok})
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}
