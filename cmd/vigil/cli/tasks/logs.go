package tasks

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/cmd/vigil/cli/cmdutil"
)

// LogsOptions are `vigil tasks logs`'s.
type LogsOptions struct {
	F                  *cmdutil.Factory
	Ctx                context.Context
	DAGID, RunID, Task string
	Try                int
}

// NewCmdLogs is `vigil tasks logs`.
func NewCmdLogs(f *cmdutil.Factory, runF func(*LogsOptions) error) *cobra.Command {
	opts := &LogsOptions{F: f}
	c := &cobra.Command{
		Use:   "logs DAG RUN TASK",
		Short: "Print a task try's output",
		Long: `Print a task try's output, as the scheduler's executor keeps it (a local
file, or the pod's log). RUN may be "latest".`,
		Example: `  vigil tasks logs hello latest greet
  vigil tasks logs retry latest flaky --try 1`,
		Args: cmdutil.ExactArgs(3, "DAG RUN TASK"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.DAGID, opts.RunID, opts.Task, opts.Ctx = args[0], args[1], args[2], c.Context()
			if opts.Try < 0 {
				return cmdutil.Usagef("--try %d: tries count from 1", opts.Try)
			}
			if runF != nil {
				return runF(opts)
			}
			return logsRun(opts)
		},
	}
	c.Flags().IntVar(&opts.Try, "try", 0, "try number (default: the latest)")
	return c
}

func logsRun(opts *LogsOptions) error {
	cl, err := opts.F.Client()
	if err != nil {
		return err
	}
	// The deadline covers the copy too: a log is read whole, not followed.
	ctx, cancel := opts.F.Context(opts.Ctx)
	defer cancel()
	rc, err := cl.Logs(ctx, opts.DAGID, opts.RunID, opts.Task, opts.Try)
	if err != nil {
		return cmdutil.ExplainUnreachable(err, cl.Server())
	}
	defer rc.Close()
	_, err = io.Copy(opts.F.IOStreams.Out, rc)
	return err
}
