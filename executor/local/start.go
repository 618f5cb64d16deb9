package local

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/vigilhq/vigil/scheduler"
)

// proc is one try this executor started or adopted.
type proc struct {
	key scheduler.TryKey
	dir string
	// ready is closed when the start attempt is over; err, pid, start and
	// child are set before and never change after.
	ready chan struct{}
	err   error
	pid   int
	start uint64
	// child is true for a process this executor started and waits for;
	// adopted processes belong to an earlier scheduler and are polled.
	child bool
	// done is closed once the try's end is recorded and its event queued.
	done chan struct{}

	// Guarded by Executor.mu.
	reaped     bool // our child has been waited for: its pid may be reused
	ended      bool
	stopping   bool
	stopReason string
	killed     bool
	killTimer  *time.Timer
}

func (p *proc) externalID() string { return externalID(p.pid) }

func externalID(pid int) string {
	if pid == 0 {
		return ""
	}
	return "pid:" + strconv.Itoa(pid)
}

// Start runs a try, unless it already ran or runs: if this executor is
// running it, nothing happens; if its folder shows a process an earlier
// scheduler started, that process is watched (a started event, then its
// end) or, if it has ended, its recorded end is reported again. Start
// returns once the process is started; a command that cannot be found is
// not an error here but an exit status (127) from the shell.
func (e *Executor) Start(ctx context.Context, t scheduler.Try) error {
	if len(t.Spec.Command) == 0 {
		return fmt.Errorf("start %s: %w", t.Key, ErrNoCommand)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("start %s: %w", t.Key, err)
	}
	e.mu.Lock()
	if p, ok := e.procs[t.Key]; ok {
		e.mu.Unlock()
		if err := p.await(ctx); err != nil {
			return fmt.Errorf("start %s: %w", t.Key, err)
		}
		return nil
	}
	p := &proc{key: t.Key, dir: e.tryDir(t.Key), ready: make(chan struct{}), done: make(chan struct{})}
	e.procs[t.Key] = p
	e.mu.Unlock()

	p.err = e.start(ctx, p, t)
	close(p.ready)
	return p.err
}

