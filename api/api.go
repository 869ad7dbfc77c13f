// Package api holds the description of ossgate's HTTP API: openapi.yaml, an
// OpenAPI 3.1 document that agrees with the contract in docs/API.md. It is embedded so that the server can serve it at
// GET /openapi.yaml and tests can hold real requests and responses
// against it.
package api

import _ "embed"

// OpenAPI is the OpenAPI 3.1 description of ossgate's HTTP API, as YAML.
// Treat it as read-only.
//
//go:embed openapi.yaml
var OpenAPI []byte
