package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/scheduler"
)

// Operations (clear, mark, cancel): the command stores the request and
// waits for the scheduler that owns the run to apply it; what it does is
// decided in the scheduler package (scheduler.PlanOp), here only flags and
// printing.

// opFlags are the flags every operation command takes.
type opFlags struct {
	dryRun bool
	reason string
	wait   time.Duration
}

func (f *opFlags) add(c *cobra.Command, dryRun bool) {
	if dryRun {
		c.Flags().BoolVar(&f.dryRun, "dry-run", false, "print what would change, as the run stands now, and change nothing")
	}
	c.Flags().StringVar(&f.reason, "reason", "", "why, for the task's history (who is recorded without asking)")
	c.Flags().DurationVar(&f.wait, "wait", 30*time.Second, "how long to wait for a scheduler to apply it (0: do not wait)")
}

func (a *app) tasksClearCmd() *cobra.Command {
	var f opFlags
	var args scheduler.OpArgs
	c := &cobra.Command{
		Use:   "clear DAG RUN TASK",
		Short: "Run an ended task again (and, with flags, its downstream or upstream tasks)",
		Long: `Clear a task instance that has ended (success, failed, skipped, upstream_failed)
so that it runs again as a new try. Its earlier tries stay in its history and
no longer count against its retries. A run that had ended is reopened. Tasks
not yet ended are left as they are. RUN may be "latest".

The scheduler that owns the run applies the clear within its sync interval
(2s by default); the command waits for it (--wait).`,
		Example: `  vigil tasks clear etl latest load --downstream --reason "disk was full; fixed"
  vigil tasks clear etl scheduled__2026-11-23T00:00:00Z load --only-failed --downstream --dry-run`,
		Args: cobra.ExactArgs(3),
		RunE: func(c *cobra.Command, argv []string) error {
			return a.operate(scheduler.Op{Kind: scheduler.OpClearTasks, DAGID: argv[0], RunID: argv[1], TaskID: argv[2], Args: args}, f)
		},
	}
	c.Flags().BoolVar(&args.Downstream, "downstream", false, "also clear every task downstream of it")
	c.Flags().BoolVar(&args.Upstream, "upstream", false, "also clear every task upstream of it")
	c.Flags().BoolVar(&args.OnlyFailed, "only-failed", false, "clear only failed and upstream_failed tasks")
	f.add(c, true)
	return c
}

func (a *app) tasksMarkCmd() *cobra.Command {
	var f opFlags
	var args scheduler.OpArgs
	var state string
	c := &cobra.Command{
		Use:   "mark DAG RUN TASK --state success|failed",
		Short: "Set a task's state by hand (a running try is stopped first)",
		Long: `Mark a task instance success or failed, whatever it is doing. A queued or
running try is stopped first, and its end is recorded as the state asked for.
Marking success lets the tasks downstream run. The history records who marked
it and why. RUN may be "latest".`,
		Example: `  vigil tasks mark etl latest load --state success --reason "loaded by hand"
  vigil tasks mark etl latest extract --state failed --downstream`,
		Args: cobra.ExactArgs(3),
		RunE: func(c *cobra.Command, argv []string) error {
			args.State = scheduler.State(state)
			if args.State != scheduler.StateSuccess && args.State != scheduler.StateFailed {
				return &usageError{fmt.Errorf("--state %q: use success or failed", state)}
			}
			return a.operate(scheduler.Op{Kind: scheduler.OpMark, DAGID: argv[0], RunID: argv[1], TaskID: argv[2], Args: args}, f)
		},
	}
	c.Flags().StringVar(&state, "state", "", "success or failed (required)")
	c.Flags().BoolVar(&args.Downstream, "downstream", false, "also mark every task downstream of it")
	f.add(c, true)
	return c
}

