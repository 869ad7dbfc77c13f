package web

import (
	"net"
	"net/http"
	"slices"
	"strings"
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
	if err := s.sameOriginLocal(c.Request()); err != nil {
		return err
	}
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

// sameOriginLocal lets only this machine's own pages (and non-browser
// clients such as curl) mint dev tokens: the Host must be a loopback name
// or one of DevHosts, so a DNS-rebound name cannot reach it, and a browser's
// Origin must be this very server, so another site cannot mint a token.
func (s *Server) sameOriginLocal(r *http.Request) error {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if !isLoopbackName(host) && !slices.Contains(s.opt.DevHosts, strings.ToLower(host)) {
		return newError(codeForbidden, "Dev tokens are only given on a loopback address.")
	}
	if o := r.Header.Get(echo.HeaderOrigin); o != "" && o != "http://"+r.Host && o != "https://"+r.Host {
		return newError(codeForbidden, "Dev tokens are only given to pages of this server.")
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return newError(codeForbidden, "Dev tokens are only given to pages of this server.")
	}
	return nil
}

// isLoopbackName reports whether host (without port) is localhost or a
// loopback IP literal.
func isLoopbackName(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
