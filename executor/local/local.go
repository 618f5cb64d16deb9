// Package local runs task tries as processes on the scheduler's own machine:
// the executor `vigil run` uses unless told to use Kubernetes.
//
// Each try runs in its own process group, under a small /bin/sh wrapper that
// records the command's exit status in the try's folder:
//
//	<Dir>/<dag>/<run>/<task>/try-<n>/
//	    output.log   the command's stdout and stderr
//	    pid          "<pid> <start time>" of the wrapper, the group leader
//	    exitcode     the command's exit status, once it has ended
//	<Dir>/.vigil-store   the id of the database the tries belong to (Options.StoreID)
//
// A try's environment is not the scheduler's: it gets PATH, HOME, USER,
// LOGNAME, SHELL, LANG, LANGUAGE, LC_*, TZ and TMPDIR from it, then the
// task's env, then VIGIL_LOGICAL_DATE, VIGIL_DATA_INTERVAL_START and
// VIGIL_DATA_INTERVAL_END (scheduler.RunDates), then the run's params as
// VIGIL_PARAM_<NAME> and VIGIL_CONF (scheduler.Try.ParamEnv), then
// VIGIL_DAG_ID, VIGIL_RUN_ID, VIGIL_TASK_ID and VIGIL_TRY.
//
// Nothing ties a try's life to the scheduler's: if the scheduler is killed,
// its tries keep running and record their status, and the next scheduler on
// the same Dir learns what became of them through Adopt. A pid is trusted
// only together with its start time, so a pid the kernel has given to
// another process is never taken for the task.
//
// Typical use, wired by cmd/vigil:
//
//	ex, err := local.New(local.Options{Dir: "/var/lib/vigil/tries", Logger: log, Beat: hb.Beat})
//	g.Go(func() error { return ex.Run(ctx, events) })
//	...
//	ex.Start(ctx, scheduler.Try{Key: k, Spec: spec})
//	...
//	ex.StopAll(shutdownCtx, "scheduler shutting down") // or leave tries running across a restart
//
// The package relies on Linux's /proc.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/vigilhq/vigil/executor/internal/eventq"
	"github.com/vigilhq/vigil/scheduler"
)

var (
	_ scheduler.Executor  = (*Executor)(nil)
	_ scheduler.LogReader = (*Executor)(nil)
)

// ErrNoCommand is returned (wrapped) by Start for a task spec without a
// command. It wraps scheduler.ErrTaskInvalid: starting the try again cannot
// succeed, so the scheduler fails the task at once.
var ErrNoCommand = fmt.Errorf("%w: no command", scheduler.ErrTaskInvalid)

// Options configure an Executor. Only Dir is required.
type Options struct {
	// Dir holds a folder per try with its output, pid and exit status. It
	// must survive a scheduler restart for Adopt to find running tries.
	Dir string
	// WorkDir is the working directory of every task; the scheduler's own
	// by default.
	WorkDir string
	// KillGrace is how long Stop waits after SIGTERM before SIGKILL; 10s by
	// default.
	KillGrace time.Duration
	// PollInterval is how often adopted processes, which are not this
	// process's children and so cannot be waited for, are looked at; 500ms
	// by default.
	PollInterval time.Duration
	// Logger records each try's start and end; nothing is logged if nil.
	Logger *zap.Logger
	// Beat is called on every iteration of Run's loop and at least once a
	// second while Run runs, to feed a liveness heartbeat.
	Beat func()
	// Now stamps events; time.Now by default.
	Now func() time.Time
	// Registry, if set, is a folder shared by the local executors of all
	// the schedulers on this machine that use one store (see registry):
	// through it a scheduler that takes another's run over finds the
	// tries the other started in its own Dir. Without it only tries in
	// Dir are found.
	Registry string
	// StoreID, if set, binds Dir to the database with that id
	// (scheduler.Store.ID): New marks Dir with it, and refuses
	// (ErrOtherStore) a Dir marked with another database's id, whose try
	// folders would be taken for this database's tries.
	StoreID string
	// KnownRuns lists the database's runs. New calls it only for a Dir
	// that has try folders but no mark (from before database ids): Dir is
	// marked if each of its run folders is one of these runs, and refused
	// otherwise.
	KnownRuns func() ([]scheduler.Run, error)
}

// Executor runs tries as local processes. It is safe for concurrent use.
type Executor struct {
	dir     string
	workDir string
	grace   time.Duration
	poll    time.Duration
	log     *zap.Logger
	beat    func()
	now     func() time.Time
	reg     *registry // nil without Options.Registry

	queue eventq.Queue

	mu sync.Mutex
	// procs holds the tries being started or watched by this executor.
	procs map[scheduler.TryKey]*proc
}

