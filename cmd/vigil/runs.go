package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/scheduler"
)

func (a *app) runsCmd() *cobra.Command {
	c := &cobra.Command{Use: "runs", Short: "Inspect DAG runs and act on them (clear, cancel)"}
	var f scheduler.RunFilter
	var state string
	var pf pageFlags
	list := &cobra.Command{
		Use:   "list",
		Short: "List DAG runs, newest first",
		Example: `  vigil runs list
  vigil runs list --dag hello --state running -o json
  vigil runs list --limit 20 --cursor eyJ...   # the page after one that printed this cursor`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if state != "" {
				f.States = []scheduler.RunState{scheduler.RunState(state)}
				if !f.States[0].Valid() {
					return &usageError{fmt.Errorf("--state %q: use one of %v", state, scheduler.RunStates)}
				}
			}
			return a.withStore(func(ctx context.Context, cfg config, st scheduler.Store) error {
				f.Limit, f.After = pf.fetch(), pf.cursor
				runs, err := st.ListRuns(ctx, f)
				pg, err := pageOf(runs, err, pf, scheduler.RunCursor)
				if err != nil {
					return err
				}
				return renderPage(a, pg, func(w io.Writer) {
					row(w, "DAG", "RUN", "STATE", "LOGICAL DATE", "CREATED", "ENDED")
					for _, r := range pg.Items {
						row(w, r.DAGID, r.RunID, r.State, stamp(r.LogicalDate), stamp(r.CreatedAt), stamp(r.EndedAt))
					}
				})
			})
		},
	}
	list.Flags().StringVar(&f.DAGID, "dag", "", "only runs of this DAG")
	list.Flags().StringVar(&state, "state", "", "only runs in this state: running, success, failed, cancelled")
	pf.add(list, "runs")
	a.addOutputFlag(list)
	c.AddCommand(list, a.runsClearCmd(), a.runsCancelCmd())
	return c
}
