// Package kubex builds the configs and contexts package interkube uses.
package kubex

import (
	"context"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Config loads a kubeconfig and bounds every request.
func Config(path string) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, err
	}
	cfg.Timeout = 30 * time.Second
	return cfg, nil
}

// InCluster returns the in-cluster config as it is: no Timeout.
func InCluster() (*rest.Config, error) { return rest.InClusterConfig() }

// Background is a context nothing bounds.
func Background() context.Context { return context.Background() }

// Bounded is a context with a deadline.
func Bounded() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), time.Minute)
}
