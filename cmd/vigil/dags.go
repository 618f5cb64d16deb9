package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

func (a *app) dagsCmd() *cobra.Command {
	c := &cobra.Command{Use: "dags", Short: "List, validate, trigger and pause DAGs"}
	c.AddCommand(a.dagsListCmd(), a.dagsValidateCmd(), a.dagsTriggerCmd(), a.dagsBackfillCmd(), a.dagsPauseCmd(true), a.dagsPauseCmd(false))
	return c
}

type dagListItem struct {
	ID       string `json:"id"`
	File     string `json:"file"`
	Schedule string `json:"schedule"`
	// Timezone is the IANA zone of the schedule; absent for UTC.
	Timezone string `json:"timezone,omitempty"`
	Tasks    int    `json:"tasks"`
	Paused   bool   `json:"paused"`
	Missing  bool   `json:"missing"`
	// LoadError is the error of the DAG's file, when it fails to load now
	// (the DAG keeps running its last good version).
	LoadError string `json:"load_error,omitempty"`
}

type dagList struct {
	DAGs   []dagListItem         `json:"dags"`
	Errors []scheduler.LoadError `json:"errors"`
}

func (a *app) dagsListCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "list",
		Short: "List the DAGs the scheduler loaded, and the files that fail to load",
		Example: `  vigil dags list
  vigil dags list -o json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return a.withStore(func(ctx context.Context, cfg config, st scheduler.Store) error {
				recs, err := st.ListDAGs(ctx)
				if err != nil {
					return err
				}
				errs, err := st.ListLoadErrors(ctx)
				if err != nil {
					return err
				}
				presets, err := cfg.presets()
				if err != nil {
					return err
				}
				fileErr := map[string]string{}
				for _, e := range errs {
					fileErr[e.File] = e.Message
				}
				out := dagList{DAGs: []dagListItem{}, Errors: errs}
				for _, r := range recs {
					item := dagListItem{ID: r.ID, File: r.File, Tasks: len(r.Specs), Paused: r.Paused, Missing: r.Missing, LoadError: fileErr[r.File]}
					if d, err := dag.Parse(r.File, r.Source, presets); err == nil {
						item.Schedule, item.Timezone = d.Schedule, d.Timezone
					}
					out.DAGs = append(out.DAGs, item)
				}
				if out.Errors == nil {
					out.Errors = []scheduler.LoadError{}
				}
				if err := a.render(out, func(w io.Writer) {
					row(w, "DAG", "SCHEDULE", "TASKS", "STATUS", "FILE")
					for _, d := range out.DAGs {
						sched := orDash(d.Schedule)
						if d.Schedule != "" && d.Timezone != "" {
							sched += " (" + d.Timezone + ")"
						}
						row(w, d.ID, sched, d.Tasks, dagStatus(d), d.File)
					}
				}); err != nil {
					return err
				}
				if a.output != "json" && len(errs) > 0 {
					fmt.Fprintf(a.out, "\n%d DAG file(s) fail to load; their DAGs keep their last good version:\n", len(errs))
					for _, e := range errs {
						fmt.Fprintf(a.out, "\n  %s (since %s)\n    %s\n", e.File, stamp(e.Since), indent(e.Message, "    "))
					}
				}
				return nil
			})
		},
	}
	a.addOutputFlag(c)
	return c
}

func dagStatus(d dagListItem) string {
	switch {
	case d.Missing:
		return "missing (file gone)"
	case d.LoadError != "":
		return "file has errors"
	case d.Paused:
		return "paused"
	}
	return "active"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func indent(s, prefix string) string {
	out := []byte{}
	for i := 0; i < len(s); i++ {
		out = append(out, s[i])
		if s[i] == '\n' && i+1 < len(s) {
			out = append(out, prefix...)
		}
	}
	return string(out)
}

func (a *app) dagsValidateCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "validate [FILE|DIR]...",
		Short: "Check DAG files before the scheduler sees them",
		Long: `Parse and validate DAG files. Every error names the file, line and column and
