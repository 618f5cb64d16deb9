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
	"github.com/vigilhq/vigil/diag/debugapi"
)

// Options are `diag tasks`'s.
type Options struct {
	IO        *iostreams.IOStreams
	Factory   *cmdutil.Factory
	LostAfter time.Duration
	Grace     time.Duration
	Output    string
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

Exit status 0 when everything adds up, 1 when something does not.`,
		Args:    cmdutil.NoArgs,
		Example: "  diag tasks\n  diag tasks --lost-after 10m -o json",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	cmd.Flags().DurationVar(&opts.LostAfter, "lost-after", 2*time.Minute, "a queued task with no pod for this long is lost")
	cmd.Flags().DurationVar(&opts.Grace, "grace", 30*time.Second, "report nothing younger than this")
	cmdutil.AddOutputFlag(cmd, &opts.Output)
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	ctx, cancel := opts.Factory.Context(ctx, 30*time.Second)
	defer cancel()
	c, err := opts.Factory.Client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	a, err := c.Tasks(ctx, opts.LostAfter, opts.Grace)
	if err != nil {
		return err
	}
	if err := cmdutil.Write(opts.IO.Out, opts.Output, a, func() error { return Write(opts.IO.Out, a) }); err != nil {
		return err
	}
	if a.Findings() > 0 {
		return &cmdutil.FoundError{}
	}
	return nil
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
