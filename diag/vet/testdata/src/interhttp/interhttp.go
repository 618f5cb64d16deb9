package interhttp

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"interhttp/httpx"
)

// The false positive to avoid: a request without a context sent on a
// client that a helper built with Timeout.

func helperTimeout(u string) {
	c := httpx.New()
	req, _ := http.NewRequest("GET", u, nil)
	c.Do(req)
	c2, err := httpx.NewChecked(time.Second)
	if err != nil {
		return
	}
	req2, _ := http.NewRequest("GET", u, nil)
	c2.Do(req2)
	req3, _ := http.NewRequest("GET", u, nil)
	httpx.Later().Do(req3)
	req4, _ := http.NewRequest("GET", u, nil)
	httpx.Options{Timeout: time.Second}.Client().Do(req4)
	req5, _ := http.NewRequest("GET", u, nil)
	newTimed().Do(req5)
	var a app
	req6, _ := http.NewRequest("GET", u, nil)
	a.client().Do(req6)
	s := httpx.NewSafeAPI(u)
	req7, _ := http.NewRequest("GET", u, nil)
	s.Client.Do(req7)
}

func newTimed() *http.Client { return &http.Client{Timeout: time.Minute} }

type app struct{ hc *http.Client }

func (a *app) client() *http.Client {
	if a.hc == nil {
		a.hc = newTimed()
	}
	return a.hc
}

// Clients without Timeout that a helper built.

func helperBare(u string) {
	httpx.Bare().Get(u) // want `Get on an http.Client without Timeout \(built at httpx.go:\d+, returned by httpx.Bare\)`
	c, _ := newBare()
	req, _ := http.NewRequest("GET", u, nil) // want `http.NewRequest makes a request without a context`
	c.Do(req)
	a := httpx.NewAPI(u)
	a.Client.Head(u) // want `Head on an http.Client without Timeout \(built at httpx.go:\d+, returned by httpx.Bare, held in field API.Client\)`
}

func newBare() (*http.Client, error) {
	return &http.Client{}, nil // want `http.Client without Timeout: its Do at interhttp.go:\d+ runs with a request from http.NewRequest \(no context\)`
}

// A client stored through an unkeyed struct literal.

type fetcher struct {
	base   *url.URL
	client *http.Client
}

func newFetcher(u url.URL) *fetcher {
	client := &http.Client{} // want `http.Client without Timeout: its Do at interhttp.go:\d+ runs with context.Background\(\)`
	return &fetcher{&u, client}
}

func (f *fetcher) fetch() {
	req, _ := http.NewRequestWithContext(context.Background(), "GET", f.base.String(), nil)
	f.client.Do(req)
}

type timedFetcher struct {
	base   *url.URL
	client *http.Client
}

func newTimedFetcher(u url.URL) *timedFetcher { return &timedFetcher{&u, newTimed()} }

func (f *timedFetcher) fetch() {
	req, _ := http.NewRequest("GET", f.base.String(), nil)
	f.client.Do(req)
}

// A zero-value http.Client struct field.

type poller struct{ c http.Client }

func (p *poller) poll(u string) {
	p.c.Get(u) // want `Get on an http.Client without Timeout \(the zero http.Client in field poller.c \(interhttp.go:\d+\), never given Timeout\)`
}

func zeroForeign(z *httpx.Zero, u string) {
	z.HC.Get(u) // want `Get on an http.Client without Timeout \(the zero http.Client in field Zero.HC \(httpx.go:\d+\), never given Timeout\)`
}

type timedPoller struct{ c http.Client }

func newTimedPoller() *timedPoller {
	p := &timedPoller{}
	p.c.Timeout = 30 * time.Second
	return p
}

func (p *timedPoller) poll(u string) { p.c.Get(u) }

// A field assigned from a helper.

type service struct{ hc *http.Client }

func (s *service) init() { s.hc = newTimed() }

func (s *service) call(u string) {
	req, _ := http.NewRequest("GET", u, nil)
	s.hc.Do(req)
}

// A request built by a helper, or sent by one, on a client with Timeout.

type scaler struct{ client *http.Client }

func newScaler() *scaler { return &scaler{client: httpx.New()} }

func buildRequest(u string) (*http.Request, error) {
	return http.NewRequest("GET", u, nil) // its only caller sends it on a client with Timeout
}

func (s *scaler) get(u string) {
	req, err := buildRequest(u)
	if err != nil {
		return
	}
	s.client.Do(req)
}

func (s *scaler) post(u string) {
	req, _ := http.NewRequest("POST", u, nil) // sent by run, on a client with Timeout
	s.run(req, "post")
}

func (s *scaler) run(req *http.Request, caller string) {
	s.client.Do(req)
}

// The same on a client nothing is known of: reported.

type rawScaler struct{ client *http.Client }

func buildRaw(u string) (*http.Request, error) {
	return http.NewRequest("GET", u, nil) // want `http.NewRequest makes a request without a context`
}

func (s *rawScaler) get(u string) {
	req, _ := buildRaw(u)
	s.client.Do(req)
}

func (s *rawScaler) post(u string) {
	req, _ := http.NewRequest("POST", u, nil) // want `http.NewRequest makes a request without a context`
	s.run(req)
}

func (s *rawScaler) run(req *http.Request) { s.client.Do(req) }

// A client with Timeout also stored in a field that elsewhere holds one
// without: the client itself is still bounded.
func storeTimed(a *httpx.API, u string) {
	c := httpx.New()
	a.Client = c
	req, _ := http.NewRequest("GET", u, nil)
	c.Do(req)
}
