package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/internal/toxiproxy"
	"github.com/vigilhq/vigil/scheduler"
)

// fanDAG has many independent tasks, each notifying hook when it
// succeeds (at DAG level) and one, flaky, that fails once and notifies
// its retry.
func fanDAG(n int) string {
	var b strings.Builder
	b.WriteString("id: fan\nmax_active_tasks: 8\non_success: [hook]\ntasks:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - id: t%02d\n    command: [sh, -c, \"echo 1 >> RAN_DIR/t%02d\"]\n", i, i)
	}
	b.WriteString(`  - id: flaky
    command: [sh, -c, "echo 1 >> RAN_DIR/flaky; test $(wc -l < RAN_DIR/flaky) -ge 2"]
    retries: 1
    retry_delay: 1s
    on_retry: [hook]
    on_success: []
`)
	return b.String()
}

// hookServer is a real webhook receiver on 127.0.0.1 counting the
// deliveries of each notification id.
type hookServer struct {
	srv *httptest.Server
	mu  sync.Mutex
	ids map[int64]int
	bad atomic.Int64 // bodies that did not decode
}

func newHookServer(t *testing.T) *hookServer {
	h := &hookServer{ids: map[int64]int{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			ID    int64  `json:"id"`
			Event string `json:"event"`
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &m); err != nil || m.ID == 0 || r.URL.Path != "/hook/sekritPathKey" {
			h.bad.Add(1)
		}
		h.mu.Lock()
		h.ids[m.ID]++
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookServer) deliveries() (ids, total int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, n := range h.ids {
		total += n
	}
	return len(h.ids), total
}

// notificationStates counts the fan DAG's notifications by state.
func (e *env) notificationStates(t *testing.T) map[scheduler.NotificationState]int {
	t.Helper()
	got := map[scheduler.NotificationState]int{}
	_ = e.withStore(func(ctx context.Context, st scheduler.Store) error {
		tis, err := st.ListTaskInstances(ctx, scheduler.TaskFilter{DAGID: "fan"})
		if err != nil {
			return err
		}
		for _, ti := range tis {
			ns, err := st.(scheduler.Outbox).ListNotifications(ctx, ti.TaskKey)
			if err != nil {
				return err
			}
			for _, n := range ns {
				got[n.State]++
			}
		}
		return nil
	})
	return got
}

// TestNotificationsBlackHoledReceiver: with the receiver black-holed
// (toxiproxy timeout toxic) a real `vigil run` still runs every task of a
// DAG, its loop's heartbeat never goes stale, and the notifications pile
// up pending. The scheduler is then killed (SIGKILL): nothing is lost. A
// new one, with the toxic removed, delivers every notification once.
func TestNotificationsBlackHoledReceiver(t *testing.T) {
	const tasks = 24
	hook := newHookServer(t)
	proxy := toxiproxy.New(t, strings.TrimPrefix(hook.srv.URL, "http://"))
	removeHole := proxy.Toxic("hole", "timeout", "upstream", map[string]int{"timeout": 0})

	e := newEnv(t, map[string]string{"fan.yaml": fanDAG(tasks)})
	cfg := filepath.Join(e.dir, "vigil.yaml")
	urlFile := filepath.Join(e.dir, "hook-url")
	if err := os.WriteFile(urlFile, []byte("http://"+proxy.Listen+"/hook/sekritPathKey\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(`notifications:
  retry_backoff: 200ms
  max_retry_backoff: 1s
  receivers:
    - name: hook
      type: webhook
      url_file: `+urlFile+`
      timeout: 500ms
      max_attempts: 1000
`), 0o600); err != nil {
		t.Fatal(err)
	}
	health := freeAddr(t)
	e.extra = []string{"--config", cfg, "--health-addr", health}
	d := e.start()

	// /healthz answers 503 as soon as a non-advisory heartbeat (the
	// loop's) is stale; it is polled through the whole run.
	var stale atomic.Int64
	var polls atomic.Int64
	ctx, stopPolling := context.WithCancel(context.Background())
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		client := &http.Client{Timeout: 5 * time.Second}
		for ctx.Err() == nil {
			if resp, err := client.Get("http://" + health + "/healthz"); err == nil {
				polls.Add(1)
				if resp.StatusCode != http.StatusOK {
					stale.Add(1)
				}
				resp.Body.Close()
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()

	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		_, err := e.vigil("dags", "trigger", "fan")
		return err == nil
	})
	e.waitFor("every task to succeed", 120*time.Second, func() bool { return allSucceeded(e.tasks("fan"), tasks+1) })
	want := tasks + 1 // a success per t*, flaky's retry
	e.waitFor("the notifications to be stored", 30*time.Second, func() bool {
		return e.notificationStates(t)[scheduler.NotificationPending] == want
	})
	// The sender has tried and failed: attempts are recorded, and the
	// pending gauge says how many wait.
	e.waitFor("the pending gauge", 30*time.Second, func() bool {
		return metricValue(t, health, "vigil_notifications_pending") == float64(want)
	})
	e.waitFor("failed attempts", 30*time.Second, func() bool {
		return metricValue(t, health, `vigil_notifications_total{event="success",receiver="hook",result="retry"}`) > 0
	})
	stopPolling()
	<-polled
	if polls.Load() == 0 || stale.Load() != 0 {
		t.Errorf("/healthz: %d of %d polls not 200 while the receiver was black-holed", stale.Load(), polls.Load())
	}
	for i := range tasks {
		if got := e.executions(fmt.Sprintf("t%02d", i)); len(got) != 1 {
			t.Errorf("t%02d ran %d times", i, len(got))
		}
	}
	if ids, _ := hook.deliveries(); ids != 0 {
		t.Fatalf("the receiver got %d notifications through a black hole", ids)
	}

	// Killed with everything pending: the outbox is in the database.
	_ = d.stop(t, syscall.SIGKILL, 10*time.Second)
	if got := e.notificationStates(t); got[scheduler.NotificationPending] != want {
		t.Fatalf("after SIGKILL: %v; want %d pending", got, want)
	}
	removeHole()
	e.start()
	e.waitFor("every notification to be delivered", 60*time.Second, func() bool {
		return e.notificationStates(t)[scheduler.NotificationSent] == want
	})
	time.Sleep(500 * time.Millisecond) // a repeated send would land here
	ids, total := hook.deliveries()
	if ids != want || total != want || hook.bad.Load() != 0 {
		t.Errorf("receiver got %d notifications in %d requests (%d malformed); want %d, once each", ids, total, hook.bad.Load(), want)
	}
	// The history shows the delivery, and never the receiver's URL.
	hist := e.mustVigil("tasks", "history", "fan", "latest", "flaky")
	if !strings.Contains(hist, "hook") || !strings.Contains(hist, "sent") {
		t.Errorf("history of flaky does not show its notification:\n%s", hist)
	}
	if strings.Contains(hist, "sekrit") {
		t.Errorf("history leaks the receiver's URL:\n%s", hist)
	}
}

var metricLine = regexp.MustCompile(`^(\S+) (\S+)$`)

// metricValue reads one series of the scheduler's /metrics (-1 if absent).
func metricValue(t *testing.T, health, series string) float64 {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + health + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if m := metricLine.FindStringSubmatch(line); m != nil && m[1] == series {
			v, _ := strconv.ParseFloat(m[2], 64)
			return v
		}
	}
	return -1
}
