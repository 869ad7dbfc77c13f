package ticket

import "github.com/ossgate/ossgate/internal/jwtclaims"

// verifyClaims is what Verify decodes a ticket into: jwtClaims' fields,
// names and types, with registered claims whose dates decode without
// golang-jwt's nested json.Unmarshal per date (every callback verifies a
// ticket). TestVerifyClaimsDecodeLikeJWTClaims holds it to jwtClaims.
type verifyClaims struct {
	Bucket      string   `json:"bkt"`
	Key         string   `json:"key,omitempty"`
	KeyPrefix   string   `json:"kp,omitempty"`
	Size        int64    `json:"size"`
	ContentType string   `json:"ct"`
	Filename    string   `json:"fn,omitempty"`
	BodyType    string   `json:"bt"`
	VarNames    []string `json:"vars,omitempty"`

	jwtclaims.Registered
}
