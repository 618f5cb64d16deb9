// Package rest is a stub of k8s.io/client-go/rest.
package rest

import (
	"context"
	"io"
	"time"
)

type Config struct {
	Host    string
	Timeout time.Duration
	QPS     float32
}

func InClusterConfig() (*Config, error) { return &Config{}, nil }

func CopyConfig(c *Config) *Config { cp := *c; return &cp }

func AddUserAgent(c *Config, ua string) *Config { cp := *c; return &cp }

type RESTClient struct{}

func RESTClientFor(c *Config) (*RESTClient, error) { return &RESTClient{}, nil }

func (c *RESTClient) Get() *Request { return &Request{} }

type Request struct{}

type Result struct{}

func (r *Request) Namespace(ns string) *Request                      { return r }
func (r *Request) Resource(res string) *Request                      { return r }
func (r *Request) Timeout(d time.Duration) *Request                  { return r }
func (r *Request) Do(ctx context.Context) Result                     { return Result{} }
func (r *Request) VersionedParams(obj any, codec any) *Request       { return r }
func (r *Request) Watch(ctx context.Context) (any, error)            { return nil, nil }
func (r *Request) DoRaw(ctx context.Context) ([]byte, error)         { return nil, nil }
func (r *Request) SleepWithContext(ctx context.Context)              {}
func (r *Request) Stream(ctx context.Context) (io.ReadCloser, error) { return nil, nil }
