package httpserver

import (
	"net"
	"net/http"
	"testing"
)

// StartProxy is a test helper outside a _test.go file: it takes a
// *testing.T, so go test's -timeout bounds it, as in a test file.
func StartProxy(t *testing.T, h http.Handler) string {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// startBench is the same for a benchmark, through testing.TB.
func startBench(tb testing.TB, h http.Handler) {
	srv := &http.Server{Handler: h}
	go func() { srv.ListenAndServe() }()
	tb.Cleanup(func() { srv.Close() })
}
