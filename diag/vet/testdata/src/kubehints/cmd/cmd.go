// Package cmd builds the client package logs streams on.
package cmd

import (
	"context"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"kubehints/logs"
)

func Run(ctx context.Context) error { // want Run:"param 0 reaches client-go Stream"
	cfg, err := clientcmd.BuildConfigFromFlags("", "")
	if err != nil {
		return err
	}
	cs := kubernetes.NewForConfigOrDie(cfg) // want `rest.Config from clientcmd.BuildConfigFromFlags\(\) \(cmd.go:\d+\) has no Timeout and goes to kubernetes.NewForConfigOrDie: .*; give each request a context with a deadline, or make a second config with Timeout for the short calls: this program also opens a long-lived watch or stream \(logs.go:\d+ in package logs\), which the config's Timeout would cut`
	_, err = logs.Tail(ctx, cs, "p")
	return err
}
