package trace

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/client"
	"github.com/vigilhq/vigil/diag/wiretrace"
	"github.com/vigilhq/vigil/internal/printer"
)

// PollWait is how long one long poll of --follow waits for a new
// exchange; the API caps it at wiretrace.MaxWait.
const PollWait = 10 * time.Second

// TailOptions are `diag trace tail`'s.
type TailOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory
	Follow  bool
	// Max is how many of the most recent exchanges to list; 0 for all the
	// ring holds.
	Max     int
	Printer printer.Options
}

// NewCmdTail returns `diag trace tail`.
func NewCmdTail(f *cmdutil.Factory, runF func(*TailOptions) error) *cobra.Command {
	opts := &TailOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "List the scheduler's recent HTTP exchanges; -f follows new ones",
		Long: `List the most recent outbound HTTP exchanges the scheduler kept, oldest first:
when each started, the client (kube, pyroscope), method, status or error,
latency, bytes sent and received, the Kubernetes verb and resource, and the
URL. Everything is redacted by the scheduler before it is kept.

With -f/--follow, keep printing new exchanges as they finish until Ctrl-C;
with -o json that is one JSON object per line (JSON lines), for jq.

Headers and bodies are kept only in the headers and bodies modes
('diag trace headers'); see them with -o json or -o yaml.`,
		Args: cmdutil.NoArgs,
		Example: `  diag trace tail
  diag trace tail --max 200
  diag trace tail -f
  diag trace tail -f -o json | jq 'select(.status >= 500 or .error)'
  diag trace tail -o yaml --max 1`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.Printer.Validate(); err != nil {
				return err
			}
			if opts.Max < 0 {
				return cmdutil.Usagef("--max %d: want 0 (everything kept) or more", opts.Max)
			}
			if runF != nil {
				return runF(opts)
			}
			return runTail(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Follow, "follow", "f", false, "keep printing new exchanges until interrupted")
	cmd.Flags().IntVar(&opts.Max, "max", 50, "list at most the N most recent exchanges; 0 for all kept")
	opts.Printer.AddFlags(cmd.Flags())
	return cmd
}

func runTail(ctx context.Context, opts *TailOptions) error {
	c, err := func() (*client.Client, error) {
		cctx, cancel := opts.Factory.Context(ctx, 0)
		defer cancel()
		return opts.Factory.Client(cctx)
	}()
	if err != nil {
		return err
	}
	defer c.Close()
	rctx, cancel := opts.Factory.Context(ctx, 0)
	resp, err := Recent(rctx, c, opts.Max)
	cancel()
	if err != nil {
		return fmt.Errorf("wire trace: %w", err)
	}
	if resp.Mode == wiretrace.Off {
		fmt.Fprintln(opts.IO.ErrOut, "The wire trace is off: nothing new is recorded. 'diag trace summary' turns it on.")
	}
	loc := opts.Factory.Now().Location()
	if !opts.Follow {
		return opts.Printer.PrintWith(opts.IO.Out, resp.Entries, func() error {
			if len(resp.Entries) == 0 {
				_, err := fmt.Fprintf(opts.IO.Out, "No exchanges kept (mode %s).\n", resp.Mode)
				return err
			}
			if opts.Printer.NoHeaders {
				for _, x := range resp.Entries {
					if err := writeRow(opts.IO.Out, x, loc); err != nil {
						return err
					}
				}
				return nil
			}
			return WriteTable(opts.IO.Out, resp.Entries, loc)
		})
	}
	p := &streamPrinter{w: opts.IO.Out, po: opts.Printer.Stream(), loc: loc}
	if err := p.print(resp.Entries); err != nil {
		return err
	}
	return follow(ctx, opts, c, p, resp.LastSeq)
}

// Recent returns the max most recent kept exchanges, oldest first (all of
// them when max is 0). The API lists from a sequence number forwards, so
// it first asks for the newest number.
func Recent(ctx context.Context, c *client.Client, max int) (wiretrace.EntriesResponse, error) {
	var after uint64
	if max > 0 {
		newest, err := c.WireEntries(ctx, math.MaxUint64, 0, 0)
		if err != nil {
			return newest, err
		}
		if newest.LastSeq > uint64(max) {
			after = newest.LastSeq - uint64(max)
		}
	}
	return c.WireEntries(ctx, after, max, 0)
}

