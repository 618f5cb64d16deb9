package vet

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"path/filepath"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ssa"
)

// Analyzers returns every diag vet analyzer: the entry point for a
// multichecker, `diag vet` and other tools.
func Analyzers() []*analysis.Analyzer {
	return []*analysis.Analyzer{HTTPClient, KubeClient, SQL, Dial, HTTPServer, Ignore}
}

// checker is what every analyzer's run shares on one package: the SSA
// form, the AST calls by position, the suppression comments and the
// values the package builds.
type checker struct {
	pass     *analysis.Pass
	funcs    []*ssa.Function // the package's source functions, test and generated files left out
	calls    map[token.Pos]*ast.CallExpr
	skip     map[*token.File]bool
	ignores  map[*token.File]map[int]ignoreComment
	reported map[token.Pos]bool
	hold     *holders
	sum      *summary
	closures map[*ssa.Function]*ssa.MakeClosure
	loops    map[*ssa.BasicBlock]bool
	// helpers are the bodies of test helpers outside _test.go files
	// (functions taking a *testing.T, B, F or a testing.TB): go test's
	// -timeout bounds them, as it bounds test files.
	helpers []posRange
	// anyReadDeadline caches whether a function of the package sets a
	// read deadline (connread.go), nil until asked.
	anyReadDeadline *bool
	// fieldCtx caches what contexts kept in struct fields are
	// (trace.go's fieldContext).
	fieldCtx map[*types.Var]ctxState
}

type posRange struct{ from, to token.Pos }

func newChecker(pass *analysis.Pass) *checker {
	c := &checker{
		pass:     pass,
		calls:    map[token.Pos]*ast.CallExpr{},
		skip:     map[*token.File]bool{},
		ignores:  map[*token.File]map[int]ignoreComment{},
		reported: map[token.Pos]bool{},
		fieldCtx: map[*types.Var]ctxState{},
	}
	for _, f := range pass.Files {
		tf := pass.Fset.File(f.Pos())
		if tf == nil {
			continue
		}
		if skipFile(tf.Name(), f) {
			c.skip[tf] = true
			continue
		}
		c.ignores[tf] = ignoreComments(pass.Fset, f)
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				c.calls[n.Lparen] = n
			case *ast.FuncDecl:
				if n.Body != nil && c.takesTesting(n.Type) {
					c.helpers = append(c.helpers, posRange{n.Pos(), n.End()})
				}
			case *ast.FuncLit:
				if c.takesTesting(n.Type) {
					c.helpers = append(c.helpers, posRange{n.Pos(), n.End()})
				}
			}
			return true
		})
	}
	if res, ok := pass.ResultOf[buildSSA].(*ssaResult); ok && res.Failed != "" && pass.Analyzer.Name == "httpclient" && len(pass.Files) > 0 {
		pass.Reportf(pass.Files[0].Package, "diag vet could not check package %s: building its SSA form failed (%s); its calls were not checked",
			pass.Pkg.Path(), res.Failed)
	}
	if res, ok := pass.ResultOf[buildSSA].(*ssaResult); ok {
		for _, fn := range res.SrcFuncs {
			if !c.skipped(fn.Pos()) {
				c.funcs = append(c.funcs, fn)
			}
		}
	}
	// Every analyzer that makes a checker requires Facts, whose holders
	// index the package once for all of them.
	c.sum = pass.ResultOf[Facts].(*summary)
	c.hold = c.sum.hold
	return c
}

// skipFile reports whether name is a file diag vet leaves alone: tests
// (go test's -timeout bounds them, and STYLE.md allows a background
// context there) and generated code.
func skipFile(name string, f *ast.File) bool {
	return strings.HasSuffix(name, "_test.go") || ast.IsGenerated(f)
}

// skipped reports whether pos is in a file or a test helper the checks
// leave alone.
func (c *checker) skipped(pos token.Pos) bool {
	tf := c.pass.Fset.File(pos)
	if tf == nil || c.skip[tf] {
		return true
	}
	for _, r := range c.helpers {
		if r.from <= pos && pos < r.to {
			return true
		}
	}
	return false
}

// takesTesting reports whether a function of type ft has a parameter
// of one of package testing's test handles: *testing.T, *testing.B,
// *testing.F or testing.TB.
func (c *checker) takesTesting(ft *ast.FuncType) bool {
	for _, field := range ft.Params.List {
		t := c.pass.TypesInfo.TypeOf(field.Type)
		for _, name := range []string{"T", "B", "F", "TB"} {
			if isNamed(t, "testing", name) {
				return true
			}
		}
	}
	return false
}

// report records a finding at pos unless a //diag:ignore with a reason
// sits on its line or the line above, or the same position already has
// one.
func (c *checker) report(pos token.Pos, format string, args ...any) {
	if !pos.IsValid() || c.skipped(pos) || c.reported[pos] {
		return
	}
	tf := c.pass.Fset.File(pos)
	line := tf.Line(pos)
	for _, l := range []int{line, line - 1} {
		if ic, ok := c.ignores[tf][l]; ok && ic.reason != "" {
			return
		}
	}
	c.reported[pos] = true
	c.pass.Report(analysis.Diagnostic{Pos: pos, Message: fmt.Sprintf(format, args...)})
}

// inspect walks the syntax of the package's checked files (test and
// generated files left out) with ast.Inspect.
func (c *checker) inspect(f func(ast.Node) bool) {
	for _, file := range c.pass.Files {
		if !c.skipped(file.Pos()) {
			ast.Inspect(file, f)
		}
	}
}

// where renders pos as file:line for a message.
func (c *checker) where(pos token.Pos) string {
	p := c.pass.Fset.Position(pos)
	return fmt.Sprintf("%s:%d", filepath.Base(p.Filename), p.Line)
}

