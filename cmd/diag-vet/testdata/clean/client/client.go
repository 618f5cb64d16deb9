// Package client builds the HTTP client package clean uses, with a
// Timeout: requests sent on it are bounded.
package client

import (
	"net/http"
	"time"
)

func New() *http.Client { return &http.Client{Timeout: 30 * time.Second} }
