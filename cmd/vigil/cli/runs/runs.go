// Package runs is `vigil runs`: list DAG runs and act on them (clear,
// cancel) through the operations API.
package runs

import (
	"context"
	"slices"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/api/client"
	"github.com/vigilhq/vigil/cmd/vigil/cli/cmdutil"
	"github.com/vigilhq/vigil/cmd/vigil/cli/ops"
	"github.com/vigilhq/vigil/internal/printer"
)

// NewCmdRuns is the `runs` group.
func NewCmdRuns(f *cmdutil.Factory) *cobra.Command {
	c := &cobra.Command{Use: "runs", Short: "Inspect DAG runs and act on them (clear, cancel)"}
	f.AddServerFlags(c)
	c.AddCommand(NewCmdList(f, nil), NewCmdClear(f, nil), NewCmdCancel(f, nil))
	return c
}

// runStates are the states --state takes.
var runStates = []string{"running", "success", "failed", "cancelled"}

// ListOptions are `vigil runs list`'s.
type ListOptions struct {
	F       *cmdutil.Factory
	Ctx     context.Context
	Filter  client.RunFilter
	Page    cmdutil.PageFlags
	Printer printer.Options
}

// NewCmdList is `vigil runs list`.
func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{F: f}
	c := &cobra.Command{
		Use:   "list",
		Short: "List DAG runs, newest first",
		Example: `  vigil runs list
  vigil runs list --dag hello --state running -o json
  vigil runs list --limit 20 --cursor eyJ...   # the page after one that printed this cursor`,
		Args: cmdutil.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if s := opts.Filter.State; s != "" && !slices.Contains(runStates, s) {
				return cmdutil.Usagef("--state %q: use one of %v", s, runStates)
			}
			if err := opts.Printer.Validate(); err != nil {
				return err
			}
			opts.Ctx = c.Context()
			if runF != nil {
				return runF(opts)
			}
			return listRun(opts)
		},
	}
	c.Flags().StringVar(&opts.Filter.DAGID, "dag", "", "only runs of this DAG")
	c.Flags().StringVar(&opts.Filter.State, "state", "", "only runs in this state: running, success, failed, cancelled")
	opts.Page.Add(c, "runs")
	opts.Printer.AddFlags(c.Flags())
	return c
}

func listRun(opts *ListOptions) error {
	cl, err := opts.F.Client()
	if err != nil {
		return err
	}
	ctx, cancel := opts.F.Context(opts.Ctx)
	defer cancel()
	opts.Filter.ListOptions = opts.Page.List()
	pg, err := cl.Runs(ctx, opts.Filter)
	if err != nil {
		return cmdutil.ExplainUnreachable(err, cl.Server())
	}
	if pg.Items == nil {
		pg.Items = []api.Run{}
	}
	t := printer.NewTable("DAG", "RUN", "STATE", "LOGICAL DATE", "CREATED", "ENDED")
	for _, r := range pg.Items {
		t.Row(r.DAGID, r.RunID, r.State, cmdutil.Stamp(r.LogicalDate), cmdutil.Stamp(r.CreatedAt), cmdutil.Stamp(r.EndedAt))
	}
	return cmdutil.PrintPage(opts.F, opts.Printer, pg, pg.NextCursor, t)
}

// OpOptions are `vigil runs clear` and `cancel`'s.
type OpOptions struct {
	F     *cmdutil.Factory
	Ctx   context.Context
	Req   api.OpRequest
	Flags ops.Flags
}

// NewCmdClear is `vigil runs clear`.
func NewCmdClear(f *cmdutil.Factory, runF func(*OpOptions) error) *cobra.Command {
	opts := &OpOptions{F: f, Req: api.OpRequest{Kind: api.OpClearRun}}
	c := &cobra.Command{
		Use:   "clear DAG RUN",
		Short: "Run a run's ended tasks again (reopening the run)",
		Long: `Clear every ended task of a run (with --only-failed, its failed and
upstream_failed ones) so that they run again as new tries. RUN may be "latest".
Needs an operator token.`,
		Example: `  vigil runs clear etl latest --only-failed`,
		Args:    cmdutil.ExactArgs(2, "DAG RUN"),
		RunE: func(c *cobra.Command, args []string) error {
			return opts.run(c, args, runF)
		},
	}
	c.Flags().BoolVar(&opts.Req.Args.OnlyFailed, "only-failed", false, "clear only failed and upstream_failed tasks")
	opts.Flags.Add(c)
	return c
}

// NewCmdCancel is `vigil runs cancel`.
func NewCmdCancel(f *cmdutil.Factory, runF func(*OpOptions) error) *cobra.Command {
	opts := &OpOptions{F: f, Req: api.OpRequest{Kind: api.OpCancelRun}}
	c := &cobra.Command{
		Use:   "cancel DAG RUN",
		Short: "Stop a running run: its running tries are stopped, its waiting tasks skipped",
		Long: `Cancel a running run. Running and queued tries are stopped and recorded
failed (one that exits 0 before the stop lands stays a success); tasks that
have not started are skipped; the run ends cancelled. RUN may be "latest".
Needs an operator token.`,
		Example: `  vigil runs cancel etl latest --reason "bad input file"`,
		Args:    cmdutil.ExactArgs(2, "DAG RUN"),
		RunE: func(c *cobra.Command, args []string) error {
			return opts.run(c, args, runF)
		},
	}
	opts.Flags.Add(c)
	return c
}

func (opts *OpOptions) run(c *cobra.Command, args []string, runF func(*OpOptions) error) error {
	opts.Req.DAGID, opts.Req.RunID, opts.Ctx = args[0], args[1], c.Context()
	if runF != nil {
		return runF(opts)
	}
	return ops.Operate(opts.Ctx, opts.F, opts.Req, opts.Flags)
}
