// Package vet is `diag vet`: the static checker for calls that can hang
// forever (package github.com/vigilhq/vigil/diag/vet) on Go packages,
// with an exit status CI can act on. It loads source with
// golang.org/x/tools/go/packages and needs no scheduler.
package vet

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/vet"
	"github.com/vigilhq/vigil/internal/printer"
)

// Options are `diag vet`'s.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory
	Printer printer.Options
	// Patterns are go list package patterns; "." if none.
	Patterns []string
	// Dir is where the patterns are resolved (and paths shown relative
	// to); the working directory if empty.
	Dir string
	// Tags are build tags for loading the packages, as go build's -tags.
	Tags []string
}

// Finding is one call that can hang, as -o json prints it.
type Finding struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Analyzer string `json:"analyzer"`
	Message  string `json:"message"`
}

// NewCmdVet returns `diag vet`.
func NewCmdVet(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "vet [packages]",
		Short: "Find calls that can hang forever in Go code; exit status 1 if there are any",
		Long: `Check Go packages for calls that can wait forever: outbound HTTP with no
timeout, client-go calls and rest.Configs with no deadline, database/sql
calls without a context, dials without a timeout, HTTP servers without a
header timeout. Each finding says what can hang, why, and the fix.

Packages are go list patterns (default "."), read from source: diag vet
needs no scheduler. Test and generated files are skipped.

Suppress a finding with a comment on its line or the line above that says
why it cannot hang:

  //diag:ignore the socket is local; connect fails at once when nobody listens

A //diag:ignore without a reason is itself a finding. The checks, and where
they are blind, are described in the package doc of
github.com/vigilhq/vigil/diag/vet. The same checks run under go vet with
cmd/diag-vet: go vet -vettool=$(which diag-vet) ./...

Exit status 0 when nothing is found, 1 when something is, 2 on bad flags,
4 when the packages do not load (they must compile).`,
		Example: "  diag vet ./...\n  diag vet ./executor/... ./cmd/vigil\n  diag vet -tags integration,linux ./...\n  diag vet -o json ./... | jq -r '.[] | \"\\(.file):\\(.line)\"'",
		// Parsed in RunE, so that -tags reads as go build's flag does
		// (pflag would take it for -t -a -g -s).
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.InheritedFlags() // merges the root's flags into cmd.Flags()
			if err := cmd.Flags().Parse(goFlags(args)); err != nil {
				return &cmdutil.UsageError{Err: err}
			}
			if help, _ := cmd.Flags().GetBool("help"); help {
				return cmd.Help()
			}
			args = cmd.Flags().Args()
			if err := opts.Printer.Validate(); err != nil {
				return err
			}
			opts.Patterns = args
			if runF != nil {
				return runF(opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	opts.Printer.AddFlags(cmd.Flags())
	cmd.Flags().StringSliceVar(&opts.Tags, "tags", nil, "build tags to load the packages with, comma-separated: -tags a,b as for go build")
	hideInheritedFlags(cmd)
	return cmd
}

// goFlags rewrites -tags, go build's spelling, as --tags.
func goFlags(args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if a == "-tags" || strings.HasPrefix(a, "-tags=") {
			a = "-" + a
		}
		out = append(out, a)
	}
	return out
}

// hideInheritedFlags makes cmd's help show only its own flags: the
// root's --pod, --socket, --kubeconfig... reach a scheduler, which diag
// vet never does.
func hideInheritedFlags(cmd *cobra.Command) {
	help := cmd.HelpFunc()
	cmd.SetHelpFunc(func(c *cobra.Command, args []string) {
		var hidden []*pflag.Flag
		c.InheritedFlags().VisitAll(func(f *pflag.Flag) {
			if !f.Hidden {
				f.Hidden = true
				hidden = append(hidden, f)
			}
		})
		defer func() {
			for _, f := range hidden {
				f.Hidden = false
			}
		}()
		help(c, args)
	})
}

func run(ctx context.Context, opts *Options) error {
	patterns := opts.Patterns
	if len(patterns) == 0 {
		patterns = []string{"."}
	}
	findings, err := CheckTags(ctx, opts.Dir, opts.Tags, patterns...)
	if err != nil {
		return err
	}
	err = opts.Printer.PrintWith(opts.IO.Out, findings, func() error {
		for _, f := range findings {
			fmt.Fprintf(opts.IO.Out, "%s:%d:%d: %s [%s]\n", f.File, f.Line, f.Column, f.Message, f.Analyzer)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(findings) > 0 {
		noun := "findings"
		if len(findings) == 1 {
			noun = "finding"
		}
		return &cmdutil.FoundError{Msg: fmt.Sprintf("diag vet: %d %s: fix each, or explain it with //diag:ignore <reason>", len(findings), noun)}
	}
	return nil
}

// LoadError is a failure to load the packages to check (exit status 4).
type LoadError struct{ Msg string }

func (e *LoadError) Error() string { return e.Msg }

// Check runs every diag vet analyzer on the packages patterns name,
// resolved in dir, and returns the findings sorted by position, with
// paths relative to dir when they are inside it.
func Check(ctx context.Context, dir string, patterns ...string) ([]Finding, error) {
	return CheckTags(ctx, dir, nil, patterns...)
}

// CheckTags is Check with build tags (go build's -tags) for loading.
func CheckTags(ctx context.Context, dir string, tags []string, patterns ...string) ([]Finding, error) {
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, &LoadError{Msg: fmt.Sprintf("working directory: %v", err)}
		}
		dir = wd
	}
	cfg := &packages.Config{Context: ctx, Dir: dir, Mode: packages.LoadSyntax | packages.NeedModule}
	if len(tags) > 0 {
		cfg.BuildFlags = []string{"-tags=" + strings.Join(tags, ",")}
	}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		// %v, not %w: a missing directory must not read as an
		// unreachable scheduler (exit status 3).
		return nil, &LoadError{Msg: fmt.Sprintf("load %s: %v", strings.Join(patterns, " "), err)}
	}
	if len(pkgs) == 0 {
		return nil, &LoadError{Msg: fmt.Sprintf("load %s: no packages", strings.Join(patterns, " "))}
	}
	checked := map[string]bool{}
	for _, p := range pkgs {
		checked[p.ID] = true
	}
	if more := moduleDeps(ctx, cfg, patterns, pkgs); len(more) > 0 {
		// The checks follow clients and configs through the module's
		// own packages by facts, which need their source: load the
		// ones the patterns import too, and report only on the patterns.
		pkgs, err = packages.Load(cfg, append(slices.Clone(patterns), more...)...)
		if err != nil {
			return nil, &LoadError{Msg: fmt.Sprintf("load %s: %v", strings.Join(patterns, " "), err)}
		}
	}
	var loadErrs []string
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			loadErrs = append(loadErrs, e.Error())
		}
	})
	if len(loadErrs) > 0 {
		if len(loadErrs) > 10 {
			loadErrs = append(loadErrs[:10], fmt.Sprintf("and %d more", len(loadErrs)-10))
		}
		return nil, &LoadError{Msg: "packages do not load (diag vet checks code that compiles):\n  " + strings.Join(loadErrs, "\n  ")}
	}
	graph, err := checker.Analyze(vet.Analyzers(), pkgs, nil)
	if err != nil {
		return nil, fmt.Errorf("analyze: %v", err)
	}
	findings := []Finding{}
	seen := map[Finding]bool{}
	for _, act := range graph.Roots {
		if !checked[act.Package.ID] {
			continue // loaded for its facts only
		}
		if act.Err != nil {
			return nil, fmt.Errorf("%s on %s: %v", act.Analyzer.Name, act.Package.PkgPath, act.Err)
		}
		for _, d := range act.Diagnostics {
			p := act.Package.Fset.Position(d.Pos)
			f := Finding{File: relative(dir, p.Filename), Line: p.Line, Column: p.Column, Analyzer: act.Analyzer.Name, Message: d.Message}
			if !seen[f] {
				seen[f] = true
				findings = append(findings, f)
			}
		}
	}
	slices.SortFunc(findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column), cmp.Compare(a.Analyzer, b.Analyzer))
	})
	return findings, nil
}

