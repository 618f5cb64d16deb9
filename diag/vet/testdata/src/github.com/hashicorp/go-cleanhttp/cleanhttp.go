// Package cleanhttp is a stub of github.com/hashicorp/go-cleanhttp.
package cleanhttp

import "net/http"

func DefaultClient() *http.Client       { return &http.Client{} }
func DefaultPooledClient() *http.Client { return &http.Client{} }
func DefaultTransport() *http.Transport { return &http.Transport{} }
