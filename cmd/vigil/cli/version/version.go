// Package version is `vigil version`: which build of vigil this is.
package version

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/cmd/vigil/cli/cmdutil"
	"github.com/vigilhq/vigil/internal/buildinfo"
	"github.com/vigilhq/vigil/internal/printer"
)

// Options are `vigil version`'s.
type Options struct {
	Out     io.Writer
	Build   buildinfo.Info
	Printer printer.Options
}

// NewCmdVersion is `vigil version`.
func NewCmdVersion(_ *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{}
	c := &cobra.Command{
		Use:   "version",
		Short: "Print vigil's version, revision and Go version",
		Long: `Print which build of vigil this is. 'make build' stamps the version from
'git describe --tags --always --dirty'; a plain 'go build' or 'go run' says
devel-<revision>, with -dirty when the tree had uncommitted changes. The
running scheduler exports the same as the metric vigil_build_info.`,
		Example: `  vigil version
  vigil version -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if err := opts.Printer.Validate(); err != nil {
				return err
			}
			opts.Build = buildinfo.Get()
			opts.Out = c.OutOrStdout() // the root's, which is the IOStreams' out
			if runF != nil {
				return runF(opts)
			}
			return versionRun(opts)
		},
	}
	opts.Printer.AddFlags(c.Flags())
	return c
}

func versionRun(opts *Options) error {
	b := opts.Build
	t := printer.NewTable("VERSION", "REVISION", "MODIFIED", "GO")
	rev := b.Revision
	if rev == "" {
		rev = "-"
	}
	t.Row(b.Version, rev, b.Modified, b.GoVersion)
	return opts.Printer.Print(opts.Out, b, t)
}
