// Package informers is a stub of k8s.io/client-go/informers.
package informers

import "context"

type SharedInformerFactory interface {
	Start(stopCh <-chan struct{})
	WaitForCacheSync(stopCh <-chan struct{}) map[string]bool
	WaitForCacheSyncWithContext(ctx context.Context) bool
}
