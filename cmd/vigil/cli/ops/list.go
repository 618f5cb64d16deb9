package ops

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/api/client"
	"github.com/vigilhq/vigil/cmd/vigil/cli/cmdutil"
	"github.com/vigilhq/vigil/internal/printer"
)

// NewCmdOps is the `ops` group.
func NewCmdOps(f *cmdutil.Factory) *cobra.Command {
	c := &cobra.Command{Use: "ops", Short: "Operations asked for by hand (clear, mark, cancel) and what they did"}
	f.AddServerFlags(c)
	c.AddCommand(NewCmdList(f, nil))
	return c
}

// ListOptions are `vigil ops list`'s.
type ListOptions struct {
	F       *cmdutil.Factory
	Ctx     context.Context
	Filter  client.OpFilter
	Page    cmdutil.PageFlags
	Printer printer.Options
}

// NewCmdList is `vigil ops list`.
func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{F: f}
	c := &cobra.Command{
		Use:   "list",
		Short: "List operations, newest first",
		Example: `  vigil ops list
  vigil ops list --state pending -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			switch opts.Filter.State {
			case "", "pending", "stopping", "done", "failed":
			default:
				return cmdutil.Usagef("--state %q: use pending, stopping, done or failed", opts.Filter.State)
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
	c.Flags().StringVar(&opts.Filter.DAGID, "dag", "", "only operations on this DAG")
	c.Flags().StringVar(&opts.Filter.RunID, "run", "", "only operations on this run")
	c.Flags().StringVar(&opts.Filter.State, "state", "", "only operations in this state: pending, stopping, done, failed")
	opts.Page.Add(c, "operations")
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
	pg, err := cl.Ops(ctx, opts.Filter)
	if err != nil {
		return cmdutil.ExplainUnreachable(err, cl.Server())
	}
	if pg.Items == nil {
		pg.Items = []api.Op{}
	}
	now := opts.F.Now()
	t := printer.NewTable("ID", "KIND", "DAG", "RUN", "TASK", "BY", "ASKED", "STATE", "RESULT")
	for _, op := range pg.Items {
		t.Row(op.ID, op.Kind, op.DAGID, op.RunID, cmdutil.OrDash(op.TaskID), actor(op.By), cmdutil.Ago(now, op.CreatedAt), op.State, cmdutil.OrDash(op.Result))
	}
	return cmdutil.PrintPage(opts.F, opts.Printer, pg, pg.NextCursor, t)
}
