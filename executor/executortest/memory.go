package executortest

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigilhq/vigil/executor/internal/eventq"
	"github.com/vigilhq/vigil/scheduler"
)

var _ scheduler.Executor = (*Memory)(nil)

// ErrNoCommand is returned (wrapped) by Memory.Start for a spec without a
// command. Like a real executor's, it wraps scheduler.ErrTaskInvalid.
var ErrNoCommand = fmt.Errorf("%w: no command", scheduler.ErrTaskInvalid)

// Outcome scripts how a try run by Memory ends.
type Outcome struct {
	ExitCode int
	// Duration is how long the try runs; zero ends it inside Start, with no
	// timer and no goroutine.
	Duration time.Duration
	// Lost ends the try with a lost event instead of an exit.
	Lost bool
	// Evicted, if set, ends the try with an evicted event of that cause
	// (scheduler.CauseEvicted, ...) instead of an exit.
	Evicted string
	// Hang keeps the try running until Stop, Finish or Lose.
	Hang bool
}

// MemoryOptions configure a Memory executor. The zero value runs every try
// by its command (see NewMemory).
type MemoryOptions struct {
	// Outcome, if set, decides a try's outcome; returning false falls back
	// to the outcome read from the command.
	Outcome func(scheduler.Try) (Outcome, bool)
	// StartError, if set and returning non-nil for a try, makes Start fail
	// with that error (wrapped) and run nothing.
	StartError func(scheduler.Try) error
	// Now stamps events; time.Now by default.
	Now func() time.Time
}

// Memory is an in-memory scheduler.Executor for tests: instant, scriptable,
// and recording every try it ran. Its tries live on a simulated machine
// that Reopen shares with a new Memory, to test what a scheduler does after
// a restart.
type Memory struct {
	opts  MemoryOptions
	mach  *machine
	queue eventq.Queue
}

// machine is what survives a simulated scheduler restart: the tries.
type machine struct {
	mu     sync.Mutex
	tries  map[scheduler.TryKey]*memTry
	ran    []scheduler.TryKey
	starts map[scheduler.TryKey]int
}

type memTry struct {
	key      scheduler.TryKey
	id       string
	ended    bool
	kind     scheduler.EventKind // how it ended
	code     int
	reason   string
	cause    string // of an eviction
	timer    *time.Timer
	watchers []*Memory // executors that report its end
}

// NewMemory returns a Memory on a machine of its own. Without an Outcome
// option a try's outcome follows its command, so the specs of the contract
// suite and of DAG files mean what they say:
//
//	true                → exit 0
//	false               → exit 1
//	sh -c 'exit N'      → exit N
//	sleep N             → runs N seconds (fractions too), then exit 0
//	anything else       → exit 0
func NewMemory(opts MemoryOptions) *Memory {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Memory{opts: opts, mach: &machine{
		tries:  make(map[scheduler.TryKey]*memTry),
		starts: make(map[scheduler.TryKey]int),
	}}
}

// Reopen returns a new Memory on the same machine, as a restarted scheduler
// would find it: tries keep running and ending, and the new executor
// reports them only once it adopts (or starts) them.
func (m *Memory) Reopen() *Memory {
	return &Memory{opts: m.opts, mach: m.mach}
}

// Name is the component name in transition records.
func (m *Memory) Name() string { return "executor/memory" }

// Run delivers events until ctx ends, then returns nil.
func (m *Memory) Run(ctx context.Context, events chan<- scheduler.Event) error {
	return m.queue.Run(ctx, events, nil)
}

