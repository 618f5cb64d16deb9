// Package tasks is `diag tasks`: a read-only reconciliation report of the
// store against the executor's pods or processes: what runs now, and
// zombies, orphans and lost tasks, each with the transitions that led
// there.
package tasks

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/client"
	"github.com/vigilhq/vigil/diag/debugapi"
	"github.com/vigilhq/vigil/internal/printer"
)

// Options are `diag tasks`'s.
type Options struct {
	IO        *iostreams.IOStreams
	Factory   *cmdutil.Factory
	LostAfter time.Duration
	Grace     time.Duration
	// Watch repeats the report every Interval until interrupted.
	Watch    bool
	Interval time.Duration
	Printer  printer.Options
}

// NewCmdTasks returns `diag tasks`.
func NewCmdTasks(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "tasks",
		Short: "Reconciliation report: zombie, orphaned, lost, pending and not-starting tasks; exit status 1 if any",
		Long: `Compare the scheduler's store with the executor's pods and list what does not
add up, each with the transition history that led there:

  zombies  queued or running in the store, while the pod is gone or has
           finished and its end was never recorded;
  orphans  pods alive for a try that no live task instance owns;
  lost     queued in the store for longer than --lost-after with no pod;
  pending  pods waiting to start for longer than --grace, with the
           cluster's reason (Unschedulable, ImagePullBackOff, ...);
  not starting
           tries that never started: queued and refused by the apiserver
           (forbidden, waiting for quota), or first queued longer than
           --lost-after ago and requeued since (every submit failed: an
           apiserver out of reach), with the last failure.

The report changes nothing: the scheduler's resync (every 30s) adopts,
requeues or removes what it can; a finding that stays is a bug or a
platform problem to look at. Pods are read from the executor's watch cache, processes from /proc.
Nothing younger than --grace is reported, so transitions on their way are
not mistaken for problems. It also lists what runs now (RUNNING): with the
local executor each try's process, its pid, start, output size and command;
with the Kubernetes executor each pod.

--watch repeats the report every --interval until Ctrl-C: redrawn on a
terminal, one report after another when piped, and with -o json one JSON
document per line.

Exit status 0 when everything adds up, 1 when something does not (without
--watch).`,
		Args:    cmdutil.NoArgs,
		Example: "  diag tasks\n  diag tasks --lost-after 10m -o json\n  diag tasks --watch -o json | jq -c '.zombies'",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.Printer.Validate(); err != nil {
				return err
			}
			if opts.Interval <= 0 {
				return cmdutil.Usagef("--interval must be positive")
			}
			if runF != nil {
				return runF(opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	cmd.Flags().DurationVar(&opts.LostAfter, "lost-after", 2*time.Minute, "a queued task with no pod for this long is lost")
	cmd.Flags().DurationVar(&opts.Grace, "grace", 30*time.Second, "report nothing younger than this")
	cmd.Flags().BoolVarP(&opts.Watch, "watch", "w", false, "repeat the report until interrupted")
	cmd.Flags().DurationVar(&opts.Interval, "interval", 2*time.Second, "refresh period with --watch")
	opts.Printer.AddFlags(cmd.Flags())
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	c, err := func() (*client.Client, error) {
		cctx, cancel := opts.Factory.Context(ctx, 0)
		defer cancel()
		return opts.Factory.Client(cctx)
	}()
	if err != nil {
		return err
	}
	defer c.Close()
	po := opts.Printer
	if opts.Watch && !po.Human() {
		po = po.Stream() // one document per report
	}
	for first := true; ; first = false {
		a, err := audit(ctx, opts, c)
		if err != nil {
			if !first && ctx.Err() != nil {
				return nil // interrupted: the normal end of --watch
			}
			return err
		}
		if opts.Watch && po.Human() {
			if opts.IO.IsStdoutTTY() {
				fmt.Fprint(opts.IO.Out, "\033[H\033[2J") // home and clear
			} else if !first {
				fmt.Fprintln(opts.IO.Out, "---")
			}
		}
		if err := po.PrintWith(opts.IO.Out, a, func() error { return Write(opts.IO.Out, a) }); err != nil {
			return err
		}
		if !opts.Watch {
			if a.Findings() > 0 {
				return &cmdutil.FoundError{}
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(opts.Interval):
		}
	}
}

func audit(ctx context.Context, opts *Options, c *client.Client) (debugapi.TaskAudit, error) {
	ctx, cancel := opts.Factory.Context(ctx, 30*time.Second)
	defer cancel()
	return c.Tasks(ctx, opts.LostAfter, opts.Grace)
}

// Write renders the report for a human.
func Write(w io.Writer, a debugapi.TaskAudit) error {
	fmt.Fprintf(w, "%d live task instances against %d workloads of %s (lost after %s, grace %s)\n",
		a.Live, a.Workloads, a.Executor, cmdutil.Age(a.LostAfter), cmdutil.Age(a.Grace))
	writeRunning(w, a)
	if a.Findings() == 0 {
		fmt.Fprintln(w, "Everything adds up: no zombie, orphaned, lost, pending or stuck task.")
		return nil
	}
	for _, sec := range []struct {
		title string
		list  []debugapi.AuditFinding
	}{{"ZOMBIES", a.Zombies}, {"ORPHANS", a.Orphans}, {"LOST", a.Lost}, {"NOT STARTING", a.NotStarting}, {"PENDING", a.Pending}} {
		if len(sec.list) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s (%d)\n", sec.title, len(sec.list))
		for _, f := range sec.list {
			writeFinding(w, a.Taken, f)
		}
	}
	return nil
}

// maxCommand is the longest command line shown in the RUNNING table;
// -o json has all of it.
const maxCommand = 60

// writeRunning lists what the executor runs now: a local process's pid,
// start, output size and command; a pod's name and phase.
func writeRunning(w io.Writer, a debugapi.TaskAudit) {
	if len(a.Running) == 0 {
		return
	}
	fmt.Fprintf(w, "\nRUNNING (%d)\n", len(a.Running))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  TASK\tTRY\tWORKLOAD\tPHASE\tSTARTED\tOUTPUT\tCOMMAND")
	for _, wl := range a.Running {
		started, output, command := "-", "-", "-"
		if !wl.Created.IsZero() {
			started = cmdutil.Age(a.Taken.Sub(wl.Created)) + " ago"
		}
		if wl.PID > 0 {
			output = cmdutil.Bytes(wl.OutputBytes)
		}
		if len(wl.Command) > 0 {
			command = strings.Join(wl.Command, " ")
			if r := []rune(command); len(r) > maxCommand {
				command = string(r[:maxCommand-1]) + "…"
			}
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\t%s\n", wl.Key.TaskKey, wl.Key.Try, orDash(wl.ExternalID), wl.Phase, started, output, command)
	}
	_ = tw.Flush()
}

// maxShown is how many of a finding's latest transitions are printed: a
// try requeued every few seconds for an hour has hundreds.
const maxShown = 10

func writeFinding(w io.Writer, now time.Time, f debugapi.AuditFinding) {
	fmt.Fprintf(w, "  %s try %d", f.Task, f.Try)
	if f.State != "" {
		fmt.Fprintf(w, " [%s]", f.State)
	}
	fmt.Fprintf(w, ": %s\n", f.Why)
	if wl := f.Workload; wl != nil {
		tracked := "not watched"
		if wl.Tracked {
			tracked = "watched"
		}
		fmt.Fprintf(w, "    %s %s, created %s ago, %s\n", wl.ExternalID, wl.Phase, cmdutil.Age(now.Sub(wl.Created)), tracked)
	}
	hist := f.History
	if n := len(hist) - maxShown; n > 0 {
		fmt.Fprintf(w, "    (%d earlier transitions: vigil tasks history %s %s %s)\n", n, f.Task.DAGID, f.Task.RunID, f.Task.TaskID)
		hist = hist[n:]
	}
	for _, t := range hist {
		reason := t.Reason
		if t.Repeats > 0 {
			reason += fmt.Sprintf(" (×%d, last %s)", t.Repeats+1, t.LastAt.UTC().Format("15:04:05"))
		}
		fmt.Fprintf(w, "    %s  try %d  %-14s -> %-14s by %s: %s\n", t.At.UTC().Format("15:04:05.000"), t.Try, orDash(t.From), t.To, t.Actor.Component, reason)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
