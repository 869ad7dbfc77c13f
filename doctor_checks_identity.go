package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"

	"github.com/ossgate/ossgate/web"
)

// maxJWKS bounds the JWKS document the doctor reads.
const maxJWKS = 1 << 20

// jwksAlgorithms are the algorithms the server accepts from a JWKS (web's
// jwksMethods: asymmetric only, so that no JWKS key is an HMAC secret).
var jwksAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"}

// checkIdentity: how callers' tokens are verified, and whether the keys
// for it can be had.
func (d *doctor) checkIdentity(ctx context.Context) []finding {
	c := d.cfg
	claims := ""
	if c.JWTIssuer != "" {
		claims += "; iss must be " + c.JWTIssuer
	}
	if c.JWTAudience != "" {
		claims += "; aud must be " + c.JWTAudience
	}
	var out []finding
	switch {
	case len(c.JWTSecret) > 0 && c.Local && d.getenv("OSSGATE_JWT_SECRET") == "":
		return []finding{passed("jwt", "local mode: HS256 with a generated secret; tokens come from POST /api/dev/token%s", claims)}
	case len(c.JWTSecret) > 0:
		return []finding{passed("jwt", "HS256 with OSSGATE_JWT_SECRET (%d bytes)%s", len(c.JWTSecret), claims)}
	case c.JWTPublicKey != nil:
		m, err := web.SigningMethodFor(c.JWTPublicKey)
		if err != nil {
			return []finding{failed("jwt", "OSSGATE_JWT_PUBLIC_KEY_FILE: "+err.Error(), "use an RSA (2048+), ECDSA P-256 or Ed25519 public key")}
		}
		out = append(out, passed("jwt", "%s with the key in OSSGATE_JWT_PUBLIC_KEY_FILE%s", m.Alg(), claims))
		if c.JWTAudience == "" {
			out = append(out, warned("jwt.audience", "OSSGATE_JWT_AUDIENCE is not set: any token this key signs, for any application, is accepted",
				"set OSSGATE_JWT_AUDIENCE to the aud your identity provider puts in tokens for this app"))
		}
	case c.JWTJWKSURL != "":
		out = append(out, d.checkJWKS(ctx, claims))
		// A missing audience is already a configuration warning.
	}
	if c.JWTIssuer == "" {
		out = append(out, warned("jwt.issuer", "OSSGATE_JWT_ISSUER is not set: the token's iss is not checked",
			"set OSSGATE_JWT_ISSUER to your identity provider's issuer"))
	}
	return out
}

// checkJWKS fetches the JWKS once and counts the keys the server could use.
func (d *doctor) checkJWKS(ctx context.Context, claims string) finding {
	const check = "jwt"
	shown := redactURL(d.cfg.JWTJWKSURL)
	fix := "make OSSGATE_JWT_JWKS_URL answer 200 with your identity provider's JWKS (application/json, {\"keys\":[…]})"
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.cfg.JWTJWKSURL, nil)
	if err != nil {
		return failed(check, "OSSGATE_JWT_JWKS_URL makes no request", fix)
	}
	res, err := d.web.Do(req)
	if err != nil {
		return failed(check, "GET "+shown+": "+redactErr(fmt.Errorf("%s", unwrapURLErr(err)), d.cfg.JWTJWKSURL), fix)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return failed(check, fmt.Sprintf("GET %s answered %d", shown, res.StatusCode), fix)
	}
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxJWKS+1))
	if err != nil || len(raw) > maxJWKS {
		return failed(check, "GET "+shown+": the answer is unreadable or over 1 MiB", fix)
	}
	kf, err := keyfunc.NewJWKSetJSON(json.RawMessage(raw))
	if err != nil {
		return failed(check, "the JWKS at "+shown+" does not parse: "+err.Error(), fix)
	}
	keys, err := kf.Storage().KeyReadAll(ctx)
	if err != nil {
		return failed(check, "the JWKS at "+shown+" cannot be read: "+err.Error(), fix)
	}
	var usable, unusable []string
	for _, k := range keys {
		m := k.Marshal()
		name := m.KID
		if name == "" {
			name = "(no kid)"
		}
		alg, ok := jwkAlgorithm(k.Key(), string(m.ALG))
		if ok && (m.USE == "" || m.USE == "sig") {
			usable = append(usable, name+" "+alg)
		} else {
			unusable = append(unusable, name)
		}
	}
	if len(usable) == 0 {
		return failed(check, fmt.Sprintf("the JWKS at %s has %d keys, none usable for %s", shown, len(keys), strings.Join(jwksAlgorithms, "/")),
			"publish signing keys (use sig) of type RSA, EC P-256/P-384 or Ed25519; HMAC keys are never taken from a JWKS")
	}
	detail := fmt.Sprintf("JWKS at %s: %d usable keys (%s)", shown, len(usable), strings.Join(usable, ", "))
	if len(unusable) > 0 {
		detail += fmt.Sprintf(", %d ignored (%s)", len(unusable), strings.Join(unusable, ", "))
	}
	return passed(check, "%s%s", detail, claims)
}

// jwkAlgorithm is the algorithm a key verifies (its alg, or the one its
// type implies) and whether the server accepts it.
func jwkAlgorithm(key any, alg string) (string, bool) {
	var fits []string
	switch k := key.(type) {
	case *rsa.PublicKey:
		fits = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			fits = []string{"ES256"}
		case elliptic.P384():
			fits = []string{"ES384"}
		}
	case ed25519.PublicKey:
		fits = []string{"EdDSA"}
	}
	if len(fits) == 0 {
		return alg, false
	}
	if alg == "" {
		alg = fits[0]
	}
	return alg, slices.Contains(fits, alg) && slices.Contains(jwksAlgorithms, alg)
}
