package dags

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/api/client"
	"github.com/vigilhq/vigil/cmd/vigil/cli/cmdutil"
	"github.com/vigilhq/vigil/internal/printer"
	"github.com/vigilhq/vigil/scheduler"
)

// BackfillOptions are `vigil dags backfill`'s.
type BackfillOptions struct {
	F         *cmdutil.Factory
	Ctx       context.Context
	DAGID     string
	From, To  string
	Reprocess string
	MaxActive int
	DryRun    bool
	Reason    string
	Printer   printer.Options
	// Poll is how often the driver looks at its runs (1s; tests shorten it).
	Poll time.Duration
}

// NewCmdBackfill is `vigil dags backfill`.
func NewCmdBackfill(f *cmdutil.Factory, runF func(*BackfillOptions) error) *cobra.Command {
	opts := &BackfillOptions{F: f}
	c := &cobra.Command{
		Use:   "backfill DAG --from DATE --to DATE",
		Short: "Run a DAG for the schedule ticks of a past range of dates",
		Long: `Create the scheduled runs a range of dates lacks, oldest first, keeping at most
--max-active-runs of them running at once, and wait for them to end. Runs
that exist are left alone, or cleared and run again with --reprocess failed
(runs that ended failed or cancelled: their failed tasks) or --reprocess all
(every ended run, every task). Each task sees its tick as VIGIL_LOGICAL_DATE.

DATE is 2026-11-01 (the whole day, in the DAG's timezone) or an RFC 3339
time. The scheduler plans the ticks (POST /dags/DAG/backfill/plan); this
command creates the runs through the API and watches them. Stopping it
(Ctrl-C) stops the backfill from going on: the runs it started finish, and
the same command takes it up again. The exit status is 1 when a run did
not succeed.

With -o json, each run started or ended is one JSON document on a line of
its own as it happens ("event": "started" or "ended"), and the last is the
summary ("event": "done", with counts by state).`,
		Example: `  vigil dags backfill etl --from 2026-11-01 --to 2026-11-07 --dry-run
  vigil dags backfill etl --from 2026-11-01 --to 2026-11-07 --reprocess failed --max-active-runs 2
  vigil dags backfill etl --from 2026-11-01 --to 2026-11-07 -o json | jq -c 'select(.event == "ended")'`,
		Args: cmdutil.ExactArgs(1, "DAG"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.DAGID, opts.Ctx = args[0], c.Context()
			if opts.From == "" || opts.To == "" {
				return cmdutil.Usagef("--from and --to are required: the first and last logical dates, e.g. --from 2026-11-01 --to 2026-11-07")
			}
			switch scheduler.Reprocess(opts.Reprocess) {
			case scheduler.ReprocessNone, scheduler.ReprocessFailed, scheduler.ReprocessAll:
			default:
				return cmdutil.Usagef("--reprocess %q: use none, failed or all", opts.Reprocess)
			}
			if err := opts.Printer.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return backfillRun(opts)
		},
	}
	c.Flags().StringVar(&opts.From, "from", "", "first logical date (required)")
	c.Flags().StringVar(&opts.To, "to", "", "last logical date, included (required)")
	c.Flags().StringVar(&opts.Reprocess, "reprocess", "none", "what to do with runs that exist: none, failed or all")
	c.Flags().IntVar(&opts.MaxActive, "max-active-runs", 0, "backfill runs running at once (default: the DAG's max_active_runs)")
	c.Flags().BoolVar(&opts.DryRun, "dry-run", false, "list the ticks and what would be done, and change nothing")
	c.Flags().StringVar(&opts.Reason, "reason", "", "why, for the runs' and tasks' history")
	opts.Printer.AddFlags(c.Flags())
	return c
}

