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

// withDelay keeps the parent's values but not its cancellation, and ends
// 3 s after the parent does, by a goroutine's timer.
func withDelay(parent context.Context) (context.Context, context.CancelCauseFunc) {
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(parent))
	go func() {
		select {
		case <-ctx.Done():
		case <-parent.Done():
			t := time.NewTimer(3 * time.Second)
			defer t.Stop()
			select {
			case <-ctx.Done():
			case <-t.C:
				cancel(context.DeadlineExceeded)
			}
		}
	}()
	return ctx, cancel
}

func stopAfterDelay(ctx context.Context, srv *http.Server) {
	<-ctx.Done()
	sctx, cancel := withDelay(ctx)
	defer cancel(nil)
	srv.Shutdown(sctx)
}

// withoutParent ends only when a signal's goroutine cancels it: no timer.
func withoutParent(parent context.Context, sig <-chan struct{}) context.Context {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	go func() {
		<-sig
		cancel()
	}()
	return ctx
}

func stopOnSignal(ctx context.Context, srv *http.Server, sig <-chan struct{}) {
	srv.Shutdown(withoutParent(ctx, sig)) // want `http.Server.Shutdown with context.WithoutCancel`
}
