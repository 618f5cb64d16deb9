// Package health is `diag health`: the scheduler's heartbeats, with an
// exit status a probe or a cron job can act on.
package health

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/watchdog"
	"github.com/vigilhq/vigil/internal/printer"
)

// Options are `diag health`'s.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory
	Printer printer.Options
}

// NewCmdHealth returns `diag health`.
func NewCmdHealth(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Show the scheduler's heartbeats; exit status 1 if one is stale",
		Long: `Show every heartbeat the scheduler's watchdog tracks: its age, its period and
whether it is stale. A stale heartbeat is a loop that has not turned for
longer than its period allows: look at it with 'diag attach' or 'diag hangs'.

Exit status 0 when every required heartbeat is fresh ("ok", or "degraded"
when only an advisory one is stale), 1 when one is stale.`,
		Args:    cmdutil.NoArgs,
		Example: "  diag health\n  diag health -o json\n  diag health || diag bundle -f /tmp/stale.tar.gz",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.Printer.Validate(); err != nil {
				return err
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
	rep, err := c.Heartbeats(ctx)
	if err != nil {
		return err
	}
	err = opts.Printer.PrintWith(opts.IO.Out, rep, func() error {
		if !opts.Printer.NoHeaders {
			fmt.Fprintf(opts.IO.Out, "status: %s\n", rep.Status)
		}
		return opts.Printer.WriteTable(opts.IO.Out, Table(rep.Heartbeats))
	})
	if err != nil {
		return err
	}
	if rep.Status == "stale" {
		return &cmdutil.FoundError{Msg: "unhealthy: " + StaleNames(rep.Heartbeats)}
	}
	return nil
}

// WriteTable prints heartbeats as a table; attach shows the same.
func WriteTable(w io.Writer, hbs []watchdog.Status) error {
	return printer.Options{}.WriteTable(w, Table(hbs))
}

// Table is the heartbeats' table.
func Table(hbs []watchdog.Status) *printer.Table {
	t := printer.NewTable("HEARTBEAT", "AGE", "PERIOD", "BEATS", "STATUS")
	for _, h := range hbs {
		status := "ok"
		switch {
		case h.Stale && h.Advisory:
			status = "STALE (advisory)"
		case h.Stale:
			status = "STALE"
		case h.Beats == 0:
			status = "not started"
		}
		t.Row(h.Name, cmdutil.Age(h.Age), cmdutil.Age(h.Period), h.Beats, status)
	}
	return t
}

// StaleNames lists the stale required heartbeats with their ages.
func StaleNames(hbs []watchdog.Status) string {
	s := ""
	for _, h := range hbs {
		if h.Stale && !h.Advisory {
			if s != "" {
				s += ", "
			}
			s += fmt.Sprintf("%s stale %s (period %s)", h.Name, cmdutil.Age(h.Age), cmdutil.Age(h.Period))
		}
	}
	return s
}
