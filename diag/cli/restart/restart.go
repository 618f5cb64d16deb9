// Package restart is `diag restart`: restart a stalled scheduler without
// throwing the evidence away. It reads the heartbeats, refuses to touch a
// healthy scheduler unless told to, has the scheduler write a diagnostic
// bundle, and only then restarts it: a local process with SIGTERM (then
// SIGKILL after --grace), a pod by deleting it (its Deployment starts a new
// one) and recording a Warning Event on it that says who restarted it,
// why, and which bundle holds the evidence.
package restart

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/diag/bundle"
	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/health"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/cli/kubepod"
	"github.com/vigilhq/vigil/diag/client"
)

// Options are `diag restart`'s.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory
	// IfStalled restarts only a stalled scheduler; a healthy one is left
	// alone and that is a success.
	IfStalled bool
	// Force restarts a healthy scheduler, and goes on when the bundle
	// cannot be written or copied.
	Force  bool
	Reason string
	// Grace is how long the scheduler may take to drain: SIGTERM then
	// SIGKILL locally, the pod's termination grace period with --pod.
	Grace time.Duration
	// File is where --pod saves its copy of the bundle (a file or a
	// folder; the bundle's name here by default).
	File string
	// Poll is how often a local restart checks whether the process has
	// exited.
	Poll time.Duration
}

// Grace periods beyond the request timeout for the slow steps.
const (
	// writeGrace: a bundle profiles the process for a few seconds.
	writeGrace = 45 * time.Second
	// copyGrace: copying a bundle out of a pod through exec.
	copyGrace = 2 * time.Minute
)

