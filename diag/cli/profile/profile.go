// Package profile is `diag profile`: take one of the runtime's profiles or
// an execution trace from a running scheduler, save it where `go tool
// pprof` and `go tool trace` read it, and show its top entries, or serve
// google/pprof's web UI (flame graph) on it.
package profile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/client"
	"github.com/vigilhq/vigil/diag/debugserver"
	"github.com/vigilhq/vigil/internal/printer"
)

// Kinds are the profiles `diag profile` takes, in the order help lists
// them; client.Profile maps each to its endpoint.
var Kinds = []string{"cpu", "heap", "allocs", "wall", "mutex", "block", "goroutine", "threadcreate", "trace", "flightrecorder"}

// Options are `diag profile`'s.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory
	Kind    string
	// Seconds is the capture's length for cpu, wall and trace, and asks
	// for a delta profile over that time for heap, allocs, mutex and
	// block; negative means the kind's default (DefaultSeconds).
	Seconds int
	// File is where to save; a folder, or empty for the current folder,
	// gets the default name (FileName).
	File string
	// Top is how many entries of a pprof profile to print; 0 for none.
	Top int
	// Web serves the pprof web UI on the profile until interrupted.
	Web     bool
	Printer printer.Options
}

// Result is what -o prints.
type Result struct {
	Kind    string `json:"kind"`
	File    string `json:"file"`
	Bytes   int64  `json:"bytes"`
	Seconds int    `json:"seconds,omitempty"`
}

// NewCmdProfile returns `diag profile`.
func NewCmdProfile(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "profile {" + strings.Join(Kinds, "|") + "}",
		Short: "Save a CPU, heap, wall-clock... profile or an execution trace, and show its top entries",
		Long: `Take a profile from the running scheduler, save it to a file that the standard
tools read, and print its top entries (through google/pprof, as
'go tool pprof -top' does).

  cpu             CPU time, over --seconds (default 10)
  wall            wall-clock time, on-CPU and off-CPU (waiting), over --seconds (default 10)
  heap            live memory; with --seconds N, what changed over N seconds
  allocs          memory allocated since start; with --seconds N, over N seconds
  mutex, block    lock contention and blocking; with --seconds N, over N seconds
                  (empty unless the scheduler samples them)
  goroutine       every goroutine's stack (see also 'diag stacks')
  threadcreate    stacks that created OS threads
  trace           execution trace over --seconds (default 5), for 'go tool trace'
  flightrecorder  the flight recorder's last window: what happened just before now

The file is named like vigil-cpu-20261123-153012.pprof (.trace for traces)
in the current folder unless --file says otherwise, and is readable only by
you (mode 0600): profiles show the scheduler's code paths and data.

A timed capture counts down on a terminal. Ctrl-C stops it and removes the
partial file.

--web serves google/pprof's web UI (flame graph, call graph, source) on the
profile at a local address (127.0.0.1 only) until Ctrl-C.`,
		Example: `  diag profile cpu
  diag profile cpu --seconds 30 --file /tmp/cpu.pprof
  diag profile wall --web
  diag profile heap --top 20
  diag profile allocs --seconds 30     # what allocated over 30 seconds
  diag profile trace --seconds 2 && go tool trace vigil-trace-*.trace
  diag profile flightrecorder          # right after a stall
  diag --pod deploy/vigil-scheduler -n vigil profile cpu`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cmdutil.Usagef("name one profile: %s", strings.Join(Kinds, ", "))
			}
			return nil
		},
		ValidArgs: Kinds,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Kind = args[0]
			if !cmd.Flags().Changed("seconds") {
				opts.Seconds = -1 // the kind's default
			}
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	cmd.Flags().IntVar(&opts.Seconds, "seconds", 0, "length of a cpu, wall or trace capture (default 10, 10, 5); for heap, allocs, mutex, block: a delta over N seconds")
	cmd.Flags().StringVarP(&opts.File, "file", "f", "", "save to this file or folder (default: vigil-KIND-DATE-TIME.pprof here)")
	cmd.Flags().IntVar(&opts.Top, "top", 10, "print the top N entries of a pprof profile; 0 for none")
	cmd.Flags().BoolVar(&opts.Web, "web", false, "serve the pprof web UI (flame graph) on 127.0.0.1 until Ctrl-C")
	opts.Printer.AddFlags(cmd.Flags())
	return cmd
}

// validate checks the options and fills in the kind's default seconds.
func (o *Options) validate() error {
	if err := o.Printer.Validate(); err != nil {
		return err
	}
	if !slices.Contains(Kinds, o.Kind) {
		return cmdutil.Usagef("unknown profile %q: choose one of %s", o.Kind, strings.Join(Kinds, ", "))
	}
	if o.Seconds < 0 {
		o.Seconds = DefaultSeconds(o.Kind)
	}
	switch o.Kind {
	case "cpu", "wall", "trace":
		if o.Seconds == 0 {
			return cmdutil.Usagef("profile %s is taken over time: give --seconds N with N > 0", o.Kind)
		}
	case "goroutine", "threadcreate", "flightrecorder":
		if o.Seconds > 0 {
			return cmdutil.Usagef("profile %s is a snapshot: --seconds does not apply", o.Kind)
		}
	}
	if max := int(debugserver.MaxDuration / time.Second); o.Seconds > max {
		return cmdutil.Usagef("--seconds %d: the scheduler takes at most %d", o.Seconds, max)
	}
	if o.Top < 0 {
		return cmdutil.Usagef("--top %d: want 0 (no table) or more", o.Top)
	}
	if o.Web && IsTrace(o.Kind) {
		return cmdutil.Usagef("--web serves pprof profiles; open an execution trace with 'go tool trace FILE'")
	}
	if o.Web && !o.Printer.Human() {
		return cmdutil.Usagef("--web and -o do not go together: -o is for scripts, --web runs until Ctrl-C")
	}
	return nil
}

