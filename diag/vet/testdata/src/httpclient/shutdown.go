package httpclient

import (
	"context"
	"net/http"
	"time"
)

// Shutdown waits as long as its context lets it.
func stop(srv *http.Server) {
	srv.Shutdown(context.Background()) // want `http.Server.Shutdown with context.Background\(\): Shutdown waits for every active connection to go idle, forever if a request never finishes .*; pass a context with a deadline, and Close the server when it expires`
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if srv.Shutdown(ctx) != nil {
		srv.Close()
	}
}

func drain(ctx context.Context, srv *http.Server) error { return srv.Shutdown(ctx) }

func onSignal(srv *http.Server) {
	drain(context.TODO(), srv) // want `context.TODO\(\) passed to drain reaches http.Server.Shutdown at shutdown.go:\d+ with no deadline`
}
