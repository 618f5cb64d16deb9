package kube_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vigilhq/vigil/executor/executortest"
	"github.com/vigilhq/vigil/executor/kube"
	"github.com/vigilhq/vigil/executor/kube/kubetest"
	"github.com/vigilhq/vigil/scheduler"
)

// The executor contract suite on the real test control plane. KWOK runs
// no commands, so the harness's pod mutator turns the suite's commands
// into the KWOK annotations that act them out.

// contractExecutor hides the log reader (KWOK serves no logs here) and
// counts runs by the pods that exist for a try.
type contractExecutor struct {
	scheduler.Executor
	cs kubernetes.Interface
	ns string
}

func (c contractExecutor) Runs(k scheduler.TryKey) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.cs.CoreV1().Pods(c.ns).Get(ctx, kube.PodName(k), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return 0
	}
	return 1
}

// actOut maps a command of the suite to KWOK annotations.
func actOut(pod *corev1.Pod, t scheduler.Try) {
	a := pod.Annotations
	argv := t.Spec.Command
	script := strings.Join(argv, " ")
	switch {
	case len(argv) == 1 && argv[0] == "true":
		a["sim.kwok.local/run-duration"] = "0s"
	case len(argv) == 1 && argv[0] == "false":
		a["sim.kwok.local/outcome"], a["sim.kwok.local/exit-code"], a["sim.kwok.local/run-duration"] = "failed", "1", "0s"
	case len(argv) == 3 && argv[0] == "sh" && strings.HasPrefix(argv[2], "exit "):
		a["sim.kwok.local/outcome"], a["sim.kwok.local/exit-code"], a["sim.kwok.local/run-duration"] = "failed", strings.TrimPrefix(argv[2], "exit "), "0s"
	case len(argv) == 2 && argv[0] == "sleep":
		a["sim.kwok.local/run-duration"] = argv[1] + "s"
	case strings.Contains(script, "sleep "):
		secs := script[strings.LastIndex(script, "sleep ")+len("sleep "):]
		secs = strings.Fields(secs)[0]
		if _, err := strconv.ParseFloat(secs, 64); err == nil {
			a["sim.kwok.local/run-duration"] = secs + "s"
		}
	}
	a["sim.kwok.local/start-delay"] = "0s"
}

func TestContract(t *testing.T) {
	cs := kubetest.Client(t)
	namespaces := map[string]string{} // test name → namespace, for Reopen
	newExec := func(t *testing.T) scheduler.Executor {
		ns, ok := namespaces[t.Name()]
		if !ok {
			ns = kubetest.Namespace(t, cs)
			namespaces[t.Name()] = ns
		}
		ex, err := kube.New(cs, kube.Options{Namespace: ns, DefaultImage: "busybox:1.36", Instance: "contract",
			Mutate: actOut, Logger: zaptest.NewLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		return contractExecutor{Executor: ex, cs: cs, ns: ns}
	}
	executortest.Run(t, executortest.Harness{New: newExec, Reopen: newExec})
}
