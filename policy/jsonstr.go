package policy

import "github.com/ossgate/ossgate/internal/jsonstr"

// The policy document and the policy answer are written with append rather
// than encoding/json, because signing is on the request path of every
// upload (internal/jsonstr). FuzzPolicyJSON and the upload JSON tests keep
// them byte-for-byte equal to encoding/json.

// appendString appends s as a JSON string literal (no HTML escaping: OSS
// reads the policy, no browser does).
func appendString(dst []byte, s string) []byte { return jsonstr.Append(dst, s) }

// appendStringHTML appends s as encoding/json does by default. Answers that
// Echo's c.JSON used to write must stay byte-equal, so they use this.
func appendStringHTML(dst []byte, s string) []byte { return jsonstr.AppendHTML(dst, s) }
