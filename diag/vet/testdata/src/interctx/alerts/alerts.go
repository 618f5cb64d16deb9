// Package alerts hands its context down to notify.
package alerts

import (
	"context"

	"interctx/notify"
)

type Notifier struct{ hook *notify.Hook }

func New() *Notifier { return &Notifier{hook: notify.NewHook()} }

func (n *Notifier) Notify(ctx context.Context, msg string) error {
	return n.hook.Send(ctx, msg)
}

// Check reaches only a client with Timeout.
func Check(ctx context.Context, u string) error { return notify.Timed(ctx, u) }
