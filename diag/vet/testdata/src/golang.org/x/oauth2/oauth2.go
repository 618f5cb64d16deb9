// Package oauth2 is a stub of golang.org/x/oauth2.
package oauth2

import (
	"context"
	"net/http"
)

type Token struct{ AccessToken string }

type TokenSource interface{ Token() (*Token, error) }

type contextKey struct{}

// HTTPClient is the context key for the client NewClient copies.
var HTTPClient contextKey

// NewClient copies the Timeout of the client ctx carries (none for a
// background context).
func NewClient(ctx context.Context, src TokenSource) *http.Client {
	c, _ := ctx.Value(HTTPClient).(*http.Client)
	return c
}
