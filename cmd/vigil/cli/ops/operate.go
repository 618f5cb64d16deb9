// Package ops is `vigil ops list` and the operations the runs and tasks
// commands ask for (clear, mark, cancel, issue 17): the command POSTs the
// request to /ops and polls GET /ops/{id} until the scheduler that owns
// the run has applied it, or --wait runs out. What an operation does is
// decided on the server (scheduler.PlanOp); here only flags and printing.
package ops

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/api/client"
	"github.com/vigilhq/vigil/cmd/vigil/cli/cmdutil"
)

// Flags are the flags every operation command takes.
type Flags struct {
	DryRun bool
	Reason string
	Wait   time.Duration
	// Poll is how often the command reads the operation while it waits.
	Poll time.Duration
}

// Add registers the flags on c.
func (f *Flags) Add(c *cobra.Command) {
	c.Flags().BoolVar(&f.DryRun, "dry-run", false, "print what would change, as the run stands now, and change nothing")
	c.Flags().StringVar(&f.Reason, "reason", "", "why, for the task's history (who is recorded from the token)")
	c.Flags().DurationVar(&f.Wait, "wait", 30*time.Second, "how long to wait for a scheduler to apply it (0: do not wait)")
}

// Operate asks for req through the API and waits for it (see Flags).
// RunID "latest" is the DAG's newest run.
func Operate(ctx context.Context, f *cmdutil.Factory, req api.OpRequest, fl Flags) error {
	cl, err := f.Client()
	if err != nil {
		return err
	}
	out := f.IOStreams.Out
	rctx, cancel := f.Context(ctx)
	defer cancel()
	if req.RunID == "latest" {
		run, err := cl.Run(rctx, req.DAGID, "latest")
		if err != nil {
			return cmdutil.ExplainUnreachable(err, cl.Server())
		}
		req.RunID = run.RunID
	}
	req.Reason, req.DryRun = fl.Reason, fl.DryRun
	resp, err := cl.SubmitOp(rctx, req)
	if err != nil {
		return cmdutil.ExplainUnreachable(err, cl.Server())
	}
	if fl.DryRun {
		fmt.Fprintf(out, "dry run: nothing changed. As run %s/%s stands now, %s would:\n", req.DAGID, req.RunID, req.Kind)
		PrintPlan(out, resp.Plan)
		return nil
	}
	if resp.Op == nil {
		// The server stored nothing: there was nothing to do.
		fmt.Fprintf(out, "nothing to do on run %s/%s:\n", req.DAGID, req.RunID)
		PrintPlan(out, resp.Plan)
		return nil
	}
	op := *resp.Op
	fmt.Fprintf(out, "operation %d: %s on %s/%s asked by %s\n", op.ID, op.Kind, op.DAGID, op.RunID, actor(op.By))
	if fl.Wait <= 0 {
		fmt.Fprintf(out, "not waiting; 'vigil ops list --run %s' shows what it did\n", op.RunID)
		return nil
	}
	return wait(ctx, f, cl, op, fl)
}

// wait polls an operation until it closes or fl.Wait runs out.
func wait(ctx context.Context, f *cmdutil.Factory, cl *client.Client, op api.Op, fl Flags) error {
	out := f.IOStreams.Out
	poll := fl.Poll
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	deadline := time.Now().Add(fl.Wait)
	var readErr error // the last failed read, if the last read failed
	for {
		rctx, cancel := f.Context(ctx)
		got, err := cl.Op(rctx, op.ID)
		cancel()
		switch {
		case err == nil:
			op, readErr = got, nil
		case ctx.Err() != nil:
			return ctx.Err()
		default:
			readErr = err
		}
		switch op.State {
		case "done":
			fmt.Fprintf(out, "done by scheduler %s: %s\n", op.DoneBy, op.Result)
			return nil
		case "failed":
			return &cmdutil.FoundError{Msg: fmt.Sprintf("operation %d failed: %s", op.ID, op.Result)}
		}
		if time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
	if readErr != nil {
		return fmt.Errorf("operation %d is stored, but reading it back failed (it is applied all the same; 'vigil ops list' shows it): %w", op.ID, readErr)
	}
	if op.State == "stopping" {
		fmt.Fprintf(out, "scheduler %s is stopping tries: %s\nthe operation ends when they do; 'vigil ops list --run %s' shows it\n", op.DoneBy, op.Result, op.RunID)
		return nil
	}
	fmt.Fprintf(out, "no scheduler has applied operation %d within %s: is a scheduler running ('vigil status')?\n"+
		"It stays queued and is applied when one runs; 'vigil ops list' shows it.\n", op.ID, fl.Wait)
	return &cmdutil.FoundError{Msg: fmt.Sprintf("operation %d not applied yet", op.ID)}
}

// PrintPlan writes what a plan changes, stops and leaves.
func PrintPlan(w io.Writer, p *api.Plan) {
	if p == nil || (len(p.Changes) == 0 && len(p.Stops) == 0 && len(p.Left) == 0 && !p.Cancel) {
		fmt.Fprintln(w, "  nothing")
		return
	}
	for _, c := range p.Changes {
		fmt.Fprintf(w, "  %-24s %s → %s\n", c.TaskID, c.From, c.To)
	}
	for _, st := range p.Stops {
		fmt.Fprintf(w, "  %-24s %s → stop try %d, record %s\n", st.TaskID, st.From, st.Try, st.To)
	}
	for _, l := range p.Left {
		fmt.Fprintf(w, "  %-24s %s, left as it is: %s\n", l.TaskID, l.State, l.Why)
	}
	if p.Cancel {
		fmt.Fprintln(w, "  the run ends cancelled")
	}
}

func actor(a api.Actor) string {
	if a.Instance == "" {
		return a.Component
	}
	return a.Component + "@" + a.Instance
}
