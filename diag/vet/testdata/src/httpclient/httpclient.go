package httpclient

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

func helpers(u string) {
	http.Get(u)                                        // want `http.Get uses http.DefaultClient, which has no Timeout: a server that accepts the connection and never answers blocks it forever`
	http.Head(u)                                       // want `http.Head uses http.DefaultClient`
	http.Post(u, "text/plain", strings.NewReader("x")) // want `http.Post uses`
	http.PostForm(u, url.Values{})                     // want `http.PostForm uses`
}

func defaultClient(ctx context.Context, u string) {
	c := http.DefaultClient
	c.Get(u)                  // want `Get on http.DefaultClient, which has no Timeout`
	http.DefaultClient.Get(u) // want `http.DefaultClient has no Timeout`
	keep(http.DefaultClient)  // want `http.DefaultClient has no Timeout`
	req, _ := http.NewRequestWithContext(context.Background(), "GET", u, nil)
	http.DefaultClient.Do(req) // want `http.DefaultClient.Do with context.Background\(\): http.DefaultClient has no Timeout`
	tctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req2, _ := http.NewRequestWithContext(tctx, "GET", u, nil)
	http.DefaultClient.Do(req2)
	req3, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
	http.DefaultClient.Do(req3)      // the caller's job
	http.DefaultClient.Do(unknown()) // a request from elsewhere: assumed bounded
}

func unknown() *http.Request { return nil }

func keep(*http.Client) {}

func setDefault() {
	http.DefaultClient = &http.Client{Timeout: time.Second}
	http.DefaultClient.Timeout = time.Second
}

func newRequest(u string, c *http.Client) (*http.Request, error) {
	req, _ := http.NewRequest("GET", u, nil) // want `http.NewRequest makes a request without a context`
	c.Do(req)
	proxy, _ := http.NewRequest("GET", u, nil) // only inspected, never sent
	_ = proxy.URL.Host
	ctxReq, _ := http.NewRequest("GET", u, nil) // sent with a context
	ctxReq = ctxReq.WithContext(context.TODO())
	c.Do(ctxReq)
	timed := &http.Client{Timeout: time.Minute}
	bounded, _ := http.NewRequest("GET", u, nil) // the client's Timeout bounds it
	timed.Do(bounded)
	return http.NewRequest("GET", u, nil) // want `http.NewRequest makes`
}

func literals(u string, body io.Reader) {
	c := &http.Client{} // want `http.Client without Timeout, used with Get at httpclient.go:\d+: a server that accepts the connection and never answers blocks it forever; set Timeout`
	c.Get(u)
	var zero http.Client // want `http.Client without Timeout, used with Post`
	zero.Post(u, "text/plain", body)
	n := new(http.Client) // want `http.Client without Timeout, used with Head`
	n.Head(u)
	ok := &http.Client{Timeout: 10 * time.Second}
	ok.Get(u)
	late := &http.Client{}
	late.Timeout = 5 * time.Second
	late.Get(u)
	unused := &http.Client{} // never used: nothing to say
	_ = unused
}

func do(u string) {
	c := &http.Client{}                      // want `http.Client without Timeout: its Do at httpclient.go:\d+ runs with a request from http.NewRequest \(no context\)`
	req, _ := http.NewRequest("GET", u, nil) // want `http.NewRequest makes`
	c.Do(req)
	c2 := &http.Client{} // want `its Do at httpclient.go:\d+ runs with context.Background\(\)`
	req2, _ := http.NewRequestWithContext(context.Background(), "GET", u, nil)
	c2.Do(req2)
	c3 := &http.Client{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req3, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
	c3.Do(req3)
}

type fetcher struct{ client *http.Client }

func newFetcher() *fetcher {
	return &fetcher{client: &http.Client{}} // want `http.Client without Timeout: its Do at httpclient.go:\d+ runs with context.TODO`
}

func (f *fetcher) fetch(u string) {
	req, _ := http.NewRequestWithContext(context.TODO(), "GET", u, nil)
	f.client.Do(req)
}

// The request's context comes from the caller.

type api struct{ hc *http.Client }

func newAPI() *api { return &api{hc: &http.Client{}} }

func (a *api) call(ctx context.Context, u string) {
	req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
	a.hc.Do(req)
}

func useAPI(a *api) {
	a.call(context.Background(), "u") // want `context.Background\(\) passed to api.call reaches Do on an http.Client without Timeout \(httpclient.go:\d+\) at httpclient.go:\d+ with no deadline`
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	a.call(ctx, "u")
}

func suppressed(u string) {
	http.Get(u) //diag:ignore a test server on loopback, bounded by the test's timeout
}
