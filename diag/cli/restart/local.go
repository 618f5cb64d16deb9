package restart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/vigilhq/vigil/diag/bundle"
	"github.com/vigilhq/vigil/diag/client"
	"github.com/vigilhq/vigil/diag/debugserver"
)

// killWait is how long a local restart waits for the process to go away
// after SIGKILL.
const killWait = 10 * time.Second

// local is a scheduler reached through its socket or loopback address:
// a process on this machine, stopped with signals.
type local struct {
	opts *Options
	c    *client.Client
	info debugserver.Info
	// proc is the scheduler's process. On Linux it holds a pidfd, so a
	// signal never reaches another process that reused the pid.
	proc *os.Process
}

func (l *local) client() *client.Client { return l.c }
func (l *local) describe() string       { return l.c.Where() }

func (l *local) close() {
	if l.proc != nil {
		_ = l.proc.Release()
	}
	l.c.Close()
}

// check finds the scheduler's process and refuses, saying why, when this
// diag cannot signal it.
func (l *local) check(ctx context.Context) error {
	ictx, cancel := l.opts.Factory.Context(ctx, 0)
	info, err := l.c.Info(ictx)
	cancel()
	if err != nil {
		return fmt.Errorf("read the scheduler's pid: %w", err)
	}
	l.info = info
	pid := info.PID
	if host, _ := os.Hostname(); info.Host != "" && host != "" && info.Host != host {
		return fmt.Errorf("%w: the scheduler (pid %d) runs on host %s and this is %s: diag signals only processes it can see; run diag restart where the scheduler runs, or use --pod", errRefused, pid, info.Host, host)
	}
	if pid <= 1 || pid == os.Getpid() {
		return fmt.Errorf("%w: the scheduler says its pid is %d, which diag will not signal", errRefused, pid)
	}
	// The pid is the server's word; the kernel's is what counts (issue
	// 16): the process listening on the socket must be that pid, of our
	// user, or a confused or hostile server could have any process of
	// ours killed.
	pctx, cancel := l.opts.Factory.Context(ctx, 0)
	peer, err := l.c.Peer(pctx)
	cancel()
	if errors.Is(err, client.ErrNoPeer) {
		return fmt.Errorf("%w: %s cannot say which process serves it, so diag cannot check that pid %d is the scheduler's; give its socket instead (--socket, or no target flag on its machine): the kernel says who serves a socket", errRefused, l.c.Where(), pid)
	}
	if err != nil {
		return fmt.Errorf("%w: check which process serves %s: %v", errRefused, l.c.Where(), err)
	}
	if err := verifyPeer(l.c.Where(), pid, peer, os.Geteuid()); err != nil {
		return err
	}
	proc, err := os.FindProcess(pid)
	if err == nil {
		err = proc.Signal(syscall.Signal(0))
	}
	switch {
	case errors.Is(err, os.ErrProcessDone):
		return fmt.Errorf("%w: the scheduler's pid %d is not visible here: it runs in another PID namespace (a container?); run diag restart inside it, or use --pod", errRefused, pid)
	case errors.Is(err, syscall.EPERM):
		return fmt.Errorf("%w: not allowed to signal the scheduler's pid %d: it belongs to another user; run diag restart as that user or as root", errRefused, pid)
	case err != nil:
		return fmt.Errorf("%w: signal pid %d: %v", errRefused, pid, err)
	}
	l.proc = proc
	// The pid is the scheduler's only if it runs the scheduler's binary:
	// in another PID namespace the same number is another process.
	if cmd, ok := cmdline(pid); ok && len(info.Args) > 0 && len(cmd) > 0 &&
		filepath.Base(cmd[0]) != filepath.Base(info.Args[0]) {
		return fmt.Errorf("%w: pid %d here runs %s, not the scheduler's %s: the scheduler runs in another PID namespace; run diag restart inside it, or use --pod", errRefused, pid, cmd[0], info.Args[0])
	}
	fmt.Fprintf(l.opts.IO.Out, "Process: pid %d on %s, up %s\n", pid, info.Host, info.Uptime.Round(time.Second))
	return nil
}

