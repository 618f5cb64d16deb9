package vet

import (
	"fmt"
	"go/ast"
	"go/types"
	"reflect"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ssa"
)

// buildSSA is buildssa without its ctrlflow prerequisite: ctrlflow
// exchanges facts, so a driver would have to type-check every
// dependency from source (all of client-go for a Kubernetes program);
// without it, dependencies come from export data and `diag vet ./...`
// stays fast. The price is a CFG that does not know log.Fatal and the
// like never return, which costs these checks nothing.
var buildSSA = &analysis.Analyzer{
	Name:       "diagvetssa",
	Doc:        "build SSA form for diag vet's checks",
	Run:        runBuildSSA,
	ResultType: reflect.TypeFor[*ssaResult](),
}

// ssaResult is the package's SSA form and its source functions,
// function literals included, in source order.
type ssaResult struct {
	Pkg      *ssa.Package
	SrcFuncs []*ssa.Function
	// Failed says why the SSA form could not be built, when it could
	// not: the package is then left unchecked, and the httpclient check
	// says so on it (once, not once per check).
	Failed string
}

// buildPackage builds pkg's SSA form; a variable so that a test can
// make it fail as golang.org/x/tools/go/ssa does on some real code.
var buildPackage = func(pkg *ssa.Package) { pkg.Build() }

func runBuildSSA(pass *analysis.Pass) (res any, err error) {
	if len(pass.Files) == 0 {
		// A dependency from export data, visited for facts: nothing
		// to build.
		return &ssaResult{}, nil
	}
	// go/ssa panics on some packages it cannot build (seen on a
	// dependency in another module: "no types.Object for ast.Ident").
	// One such package must not end the whole run, whose exit status
	// would then read as a usage error: it is left unchecked, and said
	// so where it is a package being checked (diagnostics on
	// dependencies are not shown).
	defer func() {
		if r := recover(); r != nil {
			res, err = &ssaResult{Failed: fmt.Sprint(r)}, nil
		}
	}()
	prog := ssa.NewProgram(pass.Fset, 0)
	for _, p := range pass.Pkg.Imports() {
		prog.CreatePackage(p, nil, nil, true)
	}
	pkg := prog.CreatePackage(pass.Pkg, pass.Files, pass.TypesInfo, false)
	buildPackage(pkg)
	var funcs []*ssa.Function
	var addAnons func(f *ssa.Function)
	addAnons = func(f *ssa.Function) {
		funcs = append(funcs, f)
		for _, anon := range f.AnonFuncs {
			addAnons(anon)
		}
	}
	for _, file := range pass.Files {
		for _, decl := range file.Decls {
			if decl, ok := decl.(*ast.FuncDecl); ok {
				if fn, ok := pass.TypesInfo.Defs[decl.Name].(*types.Func); ok {
					if f := prog.FuncValue(fn); f != nil {
						addAnons(f)
					}
				}
			}
		}
	}
	return &ssaResult{Pkg: pkg, SrcFuncs: funcs}, nil
}
