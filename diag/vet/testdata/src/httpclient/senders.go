package httpclient

import (
	"net/http"
	"net/url"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/transport/spdy"
)

// portForward hands client-go's SPDY dialer a client it will send the
// upgrade request on with no context.
func portForward(cfg *rest.Config, u *url.URL) {
	rt, up, _ := spdy.RoundTripperFor(cfg)
	d := spdy.NewDialer(up, &http.Client{Transport: rt}, "POST", u) // want `http.Client without Timeout, handed to spdy.NewDialer at senders.go:16: its Dial sends the connection-upgrade request \(port-forward, exec, attach\) without a context`
	d.Dial("portforward.k8s.io")

	hc := &http.Client{Transport: rt} // want `http.Client without Timeout, handed to spdy.NewDialer at senders.go:20`
	spdy.NewDialer(up, hc, "POST", u)

	timed := &http.Client{Transport: rt, Timeout: 30 * time.Second}
	spdy.NewDialer(up, timed, "POST", u)
}

// dialerFor takes its client from the caller: the caller's job.
func dialerFor(up spdy.Upgrader, hc *http.Client, u *url.URL) {
	spdy.NewDialer(up, hc, "POST", u)
}
