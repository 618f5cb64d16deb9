package hatest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/vigilhq/vigil/executor/executortest"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/notify"
	"github.com/vigilhq/vigil/scheduler/store/postgres/pgtest"
)

// TestThreeSchedulersNotifyEachOnce (issue 20): three schedulers, each
// with its notification sender, share one PostgreSQL; every task of 10
// runs notifies a webhook of its success. Each notification is delivered
// once, by one of them (claims with FOR UPDATE SKIP LOCKED).
func TestThreeSchedulersNotifyEachOnce(t *testing.T) {
	var mu sync.Mutex
	got := map[int64]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m notify.Message
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got[m.ID]++
		mu.Unlock()
	}))
	defer srv.Close()

	c := New(t, pgtest.FreshDatabase(t))
	mach := executortest.NewMemory(executortest.MemoryOptions{})
	names := []string{"s1", "s2", "s3"}
	nodes := startAll(c, mach, names, scheduler.Options{Parallelism: 16, ClaimBatch: 2, Receivers: []string{"hook"}})
	senders := map[string]*notify.Sender{}
	for _, n := range nodes {
		s := notify.New(notify.Options{Outbox: n.Store, Instance: n.Name, Log: zap.NewNop(), PollInterval: 20 * time.Millisecond, Batch: 4,
			Receivers: []notify.Receiver{{Name: "hook", Type: notify.TypeWebhook, URL: srv.URL, Timeout: 5 * time.Second, MaxAttempts: 3}}})
		senders[n.Name] = s
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); s.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	rec := FanDAG("fan", 8, []string{"true"})
	for id, spec := range rec.Specs {
		spec.Notify.OnSuccess = []string{"hook"}
		rec.Specs[id] = spec
	}
	c.Trigger(rec, 10)
	c.WaitDone(2 * time.Minute)
	failOn(t, c.Check(t.Context(), names, scheduler.StateSuccess))

	const want = 10 * 8
	waitFor(t, "every notification to be sent", func() bool {
		n, err := c.Admin.PendingNotifications(t.Context())
		return err == nil && n == 0
	})
	time.Sleep(200 * time.Millisecond) // a repeated send would land here
	mu.Lock()
	defer mu.Unlock()
	if len(got) != want {
		t.Errorf("receiver got %d notifications; want %d", len(got), want)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("notification %d delivered %d times", id, n)
		}
	}
	by := map[string]int64{}
	for name, s := range senders {
		for k, v := range s.Counts() {
			if k.Result == "sent" {
				by[name] += v
			}
		}
	}
	t.Logf("sent by scheduler: %v", by)
}
