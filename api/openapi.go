package api

import _ "embed" // for OpenAPI

// OpenAPI is the OpenAPI 3.0 document of the routes (openapi.yaml), which
// the server serves at /openapi.yaml and its tests check the handlers
// against.
//
//go:embed openapi.yaml
var OpenAPI []byte
