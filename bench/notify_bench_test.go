package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/vigilhq/vigil/internal/toxiproxy"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/notify"
	"github.com/vigilhq/vigil/scheduler/store/sqlite"
)

// BenchmarkNotify (issue 20): 1,000 independent tasks, each notifying a
// webhook when it succeeds, with the receiver healthy and black-holed by
// toxiproxy (its timeout toxic). The sender runs beside the scheduler as
// in `vigil run`; the figure that matters is that s/run and the longest
// loop turn stay the same: the loop never waits on a receiver.
func BenchmarkNotify(b *testing.B) {
	if os.Getenv(toxiproxy.APIEnv) == "" {
		b.Skipf("%s is unset: source /tmp/vigil-testenv.sh or run under testenv/kube/with-cluster.sh", toxiproxy.APIEnv)
	}
	b.Run("receiver=none", func(b *testing.B) {
		// The baseline: the same DAG without on_success, no sender.
		var total, maxTurn time.Duration
		for b.Loop() {
			b.StopTimer()
			d, turn, _, _ := notifyRunOnce(b, "", false)
			b.StartTimer()
			total += d
			maxTurn = max(maxTurn, turn)
		}
		secs := total.Seconds() / float64(b.N)
		b.ReportMetric(secs, "s/run")
		b.ReportMetric(1000/secs, "tasks/s")
		b.ReportMetric(float64(maxTurn.Microseconds())/1000, "max-turn-ms")
	})
	for _, blackHoled := range []bool{false, true} {
		name := map[bool]string{false: "receiver=healthy", true: "receiver=blackholed"}[blackHoled]
		b.Run(name, func(b *testing.B) {
			srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			defer srv.Close()
			proxy := toxiproxy.New(b, strings.TrimPrefix(srv.URL, "http://"))
			if blackHoled {
				defer proxy.Toxic("hole", "timeout", "upstream", map[string]int{"timeout": 0})()
			}
			var total, maxTurn, drain time.Duration
			var pending int
			for b.Loop() {
				b.StopTimer()
				d, turn, p, dr := notifyRunOnce(b, "http://"+proxy.Listen+"/hook", !blackHoled)
				b.StartTimer()
				total += d
				maxTurn = max(maxTurn, turn)
				pending, drain = p, max(drain, dr)
			}
			if !blackHoled {
				b.ReportMetric(drain.Seconds(), "drain-s")
			}
			secs := total.Seconds() / float64(b.N)
			b.ReportMetric(secs, "s/run")
			b.ReportMetric(1000/secs, "tasks/s")
			b.ReportMetric(float64(maxTurn.Microseconds())/1000, "max-turn-ms")
			b.ReportMetric(float64(pending), "pending-at-end")
		})
	}
}

// notifyRunOnce runs the 1,000-task DAG once with a sender delivering to
// url (none if "") and returns the run's time, the longest loop turn, how many
// notifications were still pending when it ended and, with drain, how
// long after its start the last was delivered.
func notifyRunOnce(b *testing.B, url string, drain bool) (run, turn time.Duration, pending int, drained time.Duration) {
	dir := b.TempDir()
	dags := filepath.Join(dir, "dags")
	if err := os.MkdirAll(dags, 0o755); err != nil {
		b.Fatal(err)
	}
	text := wide(1000, `["true"]`)
	if url != "" {
		text = strings.Replace(text, "tasks:\n", "on_success: [hook]\ntasks:\n", 1)
	}
	if err := os.WriteFile(filepath.Join(dags, "bench.yaml"), []byte(text), 0o644); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "vigil.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ended := make(chan scheduler.Run, 1)
	sched, err := scheduler.New(scheduler.Options{
		Store: st, Executor: memory(b, dir), Logger: zap.NewNop(), DAGDir: dags, Parallelism: 32,
		Receivers: []string{"hook"}, OnRunEnd: func(r scheduler.Run) { ended <- r },
	})
	if err != nil {
		b.Fatal(err)
	}
	sender := notify.New(notify.Options{Outbox: st, Instance: "bench", Log: zap.NewNop(),
		Receivers: []notify.Receiver{{Name: "hook", Type: notify.TypeWebhook, URL: url, Timeout: time.Second, MaxAttempts: 5}},
		Client:    &http.Client{Timeout: 5 * time.Second},
		// Polling often, so that delivery overlaps the 0.3 s run.
		PollInterval: 20 * time.Millisecond})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 2)
	go func() { done <- sched.Run(runCtx) }()
	if url != "" {
		go func() { done <- sender.Run(runCtx) }()
	} else {
		done <- nil
	}
	defer func() {
		stop()
		for range 2 {
			if err := <-done; err != nil {
				b.Error(err)
			}
		}
	}()
	for !sched.Ready() {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	if _, err := sched.Trigger(ctx, "bench"); err != nil {
		b.Fatal(err)
	}
	select {
	case run := <-ended:
		elapsed := time.Since(start)
		if run.State != scheduler.RunSuccess {
			b.Fatalf("run ended %s", run.State)
		}
		turn := sched.Stats().MaxIteration
		pending, err := st.PendingNotifications(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for n := pending; drain && n > 0; {
			time.Sleep(10 * time.Millisecond)
			if n, err = st.PendingNotifications(ctx); err != nil {
				b.Fatal(err)
			}
		}
		return elapsed, turn, pending, time.Since(start)
	case <-ctx.Done():
		b.Fatal(fmt.Errorf("run did not end within 2m"))
	}
	return 0, 0, 0, 0
}
