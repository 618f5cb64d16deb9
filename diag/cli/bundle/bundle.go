// Package bundle is `diag bundle`: have the scheduler write a diagnostic
// bundle now (stacks, in-flight calls, profiles, wire trace, config:
// everything needed after it is gone) and copy it here; list the bundles
// it keeps (`diag bundle ls`) and copy one out (`diag bundle get`).
package bundle

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	diagbundle "github.com/vigilhq/vigil/diag/bundle"
	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/client"
	"github.com/vigilhq/vigil/internal/printer"
)

// writeGrace is how long a bundle may take beyond --timeout: the
// scheduler bounds a bundle's parts by 30 seconds (bundle.Options.Timeout)
// and writes one bundle at a time, so a request may also wait for the
// watchdog's.
const writeGrace = 45 * time.Second

// copyGrace is how long copying a bundle out may take beyond --timeout:
// bundles run to tens of MiB, and --pod carries them through the
// Kubernetes API.
const copyGrace = 2 * time.Minute

// Options are `diag bundle`'s.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory
	Reason  string
	// File is where to save; a folder, or empty for the current folder,
	// gets the bundle's own name.
	File    string
	Printer printer.Options
}

// Result is what `diag bundle` and `diag bundle get` report; -o prints it.
type Result struct {
	// File is the local copy.
	File  string `json:"file"`
	Bytes int64  `json:"bytes"`
	// Bundle describes it as the scheduler wrote it; Path is on the
	// scheduler's side.
	Bundle diagbundle.Info `json:"bundle"`
}

// NewCmdBundle returns `diag bundle` with its subcommands ls and get.
func NewCmdBundle(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "bundle",
		Short: "Write a diagnostic bundle now and copy it here; 'bundle ls' and 'bundle get' for earlier ones",
		Long: `Have the scheduler write a diagnostic bundle now and copy it to a local file.

A bundle is a tar.gz holding what is needed to understand a stuck or
misbehaving scheduler after it is gone: SUMMARY.txt (why it was written and
what was found), MANIFEST.json, goroutine stacks, calls in flight, heartbeats,
heap, goroutine, CPU and wall-clock profiles, the wire trace, the flight
recorder, the queued tasks and the redacted configuration. Taking one costs
the scheduler a couple of seconds of profiling.

The watchdog writes one by itself when a heartbeat goes stale, before the
liveness probe fails: 'diag bundle ls' lists them and 'diag bundle get NAME'
copies one out.

The local file is readable only by you (mode 0600): bundles hold stacks and
configuration. Its default name is the bundle's own, in the current folder;
a name from the scheduler that is not a bundle's (vigil-bundle-….tar.gz, no
path) is refused, so a scheduler cannot have diag write anywhere else.`,
		Example: `  diag bundle
  diag bundle --reason "queue stuck since 14:05" -f /tmp/stuck.tar.gz
  diag bundle --pod deploy/vigil-scheduler -n vigil
  diag bundle ls
  diag bundle get vigil-bundle-20261123T120501123Z-stale.tar.gz
  tar -xzOf vigil-bundle-*.tar.gz --wildcards '*/SUMMARY.txt'`,
		Args: cmdutil.NoArgs,
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
	cmd.Flags().StringVar(&opts.Reason, "reason", "", `why, recorded in the bundle and its name (default "on-demand")`)
	cmd.Flags().StringVarP(&opts.File, "file", "f", "", "save to this file or folder (default: the bundle's name, here)")
	opts.Printer.AddFlags(cmd.Flags())
	cmd.AddCommand(NewCmdLs(f, nil), NewCmdGet(f, nil))
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

	if opts.IO.IsStderrTTY() {
		fmt.Fprint(opts.IO.ErrOut, "Writing a bundle (a few seconds of profiling)...")
	}
	wctx, cancel := opts.Factory.Context(ctx, writeGrace)
	info, err := c.WriteBundle(wctx, opts.Reason)
	cancel()
	if opts.IO.IsStderrTTY() {
		fmt.Fprint(opts.IO.ErrOut, "\r\033[K")
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("bundle: interrupted; the scheduler may still write it (see diag bundle ls)")
		}
		return fmt.Errorf("write bundle: %w", err)
	}
	res := Result{File: cmdutil.OutputPath(opts.File, info.Name), Bundle: info}
	if res.Bytes, err = download(ctx, opts.Factory, c, info.Name, res.File); err != nil {
		return fmt.Errorf("%w (the bundle is on the scheduler as %s)", err, info.Path)
	}
	if len(info.Errors) > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "%d parts of the bundle failed (each has a .error.txt file in it): %s\n", len(info.Errors), strings.Join(info.Errors, "; "))
	}
	return opts.Printer.PrintWith(opts.IO.Out, res, func() error { return WriteResult(opts.IO.Out, res) })
}

// download copies bundle name from the scheduler into path.
func download(ctx context.Context, f *cmdutil.Factory, c *client.Client, name, path string) (int64, error) {
	out, err := cmdutil.CreateOutputFile(path)
	if err != nil {
		return 0, err
	}
	defer out.Abort()
	gctx, cancel := f.Context(ctx, copyGrace)
	defer cancel()
	body, err := c.GetBundle(gctx, name)
	if err != nil {
		if client.IsNotFound(err) {
			return 0, fmt.Errorf("bundle %s is not on the scheduler ('diag bundle ls' lists those it keeps): %w", name, err)
		}
		return 0, fmt.Errorf("copy bundle %s: %w", name, err)
	}
	defer body.Close()
	if _, err := io.Copy(out, body); err != nil {
		if ctx.Err() != nil {
			return 0, fmt.Errorf("copy bundle %s: interrupted; nothing saved", name)
		}
		return 0, fmt.Errorf("copy bundle %s: %w", name, err)
	}
	return out.Size(), out.Commit()
}

// WriteResult prints where the bundle went, its size, and the first
// finding of its summary.
func WriteResult(w io.Writer, r Result) error {
	fmt.Fprintf(w, "Saved %s (%s)\n", r.File, cmdutil.Bytes(r.Bytes))
	if r.Bundle.Path != "" {
		fmt.Fprintf(w, "The scheduler keeps it as %s\n", r.Bundle.Path)
	}
	if h := Headline(r.Bundle.Summary); h != "" {
		fmt.Fprintf(w, "Summary: %s\n", h)
	}
	return writeReadHint(w, r.File, r.Bundle.Name)
}

// writeReadHint says how to read the summary of a bundle saved as file:
// its files are in a folder named like the bundle.
func writeReadHint(w io.Writer, file, name string) error {
	_, err := fmt.Fprintf(w, "Read it with: tar -xzOf %s %s/SUMMARY.txt\n", file, strings.TrimSuffix(name, ".tar.gz"))
	return err
}

// Headline is the first line of a bundle's summary that says something
// the listing does not: the first finding, after the "bundle written
// TIME, reason: REASON" line.
func Headline(summary string) string {
	for line := range strings.SplitSeq(summary, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "bundle written ") {
			return line
		}
	}
	return ""
}
