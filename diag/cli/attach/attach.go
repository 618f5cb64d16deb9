// Package attach is `diag attach`: one screen that says what the scheduler
// is doing and what, if anything, it is stuck on.
package attach

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/vigilhq/vigil/diag/bundle"
	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/client"
	"github.com/vigilhq/vigil/diag/debugapi"
	"github.com/vigilhq/vigil/diag/debugserver"
	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/diag/watchdog"
	"github.com/vigilhq/vigil/diag/wiretrace"
	"github.com/vigilhq/vigil/internal/printer"
)

// Options are `diag attach`'s.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory
	Watch   bool
	// Interval is the refresh period of --watch.
	Interval time.Duration
	// Groups is how many goroutine groups to show.
	Groups  int
	Printer printer.Options
}

// Screen is everything attach shows; -o prints it.
type Screen struct {
	Target     string                 `json:"target"`
	Taken      time.Time              `json:"taken,omitzero"`
	Info       *debugserver.Info      `json:"info,omitempty"`
	Health     *watchdog.HealthReport `json:"health,omitempty"`
	Calls      []inflight.Call        `json:"calls"`
	Goroutines *debugapi.Snapshot     `json:"goroutines,omitempty"`
	WireErrors []wiretrace.Exchange   `json:"wire_errors"`
	WireMode   string                 `json:"wire_mode,omitempty"`
	LastBundle *bundle.Info           `json:"last_bundle,omitempty"`
	// Findings names the stale heartbeats and what their loops are
	// blocked in, as the watchdog's bundles do.
	Findings string `json:"findings,omitempty"`
	// Missing are the parts the scheduler could not give, and why.
	Missing map[string]string `json:"missing,omitempty"`
}

