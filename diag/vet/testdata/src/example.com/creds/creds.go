// Package creds stands in for another module's library that sends
// requests on the http.Client it is given.
package creds

import "net/http"

// IAM fetches credentials from a metadata endpoint with Client.
type IAM struct {
	Endpoint string
	Client   *http.Client
}

// Config is a client's configuration.
type Config struct {
	HTTPClient *http.Client
	Name       string
}

// Option configures a client.
type Option func(*Config)

// WithHTTPClient makes the client send its requests on c.
func WithHTTPClient(c *http.Client) Option { return func(cfg *Config) { cfg.HTTPClient = c } }

// NewClient makes a client.
func NewClient(opts ...Option) *Config { return nil }
