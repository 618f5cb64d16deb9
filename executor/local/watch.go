package local

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/vigilhq/vigil/scheduler"
)

// settled returns the proc that runs k here once its start attempt is over,
// or nil if this executor runs nothing for k.
func (e *Executor) settled(ctx context.Context, k scheduler.TryKey) (*proc, error) {
	for {
		e.mu.Lock()
		p := e.procs[k]
		e.mu.Unlock()
		if p == nil {
			return nil, nil
		}
		select {
		case <-p.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		e.mu.Lock()
		ended := p.ended
		e.mu.Unlock()
		if !ended {
			return p, nil
		}
		// It ended in the meantime; look again, a new Start may have
		// taken its place.
	}
}

// Adopt reports what became of a try and, if its process is still running,
// watches it and reports its end as an event. The try's folder is the
// source of truth; externalID is only checked against it.
func (e *Executor) Adopt(ctx context.Context, k scheduler.TryKey, externalID string) (scheduler.Observation, error) {
	for {
		p, err := e.settled(ctx, k)
		if err != nil {
			return scheduler.Observation{}, fmt.Errorf("adopt %s: %w", k, err)
		}
		if p != nil {
			return scheduler.Observation{Phase: scheduler.PhaseRunning, ExternalID: p.externalID(),
				Reason: fmt.Sprintf("process %d is running", p.pid)}, nil
		}
		obs, raced, err := e.adoptFromDisk(ctx, k, externalID)
		if !raced {
			return obs, err
		}
	}
}

// adoptFromDisk reads k's folder and starts watching a live process. raced
// is true if a Start registered k first; the caller then looks again.
func (e *Executor) adoptFromDisk(ctx context.Context, k scheduler.TryKey, wantID string) (obs scheduler.Observation, raced bool, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.procs[k] != nil {
		return obs, true, nil
	}
	dir, err := e.linkedFolder(ctx, k)
	if err != nil {
		return obs, false, fmt.Errorf("adopt %s: %w", k, err)
	}
	st, err := inspect(dir)
	if err != nil {
		return obs, false, fmt.Errorf("adopt %s: %w", k, err)
	}
	obs.ExternalID = externalID(st.pid)
	if wantID != "" && st.recorded && wantID != obs.ExternalID {
		e.log.Warn("try's folder names another process than the store; trusting the folder",
			zap.Stringer("try", k), zap.String("store", wantID), zap.String("folder", obs.ExternalID))
	}
	switch {
	case st.exited:
		obs.Phase, obs.ExitCode, obs.Reason = scheduler.PhaseExited, st.code, exitReason(st.code)
	case st.alive:
		p := &proc{key: k, dir: dir, pid: st.pid, start: st.start,
			ready: make(chan struct{}), done: make(chan struct{})}
		close(p.ready)
		e.procs[k] = p
		go e.watch(p)
		e.log.Info("adopted running try", zap.Stringer("try", k), zap.Int("pid", st.pid))
		obs.Phase, obs.Reason = scheduler.PhaseRunning, fmt.Sprintf("process %d is running", st.pid)
	case st.recorded:
		obs.Phase, obs.Reason = scheduler.PhaseLost, lostReason(st.pid)
	case st.exists:
		// The wrapper never got its go-ahead, so the command never ran:
		// as far as the try's outcome goes there is nothing to find, and
		// Start will run it.
		obs.Phase = scheduler.PhaseMissing
		obs.Reason = fmt.Sprintf("no process was recorded in %s: an earlier scheduler stopped while starting the try, before its command ran", dir)
	default:
		obs.Phase, obs.Reason = scheduler.PhaseMissing, fmt.Sprintf("%s does not exist", dir)
	}
	return obs, false, nil
}

// watch polls an adopted process, which is not our child and so cannot be
// waited for, until it ends.
func (e *Executor) watch(p *proc) {
	tick := time.NewTicker(e.poll)
	defer tick.Stop()
	for range tick.C {
		st, err := inspect(p.dir)
		switch {
		case err != nil:
			e.log.Warn("cannot read try folder", zap.Stringer("try", p.key), zap.Error(err))
			continue
		case st.exited:
			e.end(p, scheduler.EventExited, st.code, exitReason(st.code))
		case st.alive && st.pid == p.pid:
			continue
		case e.wasKilled(p):
			// Our SIGKILL took the wrapper down before it could write.
			code := 128 + int(syscall.SIGKILL)
			if err := writeExit(p.dir, code); err != nil {
				e.log.Warn("could not record exit status", zap.Stringer("try", p.key), zap.Error(err))
			}
			e.end(p, scheduler.EventExited, code, exitReason(code))
		default:
			e.end(p, scheduler.EventLost, 0, lostReason(p.pid))
		}
		return
	}
}

func (e *Executor) wasKilled(p *proc) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return p.killed
}

