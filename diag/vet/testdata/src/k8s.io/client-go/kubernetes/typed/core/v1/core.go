// Package v1 is a stub of k8s.io/client-go/kubernetes/typed/core/v1.
package v1

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

type Pod struct{ Name string }

type PodList struct{}

type WatchInterface interface{ Stop() }

type CoreV1Interface interface {
	Pods(namespace string) PodInterface
}

type PodInterface interface {
	Create(ctx context.Context, pod *Pod, opts metav1.CreateOptions) (*Pod, error)
	Get(ctx context.Context, name string, opts metav1.GetOptions) (*Pod, error)
	List(ctx context.Context, opts metav1.ListOptions) (*PodList, error)
	Watch(ctx context.Context, opts metav1.ListOptions) (WatchInterface, error)
	Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error
	GetLogs(name string, opts *PodLogOptions) *rest.Request
}

type PodLogOptions struct{ Follow bool }
