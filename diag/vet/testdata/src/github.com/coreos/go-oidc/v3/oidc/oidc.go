// Package oidc stands in for go-oidc.
package oidc

import "context"

type Provider struct{}

func NewProvider(ctx context.Context, issuer string) (*Provider, error) { return nil, nil }
