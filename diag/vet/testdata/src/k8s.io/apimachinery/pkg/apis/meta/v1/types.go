// Package v1 is a stub of k8s.io/apimachinery/pkg/apis/meta/v1 for the
// analyzers' tests.
package v1

type ListOptions struct {
	LabelSelector  string
	TimeoutSeconds *int64
}

type GetOptions struct{}

type CreateOptions struct{}

type DeleteOptions struct{}
