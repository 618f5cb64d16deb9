package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.uber.org/zap"
	"go.yaml.in/yaml/v3"
	"golang.org/x/sync/errgroup"

	"github.com/vigilhq/vigil/executor/local"
	"github.com/vigilhq/vigil/scheduler"
)

// cleanBatchTimeout bounds each batch of `vigil db clean` and of the
// automatic retention: one short transaction, never a long hold on the
// database.
const cleanBatchTimeout = 30 * time.Second

// countTimeout bounds the dry run's count, which reads every row it
// counts.
const countTimeout = 5 * time.Minute

func (a *app) dbCleanCmd() *cobra.Command {
	var (
		olderThan ageValue
		dryRun    bool
		batch     int
		dataDir   string
	)
	c := &cobra.Command{
		Use:   "clean --older-than AGE",
		Short: "Delete runs that ended long ago, with their tasks, history, operations and logs",
		Long: `Delete the runs that ended (success, failed, cancelled) more than AGE ago,
together with their task instances, their transition history, their
operations, and their try folders and logs in the local executor's data
folder. It deletes in batches, oldest first, each batch one short
transaction, so a running scheduler is never held up; run it while the
scheduler runs.

Never deleted, whatever their age: a running run (one reopened by a clear
included), a run with an operation still to apply, and the latest scheduled
run of each DAG (the scheduler's record of the ticks it covered).

--dry-run counts what would go and deletes nothing. AGE is a duration:
30d, 12h, 90m, 1d12h. 'vigil run --retention AGE' does the same on its own.`,
		Example: `  vigil db clean --older-than 30d --dry-run
  vigil db clean --older-than 30d
  vigil db clean --older-than 90d --batch 500 --db postgres://vigil@db.internal/vigil`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if olderThan == 0 {
				return &usageError{errors.New("--older-than is required: say how old a run must be to go (30d, 12h, 90m)")}
			}
			if batch <= 0 {
				return &usageError{fmt.Errorf("--batch %d: must be at least 1", batch)}
			}
			return a.withLongStore(func(cfg config, st scheduler.Store) error {
				ps, ok := st.(scheduler.PurgeStore)
				if !ok {
					return fmt.Errorf("the %T store cannot delete runs", st)
				}
				if c.Flags().Changed("data-dir") {
					cfg.DataDir = dataDir
				}
				out := c.OutOrStdout()
				before := time.Now().Add(-time.Duration(olderThan))
				fmt.Fprintf(out, "runs that ended before %s (older than %s)\n", before.UTC().Format(time.RFC3339), olderThan.String())
				if dryRun {
					ctx, cancel := context.WithTimeout(a.ctx, countTimeout)
					defer cancel()
					n, err := ps.CountPurge(ctx, before)
					if err != nil {
						return err
					}
					fmt.Fprintf(out, "would delete: %s (dry run: nothing deleted)\n", n)
					return nil
				}
				remove := runFolders(cfg, st.ID())
				var total scheduler.PurgeCount
				var folderErrs int
				lim := scheduler.PurgeLimit{Runs: batch, Instances: scheduler.DefaultPurgeLimit.Instances}
				for i := 1; ; i++ {
					runs, n, errs, err := scheduler.PurgeBatch(a.ctx, ps, before, lim, cleanBatchTimeout, remove)
					if err != nil {
						fmt.Fprintf(out, "total deleted before the error: %s\n", total)
						return err
					}
					for _, e := range errs {
						fmt.Fprintf(c.ErrOrStderr(), "warning: %v\n", e)
					}
					folderErrs += len(errs)
					if len(runs) == 0 {
						break
					}
					total = total.Add(n)
					fmt.Fprintf(out, "batch %d: deleted %s\n", i, n)
					if !lim.Full(n) {
						break
					}
					if err := a.ctx.Err(); err != nil {
						fmt.Fprintf(out, "total deleted: %s (interrupted)\n", total)
						return err
					}
				}
				fmt.Fprintf(out, "total deleted: %s\n", total)
				if folderErrs > 0 {
					return fmt.Errorf("%d runs were deleted but their folders could not all be removed (see the warnings above)", folderErrs)
				}
				return nil
			})
		},
	}
	f := c.Flags()
	f.Var(&olderThan, "older-than", "delete the runs that ended longer ago than this: 30d, 12h, 90m")
	f.BoolVar(&dryRun, "dry-run", false, "count what would be deleted; delete nothing")
	f.IntVar(&batch, "batch", scheduler.DefaultPurgeLimit.Runs, fmt.Sprintf("most runs deleted per transaction (and no more once they hold %d task instances)", scheduler.DefaultPurgeLimit.Instances))
	f.StringVar(&dataDir, "data-dir", "", "the scheduler's data folder, whose deleted runs' try folders go too (default: the config file's data_dir, or ./vigil-data)")
	return c
}

// runFolders removes a deleted run's try folders and logs: from the
// local executor's data folder, and its links from the machine's try
// registry when the store is shared (see tryRegistry).
func runFolders(cfg config, storeID string) scheduler.RunFolders {
	dirs := []string{filepath.Join(cfg.DataDir, "tasks")}
	if reg := tryRegistry(cfg, storeID); reg != "" {
		dirs = append(dirs, reg)
	}
	return func(r scheduler.RunRef) error {
		var errs []error
		for _, d := range dirs {
			errs = append(errs, local.RemoveRun(d, r.DAGID, r.RunID))
		}
		return errors.Join(errs...)
	}
}

// ageValue is a retention age: a flag and a config value that take days
// (30d) as well as Go durations (12h, 90m).
type ageValue time.Duration

var _ pflag.Value = (*ageValue)(nil)

func (v ageValue) String() string {
	d := time.Duration(v)
	if d == 0 {
		return ""
	}
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

func (v *ageValue) Set(s string) error {
	d, err := scheduler.ParseAge(s)
	if err != nil {
		return err
	}
	*v = ageValue(d)
	return nil
}

func (v *ageValue) Type() string { return "age" }

// UnmarshalYAML reads an age from the config file; 0 or "" is off.
func (v *ageValue) UnmarshalYAML(n *yaml.Node) error {
	s := n.Value
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: retention: want an age such as 30d, 12h or 90m", n.Line)
	}
	if s == "" || s == "0" || s == "off" {
		*v = 0
		return nil
	}
	if err := v.Set(s); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}

// runWithRetention runs the scheduler (run) and, when cfg.Retention is
// set, the retention worker beside it on a goroutine of its own, until
// ctx ends.
func runWithRetention(ctx context.Context, cfg config, store scheduler.Store, log *zap.Logger, run func(context.Context) error) error {
	ps, ok := store.(scheduler.PurgeStore)
	if cfg.Retention == 0 || !ok {
		return run(ctx)
	}
	var folders scheduler.RunFolders
	if cfg.Executor == "local" {
		folders = runFolders(cfg, store.ID())
	}
	ret, err := scheduler.NewRetention(scheduler.RetentionOptions{
		Store: ps, Age: time.Duration(cfg.Retention), CallTimeout: cleanBatchTimeout,
		Folders: folders, Logger: log.Named("retention"),
	})
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return ret.Run(gctx) })
	g.Go(func() error { return run(gctx) })
	return g.Wait()
}