// DefaultSeconds is a kind's capture length when --seconds is not given.
func DefaultSeconds(kind string) int {
	switch kind {
	case "cpu", "wall":
		return 10
	case "trace":
		return 5
	}
	return 0
}

// IsTrace reports whether kind is an execution trace rather than a pprof
// profile.
func IsTrace(kind string) bool { return kind == "trace" || kind == "flightrecorder" }

// FileName is the default name of a saved profile:
// vigil-cpu-20261123-153012.pprof, or .trace for an execution trace.
func FileName(kind string, now time.Time) string {
	ext := ".pprof"
	if IsTrace(kind) {
		ext = ".trace"
	}
	return "vigil-" + kind + "-" + now.Format("20060102-150405") + ext
}

func run(ctx context.Context, opts *Options) error {
	path := cmdutil.OutputPath(opts.File, FileName(opts.Kind, opts.Factory.Now()))
	n, err := save(ctx, opts, path)
	if err != nil {
		return err
	}
	res := Result{Kind: opts.Kind, File: path, Bytes: n, Seconds: opts.Seconds}
	if !opts.Printer.Human() {
		return opts.Printer.PrintWith(opts.IO.Out, res, nil)
	}
	out := opts.IO.Out
	fmt.Fprintf(out, "Saved %s to %s (%s)\n", describe(opts.Kind, opts.Seconds), path, cmdutil.Bytes(n))
	switch {
	case IsTrace(opts.Kind):
		fmt.Fprintf(out, "Open it with: go tool trace %s\n", path)
		return nil
	case opts.Web:
		return ServeWeb(ctx, opts.IO.ErrOut, path, func(url string) {
			fmt.Fprintf(out, "Serving the pprof web UI (flame graph) on %s\nPress Ctrl-C to stop.\n", url)
		})
	}
	if opts.Top > 0 {
		fmt.Fprintln(out)
		if err := WriteTop(out, opts.IO.ErrOut, path, opts.Top); err != nil {
			return fmt.Errorf("top of %s: %w", path, err)
		}
		fmt.Fprintln(out)
		var labels strings.Builder
		if err := WriteLabels(&labels, path); err != nil {
			return fmt.Errorf("labels of %s: %w", path, err)
		}
		if labels.Len() > 0 {
			fmt.Fprintf(out, "%s\n", labels.String())
		}
	}
	fmt.Fprintf(out, "Explore it with: go tool pprof -http=127.0.0.1:0 %s  (or diag profile %s --web)\n", path, opts.Kind)
	return nil
}

// describe names what was taken: "cpu profile (10s)", "heap profile
// (delta over 30s)", "execution trace (5s)".
func describe(kind string, seconds int) string {
	what := kind + " profile"
	switch kind {
	case "trace":
		what = "execution trace"
	case "flightrecorder":
		return "flight recorder trace"
	}
	switch {
	case seconds <= 0:
		return what
	case client.Timed(kind):
		return fmt.Sprintf("%s (%ds)", what, seconds)
	}
	return fmt.Sprintf("%s (delta over %ds)", what, seconds)
}

// save fetches the profile into path and returns its size. The file is
// created first, so a folder that cannot take it fails before a long
// capture, and it appears only once complete.
func save(ctx context.Context, opts *Options, path string) (int64, error) {
	dur := time.Duration(opts.Seconds) * time.Second
	rctx, cancel := opts.Factory.Context(ctx, dur)
	defer cancel()
	c, err := opts.Factory.Client(rctx)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	f, err := cmdutil.CreateOutputFile(path)
	if err != nil {
		return 0, err
	}
	defer f.Abort()

	if dur > 0 && opts.IO.IsStderrTTY() {
		stop := countdown(rctx, opts.IO.ErrOut, describe(opts.Kind, opts.Seconds), dur)
		defer stop()
	}
	err = fetch(rctx, c, opts.Kind, opts.Seconds, f)
	switch {
	case ctx.Err() != nil:
		return 0, fmt.Errorf("profile %s: interrupted; nothing saved", opts.Kind)
	case errors.Is(err, context.DeadlineExceeded):
		return 0, fmt.Errorf("profile %s: no answer within %s (the %ds capture plus --timeout %s); raise --timeout", opts.Kind,
			dur+opts.Factory.Target.Timeout, opts.Seconds, opts.Factory.Target.Timeout)
	case err != nil:
		return 0, fmt.Errorf("profile %s: %w", opts.Kind, err)
	case f.Size() == 0:
		return 0, fmt.Errorf("profile %s: the scheduler sent an empty file", opts.Kind)
	}
	return f.Size(), f.Commit()
}

func fetch(ctx context.Context, c *client.Client, kind string, seconds int, w io.Writer) error {
	body, err := c.FetchProfile(ctx, kind, seconds)
	if err != nil {
		return err
	}
	defer body.Close()
	_, err = io.Copy(w, body)
	return err
}

// countdown shows on w how long a capture has left, on one line that it
// rewrites each second, until stop is called; stop clears the line.
func countdown(ctx context.Context, w io.Writer, what string, d time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		end := time.Now().Add(d)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			if left := time.Until(end).Round(time.Second); left > 0 {
				fmt.Fprintf(w, "\r\033[KTaking %s: %s left", what, left)
			} else {
				fmt.Fprintf(w, "\r\033[KTaking %s: waiting for the scheduler", what)
			}
			select {
			case <-ctx.Done():
				fmt.Fprint(w, "\r\033[K")
				return
			case <-tick.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}