func (a *app) runsClearCmd() *cobra.Command {
	var f opFlags
	var args scheduler.OpArgs
	c := &cobra.Command{
		Use:   "clear DAG RUN",
		Short: "Run a run's ended tasks again (reopening the run)",
		Long: `Clear every ended task of a run (with --only-failed, its failed and
upstream_failed ones) so that they run again as new tries. RUN may be "latest".`,
		Example: `  vigil runs clear etl latest --only-failed`,
		Args:    cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, argv []string) error {
			return a.operate(scheduler.Op{Kind: scheduler.OpClearRun, DAGID: argv[0], RunID: argv[1], Args: args}, f)
		},
	}
	c.Flags().BoolVar(&args.OnlyFailed, "only-failed", false, "clear only failed and upstream_failed tasks")
	f.add(c, true)
	return c
}

func (a *app) runsCancelCmd() *cobra.Command {
	var f opFlags
	c := &cobra.Command{
		Use:   "cancel DAG RUN",
		Short: "Stop a running run: its running tries are stopped, its waiting tasks skipped",
		Long: `Cancel a running run. Running and queued tries are stopped and recorded
failed (one that exits 0 before the stop lands stays a success); tasks that
have not started are skipped; the run ends cancelled. RUN may be "latest".`,
		Example: `  vigil runs cancel etl latest --reason "bad input file"`,
		Args:    cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, argv []string) error {
			return a.operate(scheduler.Op{Kind: scheduler.OpCancelRun, DAGID: argv[0], RunID: argv[1]}, f)
		},
	}
	f.add(c, true)
	return c
}