// NewCmdAttach returns `diag attach`.
func NewCmdAttach(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "attach",
		Short: "One screen: heartbeats, calls in flight, goroutines, wire errors, last bundle",
		Long: `Show on one screen what the scheduler is doing:

  - its build, process and uptime;
  - every heartbeat with its age and period, STALE when it is late;
  - the outbound calls in flight, oldest first, NO DEADLINE marked;
  - the largest goroutine groups with their labels and wait times;
  - recent failed HTTP exchanges from the wire trace;
  - the last diagnostic bundle.

When a heartbeat is stale, the first line says which call its loop is
blocked in. Nothing here stops the scheduler for more than a fraction of a
millisecond. --watch redraws every --interval on a terminal, fitted to its
size (long names cut with "…", the stale line and heartbeats always shown),
and prints one full screen after another when piped; with -o json, one JSON
document per line.`,
		Args: cmdutil.NoArgs,
		Example: `  diag attach
  kubectl exec deploy/vigil-scheduler -n vigil -- diag attach
  diag attach --pod deploy/vigil-scheduler -n vigil
  diag attach --watch --interval 5s
  diag attach -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.Printer.Validate(); err != nil {
				return err
			}
			if opts.Interval <= 0 {
				return cmdutil.Usagef("--interval must be positive")
			}
			if runF != nil {
				return runF(opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Watch, "watch", "w", false, "refresh until interrupted")
	cmd.Flags().DurationVar(&opts.Interval, "interval", 2*time.Second, "refresh period with --watch")
	cmd.Flags().IntVar(&opts.Groups, "groups", 8, "how many goroutine groups to show")
	opts.Printer.AddFlags(cmd.Flags())
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	c, err := func() (*client.Client, error) {
		cctx, cancel := opts.Factory.Context(ctx, 0)
		defer cancel()
		return opts.Factory.Client(cctx)
	}()
	if err != nil {
		return err
	}
	defer c.Close()
	for first := true; ; first = false {
		scr, err := Collect(ctx, opts.Factory, c)
		if err != nil {
			if !first && errors.Is(ctx.Err(), context.Canceled) {
				return nil
			}
			return err
		}
		po := opts.Printer
		human := func() error { return Write(opts.IO.Out, scr, opts.Groups) }
		switch {
		case !opts.Watch:
		case !po.Human():
			// One document per refresh: a JSON line, a YAML document.
			po = po.Stream()
		case opts.IO.IsStdoutTTY():
			// Redrawn in place: the screen must fit the terminal, or
			// its top (the stale line) scrolls away.
			fmt.Fprint(opts.IO.Out, "\033[H\033[2J") // home and clear
			human = func() error { return WriteFit(opts.IO.Out, scr, opts.Groups, opts.IO.Width(), opts.IO.Height()) }
		case !first:
			fmt.Fprintln(opts.IO.Out, "---")
		}
		if err := po.PrintWith(opts.IO.Out, scr, human); err != nil {
			return err
		}
		if !opts.Watch {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(opts.Interval):
		}
	}
}

// Collect fetches every part of the screen at once. A part the scheduler
// cannot give (an endpoint it lacks, a source it has not configured) is
// listed in Missing; only failing to reach the scheduler at all is an
// error.
func Collect(ctx context.Context, f *cmdutil.Factory, c *client.Client) (*Screen, error) {
	ctx, cancel := f.Context(ctx, 0)
	defer cancel()
	scr := &Screen{Target: c.Where(), Taken: f.Now(), Calls: []inflight.Call{}, WireErrors: []wiretrace.Exchange{}, Missing: map[string]string{}}
	type part struct {
		name string
		err  error
	}
	parts := make(chan part, 6)
	var g errgroup.Group
	do := func(name string, fn func() error) {
		g.Go(func() error { parts <- part{name, fn()}; return nil })
	}
	do("info", func() error {
		info, err := c.Info(ctx)
		scr.Info = &info
		return err
	})
	do("heartbeats", func() error {
		rep, err := c.Heartbeats(ctx)
		scr.Health = &rep
		return err
	})
	do("inflight", func() (err error) { scr.Calls, err = c.Inflight(ctx, client.InflightFilter{}); return err })
	do("stacks", func() (err error) { scr.Goroutines, err = c.Stacks(ctx, client.StacksFilter{}); return err })
	do("wiretrace", func() error {
		resp, err := c.WireEntries(ctx, 0, 0, 0)
		if err != nil {
			return err
		}
		scr.WireMode = resp.Mode.String()
		for _, e := range resp.Entries {
			if e.Err != "" || e.Status >= 400 {
				scr.WireErrors = append(scr.WireErrors, e)
			}
		}
		if n := len(scr.WireErrors); n > 5 {
			scr.WireErrors = scr.WireErrors[n-5:]
		}
		return nil
	})
	do("bundles", func() error {
		list, err := c.Bundles(ctx)
		if err == nil && len(list) > 0 {
			scr.LastBundle = &list[0]
		}
		return err
	})
	_ = g.Wait()
	close(parts)
	var firstErr error
	reached := false
	for p := range parts {
		var api *client.APIError
		switch {
		case p.err == nil:
			reached = true
		case errors.As(p.err, &api):
			reached = true
			scr.Missing[p.name] = api.Message
		default:
			scr.Missing[p.name] = p.err.Error()
			if firstErr == nil {
				firstErr = p.err
			}
		}
	}
	if !reached {
		return nil, firstErr
	}
	if scr.Health != nil && scr.Health.Status == "" {
		scr.Health = nil
	}
	if scr.Info != nil && scr.Info.PID == 0 {
		scr.Info = nil
	}
	if scr.Health != nil {
		scr.Findings = bundle.Findings(scr.Health.Heartbeats, scr.Calls)
	}
	if len(scr.Missing) == 0 {
		scr.Missing = nil
	}
	return scr, nil
}

// Write renders the screen for a human.
func Write(w io.Writer, scr *Screen, groups int) error {
	writeHeader(w, scr)
	section(w, "HEARTBEATS")
	if scr.Health == nil {
		missing(w, scr, "heartbeats")
	} else if err := writeHeartbeats(w, scr.Health.Heartbeats); err != nil {
		return err
	}
	section(w, fmt.Sprintf("CALLS IN FLIGHT (%d, oldest first)", len(scr.Calls)))
	if err := writeCalls(w, scr); err != nil {
		return err
	}
	if err := writeGoroutines(w, scr, groups); err != nil {
		return err
	}
	section(w, fmt.Sprintf("RECENT WIRE ERRORS (trace mode %s)", orDash(scr.WireMode)))
	if err := writeWireErrors(w, scr); err != nil {
		return err
	}
	section(w, "LAST BUNDLE")
	writeBundle(w, scr)
	return nil
}
