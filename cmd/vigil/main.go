// Command vigil is the Vigil scheduler daemon (`vigil run`) and its admin
// commands (`vigil dags`, `vigil runs`, `vigil tasks`, `vigil status`).
// This package is wiring only: the scheduler lives in package scheduler,
// the store and executors in their own packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/diag/redact"
	"github.com/vigilhq/vigil/scheduler"

	// DAG time zones must load in an image with no zoneinfo files.
	_ "time/tzdata"
)

// Exit codes. Only main decides how an error is shown and which code it
// gets.
const (
	exitOK      = 0
	exitError   = 1
	exitUsage   = 2
	exitProblem = 3 // the command ran and found a problem: stale heartbeat, invalid DAG
)

// problemError is a finding the command reports through its exit status
// (it has already printed the details).
type problemError struct{ msg string }

func (e *problemError) Error() string { return e.msg }

type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{ctx: ctx, out: stdout, errOut: stderr}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var problem *problemError
	var usage *usageError
	switch {
	case errors.As(err, &problem):
		return exitProblem
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "vigil: %s\n", redact.Text(err.Error()))
		return exitUsage
	}
	// An error may quote the --db URL it could not use, password included.
	fmt.Fprintf(stderr, "vigil: %s\n", redact.Text(err.Error()))
	return exitError
}

// app holds what every command shares: output streams and global flags.
type app struct {
	ctx        context.Context
	out        io.Writer
	errOut     io.Writer
	configPath string
	db         string
	output     string
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "vigil",
		Short:         "Vigil: a workflow scheduler built to be debugged in production",
		SilenceUsage:  true,
		SilenceErrors: true,
		Long: `Vigil runs DAGs of tasks on a schedule, records why every task is in the
state it is in, and never waits on anything without a deadline.

Start the scheduler with 'vigil run'; inspect and steer it with the other
commands, which read the same database.`,
		Example: `  vigil run --dags examples/dags
  vigil dags list
  vigil dags trigger hello
  vigil tasks list --dag hello
  vigil tasks history hello latest say_hello
  vigil status`,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&a.configPath, "config", "", "config file (YAML); $VIGIL_CONFIG if unset")
	pf.StringVar(&a.db, "db", "", `database: a SQLite file path (default "vigil.db", or the config file's db), or PostgreSQL: postgres://USER:PASSWORD@HOST:PORT/DB or "host=HOST dbname=DB"`)
	root.AddCommand(a.runCmd(), a.dagsCmd(), a.runsCmd(), a.tasksCmd(), a.poolsCmd(), a.statusCmd(), a.dbCmd(), a.opsCmd())
	return root
}

// addOutputFlag adds -o to a read command.
func (a *app) addOutputFlag(c *cobra.Command) {
	c.Flags().StringVarP(&a.output, "output", "o", "table", "output format: table or json")
}

// loadConfig reads the config file and applies the global --db.
func (a *app) loadConfig() (config, error) {
	cfg, err := loadConfig(a.configPath)
	if err != nil {
		return cfg, err
	}
	if a.db != "" {
		cfg.DB = a.db
	}
	return cfg, nil
}

// openStore opens the configured store for an admin command.
func (a *app) openStore(cfg config) (scheduler.Store, error) {
	ctx, cancel := context.WithTimeout(a.ctx, 15*time.Second)
	defer cancel()
	return openStore(ctx, cfg.DB, storeOptions{})
}

// adminTimeout bounds an admin command's store work (withStore), or the
// set-up of one that waits longer (operate, backfill).
const adminTimeout = 15 * time.Second

// withStore runs one admin command's work on the configured store, with a
// deadline on the whole of it.
func (a *app) withStore(f func(ctx context.Context, cfg config, st scheduler.Store) error) error {
	return a.withLongStore(func(cfg config, st scheduler.Store) error {
		ctx, cancel := context.WithTimeout(a.ctx, adminTimeout)
		defer cancel()
		return f(ctx, cfg, st)
	})
}

// withLongStore opens the configured store for a command that waits on
// what a scheduler does (an operation, a backfill): f bounds each of its
// own calls.
func (a *app) withLongStore(f func(cfg config, st scheduler.Store) error) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	st, err := a.openStore(cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	return f(cfg, st)
}
