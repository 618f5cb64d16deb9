// Package aws stands in for the AWS SDK for Go (v1).
package aws

import "net/http"

type Config struct {
	Region     *string
	HTTPClient *http.Client
}

func String(s string) *string { return &s }

func NewConfig() *Config { return &Config{} }

func (c *Config) WithHTTPClient(h *http.Client) *Config { c.HTTPClient = h; return c }
