package bundle

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	diagbundle "github.com/vigilhq/vigil/diag/bundle"
	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/client"
	"github.com/vigilhq/vigil/internal/printer"
)

// GetOptions are `diag bundle get`'s.
type GetOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory
	Name    string
	// File is where to save; a folder, or empty for the current folder,
	// gets the bundle's name.
	File    string
	Printer printer.Options
}

// NewCmdGet returns `diag bundle get`.
func NewCmdGet(f *cmdutil.Factory, runF func(*GetOptions) error) *cobra.Command {
	opts := &GetOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "get NAME",
		Short: "Copy one of the scheduler's bundles here",
		Long: `Copy a bundle the scheduler keeps (see 'diag bundle ls') to a local file,
readable only by you (mode 0600). The default name is the bundle's own, in
the current folder.`,
		Example: `  diag bundle get vigil-bundle-20261123T120501123Z-stale.tar.gz
  diag bundle get "$(diag bundle ls -o json | jq -r '.[0].name')" -f /tmp/
  diag --pod deploy/vigil-scheduler -n vigil bundle get NAME`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cmdutil.Usagef("name one bundle ('diag bundle ls' lists them)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if err := opts.Printer.Validate(); err != nil {
				return err
			}
			if err := diagbundle.CheckName(opts.Name); err != nil {
				return cmdutil.Usagef("%v ('diag bundle ls' lists them)", err)
			}
			if runF != nil {
				return runF(opts)
			}
			return runGet(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.File, "file", "f", "", "save to this file or folder (default: the bundle's name, here)")
	opts.Printer.AddFlags(cmd.Flags())
	return cmd
}

func runGet(ctx context.Context, opts *GetOptions) error {
	c, err := func() (*client.Client, error) {
		cctx, cancel := opts.Factory.Context(ctx, 0)
		defer cancel()
		return opts.Factory.Client(cctx)
	}()
	if err != nil {
		return err
	}
	defer c.Close()
	res := Result{File: cmdutil.OutputPath(opts.File, opts.Name), Bundle: diagbundle.Info{Name: opts.Name, Reason: Reason(opts.Name)}}
	if res.Bytes, err = download(ctx, opts.Factory, c, opts.Name, res.File); err != nil {
		return err
	}
	return opts.Printer.PrintWith(opts.IO.Out, res, func() error {
		fmt.Fprintf(opts.IO.Out, "Saved %s (%s)\n", res.File, cmdutil.Bytes(res.Bytes))
		return writeReadHint(opts.IO.Out, res.File, opts.Name)
	})
}