// follow long-polls for exchanges after seq and prints them until ctx
// ends.
func follow(ctx context.Context, opts *TailOptions, c *client.Client, p *streamPrinter, after uint64) error {
	for {
		start := time.Now()
		pctx, cancel := opts.Factory.Context(ctx, PollWait)
		resp, err := c.WireEntries(pctx, after, 0, PollWait)
		cancel()
		if ctx.Err() != nil {
			return nil // interrupted: the normal end of --follow
		}
		if err != nil {
			return fmt.Errorf("wire trace: %w", err)
		}
		switch {
		case resp.LastSeq < after:
			fmt.Fprintf(opts.IO.ErrOut, "The wire trace restarted (sequence %d after %d): the scheduler restarted; following from its start.\n", resp.LastSeq, after)
			after = 0
			continue
		case resp.Missed > 0:
			fmt.Fprintf(opts.IO.ErrOut, "%d exchanges were overwritten in the ring before they could be read.\n", resp.Missed)
		}
		if err := p.print(resp.Entries); err != nil {
			return err
		}
		after = resp.LastSeq
		// A poll that comes back at once with nothing is not waiting (an
		// older scheduler without long polls): do not spin on it.
		if len(resp.Entries) == 0 && time.Since(start) < time.Second {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
		}
	}
}

// streamPrinter prints exchanges as they arrive: rows under one header,
// or one document per exchange (a JSON line, a YAML document, a jsonpath
// result).
type streamPrinter struct {
	w      io.Writer
	po     printer.Options
	loc    *time.Location
	header bool
}

func (p *streamPrinter) print(xs []wiretrace.Exchange) error {
	for _, x := range xs {
		err := p.po.PrintWith(p.w, x, func() error {
			if !p.header && !p.po.NoHeaders {
				p.header = true
				if err := writeHeader(p.w); err != nil {
					return err
				}
			}
			return writeRow(p.w, x, p.loc)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// WriteTable prints exchanges with a header, times in loc. The columns
// have fixed widths, so rows printed later by --follow line up with the
// first ones; the URL, of any length, comes last, and an error gets a
// line of its own under its exchange.
func WriteTable(w io.Writer, xs []wiretrace.Exchange, loc *time.Location) error {
	if err := writeHeader(w); err != nil {
		return err
	}
	for _, x := range xs {
		if err := writeRow(w, x, loc); err != nil {
			return err
		}
	}
	return nil
}

const rowFormat = "%-12s  %-10s  %-7s  %-6s  %7s  %-17s  %-22s  %s\n"

func writeHeader(w io.Writer) error {
	_, err := fmt.Fprintf(w, rowFormat, "TIME", "CLIENT", "METHOD", "STATUS", "LATENCY", "BYTES OUT/IN", "KUBERNETES", "URL")
	return err
}

func writeRow(w io.Writer, x wiretrace.Exchange, loc *time.Location) error {
	clientName := x.Client
	if clientName == "" {
		clientName = "-"
	}
	_, err := fmt.Fprintf(w, rowFormat, x.Start.In(loc).Format("15:04:05.000"), clientName, x.Method,
		status(x), latency(x.Duration), bytesInOut(x), kube(x), x.URL)
	if err == nil && x.Err != "" {
		_, err = fmt.Fprintf(w, "%14serror: %s\n", "", oneLine(x.Err))
	}
	return err
}

// status is the response code, "ERR" when there was none because of an
// error, "-" when neither (an exchange cut short without an error).
func status(x wiretrace.Exchange) string {
	switch {
	case x.Status > 0:
		return fmt.Sprint(x.Status)
	case x.Err != "":
		return "ERR"
	}
	return "-"
}

// latency keeps the precision a wire latency needs: 0.34ms, 8ms, 1.50s,
// then cmdutil.Age past a minute. (ASCII only: the table's widths count
// bytes.)
func latency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	return cmdutil.Age(d)
}

// bytesInOut is "sent/received"; a stream's received bytes are not
// counted, so it says "stream".
func bytesInOut(x wiretrace.Exchange) string {
	in := cmdutil.Bytes(x.RespBytes)
	if x.Streaming {
		in = "stream"
	}
	return cmdutil.Bytes(x.ReqBytes) + "/" + in
}

// kube is "create pods", "get pods/log", "watch events"; "-" for a call
// that is not to the Kubernetes API.
func kube(x wiretrace.Exchange) string {
	if x.Verb == "" {
		return "-"
	}
	s := x.Verb
	if x.Resource != "" {
		s += " " + x.Resource
		if x.Subresource != "" {
			s += "/" + x.Subresource
		}
	}
	return s
}

// oneLine keeps an error on one line, at most 200 characters; -o json has
// it whole.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:199]) + "…"
	}
	return s
}
