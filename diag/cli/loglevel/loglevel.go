// Package loglevel is `diag loglevel`: read or change the running
// scheduler's log level, with no restart.
package loglevel

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/internal/printer"
)

// Levels are the levels diag sets, most verbose first.
var Levels = []string{"debug", "info", "warn", "error"}

// Options are `diag loglevel`'s.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory
	// Level, if set, is the level to switch to.
	Level   string
	Printer printer.Options
}

// Result is what -o prints; Previous is set when the level was changed.
type Result struct {
	Level    string `json:"level"`
	Previous string `json:"previous,omitempty"`
}

// NewCmdLogLevel returns `diag loglevel`.
func NewCmdLogLevel(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "loglevel [debug|info|warn|error]",
		Short: "Show or change the scheduler's log level, without a restart",
		Long: `With no argument, print the scheduler's log level. With a level, switch to it
at once and print the change ("info -> debug"). The change lasts until the
scheduler restarts, which goes back to its configured level (--log-level).

Debug logs every scheduling decision and every call: turn it on while
looking, and back to info when done.`,
		Example: `  diag loglevel
  diag loglevel debug
  diag loglevel info
  diag loglevel -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return cmdutil.Usagef("give at most one level (%s); got %q", strings.Join(Levels, ", "), args)
			}
			return nil
		},
		ValidArgs: Levels,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.Printer.Validate(); err != nil {
				return err
			}
			if len(args) == 1 {
				level := strings.ToLower(strings.TrimSpace(args[0]))
				if !slices.Contains(Levels, level) {
					return cmdutil.Usagef("unknown log level %q: valid levels are %s", args[0], strings.Join(Levels, ", "))
				}
				opts.Level = level
			}
			if runF != nil {
				return runF(opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	opts.Printer.AddFlags(cmd.Flags())
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	ctx, cancel := opts.Factory.Context(ctx, 0)
	defer cancel()
	c, err := opts.Factory.Client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	cur, err := c.LogLevel(ctx)
	if err != nil {
		return fmt.Errorf("log level: %w", err)
	}
	res := Result{Level: cur}
	if opts.Level != "" {
		set, err := c.SetLogLevel(ctx, opts.Level)
		if err != nil {
			return fmt.Errorf("set log level %s: %w", opts.Level, err)
		}
		res = Result{Level: set, Previous: cur}
	}
	return opts.Printer.PrintWith(opts.IO.Out, res, func() error { return Write(opts.IO.Out, res) })
}

// Write prints a Result for a human: "debug", or "info -> debug".
func Write(w io.Writer, r Result) error {
	var err error
	if r.Previous != "" {
		_, err = fmt.Fprintf(w, "%s -> %s\n", r.Previous, r.Level)
	} else {
		_, err = fmt.Fprintln(w, r.Level)
	}
	return err
}