// Start runs a try as scripted. A try the machine already ran is not run
// again: a running one is watched (with a started event if this executor
// did not know it), an ended one has its end reported again.
func (m *Memory) Start(ctx context.Context, t scheduler.Try) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("start %s: %w", t.Key, err)
	}
	mach := m.mach
	mach.mu.Lock()
	defer mach.mu.Unlock()
	mach.starts[t.Key]++
	if m.opts.StartError != nil {
		if err := m.opts.StartError(t); err != nil {
			return fmt.Errorf("start %s: %w", t.Key, err)
		}
	}
	if len(t.Spec.Command) == 0 {
		return fmt.Errorf("start %s: %w", t.Key, ErrNoCommand)
	}
	if tr := mach.tries[t.Key]; tr != nil {
		switch {
		case tr.ended:
			m.queue.Push(m.event(tr, tr.kind, tr.code, tr.reason))
		case !tr.watchedBy(m):
			tr.watchers = append(tr.watchers, m)
			m.queue.Push(m.event(tr, scheduler.EventStarted, 0, "already running"))
		}
		return nil
	}
	o, ok := Outcome{}, false
	if m.opts.Outcome != nil {
		o, ok = m.opts.Outcome(t)
	}
	if !ok {
		o = commandOutcome(append(append([]string(nil), t.Spec.Command...), t.Spec.Args...))
	}
	tr := &memTry{key: t.Key, id: "memory:" + strconv.Itoa(len(mach.ran)+1), watchers: []*Memory{m}}
	mach.tries[t.Key] = tr
	mach.ran = append(mach.ran, t.Key)
	m.queue.Push(m.event(tr, scheduler.EventStarted, 0, "started"))
	kind, reason := scheduler.EventExited, fmt.Sprintf("exit code %d", o.ExitCode)
	if o.Lost {
		kind, reason = scheduler.EventLost, "lost, as scripted"
	}
	if o.Evicted != "" {
		kind, reason, tr.cause = scheduler.EventEvicted, "evicted, as scripted", o.Evicted
	}
	switch {
	case o.Hang:
	case o.Duration > 0:
		tr.timer = time.AfterFunc(o.Duration, func() {
			mach.mu.Lock()
			defer mach.mu.Unlock()
			mach.endLocked(tr, kind, o.ExitCode, reason)
		})
	default:
		mach.endLocked(tr, kind, o.ExitCode, reason)
	}
	return nil
}

func (tr *memTry) watchedBy(m *Memory) bool {
	for _, w := range tr.watchers {
		if w == m {
			return true
		}
	}
	return false
}

// endLocked ends a running try and tells its watchers.
func (mach *machine) endLocked(tr *memTry, kind scheduler.EventKind, code int, reason string) {
	if tr.ended {
		return
	}
	if tr.timer != nil {
		tr.timer.Stop()
	}
	tr.ended, tr.kind, tr.code, tr.reason = true, kind, code, reason
	for _, w := range tr.watchers {
		w.queue.Push(w.event(tr, kind, code, reason))
	}
}

func (m *Memory) event(tr *memTry, kind scheduler.EventKind, code int, reason string) scheduler.Event {
	ev := scheduler.Event{Key: tr.key, Kind: kind, ExternalID: tr.id, ExitCode: code, Reason: reason, At: m.opts.Now()}
	if kind == scheduler.EventEvicted {
		ev.Cause = tr.cause
	}
	return ev
}

// Stop ends a running try at once with exit code 143, as SIGTERM would.
func (m *Memory) Stop(ctx context.Context, k scheduler.TryKey, reason string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stop %s: %w", k, err)
	}
	m.mach.mu.Lock()
	defer m.mach.mu.Unlock()
	tr := m.mach.tries[k]
	if tr == nil || tr.ended {
		return nil
	}
	if !tr.watchedBy(m) {
		tr.watchers = append(tr.watchers, m)
	}
	m.mach.endLocked(tr, scheduler.EventExited, 143, fmt.Sprintf("stopped: %s (SIGTERM)", reason))
	return nil
}

// Adopt reports what the machine knows of a try and watches it if it runs.
func (m *Memory) Adopt(ctx context.Context, k scheduler.TryKey, externalID string) (scheduler.Observation, error) {
	if err := ctx.Err(); err != nil {
		return scheduler.Observation{}, fmt.Errorf("adopt %s: %w", k, err)
	}
	m.mach.mu.Lock()
	defer m.mach.mu.Unlock()
	tr := m.mach.tries[k]
	switch {
	case tr == nil:
		return scheduler.Observation{Phase: scheduler.PhaseMissing, Reason: "never started on this machine"}, nil
	case !tr.ended:
		if !tr.watchedBy(m) {
			tr.watchers = append(tr.watchers, m)
		}
		return scheduler.Observation{Phase: scheduler.PhaseRunning, ExternalID: tr.id}, nil
	case tr.kind == scheduler.EventLost:
		return scheduler.Observation{Phase: scheduler.PhaseLost, ExternalID: tr.id, Reason: tr.reason}, nil
	case tr.kind == scheduler.EventEvicted:
		return scheduler.Observation{Phase: scheduler.PhaseEvicted, ExternalID: tr.id, Reason: tr.reason, Cause: tr.cause}, nil
	default:
		return scheduler.Observation{Phase: scheduler.PhaseExited, ExternalID: tr.id, ExitCode: tr.code, Reason: tr.reason}, nil
	}
}

