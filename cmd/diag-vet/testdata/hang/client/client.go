// Package client builds the HTTP client package hang uses, without a
// Timeout: the finding is where it is used, in another package.
package client

import "net/http"

func New() *http.Client { return &http.Client{} }
