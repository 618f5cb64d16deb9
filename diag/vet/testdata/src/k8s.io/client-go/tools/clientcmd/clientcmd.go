// Package clientcmd is a stub of k8s.io/client-go/tools/clientcmd.
package clientcmd

import "k8s.io/client-go/rest"

func BuildConfigFromFlags(masterURL, kubeconfigPath string) (*rest.Config, error) {
	return &rest.Config{}, nil
}

type ClientConfig interface {
	ClientConfig() (*rest.Config, error)
}

func NewDefaultClientConfig() ClientConfig { return nil }