func backfillRun(opts *BackfillOptions) error {
	cl, err := opts.F.Client()
	if err != nil {
		return err
	}
	ctx, cancel := opts.F.Context(opts.Ctx)
	plan, err := cl.PlanBackfill(ctx, opts.DAGID, api.BackfillPlanRequest{From: opts.From, To: opts.To, Reprocess: opts.Reprocess})
	cancel()
	if err != nil {
		return cmdutil.ExplainUnreachable(err, cl.Server())
	}
	loc := time.UTC
	if plan.Timezone != "" {
		if l, err := time.LoadLocation(plan.Timezone); err == nil {
			loc = l
		}
	}
	out := opts.F.IOStreams.Out
	if opts.DryRun {
		if opts.Printer.Human() {
			fmt.Fprintf(out, "dry run: nothing changed. The backfill of %s would:\n", opts.DAGID)
		}
		t := printer.NewTable("LOGICAL DATE", "RUN", "ACTION", "WHY")
		for _, it := range plan.Items {
			t.Row(it.LogicalDate.In(loc).Format(time.RFC3339), it.RunID, it.Action, cmdutil.OrDash(it.Why))
		}
		return opts.Printer.Print(out, plan, t)
	}
	items := make([]scheduler.BackfillItem, len(plan.Items))
	for i, it := range plan.Items {
		items[i] = scheduler.BackfillItem{Tick: it.LogicalDate, RunID: it.RunID, Action: scheduler.BackfillAction(it.Action), Why: it.Why}
	}
	maxActive := opts.MaxActive
	if maxActive <= 0 {
		maxActive = plan.MaxActiveRuns
	}
	req := scheduler.BackfillRequest{DAGID: opts.DAGID, Reason: scheduler.BackfillReason(opts.Reason)}
	target := &apiBackfill{cl: cl, dagID: opts.DAGID, reason: req.Reason}
	// -o json|yaml|jsonpath: one document per event as it happens (a
	// JSON line each), the last one the summary.
	stream := opts.Printer.Stream()
	var printErr error
	done, err := scheduler.DriveBackfill(opts.Ctx, target, req, items, maxActive, scheduler.BackfillOptions{
		Poll: opts.Poll, CallTimeout: opts.F.Server.RequestTimeout,
		Progress: func(it scheduler.BackfillItem) {
			ev := BackfillEvent{Event: "started", LogicalDate: it.Tick, RunID: it.RunID, Action: string(it.Action)}
			if it.State != "" {
				ev.Event, ev.State = "ended", string(it.State)
			}
			err := stream.PrintWith(out, ev, func() error {
				var err error
				if it.State == "" {
					_, err = fmt.Fprintf(out, "%s  %s  %s\n", it.Tick.In(loc).Format(time.RFC3339), it.RunID, it.Action)
				} else {
					_, err = fmt.Fprintf(out, "%s  %s  ended %s\n", it.Tick.In(loc).Format(time.RFC3339), it.RunID, it.State)
				}
				return err
			})
			if printErr == nil {
				printErr = err
			}
		}})
	if printErr != nil {
		return printErr
	}
	if err != nil {
		return fmt.Errorf("%w\nthe runs it started go on; run the same command to take the backfill up again", cmdutil.ExplainUnreachable(err, cl.Server()))
	}
	counts := map[string]int{}
	for _, it := range done {
		if it.Action == scheduler.BackfillSkip {
			counts["skipped"]++
		} else {
			counts[string(it.State)]++
		}
	}
	var parts []string
	for _, k := range []string{"success", "failed", "cancelled", "skipped"} {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
		}
	}
	summary := BackfillEvent{Event: "done", DAGID: opts.DAGID, Ticks: len(done), Counts: counts}
	err = stream.PrintWith(out, summary, func() error {
		_, err := fmt.Fprintf(out, "backfill of %s done: %d tick(s): %s\n", opts.DAGID, len(done), strings.Join(parts, ", "))
		return err
	})
	if err != nil {
		return err
	}
	if counts["failed"]+counts["cancelled"] > 0 {
		return &cmdutil.FoundError{Msg: "some backfill runs did not succeed"}
	}
	return nil
}

// BackfillEvent is one document of a backfill's -o json stream: a run it
// started or saw end, then the summary ("done").
type BackfillEvent struct {
	// Event is "started", "ended" or "done".
	Event       string    `json:"event"`
	LogicalDate time.Time `json:"logical_date,omitzero"`
	RunID       string    `json:"run_id,omitempty"`
	// Action is what the backfill does with the tick: create, clear,
	// clear_failed.
	Action string `json:"action,omitempty"`
	// State is how the run ended.
	State string `json:"state,omitempty"`
	// DAGID, Ticks and Counts are the summary's: the ticks, and how many
	// runs ended in each state (skipped: ticks left alone).
	DAGID  string         `json:"dag_id,omitempty"`
	Ticks  int            `json:"ticks,omitempty"`
	Counts map[string]int `json:"counts,omitempty"`
}

// apiBackfill is a scheduler.BackfillTarget over the operations API.
type apiBackfill struct {
	cl     *client.Client
	dagID  string
	reason string
}

var _ scheduler.BackfillTarget = (*apiBackfill)(nil)

func (b *apiBackfill) CreateBackfillRun(ctx context.Context, it scheduler.BackfillItem) error {
	_, err := b.cl.Trigger(ctx, b.dagID, api.TriggerRequest{LogicalDate: it.Tick, Backfill: true, Reason: b.reason})
	return err
}

func (b *apiBackfill) SubmitOp(ctx context.Context, op scheduler.Op) (int64, error) {
	resp, err := b.cl.SubmitOp(ctx, api.OpRequest{Kind: string(op.Kind), DAGID: op.DAGID, RunID: op.RunID,
		Args: api.OpArgs{OnlyFailed: op.Args.OnlyFailed}, Reason: op.Reason})
	if err != nil {
		return 0, err
	}
	if resp.Op == nil {
		return 0, fmt.Errorf("clear of run %s: the server stored no operation", op.RunID)
	}
	return resp.Op.ID, nil
}

func (b *apiBackfill) GetOp(ctx context.Context, id int64) (scheduler.Op, error) {
	op, err := b.cl.Op(ctx, id)
	if err != nil {
		return scheduler.Op{}, err
	}
	return scheduler.Op{ID: op.ID, State: scheduler.OpState(op.State), Result: op.Result, DoneBy: op.DoneBy}, nil
}

func (b *apiBackfill) GetRun(ctx context.Context, dagID, runID string) (scheduler.Run, error) {
	run, err := b.cl.Run(ctx, dagID, runID)
	if err != nil {
		return scheduler.Run{}, err
	}
	return scheduler.Run{DAGID: run.DAGID, RunID: run.RunID, State: scheduler.RunState(run.State)}, nil
}
