// Command vigil is the Vigil scheduler daemon (`vigil run`, `vigil db`)
// and its admin commands (`vigil dags`, `vigil runs`, `vigil tasks`,
// `vigil pools`, `vigil ops`, `vigil status`, `vigil config`), which are
// clients of the daemon's operations API, one folder per verb under cli/.
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

	"github.com/vigilhq/vigil/cmd/vigil/cli/clicfg"
	"github.com/vigilhq/vigil/cmd/vigil/cli/cmdutil"
	"github.com/vigilhq/vigil/cmd/vigil/cli/dags"
	"github.com/vigilhq/vigil/cmd/vigil/cli/ops"
	"github.com/vigilhq/vigil/cmd/vigil/cli/pools"
	"github.com/vigilhq/vigil/cmd/vigil/cli/runs"
	"github.com/vigilhq/vigil/cmd/vigil/cli/status"
	"github.com/vigilhq/vigil/cmd/vigil/cli/tasks"
	"github.com/vigilhq/vigil/cmd/vigil/cli/version"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/redact"
	"github.com/vigilhq/vigil/internal/exitcode"
	"github.com/vigilhq/vigil/scheduler"

	// DAG time zones must load in an image with no zoneinfo files.
	_ "time/tzdata"
)

// problemError is a finding the daemon's own commands (dags validate)
// report through the exit status 1 (they have printed the details).
type problemError struct{ msg string }

func (e *problemError) Error() string { return e.msg }

// usageError is a mistake in the daemon's own commands' flags (exit 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// statusOf maps any command's error to the exit status: the daemon's own
// types here, the admin commands' in cmdutil (one table, package exitcode).
func statusOf(err error) int {
	var problem *problemError
	var usage *usageError
	switch {
	case errors.As(err, &problem):
		return exitcode.Found
	case errors.As(err, &usage):
		return exitcode.Usage
	}
	return cmdutil.ExitCode(err)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	ios := &iostreams.IOStreams{In: os.Stdin, Out: stdout, ErrOut: stderr}
	return runWith(ctx, args, ios, os.Getenv)
}

// runWith runs vigil with args on ios and the environment getenv, and
// returns the exit status: the one place errors are shown and mapped to
// codes.
func runWith(ctx context.Context, args []string, ios *iostreams.IOStreams, getenv func(string) string) int {
	a := &app{ctx: ctx, out: ios.Out, errOut: ios.ErrOut}
	f := &cmdutil.Factory{IOStreams: ios, Now: time.Now, Getenv: getenv, Server: &cmdutil.ServerFlags{}}
	root := a.rootCmd(f)
	root.SetArgs(args)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitcode.OK
	}
	var found *cmdutil.FoundError
	var problem *problemError
	if !errors.As(err, &problem) && (!errors.As(err, &found) || found.Msg != "") {
		// An error may quote the --db URL it could not use, password
		// included. (A token never appears in one: the client does not
		// quote it and token files are named, not read out.)
		fmt.Fprintf(ios.ErrOut, "vigil: %s\n", redact.Text(err.Error()))
	}
	code := statusOf(err)
	if code == exitcode.Usage {
		fmt.Fprintf(ios.ErrOut, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}

// app holds what the daemon's own commands share: output streams and
// global flags.
type app struct {
	ctx        context.Context
	out        io.Writer
	errOut     io.Writer
	configPath string
	db         string
}

func (a *app) rootCmd(f *cmdutil.Factory) *cobra.Command {
	root := &cobra.Command{
		Use:           "vigil",
		Short:         "Vigil: a workflow scheduler built to be debugged in production",
		SilenceUsage:  true,
		SilenceErrors: true,
		Long: `Vigil runs DAGs of tasks on a schedule, records why every task is in the
state it is in, and never waits on anything without a deadline.

Start the scheduler with 'vigil run'; inspect and steer it with the other
commands, which talk to its operations API: with no flags, to the 'vigil run'
on this machine; elsewhere with --server and --token-file, or a context
('vigil config set-context'). Only 'vigil run' and 'vigil db' open the
database.`,
		Example: `  vigil run --dags examples/dags
  vigil dags list
  vigil dags trigger hello
  vigil tasks list --dag hello
  vigil tasks history hello latest greet
  vigil status --server https://vigil.internal:8975 --token-file ~/.config/vigil/prod.token`,
	}
	root.SetHelpTemplate(root.HelpTemplate() + "\n" + exitcode.Help + "\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &usageError{err} })
	// --config and --db only where the daemon's config is read: the admin
	// commands take none of it (they reach the API, see cmdutil).
	const configHelp = "config file (YAML); $VIGIL_CONFIG if unset"
	dbHelp := `database: a SQLite file path (default "vigil.db", or the config file's db), or PostgreSQL: postgres://USER:PASSWORD@HOST:PORT/DB or "host=HOST dbname=DB"`
	runCmd, dbCmd, validateCmd := a.runCmd(), a.dbCmd(), a.dagsValidateCmd()
	runCmd.Flags().StringVar(&a.configPath, "config", "", configHelp)
	runCmd.Flags().StringVar(&a.db, "db", "", dbHelp)
	dbCmd.PersistentFlags().StringVar(&a.configPath, "config", "", configHelp)
	dbCmd.PersistentFlags().StringVar(&a.db, "db", "", dbHelp)
	validateCmd.Flags().StringVar(&a.configPath, "config", "", configHelp+" (for its presets)")
	dagsCmd := dags.NewCmdDags(f)
	dagsCmd.AddCommand(validateCmd)
	root.AddCommand(runCmd, dagsCmd, runs.NewCmdRuns(f), tasks.NewCmdTasks(f), pools.NewCmdPools(f),
		status.NewCmdStatus(f, nil), ops.NewCmdOps(f), clicfg.NewCmdConfig(f), dbCmd, version.NewCmdVersion(f, nil))
	cmdutil.RefuseUnknownSubcommands(root)
	return root
}

// loadConfig reads the config file, applies the global --db and the
// command's flags (nil: it has none of the config's), and checks the
// values.
func (a *app) loadConfig(flags *overrides) (config, error) {
	cfg, err := loadConfig(a.configPath)
	if err != nil {
		return cfg, err
	}
	if a.db != "" {
		cfg.DB = a.db
	}
	var changed func(string) bool
	if flags != nil {
		flags.apply(&cfg)
		changed = flags.fs.Changed
	}
	return cfg, cfg.validate(changed)
}

// openStore opens the configured store for an admin command.
func (a *app) openStore(cfg config) (scheduler.Store, error) {
	ctx, cancel := context.WithTimeout(a.ctx, 15*time.Second)
	defer cancel()
	return openStore(ctx, cfg.DB, storeOptions{})
}

// withLongStore opens the configured store for `vigil db clean`: f
// bounds each of its own calls.
func (a *app) withLongStore(f func(cfg config, st scheduler.Store) error) error {
	cfg, err := a.loadConfig(nil)
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
