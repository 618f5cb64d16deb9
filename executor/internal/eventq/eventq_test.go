package eventq_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilhq/vigil/executor/internal/eventq"
	"github.com/vigilhq/vigil/scheduler"
)

func ev(n int) scheduler.Event {
	return scheduler.Event{Key: scheduler.TryKey{Try: n}, Kind: scheduler.EventStarted}
}

// receive takes n events from ch, failing the test after 5s.
func receive(t *testing.T, ch <-chan scheduler.Event, n int) []int {
	t.Helper()
	var got []int
	timeout := time.After(5 * time.Second)
	for len(got) < n {
		select {
		case e := <-ch:
			got = append(got, e.Key.Try)
		case <-timeout:
			t.Fatalf("received %v, want %d events", got, n)
		}
	}
	return got
}

// run starts q.Run and returns a func that cancels it and checks it
// returned nil.
func run(t *testing.T, q *eventq.Queue, ch chan scheduler.Event, beat func()) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx, ch, beat) }()
	return func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v, want nil", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
	}
}

func TestOrderAcrossRuns(t *testing.T) {
	var q eventq.Queue
	for i := 1; i <= 3; i++ {
		q.Push(ev(i))
	}
	ch := make(chan scheduler.Event)
	stop := run(t, &q, ch, nil)
	first := receive(t, ch, 1)
	// Cancelled while nobody receives: the rest must wait for the next Run.
	stop()
	q.Push(ev(4))
	stop = run(t, &q, ch, nil)
	defer stop()
	got := append(first, receive(t, ch, 3)...)
	if fmt.Sprint(got) != "[1 2 3 4]" {
		t.Errorf("delivered %v, want [1 2 3 4]", got)
	}
}

func TestBeatsWhileConsumerIsSlow(t *testing.T) {
	var q eventq.Queue
	var beats atomic.Int64
	q.Push(ev(1))
	stop := run(t, &q, make(chan scheduler.Event), func() { beats.Add(1) })
	deadline := time.Now().Add(5 * time.Second)
	for beats.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d beats in 5s while blocked on a send, want 3", beats.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	if q.Len() != 1 {
		t.Errorf("Len = %d after a Run that delivered nothing, want 1", q.Len())
	}
}
