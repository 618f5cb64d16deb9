package httpclient

import (
	"context"
	"net/http"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"golang.org/x/oauth2"
)

// go-cleanhttp's clients have no Timeout.
func cleanClients(ctx context.Context, u string) {
	c := cleanhttp.DefaultClient() // want `http.Client without Timeout, used with Get at makers.go:15`
	c.Get(u)

	p := cleanhttp.DefaultPooledClient() // want `http.Client without Timeout: its Do at makers.go:19 runs with context.Background\(\)`
	req, _ := http.NewRequestWithContext(context.Background(), "GET", u, nil)
	p.Do(req)

	t := cleanhttp.DefaultPooledClient()
	t.Timeout = 10 * time.Second
	t.Get(u)

	w := &http.Client{Transport: cleanhttp.DefaultTransport(), Timeout: time.Minute}
	w.Get(u)
}

// golang.org/x/oauth2's client has the Timeout of the client its
// context carries: none for a background context.
func oauthClients(ctx context.Context, ts oauth2.TokenSource, u string) {
	c := oauth2.NewClient(context.Background(), ts) // want `http.Client without Timeout, used with Get at makers.go:\d+`
	c.Get(u)
	carried := oauth2.NewClient(ctx, ts) // the caller's context may carry a timed client
	carried.Get(u)
}