says what to do. The exit status is 3 when any file has errors.`,
		Example: `  vigil dags validate                  # the configured DAG folder
  vigil dags validate dags/etl.yaml examples/dags`,
		RunE: func(c *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			presets, err := cfg.presets()
			if err != nil {
				return err
			}
			if len(args) == 0 {
				args = []string{cfg.DAGs}
			}
			var dags, bad int
			for _, p := range args {
				info, err := os.Stat(p)
				if err != nil {
					return fmt.Errorf("%s: %w", p, err)
				}
				if info.IsDir() {
					res := dag.LoadDir(p, presets)
					dags += len(res.DAGs)
					for _, fe := range res.Errors {
						bad++
						fmt.Fprintln(a.out, fe.Error())
					}
					continue
				}
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				if _, err := dag.Parse(p, data, presets); err != nil {
					bad++
					fmt.Fprintln(a.out, err)
					continue
				}
				dags++
			}
			fmt.Fprintf(a.out, "%d DAG(s) valid, %d file(s) with errors\n", dags, bad)
			if bad > 0 {
				return &problemError{fmt.Sprintf("%d file(s) with errors", bad)}
			}
			return nil
		},
	}
	return c
}

func (a *app) dagsTriggerCmd() *cobra.Command {
	var pairs []string
	var confFile string
	c := &cobra.Command{
		Use:   "trigger DAG",
		Short: "Start a run of a DAG now",
		Long: `Create a manual run of a DAG. The scheduler picks it up within its sync
interval (2s by default) and runs it like a scheduled one.

--conf KEY=VALUE (repeatable) or --conf-file (a YAML or JSON object) set the
run's params over the DAG's defaults; its tasks get them as VIGIL_PARAM_<KEY>
and, all together as JSON, VIGIL_CONF. A DAG that declares params refuses a
key it does not declare.`,
		Example: `  vigil dags trigger hello
  vigil dags trigger etl --conf region=eu-west-1 --conf limit=100
  vigil dags trigger etl --conf-file conf.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			conf, err := readConf(pairs, confFile)
			if err != nil {
				return err
			}
			return a.withStore(func(ctx context.Context, cfg config, st scheduler.Store) error {
				rec, err := st.GetDAG(ctx, args[0])
				if err != nil {
					return fmt.Errorf("dag %s: %w (see 'vigil dags list')", args[0], err)
				}
				if rec.Missing {
					return fmt.Errorf("dag %s is no longer defined by any file (%s); restore the file to run it", rec.ID, rec.File)
				}
				now := time.Now()
				actor := scheduler.Actor{Component: "cli", Instance: cliInstance()}
				run, tis, err := scheduler.NewTriggeredRun(rec, conf, actor, now)
				if err != nil {
					return err
				}
				if _, err := st.CreateRun(ctx, run, tis, "run triggered by hand ("+actor.String()+")"); err != nil {
					return err
				}
				fmt.Fprintf(a.out, "triggered %s run %s (%d tasks)\n", run.DAGID, run.RunID, len(tis))
				if len(run.Params) > 0 {
					fmt.Fprintf(a.out, "params: %s\n", run.Params.JSON())
				}
				return nil
			})
		},
	}
	c.Flags().StringArrayVar(&pairs, "conf", nil, "a param of the run, KEY=VALUE (repeatable)")
	c.Flags().StringVar(&confFile, "conf-file", "", "the run's params as a YAML or JSON object in a file")
	return c
}

func (a *app) dagsPauseCmd(pause bool) *cobra.Command {
	use, short := "pause DAG", "Stop creating scheduled runs of a DAG (running tasks finish)"
	if !pause {
		use, short = "unpause DAG", "Resume scheduled runs of a DAG"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return a.withStore(func(ctx context.Context, cfg config, st scheduler.Store) error {
				if err := st.SetDAGPaused(ctx, args[0], pause); err != nil {
					return fmt.Errorf("dag %s: %w (see 'vigil dags list')", args[0], err)
				}
				state := "paused"
				if !pause {
					state = "unpaused"
				}
				fmt.Fprintf(a.out, "%s %s\n", state, args[0])
				return nil
			})
		},
	}
}

func cliInstance() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}
