package dags

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/cmd/vigil/cli/cmdutil"
	"github.com/vigilhq/vigil/internal/printer"
)

// ListOptions are `vigil dags list`'s.
type ListOptions struct {
	F       *cmdutil.Factory
	Ctx     context.Context
	Printer printer.Options
}

// NewCmdList is `vigil dags list`.
func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{F: f}
	c := &cobra.Command{
		Use:   "list",
		Short: "List the DAGs the scheduler loaded, and the files that fail to load",
		Example: `  vigil dags list
  vigil dags list -o json
  vigil dags list -o jsonpath='{.items[*].id}'`,
		Args: cmdutil.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
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
	list, err := cl.DAGs(ctx)
	if err != nil {
		return cmdutil.ExplainUnreachable(err, cl.Server())
	}
	if list.Items == nil {
		list.Items = []api.DAG{}
	}
	if list.LoadErrors == nil {
		list.LoadErrors = []api.LoadError{}
	}
	t := printer.NewTable("DAG", "SCHEDULE", "TASKS", "STATUS", "NEXT RUN", "FILE")
	for _, d := range list.Items {
		sched := cmdutil.OrDash(d.Schedule)
		if d.Schedule != "" && d.Timezone != "" {
			sched += " (" + d.Timezone + ")"
		}
		t.Row(d.ID, sched, d.Tasks, Status(d), cmdutil.Stamp(d.NextRunAt), d.File)
	}
	out := opts.F.IOStreams.Out
	if err := opts.Printer.Print(out, list, t); err != nil {
		return err
	}
	if opts.Printer.Human() && len(list.LoadErrors) > 0 {
		fmt.Fprintf(out, "\n%d DAG file(s) fail to load; their DAGs keep their last good version:\n", len(list.LoadErrors))
		for _, e := range list.LoadErrors {
			fmt.Fprintf(out, "\n  %s (since %s)\n    %s\n", e.File, cmdutil.Stamp(e.Since), strings.ReplaceAll(e.Message, "\n", "\n    "))
		}
	}
	return nil
}

// Status is a DAG's STATUS column.
func Status(d api.DAG) string {
	switch {
	case d.Missing:
		return "missing (file gone)"
	case d.LoadError != "":
		return "file has errors"
	case d.Paused:
		return "paused"
	}
	return "active"
}
