// Package kubex builds the configs and contexts package interkube uses.
package kubex

import (
	"context"
	"time"

	"k8s.io/client-go/kubernetes"
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

// Clientset makes a clientset from a config with Timeout: every request
// on it is bounded.
func Clientset(path string) (*kubernetes.Clientset, error) {
	cfg, err := Config(path)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// Holder keeps such a clientset in a field.
type Holder struct{ CS *kubernetes.Clientset }

func NewHolder() *Holder {
	cs, _ := Clientset("")
	return &Holder{CS: cs}
}
