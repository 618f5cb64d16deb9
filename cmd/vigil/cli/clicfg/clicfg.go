// Package clicfg is `vigil config`: the context file that names the
// schedulers' APIs an operator reaches, kubectl style ($VIGIL_CONTEXTS,
// default ~/.config/vigil/contexts.yaml).
package clicfg

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/vigilhq/vigil/cmd/vigil/cli/cmdutil"
	"github.com/vigilhq/vigil/internal/printer"
)

// NewCmdConfig is the `config` group.
func NewCmdConfig(f *cmdutil.Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "config",
		Short: "Name the schedulers' APIs you reach: the context file",
		Long: `The context file names servers and the token file of each, like kubectl's
kubeconfig: $VIGIL_CONTEXTS, or ~/.config/vigil/contexts.yaml.

  current-context: prod
  contexts:
  - name: prod
    server: https://vigil.internal:8975
    token-file: ~/.config/vigil/prod.token
    certificate-authority: ~/.config/vigil/prod-ca.pem

The admin commands use --server, then $VIGIL_SERVER, then the context named
by --context, $VIGIL_CONTEXT or current-context, then the only 'vigil run' on
this machine.`,
	}
	c.AddCommand(NewCmdGetContexts(f, nil), NewCmdUseContext(f, nil), NewCmdSetContext(f, nil), NewCmdDeleteContext(f, nil), NewCmdView(f, nil))
	return c
}

// Options are a config command's.
type Options struct {
	F       *cmdutil.Factory
	Name    string
	Context cmdutil.Context
	// Changed are the set-context flags given, by name.
	Changed map[string]bool
	Current bool
	Printer printer.Options
}

func load(f *cmdutil.Factory) (*cmdutil.Contexts, error) {
	return cmdutil.LoadContexts(cmdutil.DefaultContextsPath(f.Env))
}

// NewCmdGetContexts is `vigil config get-contexts`.
func NewCmdGetContexts(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{F: f}
	c := &cobra.Command{
		Use:     "get-contexts",
		Short:   "List the contexts; * marks the current one",
		Example: `  vigil config get-contexts`,
		Args:    cmdutil.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if err := opts.Printer.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			cf, err := load(f)
			if err != nil {
				return err
			}
			t := printer.NewTable("CURRENT", "NAME", "SERVER", "TOKEN FILE")
			for _, x := range cf.Contexts {
				cur := ""
				if x.Name == cf.CurrentContext {
					cur = "*"
				}
				t.Row(cur, x.Name, x.Server, cmdutil.OrDash(x.TokenFile))
			}
			return opts.Printer.Print(f.IOStreams.Out, cf, t)
		},
	}
	opts.Printer.AddFlags(c.Flags())
	return c
}

// NewCmdUseContext is `vigil config use-context`.
func NewCmdUseContext(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{F: f}
	return &cobra.Command{
		Use:     "use-context NAME",
		Short:   "Make a context the current one",
		Example: `  vigil config use-context prod`,
		Args:    cmdutil.ExactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			cf, err := load(f)
			if err != nil {
				return err
			}
			if _, ok := cf.Get(opts.Name); !ok {
				return cmdutil.Usagef("no context %q in %s (it has %v); add it with 'vigil config set-context %s --server URL'", opts.Name, cf.Path, cf.Names(), opts.Name)
			}
			cf.CurrentContext = opts.Name
			if err := cf.Save(); err != nil {
				return err
			}
			fmt.Fprintf(f.IOStreams.Out, "current context: %s\n", opts.Name)
			return nil
		},
	}
}

