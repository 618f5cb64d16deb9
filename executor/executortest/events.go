package executortest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
)

// Deadlines of the suite's waits. They are generous because a loaded CI
// machine under -race can be slow; a passing executor meets them by far.
const (
	eventWait = 15 * time.Second
	// quietWait is how long the suite listens for events that must not
	// come.
	quietWait = 300 * time.Millisecond
)

// stream runs an executor's Run for the rest of the test and keeps the
// events it delivers.
type stream struct {
	t  *testing.T
	ch chan scheduler.Event
	// all holds every event received, in order; unclaimed those not yet
	// returned by next.
	all       []scheduler.Event
	unclaimed []scheduler.Event
}

// runEvents starts ex.Run; at the end of the test it cancels it and checks
// that Run returned nil, promptly.
func runEvents(t *testing.T, ex scheduler.Executor) *stream {
	t.Helper()
	s := &stream{t: t, ch: make(chan scheduler.Event, 16)}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- ex.Run(ctx, s.ch) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v after its context was cancelled, want nil", err)
			}
		case <-time.After(eventWait):
			t.Errorf("Run did not return within %s of its context being cancelled", eventWait)
		}
	})
	return s
}

// next returns the next event of kind for k, failing the test if none comes
// in time. Events for other tries or of other kinds stay for later calls.
func (s *stream) next(k scheduler.TryKey, kind scheduler.EventKind) scheduler.Event {
	s.t.Helper()
	deadline := time.NewTimer(eventWait)
	defer deadline.Stop()
	for {
		for i, ev := range s.unclaimed {
			if ev.Key == k && ev.Kind == kind {
				s.unclaimed = append(s.unclaimed[:i], s.unclaimed[i+1:]...)
				return ev
			}
		}
		select {
		case ev := <-s.ch:
			s.all = append(s.all, ev)
			s.unclaimed = append(s.unclaimed, ev)
		case <-deadline.C:
			s.t.Fatalf("no %s event for %s within %s; events so far:\n%s", kind, k, eventWait, s.dump())
		}
	}
}

// settle keeps receiving for quietWait, so that events that should not
// come have had the chance to.
func (s *stream) settle() {
	deadline := time.NewTimer(quietWait)
	defer deadline.Stop()
	for {
		select {
		case ev := <-s.ch:
			s.all = append(s.all, ev)
			s.unclaimed = append(s.unclaimed, ev)
		case <-deadline.C:
			return
		}
	}
}

// kinds lists the kinds of the events received for k, in order.
func (s *stream) kinds(k scheduler.TryKey) []scheduler.EventKind {
	var kinds []scheduler.EventKind
	for _, ev := range s.all {
		if ev.Key == k {
			kinds = append(kinds, ev.Kind)
		}
	}
	return kinds
}

func (s *stream) count(k scheduler.TryKey, kind scheduler.EventKind) int {
	n := 0
	for _, got := range s.kinds(k) {
		if got == kind {
			n++
		}
	}
	return n
}

func (s *stream) dump() string {
	if len(s.all) == 0 {
		return "  (none)"
	}
	var b strings.Builder
	for _, ev := range s.all {
		fmt.Fprintf(&b, "  %s %s external=%q code=%d reason=%q\n", ev.Key, ev.Kind, ev.ExternalID, ev.ExitCode, ev.Reason)
	}
	return b.String()
}

// eventually polls cond every 20ms until it holds, failing the test after
// eventWait.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(eventWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not so after %s", what, eventWait)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testCtx bounds one executor call.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), eventWait)
	t.Cleanup(cancel)
	return ctx
}
