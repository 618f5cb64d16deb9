// Package trace is `diag trace`: the scheduler's wire trace, the record
// it keeps of its outbound HTTP exchanges (the Kubernetes API, Pyroscope).
// `diag trace` shows the mode and how much was kept, `diag trace MODE`
// switches the mode at runtime, and `diag trace tail` lists the exchanges
// or follows new ones.
//
// The scheduler redacts every exchange before keeping it (credentials in
// headers, URLs and bodies; see package wiretrace); diag prints what the
// API returns and adds nothing of its own.
package trace

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/client"
	"github.com/vigilhq/vigil/diag/wiretrace"
	"github.com/vigilhq/vigil/internal/printer"
)

// Modes are the wire tracer's modes, least to most kept.
var Modes = []string{"off", "summary", "headers", "bodies"}

// Options are `diag trace [MODE]`'s.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory
	// Mode, if set, is the mode to switch to.
	Mode    string
	Printer printer.Options
}

// Status is what `diag trace` shows: the mode and the counters the API
// gives.
type Status struct {
	Mode string `json:"mode"`
	// Kept counts exchanges kept since the scheduler started (the
	// newest sequence number).
	Kept uint64 `json:"kept"`
	// InRing is how many of them the ring still holds; Dropped how many
	// newer ones have overwritten.
	InRing  uint64 `json:"in_ring"`
	Dropped uint64 `json:"dropped"`
}

// Switch is what `diag trace MODE` reports.
type Switch struct {
	Mode     string `json:"mode"`
	Previous string `json:"previous"`
}

// NewCmdTrace returns `diag trace` with its subcommand tail.
func NewCmdTrace(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "trace [off|summary|headers|bodies]",
		Short: "Show or switch the wire trace of the scheduler's HTTP calls; 'trace tail' lists them",
		Long: `The scheduler records its outbound HTTP exchanges (Kubernetes API, Pyroscope)
in a ring, redacted: credentials in headers, URLs and bodies never reach it.

With no argument, show the mode and how many exchanges were kept. With a
mode, switch to it; it applies to requests that start afterwards:

  off      keep nothing (calls in flight are still tracked)
  summary  one line per exchange: method, URL, Kubernetes verb and resource,
           status, error, latency, bytes, connection timings (the default)
  headers  summary plus the redacted request and response headers
  bodies   headers plus the first 4 KiB of each body, redacted; costs tens of
           microseconds a request: switch it on while looking, then back

List the exchanges with 'diag trace tail'.`,
		Example: `  diag trace
  diag trace headers
  diag trace tail -f
  diag trace summary`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return cmdutil.Usagef("give at most one mode (%s); got %q", strings.Join(Modes, ", "), args)
			}
			return nil
		},
		ValidArgs: Modes,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.Printer.Validate(); err != nil {
				return err
			}
			if len(args) == 1 {
				m, err := wiretrace.ParseMode(args[0])
				if err != nil {
					return cmdutil.Usagef("unknown mode %q: valid modes are %s (see diag trace --help)", args[0], strings.Join(Modes, ", "))
				}
				opts.Mode = m.String()
			}
			if runF != nil {
				return runF(opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	opts.Printer.AddFlags(cmd.Flags())
	cmd.AddCommand(NewCmdTail(f, nil))
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
	if opts.Mode != "" {
		return setMode(ctx, opts, c)
	}
	st, err := GetStatus(ctx, c)
	if err != nil {
		return fmt.Errorf("wire trace: %w", err)
	}
	return opts.Printer.PrintWith(opts.IO.Out, st, func() error { return WriteStatus(opts.IO.Out, st) })
}

func setMode(ctx context.Context, opts *Options, c *client.Client) error {
	resp, err := c.SetWireMode(ctx, opts.Mode)
	if err != nil {
		return fmt.Errorf("set wire trace mode: %w", err)
	}
	sw := Switch{Mode: resp.Mode.String(), Previous: "?"}
	if resp.Previous != nil {
		sw.Previous = resp.Previous.String()
	}
	if sw.Mode == "bodies" && sw.Previous != "bodies" {
		fmt.Fprintln(opts.IO.ErrOut, "Bodies mode keeps the first 4 KiB of every body (redacted) and costs tens of microseconds a request; switch back with 'diag trace summary' when done.")
	}
	return opts.Printer.PrintWith(opts.IO.Out, sw, func() error {
		_, err := fmt.Fprintf(opts.IO.Out, "%s -> %s\n", sw.Previous, sw.Mode)
		return err
	})
}

// GetStatus asks for the mode and the ring's counters with two small
// reads: the oldest kept exchange (whose sequence number says how many
// were dropped before it) and the newest sequence number.
func GetStatus(ctx context.Context, c *client.Client) (Status, error) {
	first, err := c.WireEntries(ctx, 0, 1, 0)
	if err != nil {
		return Status{}, err
	}
	st := Status{Mode: first.Mode.String(), Dropped: first.Missed}
	if len(first.Entries) == 0 {
		return st, nil
	}
	// After a sequence number past the newest, the API answers at once
	// with no entries and the newest number.
	last, err := c.WireEntries(ctx, math.MaxUint64, 0, 0)
	if err != nil {
		return Status{}, err
	}
	st.Kept = max(last.LastSeq, first.Entries[0].Seq)
	st.InRing = st.Kept - first.Entries[0].Seq + 1
	return st, nil
}

// WriteStatus prints a Status for a human.
func WriteStatus(w io.Writer, st Status) error {
	fmt.Fprintf(w, "mode: %s\n", st.Mode)
	fmt.Fprintf(w, "kept: %d exchanges since the scheduler started; %d in the ring, %d dropped (overwritten by newer ones)\n", st.Kept, st.InRing, st.Dropped)
	var err error
	switch st.Mode {
	case "off":
		_, err = fmt.Fprintln(w, "Nothing is being recorded: 'diag trace summary' turns recording on.")
	case "bodies":
		_, err = fmt.Fprintln(w, "Bodies are being kept: 'diag trace summary' switches back when you are done.")
	default:
		_, err = fmt.Fprintln(w, "List them with 'diag trace tail'; follow new ones with 'diag trace tail -f'.")
	}
	return err
}
