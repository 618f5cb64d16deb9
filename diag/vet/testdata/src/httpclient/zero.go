package httpclient

import (
	"net/http"
	"time"
)

// A Timeout of zero is no timeout.
func zeroTimeout(u string) {
	z := &http.Client{Timeout: 0} // want `http.Client without Timeout, used with Get`
	z.Get(u)
	d := &http.Client{Timeout: 0 * time.Second} // want `http.Client without Timeout, used with Get`
	d.Get(u)
	ok := &http.Client{Timeout: 0}
	ok.Timeout = 5 * time.Second
	ok.Get(u)
}
