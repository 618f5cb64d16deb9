// Package hangs is `diag hangs`: only what can hang, with an exit status
// a probe or a cron job can act on.
package hangs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/cli/render"
	"github.com/vigilhq/vigil/diag/client"
	"github.com/vigilhq/vigil/diag/debugapi"
	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/diag/stacks"
	"github.com/vigilhq/vigil/internal/printer"
)

// Options are `diag hangs`'s.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory
	// Older reports calls in flight for longer than this, deadline or not.
	Older time.Duration
	// MinWait reports goroutines blocked for longer than this.
	MinWait time.Duration
	// All reports every long wait, idle workers included.
	All     bool
	Printer printer.Options
}

// Report is what -o prints.
type Report struct {
	// Calls are in-flight calls with no deadline or older than Older.
	Calls []inflight.Call `json:"calls"`
	// Goroutines are groups blocked for longer than MinWait.
	Goroutines []stacks.Group `json:"goroutines"`
	// Checked says what was looked at.
	CallsInFlight int           `json:"calls_in_flight"`
	GoroutinesAll int           `json:"goroutines_total"`
	Older         time.Duration `json:"older_ns"`
	MinWait       time.Duration `json:"min_wait_ns"`
}

// Found reports whether anything can hang.
func (r Report) Found() bool { return len(r.Calls) > 0 || len(r.Goroutines) > 0 }

// NewCmdHangs returns `diag hangs`.
func NewCmdHangs(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "hangs",
		Short: "List the calls and goroutines that can hang; exit status 1 if there are any",
		Long: `List what can hang the scheduler:

  - outbound calls in flight (HTTP, database, executor) with NO DEADLINE, or
    in flight for longer than --older;
  - goroutines blocked (network or disk I/O, channel, select, lock) for longer
    than --min-wait that do the scheduler's work: a loop in one of its phases,
    a task's submit or stop, or any goroutine waiting on the network. Idle
    workers (a loop waiting for its next turn, a server waiting for a
    connection) are left out unless --all.

Each comes with its call site and its labels (loop, phase, dag, task).
Wait times are exact for registered calls and a lower bound otherwise (the
scheduler has seen the goroutine in that state since at least then).

Exit status 0 when nothing is found, 1 when something is.`,
		Args:    cmdutil.NoArgs,
		Example: "  diag hangs\n  diag hangs --older 10s --min-wait 30s\n  diag hangs -o json | jq '.calls[].site'",
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
	cmd.Flags().DurationVar(&opts.Older, "older", 30*time.Second, "report calls in flight longer than this, even with a deadline")
	cmd.Flags().DurationVar(&opts.MinWait, "min-wait", time.Minute, "report goroutines blocked longer than this")
	cmd.Flags().BoolVar(&opts.All, "all", false, "report every long wait, idle workers included")
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
	rep, err := Collect(ctx, c, opts.Older, opts.MinWait, opts.All)
	if err != nil {
		return err
	}
	err = opts.Printer.PrintWith(opts.IO.Out, rep, func() error { return write(opts, rep) })
	if err != nil {
		return err
	}
	if rep.Found() {
		return &cmdutil.FoundError{}
	}
	return nil
}

// Collect asks the scheduler for its calls and goroutines and keeps what
// can hang. attach shows the same.
func Collect(ctx context.Context, c *client.Client, older, minWait time.Duration, all bool) (Report, error) {
	rep := Report{Calls: []inflight.Call{}, Goroutines: []stacks.Group{}, Older: older, MinWait: minWait}
	var calls []inflight.Call
	var snap *debugapi.Snapshot
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { calls, err = c.Inflight(gctx, client.InflightFilter{}); return err })
	g.Go(func() (err error) { snap, err = c.Stacks(gctx, client.StacksFilter{MinWait: minWait}); return err })
	if err := g.Wait(); err != nil {
		return rep, err
	}
	rep.CallsInFlight = len(calls)
	for _, call := range calls {
		if call.NoDeadline() || call.Age >= older {
			rep.Calls = append(rep.Calls, call)
		}
	}
	rep.GoroutinesAll = snap.Goroutines
	for _, grp := range snap.Groups {
		if grp.Wait.Longest() >= minWait && Blocking(grp.State) && (all || Working(grp)) {
			rep.Goroutines = append(rep.Goroutines, grp)
		}
	}
	return rep, nil
}

// Blocking reports whether a goroutine in state waits on something
// outside itself (not running, not asleep on purpose).
func Blocking(state string) bool {
	switch {
	case state == "IO wait", state == "syscall", state == "semacquire", state == "waiting",
		strings.HasPrefix(state, "chan "), strings.HasPrefix(state, "select"),
		strings.HasPrefix(state, "sync."):
		return true
	}
	return false
}

// idleFrames are functions in whose wait a goroutine is idle by design.
var idleFrames = []string{
	"net.(*TCPListener).Accept", "net.(*UnixListener).Accept", "net/http.(*Server).Serve",
	"net/http.(*persistConn).readLoop", "net/http.(*persistConn).writeLoop",
	"net/http.(*conn).serve", "net/http.(*http2serverConn).serve", "golang.org/x/net/http2.(*serverConn).serve",
	"os/signal.signal_recv", "os/signal.loop",
}

// Working reports whether a group does the scheduler's work, so a long
// wait in it is worth a look: a loop inside a phase (labels loop and
// phase), a task's goroutine (label task), or a wait on the network that
// is not a server or connection pool idling.
func Working(g stacks.Group) bool {
	if g.Labels["phase"] != "" || g.Labels["task"] != "" {
		return true
	}
	if g.State != "IO wait" {
		return false
	}
	for _, f := range g.Stack {
		for _, idle := range idleFrames {
			if f.Func == idle {
				return false
			}
		}
	}
	return true
}

func write(opts *Options, rep Report) error {
	out := opts.IO.Out
	if !rep.Found() {
		fmt.Fprintf(out, "Nothing can hang: %d calls in flight, none without a deadline or older than %s; no working goroutine (of %d) blocked longer than %s.\n",
			rep.CallsInFlight, cmdutil.Age(rep.Older), rep.GoroutinesAll, cmdutil.Age(rep.MinWait))
		return nil
	}
	if len(rep.Calls) > 0 {
		fmt.Fprintf(out, "CALLS THAT CAN HANG (%d of %d in flight: no deadline, or older than %s)\n", len(rep.Calls), rep.CallsInFlight, cmdutil.Age(rep.Older))
		if err := render.Calls(out, rep.Calls); err != nil {
			return err
		}
		fmt.Fprintln(out)
	}
	if len(rep.Goroutines) > 0 {
		n := 0
		for _, g := range rep.Goroutines {
			n += g.Count
		}
		fmt.Fprintf(out, "GOROUTINES BLOCKED LONGER THAN %s (%d in %d groups)\n", cmdutil.Age(rep.MinWait), n, len(rep.Goroutines))
		if err := render.Groups(out, rep.Goroutines, 0); err != nil {
			return err
		}
	}
	return nil
}
