// Package tasks is `vigil tasks`: list task instances, show why one is in
// its state (history) and its logs, and act on them (clear, mark) through
// the operations API.
package tasks

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/api/client"
	"github.com/vigilhq/vigil/cmd/vigil/cli/cmdutil"
	"github.com/vigilhq/vigil/internal/printer"
)

// NewCmdTasks is the `tasks` group.
func NewCmdTasks(f *cmdutil.Factory) *cobra.Command {
	c := &cobra.Command{Use: "tasks", Short: "Inspect task instances (state, history, logs) and act on them (clear, mark)"}
	f.AddServerFlags(c)
	c.AddCommand(NewCmdList(f, nil), NewCmdHistory(f, nil), NewCmdLogs(f, nil), NewCmdClear(f, nil), NewCmdMark(f, nil))
	return c
}

// States are the task states --state takes.
var States = []string{"scheduled", "queued", "running", "success", "failed", "up_for_retry", "upstream_failed", "skipped"}

// ListOptions are `vigil tasks list`'s.
type ListOptions struct {
	F       *cmdutil.Factory
	Ctx     context.Context
	Filter  client.TaskFilter
	Page    cmdutil.PageFlags
	Printer printer.Options
}

// NewCmdList is `vigil tasks list`.
func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{F: f}
	c := &cobra.Command{
		Use:   "list",
		Short: "List task instances",
		Example: `  vigil tasks list --dag hello
  vigil tasks list --state failed -o json
  vigil tasks list --dag hello --run latest --no-headers
  vigil tasks list --dag hello --limit 0   # every instance, not a page`,
		Args: cmdutil.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if s := opts.Filter.State; s != "" && !slices.Contains(States, s) {
				return cmdutil.Usagef("--state %q: use one of %v", s, States)
			}
			if opts.Filter.RunID == "latest" && opts.Filter.DAGID == "" {
				return cmdutil.Usagef(`--run latest needs a DAG (--dag)`)
			}
			if err := opts.Printer.Validate(); err != nil {
				return err
			}
			opts.Ctx = c.Context()
			if runF != nil {
				return runF(opts)
			}
			return listRun(opts)
		},
	}
	c.Flags().StringVar(&opts.Filter.DAGID, "dag", "", "only tasks of this DAG")
	c.Flags().StringVar(&opts.Filter.RunID, "run", "", `only tasks of this run ("latest" for the DAG's newest run)`)
	c.Flags().StringVar(&opts.Filter.State, "state", "", "only tasks in this state")
	opts.Page.Add(c, "task instances")
	opts.Printer.AddFlags(c.Flags())
	return c
}

func listRun(opts *ListOptions) error {
	cl, err := opts.F.Client()
	if err != nil {
		return err
	}
	ctx, cancel := opts.F.Context(opts.Ctx)
	defer cancel()
	opts.Filter.ListOptions = opts.Page.List()
	pg, err := cl.Tasks(ctx, opts.Filter)
	if err != nil {
		return cmdutil.ExplainUnreachable(err, cl.Server())
	}
	if pg.Items == nil {
		pg.Items = []api.TaskInstance{}
	}
	now := opts.F.Now()
	t := printer.NewTable("DAG", "RUN", "TASK", "STATE", "TRY", "UPDATED")
	for _, ti := range pg.Items {
		t.Row(ti.DAGID, ti.RunID, ti.TaskID, ti.State, TryOf(ti), cmdutil.Ago(now, ti.UpdatedAt))
	}
	return cmdutil.PrintPage(opts.F, opts.Printer, pg, pg.NextCursor, t)
}

// TryOf shows an instance's try out of the tries its retries allow, the
// tries before a clear by hand, and the evicted tries that did not count
// (issue 16): "2/3", "3 (1/1 since a clear)", "3/1 (2 evicted, not counted)".
func TryOf(ti api.TaskInstance) string {
	s := fmt.Sprintf("%d/%d", ti.Try, ti.MaxTries)
	if ti.TryBase > 0 {
		s = fmt.Sprintf("%d (%d/%d since a clear)", ti.Try, ti.Try-ti.TryBase, ti.MaxTries)
	}
	if ti.Evictions > 0 {
		s += fmt.Sprintf(" (%d evicted, not counted)", ti.Evictions)
	}
	return s
}

