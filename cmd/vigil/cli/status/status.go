// Package status is `vigil status`: every scheduler's heartbeat and the
// live task counts, through the operations API.
package status

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/cmd/vigil/cli/cmdutil"
	"github.com/vigilhq/vigil/internal/printer"
)

// Options are `vigil status`'s.
type Options struct {
	F       *cmdutil.Factory
	Ctx     context.Context
	Printer printer.Options
}

// NewCmdStatus is `vigil status`.
func NewCmdStatus(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{F: f}
	c := &cobra.Command{
		Use:   "status",
		Short: "Show every scheduler's heartbeat and the task counts",
		Long: `Show the heartbeat each scheduler process writes to the database, with its
age, and how many task instances are in each state. A heartbeat older than
three periods is STALE: that scheduler is stuck or was killed (a scheduler
that stops cleanly says so). With several schedulers on one PostgreSQL, RUNS
is how many running runs each owns; a stale scheduler's runs go to the
others once its beat is older than their --stale-after. The exit status is 1 when no scheduler is
live, 3 when no API answers.`,
		Example: `  vigil status
  vigil status -o json
  vigil status --server https://vigil.internal:8975 --token-file ~/.config/vigil/prod.token`,
		Args: cmdutil.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if err := opts.Printer.Validate(); err != nil {
				return err
			}
			opts.Ctx = c.Context()
			if runF != nil {
				return runF(opts)
			}
			return statusRun(opts)
		},
	}
	f.AddServerFlags(c)
	opts.Printer.AddFlags(c.Flags())
	return c
}

func statusRun(opts *Options) error {
	cl, err := opts.F.Client()
	if err != nil {
		return err
	}
	ctx, cancel := opts.F.Context(opts.Ctx)
	defer cancel()
	st, err := cl.Status(ctx)
	if err != nil {
		return cmdutil.ExplainUnreachable(err, cl.Server())
	}
	if st.Schedulers == nil {
		st.Schedulers = []api.Heartbeat{}
	}
	if st.Tasks == nil {
		st.Tasks = map[string]int{}
	}
	now := opts.F.Now()
	var newest *api.Heartbeat
	t := printer.NewTable("COMPONENT", "INSTANCE", "HOST", "PID", "LAST HEARTBEAT", "RUNS", "STATUS")
	for i, h := range st.Schedulers {
		status := "ok"
		switch {
		case !h.StoppedAt.IsZero():
			status = "stopped " + cmdutil.Ago(now, h.StoppedAt)
		case h.Stale:
			status = "STALE"
		}
		t.Row(h.Component, h.Instance, h.Host, h.PID, age(h), h.RunsOwned, status)
		if newest == nil || h.LastBeat.After(newest.LastBeat) {
			newest = &st.Schedulers[i]
		}
	}
	out := opts.F.IOStreams.Out
	if err := opts.Printer.Print(out, st, t); err != nil {
		return err
	}
	if opts.Printer.Human() {
		fmt.Fprintf(out, "\ntasks: %d scheduled, %d queued, %d running, %d up for retry\n",
			st.Tasks["scheduled"], st.Tasks["queued"], st.Tasks["running"], st.Tasks["up_for_retry"])
		if st.RunsUnowned > 0 {
			fmt.Fprintf(out, "runs: %d running with no owner yet (claimed at the schedulers' next sync)\n", st.RunsUnowned)
		}
		switch {
		case newest == nil:
			fmt.Fprintln(out, "no scheduler has written a heartbeat yet")
		case !newest.StoppedAt.IsZero():
			fmt.Fprintf(out, "no scheduler running: the last one (host %s, pid %d) stopped cleanly %s\n", newest.Host, newest.PID, cmdutil.Ago(now, newest.StoppedAt))
		case newest.Stale:
			fmt.Fprintf(out, "scheduler on host %s (pid %d): last heartbeat %s ago, STALE; it is stuck or was killed ('diag hangs' shows the call it waits on)\n",
				newest.Host, newest.PID, cmdutil.Age(time.Duration(newest.AgeSeconds*float64(time.Second))))
		}
	}
	if newest == nil || newest.Stale || !newest.StoppedAt.IsZero() {
		return &cmdutil.FoundError{Msg: "no live scheduler"}
	}
	return nil
}

// age is a heartbeat's age as the server measured it, so that a client
// clock that is off does not make a live scheduler look stale.
func age(h api.Heartbeat) string {
	return cmdutil.Age(time.Duration(h.AgeSeconds*float64(time.Second))) + " ago"
}
