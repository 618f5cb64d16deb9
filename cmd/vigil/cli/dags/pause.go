package dags

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/cmd/vigil/cli/cmdutil"
)

// PauseOptions are `vigil dags pause` and `unpause`'s.
type PauseOptions struct {
	F      *cmdutil.Factory
	Ctx    context.Context
	DAGID  string
	Pause  bool
	Reason string
}

// NewCmdPause is `vigil dags pause` (pause) or `vigil dags unpause`.
func NewCmdPause(f *cmdutil.Factory, pause bool, runF func(*PauseOptions) error) *cobra.Command {
	opts := &PauseOptions{F: f, Pause: pause}
	use, short, example := "pause DAG", "Stop creating scheduled runs of a DAG (running tasks finish)", `  vigil dags pause etl --reason "warehouse maintenance"`
	if !pause {
		use, short, example = "unpause DAG", "Resume scheduled runs of a DAG", `  vigil dags unpause etl`
	}
	c := &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		Args:    cmdutil.ExactArgs(1, "DAG"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.DAGID, opts.Ctx = args[0], c.Context()
			if runF != nil {
				return runF(opts)
			}
			return pauseRun(opts)
		},
	}
	c.Flags().StringVar(&opts.Reason, "reason", "", "why, for the DAG's history")
	return c
}

func pauseRun(opts *PauseOptions) error {
	cl, err := opts.F.Client()
	if err != nil {
		return err
	}
	ctx, cancel := opts.F.Context(opts.Ctx)
	defer cancel()
	if _, err := cl.SetPaused(ctx, opts.DAGID, opts.Pause, opts.Reason); err != nil {
		return cmdutil.ExplainUnreachable(err, cl.Server())
	}
	state := "paused"
	if !opts.Pause {
		state = "unpaused"
	}
	fmt.Fprintf(opts.F.IOStreams.Out, "%s %s\n", state, opts.DAGID)
	return nil
}
