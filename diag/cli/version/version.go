// Package version is `diag version`: diag's own build, and the
// scheduler's when one is reachable.
package version

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/internal/buildinfo"
	"github.com/vigilhq/vigil/internal/printer"
)

// Options are `diag version`'s.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory
	// Client asks the scheduler too.
	Scheduler bool
	Print     printer.Options
}

// Result is what -o prints.
type Result struct {
	Diag      Build  `json:"diag"`
	Scheduler *Build `json:"scheduler,omitempty"`
	// SchedulerError says why the scheduler's version is missing.
	SchedulerError string `json:"scheduler_error,omitempty"`
}

// Build identifies a binary.
type Build struct {
	Version   string `json:"version"`
	Revision  string `json:"revision,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"go_version"`
	Where     string `json:"where,omitempty"`
}

// NewCmdVersion returns `diag version`.
func NewCmdVersion(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print diag's version, and the scheduler's with --scheduler",
		Args:    cmdutil.NoArgs,
		Example: "  diag version\n  diag version --scheduler -o json",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.Print.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Scheduler, "scheduler", false, "also ask the scheduler for its version")
	opts.Print.AddFlags(cmd.Flags())
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	b := buildinfo.Get()
	res := Result{Diag: Build{Version: b.Version, Revision: b.Revision, Modified: b.Modified, GoVersion: b.GoVersion}}
	if v := opts.Factory.Version; v != "" {
		res.Diag.Version = v
	}
	if opts.Scheduler {
		if err := schedulerBuild(ctx, opts, &res); err != nil {
			res.SchedulerError = err.Error()
		}
	}
	return opts.Print.PrintWith(opts.IO.Out, res, func() error {
		fmt.Fprintf(opts.IO.Out, "diag %s %s %s\n", res.Diag.Version, short(res.Diag.Revision), res.Diag.GoVersion)
		if s := res.Scheduler; s != nil {
			fmt.Fprintf(opts.IO.Out, "scheduler %s %s %s (%s)\n", s.Version, short(s.Revision), s.GoVersion, s.Where)
		} else if res.SchedulerError != "" {
			fmt.Fprintf(opts.IO.Out, "scheduler: %s\n", res.SchedulerError)
		}
		return nil
	})
}

func schedulerBuild(ctx context.Context, opts *Options, res *Result) error {
	ctx, cancel := opts.Factory.Context(ctx, 0)
	defer cancel()
	c, err := opts.Factory.Client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	info, err := c.Info(ctx)
	if err != nil {
		return err
	}
	res.Scheduler = &Build{Version: info.Version, Revision: info.Revision, Modified: info.Modified, GoVersion: info.GoVersion, Where: c.Where()}
	return nil
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
