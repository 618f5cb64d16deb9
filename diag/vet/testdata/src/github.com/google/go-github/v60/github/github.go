// Package github is a stub of github.com/google/go-github/v60/github.
package github

import "net/http"

type Client struct{ client *http.Client }

// NewClient sends on http.DefaultClient when httpClient is nil.
func NewClient(httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = &http.Client{}
	}
	return &Client{client: httpClient}
}
