// Package notify sends messages on an http.Client without Timeout, under
// the context its callers give.
package notify

import (
	"context"
	"net/http"
	"time"
)

type Hook struct{ c *http.Client }

func NewHook() *Hook { return &Hook{c: &http.Client{}} }

// Send waits as long as ctx lets it.
func (h *Hook) Send(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return err
	}
	resp, err := h.c.Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// Timed sends on a client with Timeout: ctx need not bound it.
func Timed(ctx context.Context, u string) error {
	c := &http.Client{Timeout: 10 * time.Second}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}
