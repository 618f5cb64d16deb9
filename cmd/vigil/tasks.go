package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/vigilhq/vigil/executor/local"
	"github.com/vigilhq/vigil/scheduler"
)

func (a *app) tasksCmd() *cobra.Command {
	c := &cobra.Command{Use: "tasks", Short: "Inspect task instances (state, history, logs) and act on them (clear, mark)"}
	c.AddCommand(a.tasksListCmd(), a.tasksHistoryCmd(), a.tasksLogsCmd(), a.tasksClearCmd(), a.tasksMarkCmd())
	return c
}

func (a *app) tasksListCmd() *cobra.Command {
	var f scheduler.TaskFilter
	var state string
	var pf pageFlags
	c := &cobra.Command{
		Use:   "list",
		Short: "List task instances",
		Example: `  vigil tasks list --dag hello
  vigil tasks list --state failed -o json
  vigil tasks list --dag hello --limit 0   # every instance, not a page`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if state != "" {
				f.States = []scheduler.State{scheduler.State(state)}
				if !f.States[0].Valid() {
					return &usageError{fmt.Errorf("--state %q: use one of %v", state, scheduler.States)}
				}
			}
			return a.withStore(func(ctx context.Context, cfg config, st scheduler.Store) error {
				if f.RunID == "latest" {
					runID, err := latestRun(ctx, st, f.DAGID)
					if err != nil {
						return err
					}
					f.RunID = runID
				}
				f.Limit, f.After = pf.fetch(), pf.cursor
				tis, err := st.ListTaskInstances(ctx, f)
				pg, err := pageOf(tis, err, pf, scheduler.TaskCursor)
				if err != nil {
					return err
				}
				now := time.Now()
				return renderPage(a, pg, func(w io.Writer) {
					row(w, "DAG", "RUN", "TASK", "STATE", "TRY", "UPDATED")
					for _, ti := range pg.Items {
						row(w, ti.DAGID, ti.RunID, ti.TaskID, ti.State, tryOf(ti), ago(now, ti.UpdatedAt))
					}
				})
			})
		},
	}
	c.Flags().StringVar(&f.DAGID, "dag", "", "only tasks of this DAG")
	c.Flags().StringVar(&f.RunID, "run", "", `only tasks of this run ("latest" for the DAG's newest run)`)
	c.Flags().StringVar(&state, "state", "", "only tasks in this state")
	pf.add(c, "task instances")
	a.addOutputFlag(c)
	return c
}

// taskKey reads DAG RUN TASK arguments; RUN may be "latest".
func taskKey(ctx context.Context, st scheduler.Store, args []string) (scheduler.TaskKey, error) {
	k := scheduler.TaskKey{DAGID: args[0], RunID: args[1], TaskID: args[2]}
	if k.RunID != "latest" {
		return k, nil
	}
	var err error
	k.RunID, err = latestRun(ctx, st, k.DAGID)
	return k, err
}

func latestRun(ctx context.Context, st scheduler.Store, dagID string) (string, error) {
	if dagID == "" {
		return "", &usageError{errors.New(`run "latest" needs a DAG (--dag)`)}
	}
	runs, err := st.ListRuns(ctx, scheduler.RunFilter{DAGID: dagID, Limit: 1})
	if err != nil {
		return "", err
	}
	if len(runs) == 0 {
		return "", fmt.Errorf("dag %s has no runs yet; trigger one with 'vigil dags trigger %s'", dagID, dagID)
	}
	return runs[0].RunID, nil
}

