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
	"github.com/vigilhq/vigil/internal/printer"
)

// LsOptions are `diag bundle ls`'s.
type LsOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory
	Printer printer.Options
}

// NewCmdLs returns `diag bundle ls`.
func NewCmdLs(f *cmdutil.Factory, runF func(*LsOptions) error) *cobra.Command {
	opts := &LsOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List the bundles the scheduler keeps, newest first",
		Long: `List the diagnostic bundles in the scheduler's bundle directory, newest first:
name, age, size, why each was written ("stale" for the watchdog's, written
when a heartbeat went stale; "on-demand" or your --reason for diag bundle's)
and the first finding of its summary: the stale heartbeat and the call its
loop was blocked in. The bundles outlive a container restart, so after a
liveness restart this says why. Copy one here with 'diag bundle get NAME'.`,
		Args:    cmdutil.NoArgs,
		Example: "  diag bundle ls\n  diag bundle ls -o json | jq -r '.[0].name'",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.Printer.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runLs(cmd.Context(), opts)
		},
	}
	opts.Printer.AddFlags(cmd.Flags())
	return cmd
}

func runLs(ctx context.Context, opts *LsOptions) error {
	ctx, cancel := opts.Factory.Context(ctx, 0)
	defer cancel()
	c, err := opts.Factory.Client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	list, err := c.Bundles(ctx)
	if err != nil {
		return fmt.Errorf("list bundles: %w", err)
	}
	for i := range list {
		if list[i].Reason == "" {
			list[i].Reason = Reason(list[i].Name)
		}
	}
	if list == nil {
		list = []diagbundle.Info{}
	}
	return opts.Printer.PrintWith(opts.IO.Out, list, func() error {
		if len(list) == 0 {
			_, err := fmt.Fprintln(opts.IO.Out, "No bundles yet. Write one with 'diag bundle'.")
			return err
		}
		return opts.Printer.WriteTable(opts.IO.Out, Table(list, opts.Factory.Now()))
	})
}

// WriteList prints bundles as a table, ages as of now.
func WriteList(w io.Writer, list []diagbundle.Info, now time.Time) error {
	return printer.Options{}.WriteTable(w, Table(list, now))
}

// Table is the bundles' table, ages as of now.
func Table(list []diagbundle.Info, now time.Time) *printer.Table {
	t := printer.NewTable("NAME", "AGE", "SIZE", "REASON", "SUMMARY")
	for _, b := range list {
		t.Row(b.Name, cmdutil.Age(now.Sub(b.Time)), cmdutil.Bytes(b.Size), orDash(b.Reason), orDash(Headline(b.Summary)))
	}
	return t
}

// Reason is the reason recorded in a bundle's name,
// vigil-bundle-20261123T120501123Z-REASON.tar.gz (the listing does not
// open the bundles to read it). The name keeps only letters, digits, '.',
// '_' and '-' of the reason.
func Reason(name string) string {
	s, ok := strings.CutPrefix(name, "vigil-bundle-")
	if !ok {
		return ""
	}
	s = strings.TrimSuffix(s, ".tar.gz")
	_, reason, _ := strings.Cut(s, "-")
	return reason
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
