// Package stacks is `diag stacks`: the scheduler's goroutines grouped by
// identical stack, with counts, labels and wait times.
package stacks

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/client"
	"github.com/vigilhq/vigil/diag/debugapi"
	gstacks "github.com/vigilhq/vigil/diag/stacks"
	"github.com/vigilhq/vigil/internal/printer"
)

// Options are `diag stacks`'s.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory
	MinWait time.Duration
	Match   string
	Max     int
	Raw     bool
	// File is a goroutine dump to read instead of asking a scheduler
	// ("-" for standard input).
	File    string
	Printer printer.Options
}

// NewCmdStacks returns `diag stacks`.
func NewCmdStacks(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "stacks",
		Short: "Show goroutines grouped by identical stack, with labels and wait times",
		Long: `Show the scheduler's goroutines grouped by identical stack and labels, largest
group first, each with its count, state, labels (loop, phase, dag, task) and how
long it has waited.

The snapshot comes from the goroutine profile, which stops the scheduler for
well under a millisecond however many goroutines it has. Wait times are exact
for goroutines in a registered call (marked "exact") and otherwise a lower
bound: how long the scheduler has seen them in that state.

--raw prints the runtime's own text dump instead (goroutine?debug=2). It
stops the scheduler for the whole dump: about a second at 100,000 goroutines.

--file reads a goroutine dump instead of asking a scheduler (no socket or pod
needed): SIGQUIT output, a panic, 'diag stacks --raw' output, or a container's
log ('kubectl logs --previous', with or without --timestamps) with the dump
among other lines. "-" reads standard input. Groups, labels, filters and
output are those of a live snapshot; wait times are the whole minutes the
runtime printed (a lower bound; under a minute prints none).`,
		Args: cmdutil.NoArgs,
		Example: `  diag stacks
  diag stacks --min-wait 30s
  diag stacks --match 'loop=scheduler'
  diag stacks --match kube --max 5
  diag stacks --raw > goroutines.txt
  diag stacks --file crash.log --min-wait 5m
  kubectl logs --previous deploy/vigil-scheduler -n vigil | diag stacks --file -`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.Printer.Validate(); err != nil {
				return err
			}
			if opts.Raw && !opts.Printer.Human() {
				return cmdutil.Usagef("--raw prints the runtime's text; it does not take -o")
			}
			if opts.Raw && opts.File != "" {
				return cmdutil.Usagef("--raw asks a scheduler for its dump; --file reads one: give one of them")
			}
			if opts.Max < 0 {
				return cmdutil.Usagef("--max %d: want 0 (all) or more", opts.Max)
			}
			if runF != nil {
				return runF(opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	cmd.Flags().DurationVar(&opts.MinWait, "min-wait", 0, "only groups that have waited at least this long")
	cmd.Flags().StringVar(&opts.Match, "match", "", "only groups with a frame, label (key=value) or state matching this regular expression (or substring)")
	cmd.Flags().IntVar(&opts.Max, "max", 0, "print at most this many groups (0: all)")
	cmd.Flags().BoolVar(&opts.Raw, "raw", false, "print the runtime's own text dump (stops the scheduler for the whole dump)")
	cmd.Flags().StringVar(&opts.File, "file", "", "group the goroutine dump in this file (SIGQUIT output, a panic, a container log; - for stdin) instead of asking a scheduler")
	opts.Printer.AddFlags(cmd.Flags())
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	if opts.File != "" {
		snap, err := ReadFile(opts.IO.In, opts.File)
		if err != nil {
			return err
		}
		return show(opts, snap.Filter(opts.MinWait, gstacks.CompileMatch(opts.Match)))
	}
	ctx, cancel := opts.Factory.Context(ctx, 0)
	defer cancel()
	c, err := opts.Factory.Client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if opts.Raw {
		body, err := c.RawStacks(ctx)
		if err != nil {
			return err
		}
		defer body.Close()
		_, err = io.Copy(opts.IO.Out, body)
		return err
	}
	snap, err := c.Stacks(ctx, client.StacksFilter{MinWait: opts.MinWait, Match: opts.Match})
	if err != nil {
		return err
	}
	return show(opts, (*gstacks.Snapshot)(snap))
}

// show writes a filtered snapshot, live or read from a file, the same
// way.
func show(opts *Options, snap *gstacks.Snapshot) error {
	human := func() error {
		if len(snap.Groups) == 0 {
			fmt.Fprintf(opts.IO.Out, "No goroutine group matches (of %d goroutines).\n", snap.Goroutines)
			return nil
		}
		return snap.WriteText(opts.IO.Out, gstacks.TextOptions{MaxGroups: opts.Max})
	}
	if opts.Max > 0 && len(snap.Groups) > opts.Max && !opts.Printer.Human() {
		snap.Groups = snap.Groups[:opts.Max]
	}
	return opts.Printer.PrintWith(opts.IO.Out, (*debugapi.Snapshot)(snap), human)
}