// Finish ends a running try (typically one scripted to Hang) with an exit
// code.
func (m *Memory) Finish(k scheduler.TryKey, exitCode int) error {
	return m.endRunning(k, scheduler.EventExited, exitCode, fmt.Sprintf("exit code %d", exitCode))
}

// Lose ends a running try with a lost event.
func (m *Memory) Lose(k scheduler.TryKey, reason string) error {
	return m.endRunning(k, scheduler.EventLost, 0, reason)
}

// Evict ends a running try as its platform would: an evicted event with
// cause (scheduler.CauseEvicted, ...) and reason.
func (m *Memory) Evict(k scheduler.TryKey, cause, reason string) error {
	m.mach.mu.Lock()
	defer m.mach.mu.Unlock()
	tr := m.mach.tries[k]
	if tr == nil || tr.ended {
		return fmt.Errorf("try %s is not running", k)
	}
	tr.cause = cause
	m.mach.endLocked(tr, scheduler.EventEvicted, 0, reason)
	return nil
}

func (m *Memory) endRunning(k scheduler.TryKey, kind scheduler.EventKind, code int, reason string) error {
	m.mach.mu.Lock()
	defer m.mach.mu.Unlock()
	tr := m.mach.tries[k]
	if tr == nil || tr.ended {
		return fmt.Errorf("try %s is not running", k)
	}
	m.mach.endLocked(tr, kind, code, reason)
	return nil
}

// Started lists the tries the machine ran, in the order they started, each
// once, across Reopen.
func (m *Memory) Started() []scheduler.TryKey {
	m.mach.mu.Lock()
	defer m.mach.mu.Unlock()
	return append([]scheduler.TryKey(nil), m.mach.ran...)
}

// Starts counts the Start calls for a try, across Reopen, including those
// that ran nothing because the try had run or failed to start: a scheduler
// that submits a try twice shows here.
func (m *Memory) Starts(k scheduler.TryKey) int {
	m.mach.mu.Lock()
	defer m.mach.mu.Unlock()
	return m.mach.starts[k]
}

// Runs counts how often a try actually ran (0 or 1); the contract suite
// uses it where a real executor's command would leave a trace.
func (m *Memory) Runs(k scheduler.TryKey) int {
	m.mach.mu.Lock()
	defer m.mach.mu.Unlock()
	if m.mach.tries[k] != nil {
		return 1
	}
	return 0
}

// Running lists the tries that have started and not ended.
func (m *Memory) Running() []scheduler.TryKey {
	m.mach.mu.Lock()
	defer m.mach.mu.Unlock()
	var keys []scheduler.TryKey
	for _, k := range m.mach.ran {
		if !m.mach.tries[k].ended {
			keys = append(keys, k)
		}
	}
	return keys
}

// commandOutcome reads an outcome from a command line (see NewMemory).
func commandOutcome(argv []string) Outcome {
	switch path.Base(argv[0]) {
	case "true":
		return Outcome{}
	case "false":
		return Outcome{ExitCode: 1}
	case "sleep":
		if len(argv) == 2 {
			if s, err := strconv.ParseFloat(argv[1], 64); err == nil && s >= 0 {
				return Outcome{Duration: time.Duration(s * float64(time.Second))}
			}
		}
	case "sh", "bash":
		if len(argv) >= 3 && argv[1] == "-c" {
			if f := strings.Fields(argv[2]); len(f) == 2 && f[0] == "exit" {
				if n, err := strconv.Atoi(f[1]); err == nil {
					return Outcome{ExitCode: n}
				}
			}
		}
	}
	return Outcome{}
}