// moduleDeps returns the packages of the roots' modules that the roots
// import, directly or not, and that the patterns did not name: nil when
// the patterns cover them (./... from the module root), without a
// second go list.
func moduleDeps(ctx context.Context, cfg *packages.Config, patterns []string, roots []*packages.Package) []string {
	loaded := map[string]bool{}
	for _, p := range roots {
		loaded[p.PkgPath] = true
	}
	inModule := func(mod *packages.Module, path string) bool {
		return mod != nil && (path == mod.Path || strings.HasPrefix(path, mod.Path+"/"))
	}
	missing := false
	for _, p := range roots {
		for path := range p.Imports {
			if inModule(p.Module, path) && !loaded[path] {
				missing = true
			}
		}
	}
	if !missing {
		return nil
	}
	meta, err := packages.Load(&packages.Config{Context: ctx, Dir: cfg.Dir, BuildFlags: cfg.BuildFlags,
		Mode: packages.NeedName | packages.NeedImports | packages.NeedDeps | packages.NeedModule}, patterns...)
	if err != nil {
		return nil // the checks run without the facts; the first load worked
	}
	var more []string
	seen := map[string]bool{}
	var visit func(p *packages.Package, mod *packages.Module)
	visit = func(p *packages.Package, mod *packages.Module) {
		for path, dep := range p.Imports {
			if seen[path] || !inModule(mod, path) {
				continue
			}
			seen[path] = true
			if !loaded[path] {
				more = append(more, path)
			}
			visit(dep, mod)
		}
	}
	for _, p := range meta {
		visit(p, p.Module)
	}
	slices.Sort(more)
	return more
}

// relative returns name relative to dir if it is inside it.
func relative(dir, name string) string {
	if rel, err := filepath.Rel(dir, name); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return name
}