// NewCmdSetContext is `vigil config set-context`.
func NewCmdSetContext(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{F: f}
	c := &cobra.Command{
		Use:   "set-context NAME [--server URL] [--token-file FILE] [--certificate-authority FILE]",
		Short: "Add a context, or change the fields given of one",
		Example: `  vigil config set-context prod --server https://vigil.internal:8975 --token-file ~/.config/vigil/prod.token --current
  vigil config set-context prod --token-file ~/.config/vigil/prod-operator.token`,
		Args: cmdutil.ExactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Name = args[0]
			opts.Changed = map[string]bool{}
			c.Flags().Visit(func(fl *pflag.Flag) { opts.Changed[fl.Name] = true })
			if runF != nil {
				return runF(opts)
			}
			return setContext(opts)
		},
	}
	c.Flags().StringVar(&opts.Context.Server, "server", "", "the API's URL: http(s)://HOST:PORT")
	c.Flags().StringVar(&opts.Context.TokenFile, "token-file", "", "file holding the bearer token (mode 0600)")
	c.Flags().StringVar(&opts.Context.CAFile, "certificate-authority", "", "PEM bundle to verify the https server with")
	c.Flags().BoolVar(&opts.Context.Insecure, "insecure-skip-tls-verify", false, "do not verify the server's certificate (tests only)")
	c.Flags().BoolVar(&opts.Current, "current", false, "also make it the current context")
	return c
}

func setContext(opts *Options) error {
	cf, err := load(opts.F)
	if err != nil {
		return err
	}
	ctx, exists := cf.Get(opts.Name)
	ctx.Name = opts.Name
	if opts.Changed["server"] {
		ctx.Server = opts.Context.Server
	}
	if opts.Changed["token-file"] {
		ctx.TokenFile = opts.Context.TokenFile
	}
	if opts.Changed["certificate-authority"] {
		ctx.CAFile = opts.Context.CAFile
	}
	if opts.Changed["insecure-skip-tls-verify"] {
		ctx.Insecure = opts.Context.Insecure
	}
	if ctx.Server == "" {
		return cmdutil.Usagef("context %q needs --server URL", opts.Name)
	}
	// Check it as a reader of the file would, so a bad server is refused now.
	probe := &cmdutil.Contexts{Contexts: []cmdutil.Context{ctx}}
	b, err := yaml.Marshal(probe)
	if err != nil {
		return err
	}
	if _, err := cmdutil.ParseContexts("--server", b); err != nil {
		return &cmdutil.UsageError{Err: fmt.Errorf("context %q: server %q: want http://HOST:PORT or https://HOST:PORT", opts.Name, ctx.Server)}
	}
	cf.Set(ctx)
	if opts.Current {
		cf.CurrentContext = opts.Name
	}
	if err := cf.Save(); err != nil {
		return err
	}
	verb := "added"
	if exists {
		verb = "changed"
	}
	fmt.Fprintf(opts.F.IOStreams.Out, "%s context %s in %s\n", verb, opts.Name, cf.Path)
	return nil
}

// NewCmdDeleteContext is `vigil config delete-context`.
func NewCmdDeleteContext(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{F: f}
	return &cobra.Command{
		Use:     "delete-context NAME",
		Short:   "Remove a context",
		Example: `  vigil config delete-context staging`,
		Args:    cmdutil.ExactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			cf, err := load(f)
			if err != nil {
				return err
			}
			if !cf.Delete(opts.Name) {
				return cmdutil.Usagef("no context %q in %s (it has %v)", opts.Name, cf.Path, cf.Names())
			}
			if err := cf.Save(); err != nil {
				return err
			}
			fmt.Fprintf(f.IOStreams.Out, "deleted context %s\n", opts.Name)
			return nil
		},
	}
}

// NewCmdView is `vigil config view`.
func NewCmdView(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{F: f}
	c := &cobra.Command{
		Use:     "view",
		Short:   "Print the context file (token files are named, never read)",
		Example: "  vigil config view\n  vigil config view -o jsonpath='{.current_context}'",
		Args:    cmdutil.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if err := opts.Printer.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			cf, err := load(f)
			if err != nil {
				return err
			}
			if cf.Contexts == nil {
				cf.Contexts = []cmdutil.Context{}
			}
			// The table form is the file itself, as it is written.
			return opts.Printer.PrintWith(f.IOStreams.Out, cf, func() error {
				b, err := yaml.Marshal(cf)
				if err != nil {
					return err
				}
				if !opts.Printer.NoHeaders {
					fmt.Fprintf(f.IOStreams.Out, "# %s\n", cf.Path)
				}
				_, err = f.IOStreams.Out.Write(b)
				return err
			})
		},
	}
	opts.Printer.AddFlags(c.Flags())
	return c
}
