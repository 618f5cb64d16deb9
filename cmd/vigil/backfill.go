package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

func (a *app) dagsBackfillCmd() *cobra.Command {
	var f backfillFlags
	c := &cobra.Command{
		Use:   "backfill DAG --from DATE --to DATE",
		Short: "Run a DAG for the schedule ticks of a past range of dates",
		Long: `Create the scheduled runs a range of dates lacks, oldest first, keeping at most
--max-active-runs of them running at once, and wait for them to end. Runs
that exist are left alone, or cleared and run again with --reprocess failed
(runs that ended failed or cancelled: their failed tasks) or --reprocess all
(every ended run, every task). Each task sees its tick as VIGIL_LOGICAL_DATE.

DATE is 2026-11-01 (the whole day, in the DAG's timezone) or an RFC 3339
time. A running scheduler runs the backfill's runs; this command only
creates them and watches. Stopping it (Ctrl-C) stops the backfill from going
on: the runs it started finish, and the same command takes it up again.`,
		Example: `  vigil dags backfill etl --from 2026-11-01 --to 2026-11-07 --dry-run
  vigil dags backfill etl --from 2026-11-01 --to 2026-11-07 --reprocess failed --max-active-runs 2`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return a.withLongStore(func(_ config, st scheduler.Store) error {
				return a.backfill(st, args[0], f)
			})
		},
	}
	c.Flags().StringVar(&f.from, "from", "", "first logical date (required)")
	c.Flags().StringVar(&f.to, "to", "", "last logical date, included (required)")
	c.Flags().StringVar(&f.reprocess, "reprocess", "none", "what to do with runs that exist: none, failed or all")
	c.Flags().IntVar(&f.maxActive, "max-active-runs", 0, "backfill runs running at once (default: the DAG's max_active_runs)")
	c.Flags().BoolVar(&f.dryRun, "dry-run", false, "list the ticks and what would be done, and change nothing")
	c.Flags().StringVar(&f.reason, "reason", "", "why, for the runs' and tasks' history")
	_ = c.MarkFlagRequired("from")
	_ = c.MarkFlagRequired("to")
	a.addOutputFlag(c)
	return c
}

// parseDate reads a --from or --to value: a date (midnight in loc; whole
// reports that it names a whole day) or an RFC 3339 time.
func parseDate(flag, v string, loc *time.Location) (t time.Time, whole bool, err error) {
	t, whole, err = scheduler.ParseDate(flag, v, loc)
	if err != nil {
		return t, whole, &usageError{err}
	}
	return t, whole, nil
}

// backfillFlags are the flags of `vigil dags backfill`.
type backfillFlags struct {
	from, to, reprocess, reason string
	maxActive                   int
	dryRun                      bool
}

// backfill plans (--dry-run) or drives a backfill of dagID on st.
func (a *app) backfill(st scheduler.Store, dagID string, f backfillFlags) error {
	ctx, cancel := context.WithTimeout(a.ctx, adminTimeout)
	defer cancel()
	rec, err := st.GetDAG(ctx, dagID)
	if err != nil {
		return fmt.Errorf("dag %s: %w (see 'vigil dags list')", dagID, err)
	}
	timing, err := dag.TimingOf(rec.Source)
	if err != nil {
		return err
	}
	req := scheduler.BackfillRequest{DAGID: rec.ID, Reprocess: scheduler.Reprocess(f.reprocess), MaxActiveRuns: f.maxActive,
		Actor: operatorActor(), Reason: f.reason}
	if req.From, _, err = parseDate("--from", f.from, timing.Location); err != nil {
		return err
	}
	var whole bool
	if req.To, whole, err = parseDate("--to", f.to, timing.Location); err != nil {
		return err
	}
	if whole {
		req.To = req.To.AddDate(0, 0, 1).Add(-time.Nanosecond)
	}
	if f.dryRun {
		runs, err := st.ListRuns(ctx, scheduler.RunFilter{DAGID: rec.ID})
		if err != nil {
			return err
		}
		items, err := scheduler.PlanBackfill(rec, req, runs)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.out, "dry run: nothing changed. The backfill of %s would:\n", rec.ID)
		return a.render(items, func(w io.Writer) {
			row(w, "LOGICAL DATE", "RUN", "ACTION", "WHY")
			for _, it := range items {
				row(w, it.Tick.In(timing.Location).Format(time.RFC3339), it.RunID, it.Action, orDash(it.Why))
			}
		})
	}
	items, err := scheduler.Backfill(a.ctx, st, req, scheduler.BackfillOptions{Progress: func(it scheduler.BackfillItem) {
		if it.State == "" {
			fmt.Fprintf(a.out, "%s  %s  %s\n", it.Tick.In(timing.Location).Format(time.RFC3339), it.RunID, it.Action)
		} else {
			fmt.Fprintf(a.out, "%s  %s  ended %s\n", it.Tick.In(timing.Location).Format(time.RFC3339), it.RunID, it.State)
		}
	}})
	if err != nil {
		return fmt.Errorf("%w\nthe runs it started go on; run the same command to take the backfill up again", err)
	}
	counts := map[string]int{}
	for _, it := range items {
		switch {
		case it.Action == scheduler.BackfillSkip:
			counts["skipped"]++
		default:
			counts[string(it.State)]++
		}
	}
	var parts []string
	for _, k := range []string{"success", "failed", "cancelled", "skipped"} {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
		}
	}
	fmt.Fprintf(a.out, "backfill of %s done: %d tick(s): %s\n", rec.ID, len(items), strings.Join(parts, ", "))
	if counts["failed"]+counts["cancelled"] > 0 {
		return &problemError{"some backfill runs did not succeed"}
	}
	return nil
}
