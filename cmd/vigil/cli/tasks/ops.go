package tasks

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/cmd/vigil/cli/cmdutil"
	"github.com/vigilhq/vigil/cmd/vigil/cli/ops"
)

// OpOptions are `vigil tasks clear` and `mark`'s.
type OpOptions struct {
	F     *cmdutil.Factory
	Ctx   context.Context
	Req   api.OpRequest
	Flags ops.Flags
}

// NewCmdClear is `vigil tasks clear`.
func NewCmdClear(f *cmdutil.Factory, runF func(*OpOptions) error) *cobra.Command {
	opts := &OpOptions{F: f, Req: api.OpRequest{Kind: api.OpClearTasks}}
	c := &cobra.Command{
		Use:   "clear DAG RUN TASK",
		Short: "Run an ended task again (and, with flags, its downstream or upstream tasks)",
		Long: `Clear a task instance that has ended (success, failed, skipped, upstream_failed)
so that it runs again as a new try. Its earlier tries stay in its history and
no longer count against its retries. A run that had ended is reopened. Tasks
not yet ended are left as they are. RUN may be "latest".

The scheduler that owns the run applies the clear within its sync interval
(2s by default); the command waits for it (--wait). Needs an operator token.`,
		Example: `  vigil tasks clear etl latest load --downstream --reason "disk was full; fixed"
  vigil tasks clear etl scheduled__2026-11-23T00:00:00Z load --only-failed --downstream --dry-run`,
		Args: cmdutil.ExactArgs(3, "DAG RUN TASK"),
		RunE: func(c *cobra.Command, args []string) error {
			return opts.run(c, args, runF)
		},
	}
	c.Flags().BoolVar(&opts.Req.Args.Downstream, "downstream", false, "also clear every task downstream of it")
	c.Flags().BoolVar(&opts.Req.Args.Upstream, "upstream", false, "also clear every task upstream of it")
	c.Flags().BoolVar(&opts.Req.Args.OnlyFailed, "only-failed", false, "clear only failed and upstream_failed tasks")
	opts.Flags.Add(c)
	return c
}

// NewCmdMark is `vigil tasks mark`.
func NewCmdMark(f *cmdutil.Factory, runF func(*OpOptions) error) *cobra.Command {
	opts := &OpOptions{F: f, Req: api.OpRequest{Kind: api.OpMark}}
	c := &cobra.Command{
		Use:   "mark DAG RUN TASK --state success|failed",
		Short: "Set a task's state by hand (a running try is stopped first)",
		Long: `Mark a task instance success or failed, whatever it is doing. A queued or
running try is stopped first, and its end is recorded as the state asked for.
Marking success lets the tasks downstream run. The history records who marked
it and why. RUN may be "latest". Needs an operator token.`,
		Example: `  vigil tasks mark etl latest load --state success --reason "loaded by hand"
  vigil tasks mark etl latest extract --state failed --downstream`,
		Args: cmdutil.ExactArgs(3, "DAG RUN TASK"),
		RunE: func(c *cobra.Command, args []string) error {
			if s := opts.Req.Args.State; s != "success" && s != "failed" {
				return cmdutil.Usagef("--state %q: use success or failed", s)
			}
			return opts.run(c, args, runF)
		},
	}
	c.Flags().StringVar(&opts.Req.Args.State, "state", "", "success or failed (required)")
	c.Flags().BoolVar(&opts.Req.Args.Downstream, "downstream", false, "also mark every task downstream of it")
	opts.Flags.Add(c)
	return c
}

func (opts *OpOptions) run(c *cobra.Command, args []string, runF func(*OpOptions) error) error {
	opts.Req.DAGID, opts.Req.RunID, opts.Req.TaskID, opts.Ctx = args[0], args[1], args[2], c.Context()
	if runF != nil {
		return runF(opts)
	}
	return ops.Operate(opts.Ctx, opts.F, opts.Req, opts.Flags)
}
