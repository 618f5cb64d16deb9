package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/vigilhq/vigil/diag/watchdog"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
	"github.com/vigilhq/vigil/scheduler/notify"
	"github.com/vigilhq/vigil/scheduler/store/sqlite"
)

// TestNotificationSecretsNeverLeaveTheProcess: a Slack webhook URL (its
// path is the key) and a receiver's bearer token go through the daemon's
// instruments with the wire trace at its most verbose (bodies), to a
// receiver whose error page echoes both; then a bundle is written.
// Neither may appear in the trace, the bundle (config.yaml included), the
// log or the recorded attempts (issue 20).
func TestNotificationSecretsNeverLeaveTheProcess(t *testing.T) {
	const slackKey, token = "T0SECRET/B0SECRET/xoxbHookKey0xC0FFEE", "notify-token-0xBADC0DE"
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			http.Error(w, "denied "+r.URL.Path+" for "+r.Header.Get("Authorization"), http.StatusInternalServerError)
		}
	}))
	defer srv.Close()

	dir := t.TempDir()
	urlFile := filepath.Join(dir, "slack-url")
	if err := os.WriteFile(urlFile, []byte(srv.URL+"/services/"+slackKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VIGIL_TEST_NOTIFY_TOKEN", token)
	var logs syncBuffer
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(&logs), zap.DebugLevel))
	cfg := defaultConfig()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.Debug.RuntimeDir = filepath.Join(dir, "run")
	cfg.Debug.WireTrace = "bodies"
	cfg.Debug.BundleProfile = 200 * time.Millisecond
	cfg.Notifications = notify.Config{RetryBackoff: 10 * time.Millisecond, MaxRetryBackoff: 20 * time.Millisecond, Receivers: []notify.ReceiverConfig{
		{Name: "chat", Type: notify.TypeSlack, URLFile: urlFile},
		{Name: "hook", Type: notify.TypeWebhook, URL: srv.URL + "/services/" + slackKey, TokenEnv: "VIGIL_TEST_NOTIFY_TOKEN", Headers: map[string]string{"X-Key": token}},
	}}
	receivers, err := cfg.Notifications.Load()
	if err != nil {
		t.Fatal(err)
	}
	wd := watchdog.New(watchdog.Options{})
	in, err := newInstruments(cfg, "redaction-test", log, zap.NewAtomicLevel(), wd)
	if err != nil {
		t.Fatal(err)
	}
	defer in.close()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "vigil.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	k := failTaskNotifying(t, st, "chat", "hook")

	// The sender as vigil run builds it, run until both are delivered.
	state := &startState{}
	run := withNotifier(cfg, "redaction-test", st, st, receivers, log, wd, in, state, func(ctx context.Context) error { <-ctx.Done(); return nil })
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(runCtx) }()
	var ns []scheduler.Notification
	for {
		if ns, err = st.ListNotifications(ctx, k); err != nil {
			t.Fatal(err)
		}
		if len(ns) == 2 && ns[0].State == scheduler.NotificationSent && ns[1].State == scheduler.NotificationSent {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("notifications not delivered: %+v", ns)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	<-done
	if len(in.tracer.Entries(0, 0)) < 4 {
		t.Fatalf("the wire trace recorded %d exchanges, want two failed and two delivered", len(in.tracer.Entries(0, 0)))
	}

	info, err := in.bundles.Write(ctx, "redaction-test")
	if err != nil {
		t.Fatal(err)
	}
	files := untar(t, info.Path)
	if !strings.Contains(files["config.yaml"], "chat") || !strings.Contains(files["wiretrace.json"], "REDACTED") {
		t.Fatalf("the bundle lacks the receivers' config or their calls:\n%s\n%s", files["config.yaml"], files["wiretrace.json"])
	}
	haystacks := map[string]string{"log": logs.String()}
	for name, body := range files {
		haystacks["bundle "+name] = body
	}
	for _, x := range in.tracer.Entries(0, 0) {
		haystacks["trace "+x.URL] = x.URL + x.ReqBody + x.RespBody + x.Err + headerText(x.ReqHeaders) + headerText(x.RespHeaders)
	}
	for _, n := range ns {
		haystacks["attempt of "+n.Receiver] = n.Error
	}
	needles := map[string]string{"slack key": "xoxbHookKey0xC0FFEE", "slack path": "T0SECRET/B0SECRET", "token": token}
	for what, needle := range needles {
		for where, hay := range haystacks {
			if strings.Contains(hay, needle) {
				t.Errorf("%s found in %s", what, where)
				if i := strings.Index(hay, needle); i >= 0 {
					t.Logf("...%s...", hay[max(0, i-300):min(len(hay), i+100)])
				}
			}
		}
	}
}

// failTaskNotifying fails one task whose on_failure names receivers, in
// st: the store then holds one pending notification for each.
func failTaskNotifying(t *testing.T, st *sqlite.Store, receivers ...string) scheduler.TaskKey {
	t.Helper()
	ctx := t.Context()
	spec := dag.TaskSpec{Command: []string{"false"}, Notify: dag.Notify{OnFailure: receivers}}
	now := time.Now().UTC()
	if err := st.SaveDAG(ctx, scheduler.DAGRecord{ID: "etl", File: "etl.yaml", Source: []byte("id: etl"),
		Specs: map[string]dag.TaskSpec{"load": spec}, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	k := scheduler.TaskKey{DAGID: "etl", RunID: "r1", TaskID: "load"}
	if _, err := st.CreateRun(ctx, scheduler.Run{DAGID: "etl", RunID: "r1", State: scheduler.RunRunning, CreatedAt: now},
		[]scheduler.TaskInstance{{TaskKey: k, Spec: spec}}, "test"); err != nil {
		t.Fatal(err)
	}
	actor := scheduler.Actor{Component: "test", Instance: "t"}
	for _, c := range []scheduler.Change{
		{Key: k, From: scheduler.StateScheduled, To: scheduler.StateQueued, Reason: "queued", Actor: actor, At: now},
		{Key: k, From: scheduler.StateQueued, To: scheduler.StateRunning, Reason: "started", Actor: actor, At: now},
		{Key: k, From: scheduler.StateRunning, To: scheduler.StateFailed, Reason: "exit code 1", Actor: actor, At: now},
	} {
		if res, err := st.Apply(ctx, []scheduler.Change{c}); err != nil || res[0].Err != nil {
			t.Fatalf("apply %s: %v %v", c.To, err, res)
		}
	}
	return k
}
