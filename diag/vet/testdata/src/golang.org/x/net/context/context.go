// Package context stands in for golang.org/x/net/context, which older
// code imports and which forwards to the standard library's.
package context

import (
	"context"
	"time"
)

type Context = context.Context

func Background() Context { return context.Background() }

func TODO() Context { return context.TODO() }

func WithTimeout(parent Context, d time.Duration) (Context, context.CancelFunc) {
	return context.WithTimeout(parent, d)
}
