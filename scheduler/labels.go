package scheduler

import (
	"context"
	"runtime/pprof"

	"github.com/vigilhq/vigil/diag/inflight"
)

// Goroutine labels. The loop labels itself with the phase it is in, and
// the goroutines it starts for one try with that try's DAG, run and task,
// through runtime/pprof labels. They appear in CPU profiles (locally and
// in Pyroscope, bar run: see UnpushedProfileLabels), in the goroutine
// profile the diag tools group stacks from (not in heap, mutex or block
// profiles: Go records labels in CPU and goroutine profiles only), and on every in-flight call made under them, so "the loop is
// stuck" becomes "the loop is stuck in dispatch, in a pod create for
// etl/extract".
const (
	labelLoop  = "loop"
	labelPhase = "phase"
	labelDAG   = "dag"
	labelRun   = "run"
	labelTask  = "task"
)

// UnpushedProfileLabels are the goroutine labels to leave out of
// profiles pushed to a continuous profiler (profiles.PushOptions.DropLabels).
// "run" has a new value every run: in a local goroutine dump or a diag
// bundle it names the run a stuck call works for, at no cost, but
// Pyroscope makes a series of every distinct label set, so pushing it
// would grow the server's index by one series per run and profile type,
// forever. loop, phase, dag and task are bounded by the code and by the
// DAG files, so they are pushed.
func UnpushedProfileLabels() []string { return []string{labelRun} }

// loopPhases are the phases of one loop iteration, as labelled.
var loopPhases = []string{"start", "lease", "sync", "ops", "claim", "reconcile", "events", "submits", "schedule", "timeouts", "dispatch", "finish", "heartbeat", "trigger", "drain"}

// phaseLabels holds a labelled context per loop phase, built once so that
// switching phase costs one goroutine-label store and no allocation.
type phaseLabels struct {
	base   context.Context
	phases map[string]context.Context
}

func newPhaseLabels(ctx context.Context) *phaseLabels {
	base := pprof.WithLabels(ctx, pprof.Labels(labelLoop, "scheduler"))
	p := &phaseLabels{base: base, phases: make(map[string]context.Context, len(loopPhases))}
	for _, ph := range loopPhases {
		p.phases[ph] = pprof.WithLabels(base, pprof.Labels(labelPhase, ph))
	}
	return p
}

// phase runs f with the goroutine and the context f gets labelled with
// the loop phase name, then puts the loop's own labels back. The phase
// contexts derive from the loop's, so they end when it does. Outside the
// loop (tests that call steps directly) f just gets ctx.
func (s *Scheduler) phase(ctx context.Context, name string, f func(ctx context.Context)) {
	if s.labels == nil {
		f(ctx)
		return
	}
	pctx, ok := s.labels.phases[name]
	if !ok {
		panic("scheduler: unknown loop phase " + name)
	}
	pprof.SetGoroutineLabels(pctx)
	defer pprof.SetGoroutineLabels(s.labels.base)
	f(pctx)
}

// withTry labels ctx, and the goroutine running f, with the loop that waits
// for the work ("scheduler" when the loop waits for it, "submit" for a
// submit that runs on its own) and the try's DAG, run
// and task, for work done for one try off the loop.
func withTry(ctx context.Context, k TaskKey, loop string, f func(ctx context.Context)) {
	pprof.Do(ctx, pprof.Labels(labelLoop, loop, labelDAG, k.DAGID, labelRun, k.RunID, labelTask, k.TaskID), f)
}

// execCall registers an executor call as in flight until the returned
// function is called.
func (s *Scheduler) execCall(ctx context.Context, op string, tk TryKey) func() {
	return s.opts.Inflight.Begin(ctx, inflight.Call{Kind: "executor", Target: s.opts.Executor.Name(), Op: op + " " + tk.String(), CallerSkip: 1})
}
