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

// ServerGroupsInterface has no WithContext form here, as in older
// client-go releases.
type ServerGroupsInterface interface {
	ServerGroups() (*APIGroupList, error)
}

type APIGroupList struct{ Groups []string }

type DiscoveryInterface interface {
	ServerVersionInterface
	ServerGroupsInterface
	RESTClient() any
}