// New returns an Executor keeping its tries under opts.Dir, creating it if
// needed.
func New(opts Options) (*Executor, error) {
	if opts.Dir == "" {
		return nil, errors.New("local executor: Options.Dir is required")
	}
	// The wrapper runs in WorkDir, so the try folders it writes to must not
	// be relative paths.
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("local executor: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("local executor: create state folder: %w", err)
	}
	if opts.StoreID != "" {
		if err := bindToStore(dir, opts.StoreID, opts.KnownRuns); err != nil {
			return nil, fmt.Errorf("local executor: %w", err)
		}
	}
	if _, _, err := procStat(os.Getpid()); err != nil {
		return nil, fmt.Errorf("local executor: needs Linux /proc to recognise its processes: %w", err)
	}
	var reg *registry
	if opts.Registry != "" {
		rdir, err := filepath.Abs(opts.Registry)
		if err == nil {
			err = os.MkdirAll(rdir, 0o700)
		}
		if err != nil {
			return nil, fmt.Errorf("local executor: try registry %s: %w", opts.Registry, err)
		}
		reg = &registry{dir: rdir}
	}
	e := &Executor{reg: reg,
		dir: dir, workDir: opts.WorkDir, grace: opts.KillGrace, poll: opts.PollInterval,
		log: opts.Logger, beat: opts.Beat, now: opts.Now,
		procs: make(map[scheduler.TryKey]*proc),
	}
	if e.workDir == "" {
		if e.workDir, err = os.Getwd(); err != nil {
			return nil, fmt.Errorf("local executor: working directory: %w", err)
		}
	}
	if e.grace <= 0 {
		e.grace = 10 * time.Second
	}
	if e.poll <= 0 {
		e.poll = 500 * time.Millisecond
	}
	if e.log == nil {
		e.log = zap.NewNop()
	}
	if e.beat == nil {
		e.beat = func() {}
	}
	if e.now == nil {
		e.now = time.Now
	}
	return e, nil
}

// Name is the component name in transition records.
func (e *Executor) Name() string { return "executor/local" }

// Run delivers events until ctx ends, then returns nil. Events produced
// while Run is not running wait for it.
func (e *Executor) Run(ctx context.Context, events chan<- scheduler.Event) error {
	return e.queue.Run(ctx, events, e.beat)
}

// Logs opens the output of a try.
func (e *Executor) Logs(ctx context.Context, k scheduler.TryKey) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dir := e.tryDir(k)
	e.mu.Lock()
	if p := e.procs[k]; p != nil {
		dir = p.dir
	}
	e.mu.Unlock()
	if _, err := os.Stat(dir); err != nil && e.reg != nil {
		if linked, _ := e.reg.folder(k); linked != "" {
			dir = linked // started by another scheduler on this machine
		}
	}
	path := filepath.Join(dir, logFile)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("logs of try %s: %s does not exist: the try was not started by a local executor on this state folder, or its folder was removed", k, path)
	}
	if err != nil {
		return nil, fmt.Errorf("logs of try %s: %w", k, err)
	}
	return f, nil
}

// exitReason explains an exit status that nobody asked for.
func exitReason(code int) string {
	if name, ok := signalName(code - 128); ok {
		return fmt.Sprintf("exit code %d (%s)", code, name)
	}
	return fmt.Sprintf("exit code %d", code)
}

// stopReason explains how a try that Stop was asked to end did end.
func stopReason(reason string, code int, killed bool, grace time.Duration) string {
	switch {
	case killed && code == 128+int(syscall.SIGKILL):
		return fmt.Sprintf("stopped: %s (SIGKILL after %s grace)", reason, grace)
	case code == 128+int(syscall.SIGTERM):
		return fmt.Sprintf("stopped: %s (SIGTERM)", reason)
	default:
		// The command handled SIGTERM and chose its own status.
		return fmt.Sprintf("stopped: %s (SIGTERM, then %s)", reason, exitReason(code))
	}
}

// signalName names the signals a task is commonly ended by. syscall's own
// names ("terminated") are not the ones people search logs for.
func signalName(n int) (string, bool) {
	names := map[syscall.Signal]string{
		syscall.SIGHUP: "SIGHUP", syscall.SIGINT: "SIGINT", syscall.SIGQUIT: "SIGQUIT",
		syscall.SIGILL: "SIGILL", syscall.SIGTRAP: "SIGTRAP", syscall.SIGABRT: "SIGABRT",
		syscall.SIGBUS: "SIGBUS", syscall.SIGFPE: "SIGFPE", syscall.SIGKILL: "SIGKILL",
		syscall.SIGUSR1: "SIGUSR1", syscall.SIGSEGV: "SIGSEGV", syscall.SIGUSR2: "SIGUSR2",
		syscall.SIGPIPE: "SIGPIPE", syscall.SIGALRM: "SIGALRM", syscall.SIGTERM: "SIGTERM",
		syscall.SIGXCPU: "SIGXCPU", syscall.SIGXFSZ: "SIGXFSZ",
	}
	name, ok := names[syscall.Signal(n)]
	return name, ok
}