func (a *app) opsCmd() *cobra.Command {
	c := &cobra.Command{Use: "ops", Short: "Operations asked for by hand (clear, mark, cancel) and what they did"}
	var f scheduler.OpFilter
	var state string
	var pf pageFlags
	list := &cobra.Command{
		Use:   "list",
		Short: "List operations, newest first",
		Example: `  vigil ops list
  vigil ops list --state pending -o json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if state != "" {
				f.States = []scheduler.OpState{scheduler.OpState(state)}
			}
			return a.withStore(func(ctx context.Context, cfg config, st scheduler.Store) error {
				f.Limit, f.After = pf.fetch(), pf.cursor
				ops, err := st.ListOps(ctx, f)
				pg, err := pageOf(ops, err, pf, scheduler.OpCursor)
				if err != nil {
					return err
				}
				now := time.Now()
				return renderPage(a, pg, func(w io.Writer) {
					row(w, "ID", "KIND", "DAG", "RUN", "TASK", "BY", "ASKED", "STATE", "RESULT")
					for _, op := range pg.Items {
						row(w, op.ID, op.Kind, op.DAGID, op.RunID, orDash(op.TaskID), op.Actor, ago(now, op.CreatedAt), op.State, orDash(op.Result))
					}
				})
			})
		},
	}
	list.Flags().StringVar(&f.DAGID, "dag", "", "only operations on this DAG")
	list.Flags().StringVar(&f.RunID, "run", "", "only operations on this run")
	list.Flags().StringVar(&state, "state", "", "only operations in this state: pending, stopping, done, failed")
	pf.add(list, "operations")
	a.addOutputFlag(list)
	c.AddCommand(list)
	return c
}

// operate plans op against the run as it stands (and stops there for
// --dry-run), stores it, and waits for a scheduler to apply it.
func (a *app) operate(op scheduler.Op, f opFlags) error {
	return a.withLongStore(func(_ config, st scheduler.Store) error { return a.operateOn(st, op, f) })
}

func (a *app) operateOn(st scheduler.Store, op scheduler.Op, f opFlags) error {
	ctx, cancel := context.WithTimeout(a.ctx, adminTimeout)
	defer cancel()
	var err error
	if op.RunID == "latest" {
		if op.RunID, err = latestRun(ctx, st, op.DAGID); err != nil {
			return err
		}
	}
	op.Actor, op.Reason, op.CreatedAt = operatorActor(), f.reason, time.Now()
	run, err := st.GetRun(ctx, op.DAGID, op.RunID)
	if err != nil {
		return fmt.Errorf("run %s/%s: %w (see 'vigil runs list --dag %s')", op.DAGID, op.RunID, err, op.DAGID)
	}
	tis, err := st.ListTaskInstances(ctx, scheduler.TaskFilter{DAGID: op.DAGID, RunID: op.RunID})
	if err != nil {
		return err
	}
	plan, err := scheduler.PlanOp(op, run, tis, op.CreatedAt)
	if err != nil {
		return err
	}
	if f.dryRun {
		fmt.Fprintf(a.out, "dry run: nothing changed. As run %s/%s (%s) stands now, %s would:\n", op.DAGID, op.RunID, run.State, op.Kind)
		printPlan(a.out, plan)
		return nil
	}
	if plan.Empty() && run.State != scheduler.RunRunning {
		fmt.Fprintf(a.out, "nothing to do on run %s/%s (%s):\n", op.DAGID, op.RunID, run.State)
		printPlan(a.out, plan)
		return nil
	}
	id, err := st.SubmitOp(ctx, op)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "operation %d: %s on %s/%s asked by %s\n", id, op.Kind, op.DAGID, op.RunID, op.Actor)
	if f.wait <= 0 {
		fmt.Fprintf(a.out, "not waiting; 'vigil ops list --run %s' shows what it did\n", op.RunID)
		return nil
	}
	return a.waitOp(st, id, f.wait)
}

// waitOp polls an operation until it closes or wait runs out.
func (a *app) waitOp(st scheduler.Store, id int64, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	var op scheduler.Op
	var readErr error // the last failed read, if the last read failed
	for {
		ctx, cancel := context.WithTimeout(a.ctx, 5*time.Second)
		got, err := st.GetOp(ctx, id)
		cancel()
		switch {
		case err == nil:
			op, readErr = got, nil
		case a.ctx.Err() != nil:
			return a.ctx.Err()
		default:
			readErr = err
		}
		switch op.State {
		case scheduler.OpDone:
			fmt.Fprintf(a.out, "done by scheduler %s: %s\n", op.DoneBy, op.Result)
			return nil
		case scheduler.OpFailed:
			return fmt.Errorf("operation %d failed: %s", id, op.Result)
		}
		if time.Now().After(deadline) {
			break
		}
		select {
		case <-a.ctx.Done():
			return a.ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	if readErr != nil {
		return fmt.Errorf("operation %d is stored, but reading it back failed (it is applied all the same; 'vigil ops list' shows it): %w", id, readErr)
	}
	if op.State == scheduler.OpStopping {
		fmt.Fprintf(a.out, "scheduler %s is stopping tries: %s\nthe operation ends when they do; 'vigil ops list --run %s' shows it\n", op.DoneBy, op.Result, op.RunID)
		return nil
	}
	fmt.Fprintf(a.out, "no scheduler has applied operation %d within %s: is 'vigil run' running on this database ('vigil status')?\n"+
		"It stays queued and is applied when one runs; 'vigil ops list' shows it.\n", id, wait)
	return &problemError{fmt.Sprintf("operation %d not applied yet", id)}
}

// printPlan writes what a plan changes, stops and leaves.
func printPlan(w io.Writer, p scheduler.Plan) {
	if p.Empty() && len(p.Left) == 0 {
		fmt.Fprintln(w, "  nothing")
		return
	}
	for _, c := range p.Changes {
		fmt.Fprintf(w, "  %-24s %s → %s\n", c.Key.TaskID, c.From, c.To)
	}
	for _, st := range p.Stops {
		fmt.Fprintf(w, "  %-24s %s → stop try %d, record %s\n", st.Try.TaskID, st.From, st.Try.Try, st.To)
	}
	for _, l := range p.Left {
		fmt.Fprintf(w, "  %-24s %s, left as it is: %s\n", l.Task.TaskID, l.State, l.Why)
	}
	if p.Cancel {
		fmt.Fprintln(w, "  the run ends cancelled")
	}
}

// operatorActor names who asks for an operation: the user, host and pid.
func operatorActor() scheduler.Actor {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name = "uid" + strconv.Itoa(os.Getuid())
	}
	return scheduler.Actor{Component: "cli", Instance: name + "@" + cliInstance()}
}
