package ticket

import "github.com/ossgate/ossgate/internal/jwtclaims"

// verifyClaims is what Verify decodes a ticket into: jwtClaims with
// registered claims whose dates decode without golang-jwt's nested
// json.Unmarshal per date (every callback verifies a ticket).
// TestVerifyClaimsDecodeLikeJWTClaims holds it to jwtClaims.
type verifyClaims struct {
	uploadClaims
	jwtclaims.Registered
}