// await waits for the end of p's start attempt and returns its error.
func (p *proc) await(ctx context.Context) error {
	select {
	case <-p.ready:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (e *Executor) start(ctx context.Context, p *proc, t scheduler.Try) error {
	if e.reg != nil {
		// Held until the pid is on disk (spawn) or the try is found
		// started elsewhere: see registry.
		release, err := e.claim(ctx, p, t.Key)
		if err != nil {
			e.end(p, "", 0, "")
			return fmt.Errorf("start %s: %w", t.Key, err)
		}
		defer release()
	}
	st, err := inspect(p.dir)
	if err != nil {
		e.end(p, "", 0, "")
		return fmt.Errorf("start %s: %w", t.Key, err)
	}
	switch {
	case st.exited:
		e.end(p, scheduler.EventExited, st.code, exitReason(st.code)+" (the try had already run; not run again)")
		return nil
	case st.alive:
		p.pid, p.start = st.pid, st.start
		e.log.Info("try already running, watching it", zap.Stringer("try", t.Key), zap.Int("pid", p.pid))
		e.queue.Push(e.event(p, scheduler.EventStarted, 0,
			fmt.Sprintf("process %d, started by an earlier scheduler, is running", p.pid)))
		go e.watch(p)
		return nil
	case st.recorded:
		p.pid = st.pid
		e.end(p, scheduler.EventLost, 0, lostReason(st.pid))
		return nil
	case st.exists:
		// An earlier scheduler stopped between creating the folder and
		// recording a pid; the wrapper never got its go-ahead, so the
		// command did not run and running it now is its only run.
		e.log.Info("earlier start of try was interrupted, starting it again", zap.Stringer("try", t.Key))
	}
	return e.spawn(p, t)
}

func (e *Executor) spawn(p *proc, t scheduler.Try) (err error) {
	defer func() {
		if err != nil {
			e.end(p, "", 0, "")
			err = fmt.Errorf("start %s: %w", t.Key, err)
		}
	}()
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return err
	}
	out, err := os.OpenFile(filepath.Join(p.dir, logFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	// Owner-only (0700 folders, 0600 log), as task output may hold secrets.
	// The child gets its own copy of the descriptor, so the output keeps
	// going to the file if this process dies: a pipe to us would not.
	defer out.Close()
	goRead, goWrite, err := os.Pipe()
	if err != nil {
		return err
	}
	defer goRead.Close()
	defer goWrite.Close()

	args := append([]string{"sh", "-c", wrapperScript, "vigil-try", p.dir}, t.Spec.Command...)
	cmd := &exec.Cmd{
		Path:   "/bin/sh",
		Args:   append(args, t.Spec.Args...),
		Dir:    e.workDir,
		Env:    taskEnv(t),
		Stdin:  goRead,
		Stdout: out,
		Stderr: out,
		// Its own process group, so Stop can signal the command and its
		// children at once; and no Pdeathsig, so a scheduler crash leaves
		// the try running.
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	pid := cmd.Process.Pid
	// The wrapper is our unreaped child until Wait, so its pid cannot have
	// been reused yet and /proc still shows it even if it already exited.
	start, _, err := procStat(pid)
	if err == nil {
		err = writePid(p.dir, pid, start)
	}
	if err != nil {
		// Without the go-ahead the wrapper exits without running the command.
		goWrite.Close()
		_ = cmd.Wait()
		return fmt.Errorf("record pid %d: %w", pid, err)
	}
	p.pid, p.start, p.child = pid, start, true
	if _, err := io.WriteString(goWrite, "go\n"); err != nil {
		// The wrapper is already gone; reap reports how it ended.
		e.log.Warn("could not tell the wrapper to run the command", zap.Stringer("try", t.Key), zap.Error(err))
	}
	e.log.Info("try started", zap.Stringer("try", t.Key), zap.Int("pid", pid), zap.String("dir", p.dir))
	e.queue.Push(e.event(p, scheduler.EventStarted, 0, fmt.Sprintf("process %d started", pid)))
	go e.reap(p, cmd)
	return nil
}

// taskEnv is a minimal environment, then the task's, then Vigil's own
// variables (the run's dates, then the try's names); exec keeps the last value of a name given twice. Of the
// scheduler's own environment a task sees only what a login gives any
// process (passedEnv): the scheduler's credentials (PGPASSWORD, cloud
// keys, a token for its own API) are not the task's (issue 16). A task
// that needs more names it in its env.
func taskEnv(t scheduler.Try) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if passedEnv(name) {
			env = append(env, kv)
		}
	}
	if os.Getenv("PATH") == "" {
		env = append(env, "PATH="+defaultPath)
	}
	for _, v := range slices.Concat(t.Spec.Env, t.DateEnv(), t.ParamEnv()) {
		env = append(env, v.Name+"="+v.Value)
	}
	return append(env,
		"VIGIL_DAG_ID="+t.Key.DAGID,
		"VIGIL_RUN_ID="+t.Key.RunID,
		"VIGIL_TASK_ID="+t.Key.TaskID,
		"VIGIL_TRY="+strconv.Itoa(t.Key.Try),
	)
}

// defaultPath is a task's PATH when the scheduler has none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// passedEnv reports whether a variable of the scheduler's environment is
// passed to tasks: where to find commands and the home folder, who the user
// is, the locale and time zone, and where temporary files go.
func passedEnv(name string) bool {
	switch name {
	case "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR":
		return true
	}
	return strings.HasPrefix(name, "LC_")
}

// reap waits for a child and reports its end.
func (e *Executor) reap(p *proc, cmd *exec.Cmd) {
	_ = cmd.Wait() // the status is in ProcessState
	e.mu.Lock()
	p.reaped = true
	e.mu.Unlock()
	code, ok, err := readExit(p.dir)
	if err != nil {
		e.log.Warn("unreadable exit status, using the wrapper's", zap.Stringer("try", p.key), zap.Error(err))
	}
	if !ok {
		// The wrapper recorded nothing: it was killed with its group
		// (SIGKILL after the grace period) or never ran the command. Record
		// what wait saw, so a later Adopt agrees with the event.
		ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
		code = ws.ExitStatus()
		if ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
		if err := writeExit(p.dir, code); err != nil {
			e.log.Warn("could not record exit status", zap.Stringer("try", p.key), zap.Error(err))
		}
	}
	e.end(p, scheduler.EventExited, code, exitReason(code))
}

func (e *Executor) event(p *proc, kind scheduler.EventKind, code int, reason string) scheduler.Event {
	return scheduler.Event{
		Key: p.key, Kind: kind, ExternalID: p.externalID(),
		ExitCode: code, Reason: reason, At: e.now(),
	}
}

func lostReason(pid int) string {
	return fmt.Sprintf("process %d ended without recording an exit status", pid)
}

// end records that p is over and, unless kind is empty (a start that never
// ran anything), queues its end event. A try Stop was asked to end gets a
// reason that says so.
func (e *Executor) end(p *proc, kind scheduler.EventKind, code int, reason string) {
	e.mu.Lock()
	if p.killTimer != nil {
		p.killTimer.Stop()
	}
	p.ended = true
	if e.procs[p.key] == p {
		delete(e.procs, p.key)
	}
	if kind == scheduler.EventExited && p.stopping {
		reason = stopReason(p.stopReason, code, p.killed, e.grace)
	}
	e.mu.Unlock()
	if kind != "" {
		e.log.Info("try ended", zap.Stringer("try", p.key), zap.Int("pid", p.pid),
			zap.String("event", string(kind)), zap.Int("exit_code", code), zap.String("reason", reason))
		e.queue.Push(e.event(p, kind, code, reason))
	}
	close(p.done)
}
