package scheduler_test

import (
	"errors"
	"testing"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

func TestPoolLedger(t *testing.T) {
	ti := func(id, pool string, slots int, state scheduler.State) scheduler.TaskInstance {
		return scheduler.TaskInstance{TaskKey: scheduler.TaskKey{DAGID: "d", RunID: "r", TaskID: id},
			State: state, Spec: dag.TaskSpec{Pool: pool, PoolSlots: slots}}
	}
	move := func(l *scheduler.PoolLedger, x scheduler.TaskInstance, to scheduler.State) error {
		next := x
		next.State = to
		return l.Admit(x, next)
	}
	const (
		sched   = scheduler.StateScheduled
		queued  = scheduler.StateQueued
		running = scheduler.StateRunning
		retry   = scheduler.StateUpForRetry
		success = scheduler.StateSuccess
	)
	for _, tt := range []struct {
		name  string
		steps func(l *scheduler.PoolLedger) error
		want  error
	}{
		{"fits", func(l *scheduler.PoolLedger) error { return move(l, ti("a", "p", 2, sched), queued) }, nil},
		{"full", func(l *scheduler.PoolLedger) error { return move(l, ti("a", "p", 3, sched), queued) }, scheduler.ErrPoolFull},
		{"missing", func(l *scheduler.PoolLedger) error { return move(l, ti("a", "nope", 1, sched), queued) }, scheduler.ErrNoPool},
		{"default unlimited unless set", func(l *scheduler.PoolLedger) error { return move(l, ti("a", "", 50, sched), queued) }, nil},
		{"unlimited", func(l *scheduler.PoolLedger) error { return move(l, ti("a", "wide", 1000, sched), queued) }, nil},
		{"queued to running takes nothing more", func(l *scheduler.PoolLedger) error {
			return move(l, ti("a", "p", 3, queued), running)
		}, nil},
		{"taken in the batch counts", func(l *scheduler.PoolLedger) error {
			if err := move(l, ti("a", "p", 2, sched), queued); err != nil {
				return err
			}
			return move(l, ti("b", "p", 1, retry), queued)
		}, scheduler.ErrPoolFull},
		{"freed in the batch counts", func(l *scheduler.PoolLedger) error {
			if err := move(l, ti("a", "p", 1, running), success); err != nil {
				return err
			}
			return move(l, ti("b", "p", 2, sched), queued)
		}, nil},
		{"never fits", func(l *scheduler.PoolLedger) error { return move(l, ti("a", "p", 5, sched), queued) }, scheduler.ErrPoolFull},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := scheduler.NewPoolLedger()
			l.Set("p", 3, 1) // 3 slots, 1 taken
			l.Set("wide", scheduler.UnlimitedSlots, 0)
			err := tt.steps(l)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			var pe *scheduler.PoolError
			if err != nil && !errors.As(err, &pe) {
				t.Fatalf("%v is not a *PoolError", err)
			}
		})
	}
}
