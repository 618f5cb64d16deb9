// Package handed: http.Clients handed to another library, which sends
// requests on them where vet cannot follow.
package handed

import (
	"net/http"
	"time"

	"example.com/creds"
)

func providers() []any {
	return []any{
		&creds.IAM{
			Client: &http.Client{ // want `http.Client without Timeout, handed to field Client of creds.IAM at handed.go:\d+: unless that library gives each request a deadline of its own`
				Transport: http.DefaultTransport,
			},
		},
		&creds.IAM{Client: &http.Client{Timeout: 10 * time.Second}},
		creds.IAM{"http://169.254.169.254", &http.Client{}}, // want `http.Client without Timeout, handed to field Client of creds.IAM`
	}
}

func options() {
	hc := &http.Client{Transport: http.DefaultTransport} // want `http.Client without Timeout, handed to creds.WithHTTPClient at handed.go:\d+`
	creds.NewClient(creds.WithHTTPClient(hc))
	timed := &http.Client{Timeout: time.Minute}
	creds.NewClient(creds.WithHTTPClient(timed))
	later := &http.Client{}
	later.Timeout = 5 * time.Second
	creds.NewClient(creds.WithHTTPClient(later))
}

func assigned(cfg *creds.Config) {
	cfg.HTTPClient = &http.Client{} // want `http.Client without Timeout, handed to field HTTPClient of cfg at handed.go:\d+`
	cfg.Name = "x"
	cfg.HTTPClient = http.DefaultClient // want `http.DefaultClient has no Timeout`
}

// param is the caller's client: its caller's job.
func param(cfg *creds.Config, hc *http.Client) {
	cfg.HTTPClient = hc
	creds.WithHTTPClient(hc)
}

// own is a struct of the package: facts follow it.
type own struct{ client *http.Client }

func ownField() *own { return &own{client: &http.Client{}} }

// muxTransport hands each request to a handler in the process: nothing
// goes over a network.
type muxTransport struct {
	handler http.Handler
	closed  bool
}

func (t *muxTransport) RoundTrip(r *http.Request) (*http.Response, error) { return nil, nil }

// authTransport wraps another transport: its requests do go out.
type authTransport struct {
	base  http.RoundTripper
	token string
}

func (t *authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.base.RoundTrip(r)
}

func fakeClient(h http.Handler) *creds.Config {
	return creds.NewClient(creds.WithHTTPClient(&http.Client{Transport: &muxTransport{handler: h}}))
}

func authClient() *creds.Config {
	return creds.NewClient(creds.WithHTTPClient(&http.Client{Transport: &authTransport{base: http.DefaultTransport}})) // want `http.Client without Timeout, handed to creds.WithHTTPClient`
}
