package httpserver

import (
	"net"
	"net/http"
	"time"
)

func servers(l net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h} // want `http.Server without ReadHeaderTimeout: a client that opens a connection and never finishes its request headers holds it, and a goroutine, forever; set ReadHeaderTimeout`
	srv.Serve(l)
	ok := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	ok.Serve(l)
	rt := &http.Server{ReadTimeout: time.Minute}
	_ = rt
	late := &http.Server{}
	late.ReadHeaderTimeout = time.Second
	var zero http.Server // want `http.Server without ReadHeaderTimeout`
	_ = zero
	n := new(http.Server) // want `http.Server without ReadHeaderTimeout`
	_ = n
	http.ListenAndServe(":8080", h)              // want `http.ListenAndServe serves with no timeouts`
	http.Serve(l, h)                             // want `http.Serve serves with no timeouts`
	http.ServeTLS(l, h, "c", "k")                // want `http.ServeTLS serves`
	http.ListenAndServeTLS(":8443", "c", "k", h) // want `http.ListenAndServeTLS serves`
}

type app struct{ srv *http.Server }

func newApp(h http.Handler) *app {
	a := &app{srv: &http.Server{Handler: h}}
	a.srv.ReadHeaderTimeout = time.Second
	return a
}

func suppressed(h http.Handler) *http.Server {
	return &http.Server{Handler: h} //diag:ignore served only on a unix socket only the owner can open
}
