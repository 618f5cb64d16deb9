package main

import (
	"fmt"
	"net/http"
	"os"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/vigilhq/vigil/diag/wiretrace"
	"github.com/vigilhq/vigil/executor/kube"
)

// kubeConfig is the `kube:` section of the config file: how `vigil run
// --executor=kubernetes` reaches the cluster and shapes its pods.
type kubeConfig struct {
	Kubeconfig      string        `yaml:"kubeconfig"`
	Context         string        `yaml:"context"`
	Namespace       string        `yaml:"namespace"`
	DefaultImage    string        `yaml:"default_image"`
	PodTemplate     string        `yaml:"pod_template"`
	ServiceAccount  string        `yaml:"service_account"`
	QPS             float32       `yaml:"qps"`
	Burst           int           `yaml:"burst"`
	RequestTimeout  time.Duration `yaml:"request_timeout"`
	PendingTimeout  time.Duration `yaml:"pending_timeout"`
	DeleteSucceeded bool          `yaml:"delete_succeeded"`
	KeepFailed      time.Duration `yaml:"keep_failed"`
}

func defaultKubeConfig() kubeConfig {
	return kubeConfig{
		Namespace: "default",
		// client-go's own 5 QPS / 10 burst would cap a scheduler at about
		// five pods a second.
		QPS:            50,
		Burst:          100,
		RequestTimeout: 30 * time.Second,
		PendingTimeout: 10 * time.Minute,
		KeepFailed:     time.Hour,
	}
}

// newKubeExecutor builds the Kubernetes executor: a kubeconfig (flag, then
// $KUBECONFIG, then ~/.kube/config) or the in-cluster config, with a
// timeout on every request as a backstop to the executor's per-call
// deadlines.
func newKubeExecutor(kc kubeConfig, instance, storeID string, log *zap.Logger, beat, watchBeat func(), tracer *wiretrace.Tracer) (*kube.Executor, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kc.Kubeconfig
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: kc.Context})
	rc, err := loader.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubernetes client config: %w (pass --kubeconfig, set KUBECONFIG, or run in a cluster)", err)
	}
	rc.Timeout = kc.RequestTimeout
	rc.QPS, rc.Burst = kc.QPS, kc.Burst
	rc.UserAgent = "vigil/" + instance
	// Every API call goes through the wire tracer and the in-flight
	// registry; client-go enforces rc.Timeout outside the request's
	// context, so the tracer is told it is the deadline.
	if tracer != nil {
		timeout := rc.Timeout
		rc.Wrap(func(rt http.RoundTripper) http.RoundTripper {
			return tracer.Wrap(rt, wiretrace.WithName("kube"), wiretrace.WithClientTimeout(timeout))
		})
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	var tmpl *corev1.Pod
	if kc.PodTemplate != "" {
		data, err := os.ReadFile(kc.PodTemplate)
		if err != nil {
			return nil, fmt.Errorf("pod template: %w", err)
		}
		tmpl = &corev1.Pod{}
		if err := yaml.UnmarshalStrict(data, tmpl); err != nil {
			return nil, fmt.Errorf("pod template %s: %w (it must be a Pod manifest)", kc.PodTemplate, err)
		}
	}
	return kube.New(cs, kube.Options{
		Namespace:       kc.Namespace,
		Template:        tmpl,
		ServiceAccount:  kc.ServiceAccount,
		DefaultImage:    kc.DefaultImage,
		Instance:        instance,
		StoreID:         storeID,
		PendingTimeout:  kc.PendingTimeout,
		DeleteSucceeded: kc.DeleteSucceeded,
		KeepFailed:      kc.KeepFailed,
		Logger:          log,
		Beat:            beat,
		WatchBeat:       watchBeat,
	})
}
