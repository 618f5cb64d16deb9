package vet

import (
	"go/ast"
	"go/token"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// ignoreDirective opens a suppression comment.
const ignoreDirective = "//diag:ignore"

// Ignore reports //diag:ignore comments that give no reason: they
// suppress nothing, and say so.
var Ignore = &analysis.Analyzer{
	Name: "diagignore",
	Doc: `report //diag:ignore comments without a reason

A //diag:ignore comment on the line of a finding, or on the line above,
suppresses it only if it says why the call cannot hang:

	//diag:ignore the socket is local; connect fails fast when nobody listens
	c, err := d.DialContext(context.Background(), "tcp", addr)

A bare //diag:ignore suppresses nothing and is itself a finding.`,
	Run: runIgnore,
}

// ignoreComment is one //diag:ignore comment.
type ignoreComment struct {
	pos    token.Pos
	reason string
}

// ignoreComments indexes f's //diag:ignore comments by line.
func ignoreComments(fset *token.FileSet, f *ast.File) map[int]ignoreComment {
	m := map[int]ignoreComment{}
	for _, ic := range listIgnores(f) {
		m[fset.Position(ic.pos).Line] = ic
	}
	return m
}

// listIgnores returns f's //diag:ignore comments in order.
func listIgnores(f *ast.File) []ignoreComment {
	var list []ignoreComment
	for _, g := range f.Comments {
		for _, c := range g.List {
			rest, ok := strings.CutPrefix(c.Text, ignoreDirective)
			if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
				continue // not ours: //diag:ignored, /* */ comments
			}
			list = append(list, ignoreComment{pos: c.Slash, reason: strings.TrimSpace(rest)})
		}
	}
	return list
}

func runIgnore(pass *analysis.Pass) (any, error) {
	for _, f := range pass.Files {
		tf := pass.Fset.File(f.Pos())
		if tf == nil || skipFile(tf.Name(), f) {
			continue
		}
		for _, ic := range listIgnores(f) {
			if ic.reason == "" {
				pass.Reportf(ic.pos, "//diag:ignore without a reason suppresses nothing: say why the call cannot hang, e.g. //diag:ignore local socket, connect fails fast")
			}
		}
	}
	return nil, nil
}
