// Package types is a stub of containers/image's types, for diag vet's
// tests: a reference, an image source and destination, which talk to a
// registry on the context they are given.
package types

import "context"

type SystemContext struct{ DockerAuthConfig any }

type Image interface {
	Manifest(ctx context.Context) ([]byte, string, error)
}

type ImageSource interface {
	GetManifest(ctx context.Context, instance *string) ([]byte, string, error)
	Close() error
}

type ImageDestination interface {
	PutManifest(ctx context.Context, m []byte, instance *string) error
	Close() error
}

type ImageReference interface {
	StringWithinTransport() string
	NewImage(ctx context.Context, sys *SystemContext) (Image, error)
	NewImageSource(ctx context.Context, sys *SystemContext) (ImageSource, error)
	NewImageDestination(ctx context.Context, sys *SystemContext) (ImageDestination, error)
	DeleteImage(ctx context.Context, sys *SystemContext) error
}