// site is one call in the package's SSA form.
type site struct {
	fn     *ssa.Function
	instr  ssa.CallInstruction
	common *ssa.CallCommon
	callee *types.Func   // the static callee or the interface method; nil for a call of a func value
	static *ssa.Function // the static callee, if any
	expr   *ast.CallExpr // the call in the source, if found
}

// pos is where a finding about the call goes: the start of the call
// expression, so a //diag:ignore above a multi-line statement applies.
func (s *site) pos() token.Pos {
	if s.expr != nil {
		return s.expr.Pos()
	}
	return s.common.Pos()
}

// arg returns the argument for the callee's i-th declared parameter
// (not counting a method's receiver), or nil.
func (s *site) arg(i int) ssa.Value {
	if s.static != nil && s.static.Signature.Recv() != nil && !s.common.IsInvoke() {
		i++ // a static method call passes the receiver first
	}
	if i < 0 || i >= len(s.common.Args) {
		return nil
	}
	return s.common.Args[i]
}

// inspectStack walks root like ast.Inspect, calling f on each node with
// the path to it, root first and the node last; f returns whether to
// walk the node's children.
func inspectStack(root ast.Node, f func(n ast.Node, stack []ast.Node) bool) {
	var stack []ast.Node
	ast.Inspect(root, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		if !f(n, stack) {
			stack = stack[:len(stack)-1] // no children, so no closing call
			return false
		}
		return true
	})
}

// sites calls f on every call in the package's checked functions.
func (c *checker) sites(f func(*site)) {
	for _, fn := range c.funcs {
		for _, b := range fn.Blocks {
			for _, instr := range b.Instrs {
				ci, ok := instr.(ssa.CallInstruction)
				if !ok {
					continue
				}
				s := &site{fn: fn, instr: ci, common: ci.Common(), expr: c.calls[ci.Common().Pos()]}
				if s.common.IsInvoke() {
					s.callee = s.common.Method
				} else if sc := s.common.StaticCallee(); sc != nil {
					s.static = sc
					s.callee = funcObject(sc)
				}
				f(s)
			}
		}
	}
}

// funcObject returns the types.Func of an SSA function (its generic
// origin for an instance), or nil for a function literal or wrapper.
func funcObject(fn *ssa.Function) *types.Func {
	if o := fn.Origin(); o != nil {
		fn = o
	}
	f, _ := fn.Object().(*types.Func)
	return f
}

// isFunc reports whether f is the package-level function pkg.name.
func isFunc(f *types.Func, pkg string, names ...string) bool {
	if f == nil || f.Pkg() == nil || f.Pkg().Path() != pkg || f.Signature().Recv() != nil {
		return false
	}
	for _, n := range names {
		if f.Name() == n {
			return true
		}
	}
	return false
}

// isContextFunc reports whether f is the context package's function
// named one of names, or golang.org/x/net/context's, which older code
// imports and which forwards to it.
func isContextFunc(f *types.Func, names ...string) bool {
	return isFunc(f, "context", names...) || isFunc(f, "golang.org/x/net/context", names...)
}

// isMethod reports whether f is a method named one of names (any, if
// none) on the named type pkg.typ (or a pointer to it).
func isMethod(f *types.Func, pkg, typ string, names ...string) bool {
	if f == nil || f.Signature().Recv() == nil {
		return false
	}
	if !isNamed(f.Signature().Recv().Type(), pkg, typ) {
		return false
	}
	if len(names) == 0 {
		return true
	}
	for _, n := range names {
		if f.Name() == n {
			return true
		}
	}
	return false
}

// isNamed reports whether t is pkg.name or a pointer to it.
func isNamed(t types.Type, pkg, name string) bool {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	if !ok {
		return false
	}
	o := n.Origin().Obj()
	return o.Pkg() != nil && o.Pkg().Path() == pkg && o.Name() == name
}

// isContext reports whether t is context.Context.
func isContext(t types.Type) bool { return isNamed(t, "context", "Context") }

// firstParamIsContext reports whether f's first parameter is a
// context.Context.
func firstParamIsContext(f *types.Func) bool {
	p := f.Signature().Params()
	return p.Len() > 0 && isContext(p.At(0).Type())
}

// funcName is how a message names a function of the package.
func funcName(fn *ssa.Function) string {
	if fn.Parent() != nil {
		return "a function literal in " + funcName(fn.Parent())
	}
	if f := funcObject(fn); f != nil {
		if r := f.Signature().Recv(); r != nil {
			t := r.Type()
			if p, ok := t.(*types.Pointer); ok {
				t = p.Elem()
			}
			if n, ok := types.Unalias(t).(*types.Named); ok {
				return n.Obj().Name() + "." + f.Name()
			}
		}
		return f.Name()
	}
	return fn.Name()
}

// constString returns the constant string value of e, if it has one.
func constString(info *types.Info, e ast.Expr) (string, bool) {
	tv, ok := info.Types[e]
	if !ok || tv.Value == nil || tv.Value.Kind() != constant.String {
		return "", false
	}
	return constant.StringVal(tv.Value), true
}

// builtinCall reports whether call calls the builtin name (append, new).
func builtinCall(info *types.Info, call *ast.CallExpr, name string) bool {
	id, ok := ast.Unparen(call.Fun).(*ast.Ident)
	if !ok {
		return false
	}
	b, ok := info.Uses[id].(*types.Builtin)
	return ok && b.Name() == name
}

// isVar reports whether o is the package-level variable pkg.name.
func isVar(o types.Object, pkg, name string) bool {
	v, ok := o.(*types.Var)
	return ok && v.Pkg() != nil && v.Pkg().Path() == pkg && v.Name() == name && v.Parent() == v.Pkg().Scope()
}
