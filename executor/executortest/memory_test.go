package executortest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/executor/executortest"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

func TestMemoryContract(t *testing.T) {
	var mu sync.Mutex
	last := map[*testing.T]*executortest.Memory{}
	executortest.Run(t, executortest.Harness{
		New: func(t *testing.T) scheduler.Executor {
			m := executortest.NewMemory(executortest.MemoryOptions{})
			mu.Lock()
			defer mu.Unlock()
			last[t] = m
			return m
		},
		Reopen: func(t *testing.T) scheduler.Executor {
			mu.Lock()
			defer mu.Unlock()
			return last[t].Reopen()
		},
	})
}

func key(task string, n int) scheduler.TryKey {
	return scheduler.TryKey{TaskKey: scheduler.TaskKey{DAGID: "d", RunID: "r", TaskID: task}, Try: n}
}

// collect runs m until it has delivered n events, or fails after 5s.
func collect(t *testing.T, m *executortest.Memory, n int) []scheduler.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ch := make(chan scheduler.Event, n)
	go func() { _ = m.Run(ctx, ch) }()
	var evs []scheduler.Event
	for len(evs) < n {
		select {
		case ev := <-ch:
			evs = append(evs, ev)
		case <-ctx.Done():
			t.Fatalf("got %d events, want %d: %+v", len(evs), n, evs)
		}
	}
	return evs
}

func TestMemoryScripted(t *testing.T) {
	boom := errors.New("cluster says no")
	m := executortest.NewMemory(executortest.MemoryOptions{
		Outcome: func(tr scheduler.Try) (executortest.Outcome, bool) {
			switch tr.Key.TaskID {
			case "hang":
				return executortest.Outcome{Hang: true}, true
			case "lost":
				return executortest.Outcome{Lost: true}, true
			case "slow":
				return executortest.Outcome{ExitCode: 2, Duration: 50 * time.Millisecond}, true
			}
			return executortest.Outcome{}, false
		},
		StartError: func(tr scheduler.Try) error {
			if tr.Key.TaskID == "refused" {
				return boom
			}
			return nil
		},
	})
	ctx := context.Background()
	spec := dag.TaskSpec{Command: []string{"run"}}
	for _, task := range []string{"hang", "lost", "slow", "refused", "plain"} {
		err := m.Start(ctx, scheduler.Try{Key: key(task, 1), Spec: spec})
		if (task == "refused") != errors.Is(err, boom) {
			t.Errorf("Start(%s) = %v", task, err)
		}
	}
	if err := m.Finish(key("hang", 1), 5); err != nil {
		t.Fatal(err)
	}
	if err := m.Finish(key("hang", 1), 6); err == nil {
		t.Error("Finish of an ended try returned nil")
	}
	got := map[string]string{}
	for _, ev := range collect(t, m, 8) {
		if ev.Kind != scheduler.EventStarted {
			got[ev.Key.TaskID] = fmt.Sprintf("%s %d", ev.Kind, ev.ExitCode)
		}
	}
	want := map[string]string{"hang": "exited 5", "lost": "lost 0", "slow": "exited 2", "plain": "exited 0"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ends = %v, want %v", got, want)
	}
	if n := m.Starts(key("refused", 1)); n != 1 {
		t.Errorf("Starts(refused) = %d, want 1", n)
	}
	if fmt.Sprint(m.Started()) != fmt.Sprint([]scheduler.TryKey{key("hang", 1), key("lost", 1), key("slow", 1), key("plain", 1)}) {
		t.Errorf("Started() = %v", m.Started())
	}
}

func TestMemoryCommandOutcomes(t *testing.T) {
	cases := []struct {
		argv []string
		code int
		runs time.Duration
	}{
		{[]string{"true"}, 0, 0},
		{[]string{"/bin/false"}, 1, 0},
		{[]string{"sh", "-c", "exit 7"}, 7, 0},
		{[]string{"sleep", "0.05"}, 0, 50 * time.Millisecond},
		{[]string{"python", "job.py"}, 0, 0},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.argv), func(t *testing.T) {
			m := executortest.NewMemory(executortest.MemoryOptions{})
			begin := time.Now()
			if err := m.Start(context.Background(), scheduler.Try{Key: key("t", 1), Spec: dag.TaskSpec{Command: c.argv}}); err != nil {
				t.Fatal(err)
			}
			evs := collect(t, m, 2)
			if took := time.Since(begin); took < c.runs {
				t.Errorf("ended after %s, want at least %s", took, c.runs)
			}
			if evs[1].Kind != scheduler.EventExited || evs[1].ExitCode != c.code {
				t.Errorf("end = %+v, want exit code %d", evs[1], c.code)
			}
		})
	}
}

func TestMemoryReopenKeepsCounts(t *testing.T) {
	m := executortest.NewMemory(executortest.MemoryOptions{})
	k := key("t", 1)
	tr := scheduler.Try{Key: k, Spec: dag.TaskSpec{Command: []string{"true"}}}
	_ = m.Start(context.Background(), tr)
	m2 := m.Reopen()
	_ = m2.Start(context.Background(), tr)
	if m2.Starts(k) != 2 || len(m2.Started()) != 1 {
		t.Errorf("after a second Start across Reopen: Starts = %d, Started = %v; want 2 calls, 1 run", m2.Starts(k), m2.Started())
	}
	if evs := collect(t, m2, 1); evs[0].Kind != scheduler.EventExited {
		t.Errorf("the reopened executor reported %+v, want the recorded exit", evs[0])
	}
}

// BenchmarkMemoryStart measures Start of instant tries, with a consumer
// draining events as the scheduler would: the executor's share of the
// scheduler-overhead benchmark.
func BenchmarkMemoryStart(b *testing.B) {
	m := executortest.NewMemory(executortest.MemoryOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := make(chan scheduler.Event, 1024)
	go func() { _ = m.Run(ctx, ch) }()
	go func() {
		for {
			select {
			case <-ch:
			case <-ctx.Done():
				return
			}
		}
	}()
	spec := dag.TaskSpec{Command: []string{"true"}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if err := m.Start(ctx, scheduler.Try{Key: key("t", i), Spec: spec}); err != nil {
			b.Fatal(err)
		}
	}
}
