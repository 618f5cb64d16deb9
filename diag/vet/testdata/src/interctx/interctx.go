package interctx

import (
	"context"
	"time"

	"interctx/alerts"
	"interctx/notify"
)

func fire(n *alerts.Notifier, h *notify.Hook) {
	n.Notify(context.Background(), "down") // want `context.Background\(\) passed to alerts.Notifier.Notify reaches Do on an http.Client without Timeout \(notify.go:\d+\) at notify/notify.go:\d+ \(through alerts.Notifier.Notify, notify.Hook.Send\) with no deadline`
	h.Send(context.TODO(), "u")            // want `context.TODO\(\) passed to notify.Hook.Send reaches Do on an http.Client without Timeout`
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n.Notify(ctx, "bounded")
	alerts.Check(context.Background(), "u")
}

// relay passes its caller's context on: its callers are judged.
func relay(ctx context.Context, n *alerts.Notifier) error { return n.Notify(ctx, "relayed") }

func fireRelay(n *alerts.Notifier) {
	relay(context.Background(), n) // want `context.Background\(\) passed to relay reaches Do on an http.Client without Timeout \(notify.go:\d+\) at notify/notify.go:\d+ \(through alerts.Notifier.Notify, notify.Hook.Send\)`
}
