// Package cache is a stub of k8s.io/client-go/tools/cache.
package cache

import "context"

type InformerSynced func() bool

func WaitForCacheSync(stopCh <-chan struct{}, cacheSyncs ...InformerSynced) bool { return true }

func WaitForNamedCacheSync(controllerName string, stopCh <-chan struct{}, cacheSyncs ...InformerSynced) bool {
	return true
}

func WaitForNamedCacheSyncWithContext(ctx context.Context, cacheSyncs ...InformerSynced) bool {
	return true
}

type SharedIndexInformer interface {
	RunWithContext(ctx context.Context)
	HasSynced() bool
}
