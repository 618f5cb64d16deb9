// Package spdy is a stub of k8s.io/client-go/transport/spdy.
package spdy

import (
	"net/http"
	"net/url"

	"k8s.io/client-go/rest"
)

type Upgrader interface{}

func RoundTripperFor(c *rest.Config) (http.RoundTripper, Upgrader, error) { return nil, nil, nil }

type dialer struct{ client *http.Client }

func (d *dialer) Dial(protocols ...string) error { return nil }

func NewDialer(upgrader Upgrader, client *http.Client, method string, u *url.URL) *dialer {
	return &dialer{client: client}
}