// Stop sends SIGTERM to the try's process group and SIGKILL after the grace
// period; the end comes as an event. A try an earlier scheduler started is
// adopted first. Stopping a try that is not running is not an error.
func (e *Executor) Stop(ctx context.Context, k scheduler.TryKey, reason string) error {
	p, err := e.settled(ctx, k)
	if err != nil {
		return fmt.Errorf("stop %s: %w", k, err)
	}
	if p == nil {
		obs, err := e.Adopt(ctx, k, "")
		if err != nil || obs.Phase != scheduler.PhaseRunning {
			return err
		}
		if p, err = e.settled(ctx, k); p == nil || err != nil {
			return err
		}
	}
	e.awaitExec(ctx, p)
	e.mu.Lock()
	defer e.mu.Unlock()
	if p.ended || p.stopping {
		return nil
	}
	if err := e.signalLocked(p, syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop %s: %w", k, err)
	}
	p.stopping, p.stopReason = true, reason
	p.killTimer = time.AfterFunc(e.grace, func() { e.kill(p) })
	e.log.Info("stopping try", zap.Stringer("try", k), zap.Int("pid", p.pid), zap.String("reason", reason))
	return nil
}

// awaitExec waits, a few milliseconds at most in practice, until a try
// started moments ago has exec'd its command, so that Stop's SIGTERM reaches
// the command and is not lost in the wrapper's forked copy (see
// wrapperScript). Past execWait it gives up and lets SIGKILL after the grace
// period be the backstop. Most tries, adopted ones above all, are long past
// this point and cost one look at /proc.
func (e *Executor) awaitExec(ctx context.Context, p *proc) {
	deadline := time.NewTimer(execWait)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !execed(p.pid) {
		select {
		case <-tick.C:
		case <-deadline.C:
			e.log.Warn("try's command has not started; signalling anyway", zap.Stringer("try", p.key), zap.Int("pid", p.pid))
			return
		case <-ctx.Done():
			return
		}
	}
}

// execWait bounds awaitExec. A shell forks and execs in well under a
// millisecond; a whole second means a machine too loaded to wait longer on.
const execWait = time.Second

// kill ends a try that outlived its grace period.
func (e *Executor) kill(p *proc) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p.ended {
		return
	}
	if err := e.signalLocked(p, syscall.SIGKILL); err != nil {
		e.log.Warn("SIGKILL failed", zap.Stringer("try", p.key), zap.Int("pid", p.pid), zap.Error(err))
		return
	}
	p.killed = true
	e.log.Info("killed try after grace period", zap.Stringer("try", p.key), zap.Int("pid", p.pid))
}

// signalLocked signals p's process group. A group already gone is no error:
// its end is on its way.
func (e *Executor) signalLocked(p *proc, sig syscall.Signal) error {
	// Never signal a stranger: an adopted pid may have ended and been handed
	// to another process since the last poll, and so may our own child's
	// once we have reaped it (before that the kernel keeps it).
	if p.reaped || !p.child && !sameProcess(p.pid, p.start) {
		return nil
	}
	if err := syscall.Kill(-p.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal process group %d: %w", p.pid, err)
	}
	return nil
}

// StopAll stops every try this executor runs and waits, until ctx ends, for
// their end events to be queued. Use it at shutdown when tries should not
// outlive the scheduler; a scheduler that is only restarting can instead
// leave them running and Adopt them.
func (e *Executor) StopAll(ctx context.Context, reason string) error {
	e.mu.Lock()
	ps := make([]*proc, 0, len(e.procs))
	for _, p := range e.procs {
		ps = append(ps, p)
	}
	e.mu.Unlock()
	var errs []error
	for _, p := range ps {
		if err := e.Stop(ctx, p.key, reason); err != nil {
			errs = append(errs, err)
		}
	}
	for i, p := range ps {
		select {
		case <-p.done:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("stop all: %d of %d tries still running: %w", len(ps)-i, len(ps), ctx.Err()))
			return errors.Join(errs...)
		}
	}
	return errors.Join(errs...)
}
