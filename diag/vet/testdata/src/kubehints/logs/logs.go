// Package logs follows pods' logs: long-lived streams a config Timeout
// would cut.
package logs

import (
	"context"
	"io"

	"k8s.io/client-go/kubernetes"
	corev1 "k8s.io/client-go/kubernetes/typed/core/v1"
)

// Tail follows a pod's log until ctx ends.
func Tail(ctx context.Context, cs kubernetes.Interface, pod string) (io.ReadCloser, error) {
	return cs.CoreV1().Pods("ns").GetLogs(pod, &corev1.PodLogOptions{Follow: true}).Stream(ctx)
}
