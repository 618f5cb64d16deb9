// Package kubernetes is a stub of k8s.io/client-go/kubernetes.
package kubernetes

import (
	"k8s.io/client-go/discovery"
	corev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
)

type Interface interface {
	CoreV1() corev1.CoreV1Interface
	Discovery() discovery.DiscoveryInterface
}

type Clientset struct{}

func (c *Clientset) CoreV1() corev1.CoreV1Interface          { return nil }
func (c *Clientset) Discovery() discovery.DiscoveryInterface { return nil }

func NewForConfig(c *rest.Config) (*Clientset, error) { return &Clientset{}, nil }

func NewForConfigOrDie(c *rest.Config) *Clientset { return &Clientset{} }
