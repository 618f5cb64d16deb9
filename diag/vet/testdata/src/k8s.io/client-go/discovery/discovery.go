// Package discovery is a stub of k8s.io/client-go/discovery.
package discovery

import "context"

type Info struct{ GitVersion string }

type ServerVersionInterface interface {
	ServerVersion() (*Info, error)
}

type ServerVersionInterfaceWithContext interface {
	ServerVersionWithContext(ctx context.Context) (*Info, error)
}

type DiscoveryInterface interface {
	ServerVersionInterface
	RESTClient() any
}
