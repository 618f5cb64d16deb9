package main

import (
	"context"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vigilhq/vigil/diag/watchdog"
	"github.com/vigilhq/vigil/diag/wiretrace"
	"github.com/vigilhq/vigil/executor/kube/kubetest"
)

// TestSecretsNeverLeaveTheProcess sends a bearer token and a Kubernetes
// Secret through the daemon's instruments, against the real test
// apiserver, with the wire trace at its most verbose (bodies), then
// writes a bundle: neither the token nor the Secret's data may appear in
// the trace, the bundle or the log.
func TestSecretsNeverLeaveTheProcess(t *testing.T) {
	rc := kubetest.Config(t, "KUBECONFIG")
	// The test control plane also accepts the admin token beside its CA
	// (testenv/kube/gen-certs.sh); authenticate with it alone, so it is
	// on every request.
	tok, err := os.ReadFile(filepath.Join(filepath.Dir(rc.CAFile), "admin.token"))
	if err != nil {
		t.Fatalf("read the test admin token: %v", err)
	}
	token := strings.TrimSpace(string(tok))
	rc.BearerToken, rc.CertFile, rc.KeyFile, rc.CertData, rc.KeyData = token, "", "", nil, nil
	var logs syncBuffer
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(&logs), zap.DebugLevel))
	cfg := defaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Debug.RuntimeDir = filepath.Join(t.TempDir(), "run")
	cfg.Debug.WireTrace = "bodies"
	cfg.Debug.BundleProfile = 200 * time.Millisecond
	in, err := newInstruments(cfg, "redaction-test", log, zap.NewAtomicLevel(), watchdog.New(watchdog.Options{}))
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
	ns := kubetest.Namespace(t, kubetest.Client(t))
	const secretValue = "hunter2-the-secret-value-0xC0FFEE"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "db-password"},
		StringData: map[string]string{"password": secretValue},
	}
	if _, err := cs.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := cs.CoreV1().Secrets(ns).Get(ctx, "db-password", metav1.GetOptions{})
	if err != nil || string(got.Data["password"]) != secretValue {
		t.Fatalf("the Secret did not round-trip through the traced client: %v", err)
	}
	if _, err := cs.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(in.tracer.Entries(0, 0)) < 3 {
		t.Fatalf("the wire trace recorded %d exchanges, want the Secret create, get and list", len(in.tracer.Entries(0, 0)))
	}

	// The headers were recorded (so the check below can fail), with the
	// credential replaced.
	auth := in.tracer.Entries(0, 0)[0].ReqHeaders.Get("Authorization")
	if auth == "" || strings.Contains(auth, token) {
		t.Fatalf("recorded Authorization header = %q, want it present and redacted", auth)
	}

	info, err := in.bundles.Write(ctx, "redaction-test")
	if err != nil {
		t.Fatal(err)
	}
	files := untar(t, info.Path)
	if !strings.Contains(files["wiretrace.json"], "/secrets") {
		t.Fatalf("the bundle's wire trace lacks the Secret calls:\n%s", files["wiretrace.json"])
	}
	// The Secret's data travels base64-encoded in responses and as plain
	// text in the create's stringData.
	needles := map[string]string{
		"bearer token":        token,
		"secret (plain)":      secretValue,
		"secret (base64)":     b64(secretValue),
		"secret (base64 cut)": b64(secretValue)[:16],
	}
	haystacks := map[string]string{"log": logs.String()}
	for name, body := range files {
		haystacks["bundle "+name] = body
	}
	for _, x := range in.tracer.Entries(0, 0) {
		haystacks["trace "+x.URL] = x.URL + x.ReqBody + x.RespBody + x.Err + headerText(x.ReqHeaders) + headerText(x.RespHeaders)
	}
	for what, needle := range needles {
		for where, hay := range haystacks {
			if strings.Contains(hay, needle) {
				t.Errorf("%s found in %s", what, where)
			}
		}
	}
}

func headerText(h http.Header) string {
	var b strings.Builder
	_ = h.Write(&b)
	return b.String()
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
