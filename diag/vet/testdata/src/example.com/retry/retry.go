// Package retry runs a function again until it succeeds: a library
// that hands its caller's context to the function it is given.
package retry

import (
	"context"
	"time"
)

// Do runs op on ctx until it returns nil.
func Do(ctx context.Context, op func(ctx context.Context) error) error {
	for op(ctx) != nil {
	}
	return nil
}

// WithTimeout runs op under a deadline of its own.
func WithTimeout(ctx context.Context, d time.Duration, op func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return op(ctx)
}

// Poll runs cond until it is true or timeout passes.
func Poll(ctx context.Context, interval, timeout time.Duration, cond func(ctx context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		if ok, err := cond(ctx); ok || err != nil {
			return err
		}
	}
}