// NewCmdRestart returns `diag restart`.
func NewCmdRestart(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f, Poll: 100 * time.Millisecond}
	cmd := &cobra.Command{
		Use:   "restart",
		Short: "Restart a stalled scheduler, after saving a diagnostic bundle",
		Long: `Restart the scheduler without throwing away the evidence of why it stalled.

diag restart reads the scheduler's heartbeats first. A healthy scheduler is
not restarted: that is refused as a usage error (exit status 2) unless
--force is given; with --if-stalled it is left alone and diag restart exits
0, so a cron job or a runbook can run 'diag restart --if-stalled' blindly.

Before restarting, the scheduler writes a diagnostic bundle (goroutines,
calls in flight, profiles, the wire trace...) to its bundle folder, with
--reason in its summary. With --pod the bundle is also copied here (-f),
because the pod's folder may go with the pod. If the bundle cannot be
written or copied, nothing is restarted unless --force is given.

Then, for a local scheduler (its socket): SIGTERM to its process, which
drains and exits; SIGKILL if it is still running after --grace. diag only
stops it: whatever supervises it (systemd, a container runtime) starts it
again. The process must be visible and signalable from here (same machine
and PID namespace, same user); diag checks and says why not. The pid
signalled is the one the kernel says serves the socket (SO_PEERCRED), and
it must be the one the scheduler reports: a restart through --addr, where
nothing says which process listens, is refused.

With --pod: the pod is deleted with --grace as its termination grace
period (its Deployment starts a new one), and a Warning Event with reason
DiagRestart is recorded on it, saying who restarted it, why and which
bundle holds the evidence. This needs delete on pods and create on events
besides what --pod needs.`,
		Args: cmdutil.NoArgs,
		Example: `  diag restart --if-stalled --reason "loop stuck, INC-1234"
  diag restart --pod deploy/vigil-scheduler -n vigil --reason "stuck on pod create" -f /tmp/
  diag restart --force --grace 10s --reason "config reload"`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Force && opts.IfStalled {
				return cmdutil.Usagef("give --force (restart even a healthy scheduler) or --if-stalled (restart only a stalled one), not both")
			}
			if opts.Grace < 0 {
				return cmdutil.Usagef("--grace %s: must not be negative", opts.Grace)
			}
			if runF != nil {
				return runF(opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.IfStalled, "if-stalled", false, "restart only if a heartbeat is stale; leave a healthy scheduler alone (exit status 0)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "restart even a healthy scheduler, and even if the bundle cannot be saved")
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why: goes into the bundle's summary and the pod's event")
	cmd.Flags().DurationVar(&opts.Grace, "grace", 30*time.Second, "how long the scheduler may take to drain before it is killed")
	cmd.Flags().StringVarP(&opts.File, "file", "f", "", "with --pod: save the bundle to this file or folder (default: the bundle's name, here)")
	return cmd
}

// target is what is restarted: a local process or a pod.
type target interface {
	// client is the debug API of the scheduler.
	client() *client.Client
	// describe names the target for the first line of output.
	describe() string
	// check refuses early what restart cannot do (before the bundle).
	check(ctx context.Context) error
	// keepBundle copies the bundle where it survives the restart and
	// says where it is.
	keepBundle(ctx context.Context, b bundle.Info) error
	// restart restarts the scheduler, printing each step.
	restart(ctx context.Context, r record) error
	close()
}

// record is what a restart leaves behind about itself.
type record struct {
	Who    string // user@host
	Reason string
	Bundle string // the bundle's name, or "" when none was written
}

func run(ctx context.Context, opts *Options) error {
	t, err := newTarget(ctx, opts)
	if err != nil {
		return err
	}
	defer t.close()
	out := opts.IO.Out
	fmt.Fprintf(out, "Scheduler: %s\n", t.describe())

	hctx, cancel := opts.Factory.Context(ctx, 0)
	rep, err := t.client().Heartbeats(hctx)
	cancel()
	reachable := err == nil
	switch {
	case err != nil && !opts.Force:
		return fmt.Errorf("read heartbeats: %w (diag restart checks them before restarting; --force restarts without them)", err)
	case err != nil:
		fmt.Fprintf(out, "Heartbeats: could not read them (%v); --force: going on\n", err)
	case rep.Status == "stale":
		fmt.Fprintf(out, "Heartbeats: stale: %s\n", health.StaleNames(rep.Heartbeats))
	case opts.IfStalled:
		fmt.Fprintf(out, "Heartbeats: %s: the scheduler is healthy; --if-stalled: nothing to do\n", rep.Status)
		return nil
	case !opts.Force:
		return cmdutil.Usagef("the scheduler is healthy (heartbeats %s): not restarting it; --force restarts it anyway, --if-stalled restarts it only when stalled (see diag health)", rep.Status)
	default:
		fmt.Fprintf(out, "Heartbeats: %s: the scheduler is healthy; --force: restarting it anyway\n", rep.Status)
	}
	if err := t.check(ctx); err != nil {
		return err
	}

	r := record{Who: who(), Reason: opts.Reason}
	if reachable {
		b, err := writeBundle(ctx, opts, t)
		switch {
		case err != nil && !opts.Force:
			return fmt.Errorf("%w; not restarting: the bundle is the evidence a restart throws away (--force restarts without it)", err)
		case err != nil:
			fmt.Fprintf(out, "Bundle: %v; --force: going on without it\n", err)
		default:
			r.Bundle = b.Name
		}
	}
	return t.restart(ctx, r)
}

// writeBundle has the scheduler write a bundle and keeps it safe.
func writeBundle(ctx context.Context, opts *Options, t target) (bundle.Info, error) {
	if opts.IO.IsStderrTTY() {
		fmt.Fprint(opts.IO.ErrOut, "Writing a bundle (a few seconds of profiling)...")
	}
	wctx, cancel := opts.Factory.Context(ctx, writeGrace)
	b, err := t.client().WriteBundle(wctx, bundleReason(opts.Reason))
	cancel()
	if opts.IO.IsStderrTTY() {
		fmt.Fprint(opts.IO.ErrOut, "\r\033[K")
	}
	if err != nil {
		return bundle.Info{}, fmt.Errorf("write bundle: %w", err)
	}
	fmt.Fprintf(opts.IO.Out, "Bundle: %s written by the scheduler as %s (%s)\n", b.Name, b.Path, cmdutil.Bytes(b.Size))
	if len(b.Errors) > 0 {
		fmt.Fprintf(opts.IO.Out, "Bundle: %d parts failed: %s\n", len(b.Errors), strings.Join(b.Errors, "; "))
	}
	if err := t.keepBundle(ctx, b); err != nil {
		return bundle.Info{}, err
	}
	return b, nil
}

// bundleReason is the reason the scheduler gets: it starts the summary
// and ends the bundle's file name, so it is kept short.
func bundleReason(reason string) string {
	s := "restart"
	if reason != "" {
		s += ": " + reason
	}
	if r := []rune(s); len(r) > 100 {
		s = string(r[:100])
	}
	return s
}

func newTarget(ctx context.Context, opts *Options) (target, error) {
	t := opts.Factory.Target
	if t.Pod == "" {
		cctx, cancel := opts.Factory.Context(ctx, 0)
		defer cancel()
		c, err := opts.Factory.Client(cctx)
		if err != nil {
			return nil, err
		}
		return &local{opts: opts, c: c}, nil
	}
	if t.Addr != "" {
		return nil, cmdutil.Usagef("give --addr or --pod, not both")
	}
	cluster, err := kubepod.Connect(t.Kube, t.Timeout)
	if err != nil {
		return nil, err
	}
	rctx, cancel := opts.Factory.Context(ctx, 0)
	defer cancel()
	// Resolved once: the pod restarted is the pod the bundle came from,
	// even when deploy/NAME has several.
	p, err := cluster.Resolve(rctx, t.Pod, t.Container)
	if err != nil {
		return nil, err
	}
	c, err := client.New(client.Target{Dial: cluster.Dialer(p, kubepod.BridgeCommand(t), t.Timeout), Name: p.String()})
	if err != nil {
		return nil, err
	}
	return &pod{opts: opts, c: c, cluster: cluster, pod: p}, nil
}

// who is user@host of whoever runs diag.
func who() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = fmt.Sprintf("uid %d", os.Getuid())
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown host"
	}
	return name + "@" + host
}

// errRefused is a restart diag will not do, and why.
var errRefused = errors.New("not restarting")
