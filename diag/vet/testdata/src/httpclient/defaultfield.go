package httpclient

import (
	"context"
	"net/http"
	"time"
)

// A reporter keeps http.DefaultClient in a field, and every request it
// sends on it has a deadline: the Do calls are judged by their requests.
type reporter struct {
	c   *http.Client
	url string
}

func newReporter(u string) *reporter {
	return &reporter{c: http.DefaultClient, url: u}
}

func (r *reporter) report(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.url, nil)
	r.c.Do(req)
}

// A poller keeps it too, and sends on it with no deadline.
type poller struct{ c *http.Client }

func newPoller() *poller { return &poller{c: http.DefaultClient} }

func (p *poller) poll(u string) {
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	p.c.Do(req) // want `http.DefaultClient.Do with context.Background\(\)`
}

// A getter keeps it and calls Get on it: reported at the call.
type getter struct{ c *http.Client }

func newGetter() *getter { return &getter{c: http.DefaultClient} }

func (f *getter) get(u string) { f.c.Get(u) } // want `Get on http.DefaultClient, which has no Timeout`

// A holder hands its field on: what happens to it there is not
// followed, so the store is reported.
type holder struct{ c *http.Client }

func newHolder() *holder { return &holder{http.DefaultClient} } // want `http.DefaultClient has no Timeout`

func (h *holder) hand() { keep(h.c) }
