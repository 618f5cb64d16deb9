package vet

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"reflect"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// Facts is what lets the checks follow clients, configs and dialers
// across functions and packages of a module: for each package it works
// out whether the values of the tracked types (an http.Client, a
// rest.Config, a net.Dialer) that its functions return and its struct
// fields hold have a timeout, and exports that as go/analysis facts on
// the functions and fields, so a package that calls httpx.NewClient()
// knows what it gets. The reporting analyzers require it and share its
// holders.
//
// It reads syntax only (no SSA), so running it on every dependency, as
// go vet does for an analyzer with facts, stays cheap; a package without
// syntax (loaded from export data) gets no facts and costs nothing.
var Facts = &analysis.Analyzer{
	Name:       "diagvetfacts",
	Doc:        "summarise which functions return, and which struct fields hold, http.Clients, rest.Configs and net.Dialers with or without a timeout",
	Run:        runFacts,
	ResultType: reflect.TypeFor[*summary](),
	FactTypes:  []analysis.Fact{new(resultsFact), new(fieldFact), new(streamsFact), new(sqlDriversFact)},
}

// streamsFact marks a package that opens a long-lived Kubernetes stream
// (a Watch, a rest.Request's Stream), itself or through a package of its
// module it imports: a rest.Config made for it must not get a Timeout,
// which would cut the streams.
type streamsFact struct{ At string }

func (*streamsFact) AFact()           {}
func (f *streamsFact) String() string { return "streams at " + f.At }

// resultsFact says which results of a function are values of a tracked
// type with (Kind 1) or without (Kind 2) a timeout.
type resultsFact struct{ Results []factBound }

// fieldFact says whether the values a struct field holds, stored
// anywhere in its package, have a timeout.
type fieldFact struct{ Bound factBound }

// factBound is a bound as a fact carries it.
type factBound struct {
	Kind uint8
	Desc string
}

func (*resultsFact) AFact() {}
func (*fieldFact) AFact()   {}

func (f *resultsFact) String() string { return fmt.Sprintf("results%v", f.Results) }
func (f *fieldFact) String() string   { return fmt.Sprintf("field%v", f.Bound) }

// summary answers, for one package, what a function returns and what a
// field holds, from the package's own code or from its dependencies'
// facts.
type summary struct {
	pass    *analysis.Pass
	hold    *holders
	skip    map[*token.File]bool
	decls   map[*types.Func]*ast.FuncDecl
	results map[*types.Func][]bound
	busy    map[*types.Func]bool
	// visiting guards judge against cycles through its own keys.
	visiting map[any]bool
	// streams says where the package, or one of its module it imports,
	// opens a Kubernetes stream; "" if none does.
	streams string
	// sqlLocal says the package imports no database driver, but a
	// package of its module that opens only SQLite (see sqlDriversFact).
	sqlLocal bool
}

func runFacts(pass *analysis.Pass) (any, error) {
	s := &summary{
		pass:    pass,
		skip:    map[*token.File]bool{},
		decls:   map[*types.Func]*ast.FuncDecl{},
		results: map[*types.Func][]bound{},
		busy:    map[*types.Func]bool{},
	}
	for _, f := range pass.Files {
		tf := pass.Fset.File(f.Pos())
		if tf != nil && skipFile(tf.Name(), f) {
			s.skip[tf] = true
			continue
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				if fn, ok := pass.TypesInfo.Defs[fd.Name].(*types.Func); ok {
					s.decls[fn] = fd
				}
			}
		}
	}
	s.hold = newHolders(pass, s.skip)
	if len(pass.Files) == 0 {
		return s, nil
	}
	s.sqlLocal = exportDrivers(pass)
	if at := s.findStreams(); at != "" {
		s.streams = at
		pass.ExportPackageFact(&streamsFact{At: at})
	}
	for fn := range s.decls {
		rs := s.funcResults(fn)
		fact := &resultsFact{}
		known := false
		for _, r := range rs {
			fact.Results = append(fact.Results, s.toFact(r, ""))
			known = known || r.kind != unknownBound
		}
		if known {
			pass.ExportObjectFact(fn, fact)
		}
	}
	for _, o := range pass.TypesInfo.Defs {
		v, ok := o.(*types.Var)
		if !ok || !v.IsField() || v.Pkg() != pass.Pkg {
			continue
		}
		t := trackedAny(v.Type())
		if t == nil {
			continue
		}
		if b := s.fieldBound(v, t); b.kind != unknownBound {
			pass.ExportObjectFact(v, &fieldFact{Bound: s.toFact(b, "held in field "+fieldLabel(v))})
		}
	}
	return s, nil
}

// toFact turns a bound into a fact's, saying where it was built.
func (s *summary) toFact(b bound, how string) factBound {
	desc := b.desc
	if desc == "" && b.pos.IsValid() {
		desc = "built at " + s.where(b.pos)
	}
	if desc != "" && how != "" && !strings.HasPrefix(desc, "the zero") {
		desc += ", " + how
	}
	return factBound{Kind: uint8(b.kind), Desc: desc}
}

func fromFact(f factBound) bound { return bound{kind: boundKind(f.Kind), desc: f.Desc} }

func (s *summary) where(pos token.Pos) string {
	p := s.pass.Fset.Position(pos)
	return fmt.Sprintf("%s:%d", filepath.Base(p.Filename), p.Line)
}

// funcLabel names a function for a message: pkg.Name or pkg.Type.Name.
func funcLabel(f *types.Func) string {
	name := f.Name()
	if r := f.Signature().Recv(); r != nil {
		t := r.Type()
		if p, ok := t.(*types.Pointer); ok {
			t = p.Elem()
		}
		if n, ok := types.Unalias(t).(*types.Named); ok {
			name = n.Obj().Name() + "." + name
		}
	}
	if f.Pkg() != nil {
		name = f.Pkg().Name() + "." + name
	}
	return name
}

// findStreams returns where the package opens a Kubernetes stream, or
// else where a package of the same module it imports does; "" if none.
func (s *summary) findStreams() string {
	for _, f := range s.pass.Files {
		if tf := s.pass.Fset.File(f.Pos()); tf != nil && s.skip[tf] {
			continue
		}
		at := ""
		ast.Inspect(f, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok && at == "" && streamCall(calleeFunc(s.pass.TypesInfo, call)) {
				at = s.where(call.Pos())
			}
			return at == ""
		})
		if at != "" {
			return at
		}
	}
	mod := ""
	if s.pass.Module != nil {
		mod = s.pass.Module.Path
	}
	for _, imp := range s.pass.Pkg.Imports() {
		if mod != "" && imp.Path() != mod && !strings.HasPrefix(imp.Path(), mod+"/") {
			continue // client-go's own watches are not this module's streams
		}
		var fact streamsFact
		if s.pass.ImportPackageFact(imp, &fact) {
			if strings.Contains(fact.At, " in package ") {
				return fact.At
			}
			return fact.At + " in package " + imp.Name()
		}
	}
	return ""
}
