package httpclient

import (
	"context"
	"net/http"
	"time"

	"github.com/hashicorp/go-cleanhttp"
)

// go-cleanhttp's clients have no Timeout.
func cleanClients(ctx context.Context, u string) {
	c := cleanhttp.DefaultClient() // want `http.Client without Timeout, used with Get at makers.go:14`
	c.Get(u)

	p := cleanhttp.DefaultPooledClient() // want `http.Client without Timeout: its Do at makers.go:18 runs with context.Background\(\)`
	req, _ := http.NewRequestWithContext(context.Background(), "GET", u, nil)
	p.Do(req)

	t := cleanhttp.DefaultPooledClient()
	t.Timeout = 10 * time.Second
	t.Get(u)

	w := &http.Client{Transport: cleanhttp.DefaultTransport(), Timeout: time.Minute}
	w.Get(u)
}