// verifyPeer refuses a restart of pid unless peer, the process the
// kernel says serves the socket at where, is pid and runs as uid.
func verifyPeer(where string, pid int, peer client.Peer, uid int) error {
	switch {
	case peer.PID == 0:
		return fmt.Errorf("%w: the process serving %s is not visible from this PID namespace; run diag restart where the scheduler runs, or use --pod", errRefused, where)
	case peer.PID != pid:
		return fmt.Errorf("%w: the scheduler says its pid is %d, but %s is served by pid %d (the kernel's word, SO_PEERCRED): diag signals only the process that serves the socket; look at both with ps -p %d,%d", errRefused, pid, where, peer.PID, pid, peer.PID)
	case peer.UID != uid:
		return fmt.Errorf("%w: %s is served by pid %d of uid %d, not this user (uid %d); run diag restart as uid %d", errRefused, where, peer.PID, peer.UID, uid, peer.UID)
	}
	return nil
}

// keepBundle says where the bundle is: on this machine already.
func (l *local) keepBundle(context.Context, bundle.Info) error { return nil }

// restart sends SIGTERM, waits up to --grace for the process to exit,
// then sends SIGKILL.
func (l *local) restart(ctx context.Context, _ record) error {
	out, pid, grace := l.opts.IO.Out, l.info.PID, l.opts.Grace
	if err := l.proc.Signal(syscall.SIGTERM); err != nil {
		if errors.Is(err, os.ErrProcessDone) {
			fmt.Fprintf(out, "Stopped: pid %d had already exited\n", pid)
			return nil
		}
		return fmt.Errorf("SIGTERM to pid %d: %w", pid, err)
	}
	fmt.Fprintf(out, "Sent SIGTERM to pid %d; waiting up to %s for it to drain and exit\n", pid, grace)
	start := time.Now()
	exited, err := l.waitExit(ctx, grace)
	if err != nil {
		return fmt.Errorf("waiting for pid %d after SIGTERM: %w (it may still be draining)", pid, err)
	}
	if exited {
		fmt.Fprintf(out, "Stopped: pid %d exited after %s\n", pid, time.Since(start).Round(10*time.Millisecond))
	} else {
		fmt.Fprintf(out, "pid %d is still running after %s: sending SIGKILL\n", pid, grace)
		if err := l.proc.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("SIGKILL to pid %d: %w", pid, err)
		}
		exited, err := l.waitExit(ctx, killWait)
		if err != nil {
			return fmt.Errorf("waiting for pid %d after SIGKILL: %w", pid, err)
		}
		if !exited {
			return fmt.Errorf("pid %d is still there %s after SIGKILL: it is stuck in the kernel (uninterruptible I/O?)", pid, killWait)
		}
		fmt.Fprintf(out, "Stopped: pid %d killed\n", pid)
	}
	fmt.Fprintln(out, "diag does not start the scheduler again: whatever supervises it does (systemd, a container runtime); 'diag health' says when it is back")
	return nil
}

// waitExit polls until the process has exited (true) or within has
// passed (false).
func (l *local) waitExit(ctx context.Context, within time.Duration) (bool, error) {
	poll := l.opts.Poll
	if poll <= 0 {
		poll = 100 * time.Millisecond
	}
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		if !alive(l.proc) {
			return true, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-deadline.C:
			return !alive(l.proc), nil
		case <-tick.C:
		}
	}
}

// alive reports whether p still runs: a zombie (exited, not yet reaped
// by its parent) does not.
func alive(p *os.Process) bool {
	if err := p.Signal(syscall.Signal(0)); err != nil {
		return false
	}
	return !zombie(p.Pid)
}

// zombie reports whether /proc says pid has exited but not been reaped.
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// "pid (comm) S ...": comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	return b[i+2] == 'Z'
}

// cmdline is pid's command line from /proc, if there is one.
func cmdline(pid int) ([]string, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || len(b) == 0 {
		return nil, false
	}
	var args []string
	for _, a := range bytes.Split(bytes.TrimRight(b, "\x00"), []byte{0}) {
		args = append(args, string(a))
	}
	return args, true
}
