package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/vigilhq/vigil/internal/toxiproxy"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
	"github.com/vigilhq/vigil/scheduler/notify"
	"github.com/vigilhq/vigil/scheduler/store/sqlite"
)

var t0 = time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)

// failedTask opens a real SQLite store and fails one task that notifies
// receivers of its failure: the store holds one pending notification per
// receiver, as the scheduler would leave it.
func failedTask(t *testing.T, receivers ...string) (*sqlite.Store, scheduler.TaskKey) {
	t.Helper()
	return failedTaskAt(t, t0, receivers...)
}

// failedTaskAt is failedTask with the transitions at t0.
func failedTaskAt(t *testing.T, t0 time.Time, receivers ...string) (*sqlite.Store, scheduler.TaskKey) {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vigil.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	spec := dag.TaskSpec{Command: []string{"false"}, Notify: dag.Notify{OnFailure: receivers}}
	if err := st.SaveDAG(ctx, scheduler.DAGRecord{ID: "etl", File: "etl.yaml", Source: []byte("id: etl"),
		Specs: map[string]dag.TaskSpec{"load": spec}, UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	k := scheduler.TaskKey{DAGID: "etl", RunID: "r1", TaskID: "load"}
	run := scheduler.Run{DAGID: "etl", RunID: "r1", State: scheduler.RunRunning, CreatedAt: t0}
	if _, err := st.CreateRun(ctx, run, []scheduler.TaskInstance{{TaskKey: k, Spec: spec}}, "test"); err != nil {
		t.Fatal(err)
	}
	actor := scheduler.Actor{Component: "test", Instance: "t"}
	exit := 3
	for _, c := range []scheduler.Change{
		{Key: k, From: scheduler.StateScheduled, To: scheduler.StateQueued, Reason: "queued", Actor: actor, At: t0},
		{Key: k, From: scheduler.StateQueued, To: scheduler.StateRunning, Reason: "started", Actor: actor, At: t0},
		{Key: k, From: scheduler.StateRunning, To: scheduler.StateFailed, Reason: "exit code 3", Actor: actor, At: t0, ExitCode: &exit},
	} {
		res, err := st.Apply(ctx, []scheduler.Change{c})
		if err != nil || res[0].Err != nil {
			t.Fatalf("apply %s: %v %v", c.To, err, res)
		}
	}
	return st, k
}

// startSender runs a Sender until the test ends, retrying fast.
func startSender(t *testing.T, st *sqlite.Store, rs ...notify.Receiver) *notify.Sender {
	return startSenderAs(t, "test", st, rs...)
}

func startSenderAs(t *testing.T, instance string, st *sqlite.Store, rs ...notify.Receiver) *notify.Sender {
	t.Helper()
	s := notify.New(notify.Options{Outbox: st, Receivers: rs, Instance: instance, Log: zaptest.NewLogger(t),
		PollInterval: 10 * time.Millisecond, BaseBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		ConsoleURL: "http://console.example/"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

// settled waits for k's notifications to be sent or given up and returns
// them.
func settled(t *testing.T, st *sqlite.Store, k scheduler.TaskKey) []scheduler.Notification {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ns, err := st.ListNotifications(t.Context(), k)
		if err != nil {
			t.Fatal(err)
		}
		done := len(ns) > 0
		for _, n := range ns {
			done = done && n.State != scheduler.NotificationPending
		}
		if done {
			return ns
		}
		if time.Now().After(deadline) {
			t.Fatalf("notifications still pending after 30s: %+v", ns)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// receiver is a real HTTP server on 127.0.0.1 that records the requests
// it gets and answers each with answer(n), n counting from 1.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	heads  []http.Header
	paths  []string
}

func newReceiver(t *testing.T, answer func(n int, w http.ResponseWriter)) *receiver {
	rv := &receiver{}
	rv.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rv.mu.Lock()
		rv.bodies = append(rv.bodies, b)
		rv.heads = append(rv.heads, r.Header.Clone())
		rv.paths = append(rv.paths, r.URL.Path)
		n := len(rv.bodies)
		rv.mu.Unlock()
		answer(n, w)
	}))
	t.Cleanup(rv.srv.Close)
	return rv
}

func (rv *receiver) requests() int {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return len(rv.bodies)
}

// proxied puts a toxiproxy proxy between the sender and rv.
func proxied(t *testing.T, rv *receiver) (*toxiproxy.Proxy, string) {
	p := toxiproxy.New(t, strings.TrimPrefix(rv.srv.URL, "http://"))
	return p, "http://" + p.Listen
}

// TestRetriedThenDelivered: a receiver answering 500, then 200, gets the
// notification twice and it is recorded sent once, after two attempts.
func TestRetriedThenDelivered(t *testing.T) {
	st, k := failedTask(t, "hook")
	rv := newReceiver(t, func(n int, w http.ResponseWriter) {
		if n == 1 {
			http.Error(w, "database is down", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	_, url := proxied(t, rv)
	s := startSender(t, st, notify.Receiver{Name: "hook", Type: notify.TypeWebhook, URL: url + "/hook",
		Token: "tok-secret-1", Headers: map[string]string{"X-Team": "data"}, Timeout: 5 * time.Second, MaxAttempts: 5})
	ns := settled(t, st, k)
	if len(ns) != 1 || ns[0].State != scheduler.NotificationSent || ns[0].Attempts != 2 || ns[0].StatusCode != 202 {
		t.Fatalf("notification %+v; want sent on attempt 2 with 202", ns)
	}
	time.Sleep(100 * time.Millisecond) // a wrongly repeated send would land here
	if n := rv.requests(); n != 2 {
		t.Errorf("receiver got %d requests; want 2 (one 500, one 202)", n)
	}
	var m notify.Message
	if err := json.Unmarshal(rv.bodies[1], &m); err != nil {
		t.Fatal(err)
	}
	want := notify.Message{Version: 1, ID: ns[0].ID, Event: "failure", Receiver: "hook", DAGID: "etl", RunID: "r1",
		TaskID: "load", Try: 1, State: "failed", Reason: "exit code 3", At: t0, URL: "http://console.example/#/dags/etl/runs/r1/tasks/load"}
	if m != want {
		t.Errorf("body %+v\nwant %+v", m, want)
	}
	if h := rv.heads[1]; h.Get("Authorization") != "Bearer tok-secret-1" || h.Get("X-Team") != "data" || h.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", h)
	}
	c := s.Counts()
	if c[notify.CountKey{Receiver: "hook", Event: "failure", Result: "retry"}] != 1 || c[notify.CountKey{Receiver: "hook", Event: "failure", Result: "sent"}] != 1 {
		t.Errorf("counts %v; want one retry and one sent", c)
	}
}

// TestSlowPastDeadlineRetried: a receiver slower than the timeout (a
// latency toxic) fails the attempt on its deadline; once it is fast
// again the notification is delivered.
func TestSlowPastDeadlineRetried(t *testing.T) {
	st, k := failedTask(t, "hook")
	rv := newReceiver(t, func(int, http.ResponseWriter) {})
	p, url := proxied(t, rv)
	removeLatency := p.Toxic("slow", "latency", "downstream", map[string]int{"latency": 3000})
	startSender(t, st, notify.Receiver{Name: "hook", Type: notify.TypeWebhook, URL: url, Timeout: 300 * time.Millisecond, MaxAttempts: 100})
	deadline := time.Now().Add(30 * time.Second)
	for {
		ns, err := st.ListNotifications(t.Context(), k)
		if err != nil {
			t.Fatal(err)
		}
		if ns[0].Attempts >= 1 {
			if ns[0].State != scheduler.NotificationPending || !strings.Contains(ns[0].Error, "no answer within 300ms") {
				t.Fatalf("after a slow attempt: %+v; want pending with a deadline error", ns[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no attempt recorded after 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	removeLatency()
	ns := settled(t, st, k)
	if ns[0].State != scheduler.NotificationSent || ns[0].Attempts < 2 {
		t.Errorf("notification %+v; want sent after at least 2 attempts", ns[0])
	}
}

// TestBlackHoleGivesUp: a receiver that never answers (a timeout toxic)
// is given up after max_attempts, the error recorded without the URL,
// which for Slack is the secret.
func TestBlackHoleGivesUp(t *testing.T) {
	st, k := failedTask(t, "chat")
	rv := newReceiver(t, func(int, http.ResponseWriter) {})
	p, url := proxied(t, rv)
	p.Toxic("hole", "timeout", "upstream", map[string]int{"timeout": 0})
	secretURL := url + "/services/T000/B000/sekritSlackKey"
	s := startSender(t, st, notify.Receiver{Name: "chat", Type: notify.TypeSlack, URL: secretURL, Timeout: 200 * time.Millisecond, MaxAttempts: 3})
	ns := settled(t, st, k)
	n := ns[0]
	if n.State != scheduler.NotificationGivenUp || n.Attempts != 3 || !strings.Contains(n.Error, "receiver chat: no answer within 200ms") {
		t.Fatalf("notification %+v; want given up after 3 attempts, no answer", n)
	}
	if strings.Contains(n.Error, "sekrit") || strings.Contains(n.Error, p.Listen) {
		t.Errorf("recorded error leaks the URL: %q", n.Error)
	}
	if c := s.Counts()[notify.CountKey{Receiver: "chat", Event: "failure", Result: "given_up"}]; c != 1 {
		t.Errorf("given_up count %d; want 1", c)
	}
	if s.Pending() != 0 && s.Pending() != 1 {
		t.Errorf("pending gauge %d", s.Pending())
	}
}

// TestReceiverEchoRedacted: a receiver whose error page echoes the
// request's URL has its answer recorded with the secret REDACTED.
func TestReceiverEchoRedacted(t *testing.T) {
	st, k := failedTask(t, "chat")
	rv := newReceiver(t, nil)
	rv.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such hook "+r.URL.Path, http.StatusNotFound)
	})
	startSender(t, st, notify.Receiver{Name: "chat", Type: notify.TypeSlack, URL: rv.srv.URL + "/services/T1/B2/keyABCDEF", Timeout: time.Second, MaxAttempts: 1})
	n := settled(t, st, k)[0]
	if strings.Contains(n.Error, "keyABCDEF") || !strings.Contains(n.Error, "404") || !strings.Contains(n.Error, "REDACTED") {
		t.Errorf("error %q: want the 404 with the URL's path REDACTED", n.Error)
	}
}

// TestSlackBody: Slack's incoming webhook gets {"text": ...}.
func TestSlackBody(t *testing.T) {
	st, k := failedTask(t, "chat")
	rv := newReceiver(t, func(int, http.ResponseWriter) {})
	startSender(t, st, notify.Receiver{Name: "chat", Type: notify.TypeSlack, URL: rv.srv.URL + "/services/x", Timeout: time.Second, MaxAttempts: 1})
	settled(t, st, k)
	var body map[string]string
	if err := json.Unmarshal(rv.bodies[0], &body); err != nil {
		t.Fatal(err)
	}
	want := "vigil: task load of DAG etl (run r1) failed on try 1: exit code 3 <http://console.example/#/dags/etl/runs/r1/tasks/load>"
	if len(body) != 1 || body["text"] != want {
		t.Errorf("slack body %s; want {\"text\": %q}", rv.bodies[0], want)
	}
}

// TestAlertmanagerBody: the alert posted to /api/v2/alerts has the fields
// of Alertmanager's postableAlert (labels and annotations of strings,
// RFC 3339 startsAt and endsAt, generatorURL) and no others.
func TestAlertmanagerBody(t *testing.T) {
	st, k := failedTask(t, "am")
	rv := newReceiver(t, func(int, http.ResponseWriter) {})
	startSender(t, st, notify.Receiver{Name: "am", Type: notify.TypeAlertmanager, URL: rv.srv.URL + "/", Timeout: time.Second, MaxAttempts: 1})
	settled(t, st, k)
	if rv.paths[0] != "/api/v2/alerts" {
		t.Errorf("posted to %s; want /api/v2/alerts", rv.paths[0])
	}
	dec := json.NewDecoder(strings.NewReader(string(rv.bodies[0])))
	dec.DisallowUnknownFields()
	var alerts []struct {
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     time.Time         `json:"startsAt"`
		EndsAt       time.Time         `json:"endsAt"`
		GeneratorURL string            `json:"generatorURL"`
	}
	if err := dec.Decode(&alerts); err != nil {
		t.Fatalf("body %s: %v", rv.bodies[0], err)
	}
	if len(alerts) != 1 {
		t.Fatalf("%d alerts", len(alerts))
	}
	a := alerts[0]
	wantLabels := map[string]string{"alertname": "VigilTaskFailed", "dag_id": "etl", "task_id": "load", "severity": "critical"}
	if fmt.Sprint(a.Labels) != fmt.Sprint(wantLabels) || a.Annotations["run_id"] != "r1" || a.Annotations["summary"] == "" ||
		!a.StartsAt.Equal(t0) || !a.EndsAt.After(a.StartsAt) || a.GeneratorURL == "" {
		t.Errorf("alert %+v", a)
	}
}

// TestSendersShareOutbox: two senders on one store deliver each
// notification once.
func TestSendersShareOutbox(t *testing.T) {
	st, k := failedTask(t, "a", "b", "c", "d")
	var got atomic.Int64
	rv := newReceiver(t, func(int, http.ResponseWriter) { got.Add(1) })
	var rs []notify.Receiver
	for _, n := range []string{"a", "b", "c", "d"} {
		rs = append(rs, notify.Receiver{Name: n, Type: notify.TypeWebhook, URL: rv.srv.URL, Timeout: time.Second, MaxAttempts: 1})
	}
	startSenderAs(t, "one", st, rs...)
	startSenderAs(t, "two", st, rs...)
	settled(t, st, k)
	time.Sleep(100 * time.Millisecond)
	if got.Load() != 4 {
		t.Errorf("receiver got %d requests; want 4", got.Load())
	}
}

// TestSLAMissDelivered: a task still waiting past its run's start plus its
// SLA is told to its on_sla_miss receiver once, though two senders check.
func TestSLAMissDelivered(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vigil.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	spec := dag.TaskSpec{Command: []string{"true"}, SLA: time.Minute, Notify: dag.Notify{OnSLAMiss: []string{"hook"}}}
	if err := st.SaveDAG(ctx, scheduler.DAGRecord{ID: "etl", File: "etl.yaml", Source: []byte("id: etl"),
		Specs: map[string]dag.TaskSpec{"load": spec}, UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	k := scheduler.TaskKey{DAGID: "etl", RunID: "r1", TaskID: "load"}
	started := time.Now().Add(-2 * time.Minute).UTC()
	run := scheduler.Run{DAGID: "etl", RunID: "r1", State: scheduler.RunRunning, CreatedAt: started, LogicalDate: started.Add(-time.Hour)}
	if _, err := st.CreateRun(ctx, run, []scheduler.TaskInstance{{TaskKey: k, Spec: spec}}, "test"); err != nil {
		t.Fatal(err)
	}
	var got []notify.Message
	var mu sync.Mutex
	rv := newReceiver(t, func(int, http.ResponseWriter) {})
	rv.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m notify.Message
		_ = json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
	})
	for _, name := range []string{"one", "two"} {
		s := notify.New(notify.Options{Outbox: st, Runs: st, SLAInterval: 10 * time.Millisecond, Instance: name, Log: zaptest.NewLogger(t),
			PollInterval: 10 * time.Millisecond,
			Receivers:    []notify.Receiver{{Name: "hook", Type: notify.TypeWebhook, URL: rv.srv.URL, Timeout: time.Second, MaxAttempts: 1}}})
		sctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); s.Run(sctx) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	settled(t, st, k)
	time.Sleep(200 * time.Millisecond) // a second miss would be stored and sent here
	ns, err := st.ListNotifications(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ns) != 1 || ns[0].Event != scheduler.NotifySLAMiss || ns[0].State != scheduler.NotificationSent || len(got) != 1 {
		t.Fatalf("notifications %+v, received %+v; want one sla_miss, sent once", ns, got)
	}
	if m := got[0]; m.Event != "sla_miss" || m.State != "scheduled" || !m.At.Equal(started.Add(time.Minute)) ||
		!strings.Contains(m.Reason, "not done within its SLA of 1m0s") {
		t.Errorf("message %+v", m)
	}
}
