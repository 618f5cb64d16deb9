package httpserver

import (
	"net"
	"net/http"
	"time"
)

// An explicit zero is no timeout.
func explicitZero(l net.Listener, h http.Handler) {
	s := &http.Server{Handler: h, ReadHeaderTimeout: 0} // want `http.Server without ReadHeaderTimeout`
	s.Serve(l)
	later := &http.Server{Handler: h} // want `http.Server without ReadHeaderTimeout`
	later.ReadHeaderTimeout = 0
	later.Serve(l)
}

// tune sets other fields on the server it is given.
func tune(s *http.Server, n int) error {
	s.MaxHeaderBytes = n
	if s.TLSConfig == nil {
		s.IdleTimeout = time.Minute
	}
	return nil
}

// tuneMore hands the server on to tune.
func tuneMore(s *http.Server) { _ = tune(s, 1<<20) }

// bound sets the header timeout.
func bound(s *http.Server) { s.ReadHeaderTimeout = 10 * time.Second }

// boundThrough hands the server on to bound.
func boundThrough(s *http.Server) { bound(s) }

var kept *http.Server

// keep keeps the server: anything may be set on it later.
func keep(s *http.Server) { kept = s }

// serve returns a function that serves on s, as an errgroup wants.
func serve(s *http.Server, l net.Listener) func() error {
	return func() error { return s.Serve(l) }
}

func builtHereServedThere(l net.Listener, h http.Handler) {
	a := &http.Server{Handler: h} // want `http.Server without ReadHeaderTimeout`
	if err := tune(a, 4096); err != nil {
		return
	}
	go serve(a, l)()
	b := &http.Server{Handler: h} // want `http.Server without ReadHeaderTimeout`
	tuneMore(b)
	b.Serve(l)

	c := &http.Server{Handler: h}
	bound(c)
	c.Serve(l)
	d := &http.Server{Handler: h}
	boundThrough(d)
	d.Serve(l)
	e := &http.Server{Handler: h}
	keep(e)
}

type setter struct{ srv *http.Server }

// configure is a method of this package: it may set anything.
func (x *setter) configure(s *http.Server) { x.srv = s }

func throughMethod(l net.Listener, h http.Handler, x *setter) {
	s := &http.Server{Handler: h}
	x.configure(s)
	s.Serve(l)
}