func (a *app) tasksHistoryCmd() *cobra.Command {
	var pf pageFlags
	c := &cobra.Command{
		Use:   "history DAG RUN TASK",
		Short: "Show why a task instance is in its state: every transition with its reason",
		Long: `Print a task instance's transitions, oldest first: when, which try, from and
to which state, which component decided it, and why. RUN may be "latest".`,
		Example: `  vigil tasks history retry latest flaky
  vigil tasks history etl scheduled__2026-11-23T00:00:00Z load -o json`,
		Args: cobra.ExactArgs(3),
		RunE: func(c *cobra.Command, args []string) error {
			return a.withStore(func(ctx context.Context, cfg config, st scheduler.Store) error {
				k, err := taskKey(ctx, st, args)
				if err != nil {
					return err
				}
				ti, err := st.GetTaskInstance(ctx, k)
				if err != nil {
					return fmt.Errorf("task %s: %w (see 'vigil tasks list --dag %s')", k, err, k.DAGID)
				}
				hist, err := st.HistoryPage(ctx, k, pf.fetch(), pf.cursor)
				pg, err := pageOf(hist, err, pf, scheduler.TransitionCursor)
				if err != nil {
					return err
				}
				out := struct {
					Task        scheduler.TaskInstance `json:"task"`
					Transitions []scheduler.Transition `json:"transitions"`
					NextCursor  string                 `json:"next_cursor"`
				}{ti, pg.Items, pg.NextCursor}
				if err := a.render(out, func(w io.Writer) {
					row(w, "AT", "TRY", "FROM", "TO", "BY", "REASON")
					for _, t := range pg.Items {
						row(w, t.At.Local().Format("2006-01-02 15:04:05.000"), t.Try, orDash(string(t.From)), t.To, t.Actor, t.Reason+repeats(t))
					}
				}); err != nil {
					return err
				}
				if a.output != "json" {
					fmt.Fprintf(a.out, "\n%s is %s (try %s)\n", k, ti.State, tryOf(ti))
				}
				a.moreHint(pg.NextCursor)
				return nil
			})
		},
	}
	pf.add(c, "transitions")
	a.addOutputFlag(c)
	return c
}

// repeats says how often a collapsed record happened, and when last:
// " (×37, last 12:04:05)"; nothing for a record that happened once.
func repeats(t scheduler.Transition) string {
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

func (a *app) tasksLogsCmd() *cobra.Command {
	var try int
	c := &cobra.Command{
		Use:   "logs DAG RUN TASK",
		Short: "Print a task try's output",
		Example: `  vigil tasks logs hello latest say_hello
  vigil tasks logs retry latest flaky --try 1`,
		Args: cobra.ExactArgs(3),
		RunE: func(c *cobra.Command, args []string) error {
			return a.withStore(func(ctx context.Context, cfg config, st scheduler.Store) error {
				k, err := taskKey(ctx, st, args)
				if err != nil {
					return err
				}
				if try == 0 {
					ti, err := st.GetTaskInstance(ctx, k)
					if err != nil {
						return fmt.Errorf("task %s: %w", k, err)
					}
					if ti.Try == 0 {
						return fmt.Errorf("task %s has not run yet (state %s)", k, ti.State)
					}
					try = ti.Try
				}
				logs, err := logReader(cfg)
				if err != nil {
					return err
				}
				rc, err := logs.Logs(ctx, scheduler.TryKey{TaskKey: k, Try: try})
				if err != nil {
					return err
				}
				defer rc.Close()
				_, err = io.Copy(a.out, rc)
				return err
			})
		},
	}
	c.Flags().IntVar(&try, "try", 0, "try number (default: the latest)")
	return c
}

// logReader returns the configured executor's log reader: files for local
// tries, the pod log API for Kubernetes ones.
func logReader(cfg config) (scheduler.LogReader, error) {
	if cfg.Executor == "kubernetes" {
		return newKubeExecutor(cfg.Kube, cliInstance(), "", zap.NewNop(), nil, nil, nil)
	}
	return local.New(local.Options{Dir: filepath.Join(cfg.DataDir, "tasks")})
}

// tryOf shows an instance's try out of the tries its retries allow, and
// the evicted tries that did not count (issue 16): "2/3", "3/1 (2 evicted, not counted)".
func tryOf(ti scheduler.TaskInstance) string {
	s := fmt.Sprintf("%d/%d", ti.Try, ti.Spec.Retries+1)
	if ti.Evictions > 0 {
		s += fmt.Sprintf(" (%d evicted, not counted)", ti.Evictions)
	}
	return s
}