// HistoryOptions are `vigil tasks history`'s.
type HistoryOptions struct {
	F                  *cmdutil.Factory
	Ctx                context.Context
	DAGID, RunID, Task string
	Page               cmdutil.PageFlags
	Printer            printer.Options
}

// NewCmdHistory is `vigil tasks history`.
func NewCmdHistory(f *cmdutil.Factory, runF func(*HistoryOptions) error) *cobra.Command {
	opts := &HistoryOptions{F: f}
	c := &cobra.Command{
		Use:   "history DAG RUN TASK",
		Short: "Show why a task instance is in its state: every transition with its reason",
		Long: `Print a task instance's transitions, oldest first: when, which try, from and
to which state, which component decided it, and why. RUN may be "latest".`,
		Example: `  vigil tasks history retry latest flaky
  vigil tasks history etl scheduled__2026-11-23T00:00:00Z load -o json`,
		Args: cmdutil.ExactArgs(3, "DAG RUN TASK"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.DAGID, opts.RunID, opts.Task, opts.Ctx = args[0], args[1], args[2], c.Context()
			if err := opts.Printer.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return historyRun(opts)
		},
	}
	opts.Page.Add(c, "transitions")
	opts.Printer.AddFlags(c.Flags())
	return c
}

func historyRun(opts *HistoryOptions) error {
	cl, err := opts.F.Client()
	if err != nil {
		return err
	}
	ctx, cancel := opts.F.Context(opts.Ctx)
	defer cancel()
	h, err := cl.History(ctx, opts.DAGID, opts.RunID, opts.Task, opts.Page.List())
	if err != nil {
		return cmdutil.ExplainUnreachable(err, cl.Server())
	}
	if h.Transitions == nil {
		h.Transitions = []api.Transition{}
	}
	t := printer.NewTable("AT", "TRY", "FROM", "TO", "BY", "REASON")
	for _, tr := range h.Transitions {
		by := tr.By.Component
		if tr.By.Instance != "" {
			by += "@" + tr.By.Instance
		}
		t.Row(tr.At.Local().Format("2006-01-02 15:04:05.000"), tr.Try, cmdutil.OrDash(tr.From), tr.To, by, tr.Reason+repeats(tr))
	}
	out := opts.F.IOStreams.Out
	if err := opts.Printer.Print(out, h, t); err != nil {
		return err
	}
	if opts.Printer.Human() {
		ti := h.Task
		fmt.Fprintf(out, "\n%s/%s/%s is %s (try %s)\n", ti.DAGID, ti.RunID, ti.TaskID, ti.State, TryOf(ti))
		if len(h.Notifications) > 0 {
			fmt.Fprintln(out, "\nNotifications:")
			if err := opts.Printer.Print(out, nil, notificationsTable(h.Notifications)); err != nil {
				return err
			}
		}
	}
	cmdutil.MoreHint(opts.F, opts.Printer, h.NextCursor)
	return nil
}

// notificationsTable is the notifications of a history: what was told to
// whom, and how its delivery went.
func notificationsTable(ns []api.Notification) *printer.Table {
	t := printer.NewTable("AT", "TRY", "EVENT", "RECEIVER", "STATE", "ATTEMPTS", "RESULT")
	for _, n := range ns {
		result := cmdutil.OrDash(n.Error)
		switch {
		case n.State == "sent":
			result = fmt.Sprintf("HTTP %d", n.StatusCode)
		case n.State == "pending" && !n.NextAt.IsZero() && n.Attempts > 0:
			result = fmt.Sprintf("%s; next attempt %s", n.Error, n.NextAt.Local().Format("15:04:05"))
		}
		t.Row(n.At.Local().Format("2006-01-02 15:04:05.000"), n.Try, n.Event, n.Receiver, n.State, n.Attempts, result)
	}
	return t
}

// repeats says how often a collapsed record happened, and when last:
// " (×37, last 12:04:05)"; nothing for a record that happened once.
func repeats(t api.Transition) string {
	if t.Repeats == 0 {
		return ""
	}
	first, last := t.At.Local(), t.LastAt.Local()
	layout := "15:04:05"
	if first.Format(time.DateOnly) != last.Format(time.DateOnly) {
		layout = time.DateTime
	}
	return fmt.Sprintf(" (×%d, last %s)", t.Repeats+1, last.Format(layout))
}
