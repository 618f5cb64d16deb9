package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vigilhq/vigil/diag/watchdog"
	"github.com/vigilhq/vigil/diag/wiretrace"
	"github.com/vigilhq/vigil/executor/kube"
	"github.com/vigilhq/vigil/executor/kube/kubetest"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

// TestParamsRedactedLikeEnv starts a try with params through the kube
// executor on the real test apiserver, its client traced in bodies mode:
// the pod gets the params as VIGIL_PARAM_<NAME> and VIGIL_CONF, and, as
// every env value (issue 16), their values are withheld from the wire
// trace, the log and a diagnostic bundle while their names stay.
func TestParamsRedactedLikeEnv(t *testing.T) {
	rc := kubetest.Config(t, "KUBECONFIG")
	var logs syncBuffer
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(&logs), zap.DebugLevel))
	cfg := defaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Debug.RuntimeDir = filepath.Join(t.TempDir(), "run")
	cfg.Debug.WireTrace = "bodies"
	cfg.Debug.BundleProfile = 200 * time.Millisecond
	in, err := newInstruments(cfg, "params-redaction-test", log, zap.NewAtomicLevel(), watchdog.New(watchdog.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	defer in.close()
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return in.tracer.Wrap(rt, wiretrace.WithName("kube"), wiretrace.WithClientTimeout(rc.Timeout))
	})
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	plain := kubetest.Client(t)
	ns := kubetest.Namespace(t, plain)
	ex, err := kube.New(cs, kube.Options{Namespace: ns, DefaultImage: "busybox:1.36", Instance: "params-test", StoreID: "params-test", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	value := fmt.Sprintf("param-value-%x", time.Now().UnixNano())
	tr := scheduler.Try{
		Key:    scheduler.TryKey{TaskKey: scheduler.TaskKey{DAGID: "p", RunID: "manual__1", TaskID: "x"}, Try: 1},
		Spec:   dag.TaskSpec{Command: []string{"true"}},
		Params: dag.Values{"api-token": dag.String(value)},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ex.Start(ctx, tr); err != nil {
		t.Fatal(err)
	}
	pod, err := plain.CoreV1().Pods(ns).Get(ctx, kube.PodName(tr.Key), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, e := range pod.Spec.Containers[0].Env {
		env[e.Name] = e.Value
	}
	if env["VIGIL_PARAM_API_TOKEN"] != value || env["VIGIL_CONF"] != `{"api-token":"`+value+`"}` {
		t.Fatalf("pod env = %v, want VIGIL_PARAM_API_TOKEN and VIGIL_CONF to hold the param", env)
	}

	info, err := in.bundles.Write(ctx, "params-redaction-test")
	if err != nil {
		t.Fatal(err)
	}
	haystacks := map[string]string{"log": logs.String()}
	for name, body := range untar(t, info.Path) {
		haystacks["bundle "+name] = body
	}
	created := false
	for _, x := range in.tracer.Entries(0, 0) {
		body := x.URL + x.ReqBody + x.RespBody + x.Err + headerText(x.ReqHeaders) + headerText(x.RespHeaders)
		haystacks["trace "+x.Method+" "+x.URL] = body
		created = created || x.Method == http.MethodPost && strings.Contains(x.ReqBody, "VIGIL_PARAM_API_TOKEN")
	}
	if !created {
		t.Fatal("the wire trace has no pod create naming VIGIL_PARAM_API_TOKEN, so this test cannot see a leak")
	}
	for where, hay := range haystacks {
		if strings.Contains(hay, value) {
			t.Errorf("the param's value is in %s", where)
		}
	}
}
