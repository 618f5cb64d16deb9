// Package wait is a stub of k8s.io/apimachinery/pkg/util/wait.
package wait

import (
	"context"
	"time"
)

var NeverStop <-chan struct{} = make(chan struct{})

type ConditionWithContextFunc func(context.Context) (bool, error)

func PollUntilContextCancel(ctx context.Context, interval time.Duration, immediate bool, condition ConditionWithContextFunc) error {
	return nil
}

func PollUntilContextTimeout(ctx context.Context, interval, timeout time.Duration, immediate bool, condition ConditionWithContextFunc) error {
	return nil
}

func Until(f func(), period time.Duration, stopCh <-chan struct{}) {}

func UntilWithContext(ctx context.Context, f func(context.Context), period time.Duration) {}
