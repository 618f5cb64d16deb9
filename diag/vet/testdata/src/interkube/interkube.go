package interkube

import (
	"context"
	"time"

	"interkube/kubex"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// A config a helper built with Timeout bounds its client's calls.
func timedHelper() {
	cfg, err := kubex.Config("")
	if err != nil {
		return
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	cs.CoreV1().Pods("ns").Get(context.TODO(), "p", metav1.GetOptions{})
	cs2 := kubernetes.NewForConfigOrDie(localTimed())
	cs2.CoreV1().Pods("ns").Get(context.TODO(), "p", metav1.GetOptions{})
}

func localTimed() *rest.Config {
	return &rest.Config{Host: "https://k8s", Timeout: time.Minute}
}

// A config a helper built without Timeout.
func untimedHelper() {
	cfg, _ := kubex.InCluster()
	kubernetes.NewForConfigOrDie(cfg)            // want `rest.Config from kubex.InCluster\(\) \(interkube.go:\d+\) has no Timeout and goes to kubernetes.NewForConfigOrDie: a request on a dead connection blocks for ~15 minutes unless its context has a deadline; set the config's Timeout`
	kubernetes.NewForConfigOrDie(localUntimed()) // want `rest.Config from interkube.localUntimed\(\) \(interkube.go:\d+\) has no Timeout`
}

func localUntimed() *rest.Config {
	cfg, _ := rest.InClusterConfig()
	return cfg
}

// Contexts from helpers.
func contexts(cs kubernetes.Interface) {
	cs.CoreV1().Pods("ns").Get(kubex.Background(), "p", metav1.GetOptions{}) // want `client-go call Get with context.Background\(\) \(returned by kubex.Background\)`
	cs.CoreV1().Pods("ns").Get(background(), "p", metav1.GetOptions{})       // want `client-go call Get with context.TODO\(\) \(returned by interkube.background\)`
	ctx, cancel := kubex.Bounded()
	defer cancel()
	cs.CoreV1().Pods("ns").Get(ctx, "p", metav1.GetOptions{})
	cs.CoreV1().Pods("ns").Get(derived(ctx), "p", metav1.GetOptions{})
}

func background() context.Context { return context.TODO() }

func derived(parent context.Context) context.Context {
	ctx, _ := context.WithCancel(parent) //nolint:govet // the test needs the leak
	return ctx
}

// Clientsets a helper made from a config with Timeout.
func clientsets() {
	cs, err := kubex.Clientset("")
	if err != nil {
		return
	}
	cs.CoreV1().Pods("ns").Get(context.TODO(), "p", metav1.GetOptions{})
	kubex.NewHolder().CS.CoreV1().Pods("ns").Get(context.TODO(), "p", metav1.GetOptions{})
	local().CoreV1().Pods("ns").Get(context.TODO(), "p", metav1.GetOptions{})
	bare().CoreV1().Pods("ns").Get(context.TODO(), "p", metav1.GetOptions{}) // want `client-go call Get with context.TODO\(\)`
}

func local() *kubernetes.Clientset { return kubernetes.NewForConfigOrDie(localTimed()) }

func bare() *kubernetes.Clientset {
	cfg, _ := kubex.InCluster()
	return kubernetes.NewForConfigOrDie(cfg) // want `rest.Config from kubex.InCluster\(\)`
}
