package vet

import (
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
)

// holders follows the struct values a package builds (an http.Client, a
// net.Dialer, a rest.Config...) from the expression that builds them to
// where they are kept and used, and records the fields set after the
// fact (c.Timeout = ...).
//
// A value is keyed by the expression that builds it (a composite
// literal, new(T), a call, or the name in `var x T`). A local variable
// assigned once stands for its value; a field, a package variable or a
// local assigned more than once is keyed by its types.Object, and flows
// lists the values stored in it anywhere in the package.
type holders struct {
	info  *types.Info
	defs  map[*types.Var]ast.Expr     // a local's only definition
	multi map[*types.Var]bool         // locals assigned more than once, or whose address is taken
	flows map[types.Object][]any      // values stored in a field, package variable or multi local
	set   map[any]map[string]bool     // fields assigned after the value was built; "*" for maybe any
	held  map[ast.Expr][]types.Object // where each built value is stored
	pkg   *types.Package
	decls map[*types.Func]*ast.FuncDecl // the package's functions
	sums  map[*types.Func][]map[string]bool
}

func newHolders(pass *analysis.Pass, skip map[*token.File]bool) *holders {
	h := &holders{
		info:  pass.TypesInfo,
		pkg:   pass.Pkg,
		defs:  map[*types.Var]ast.Expr{},
		multi: map[*types.Var]bool{},
		flows: map[types.Object][]any{},
		set:   map[any]map[string]bool{},
		held:  map[ast.Expr][]types.Object{},
		decls: map[*types.Func]*ast.FuncDecl{},
		sums:  map[*types.Func][]map[string]bool{},
	}
	var files []*ast.File
	for _, f := range pass.Files {
		if tf := pass.Fset.File(f.Pos()); tf != nil && !skip[tf] {
			files = append(files, f)
		}
	}
	for _, f := range files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				if fn, ok := h.info.Defs[fd.Name].(*types.Func); ok {
					h.decls[fn] = fd
				}
			}
		}
	}
	// First the locals' definitions, so keys resolve through them.
	count := map[*types.Var]int{}
	define := func(id *ast.Ident, def ast.Expr) {
		v := h.localVar(id)
		if v == nil {
			return
		}
		count[v]++
		if def != nil {
			h.defs[v] = def
		}
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				for i, l := range n.Lhs {
					if id, ok := ast.Unparen(l).(*ast.Ident); ok {
						define(id, rhsFor(n.Lhs, n.Rhs, i, n.Tok))
					}
				}
			case *ast.ValueSpec:
				for i, id := range n.Names {
					switch {
					case len(n.Values) == 0:
						define(id, id) // var x T: the zero value, keyed by its name
					default:
						define(id, rhsFor(nil, n.Values, i, token.DEFINE, len(n.Names)))
					}
				}
			case *ast.UnaryExpr:
				if id, ok := ast.Unparen(n.X).(*ast.Ident); ok && n.Op == token.AND {
					if v := h.localVar(id); v != nil {
						h.multi[v] = true
					}
				}
			}
			return true
		})
	}
	for v, n := range count {
		if n > 1 {
			h.multi[v] = true
		}
	}
	// Then where values go and which fields are set later.
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				for i, l := range n.Lhs {
					h.store(l, rhsFor(n.Lhs, n.Rhs, i, n.Tok))
				}
			case *ast.ValueSpec:
				for i, id := range n.Names {
					if len(n.Values) > 0 {
						h.store(id, rhsFor(nil, n.Values, i, token.DEFINE, len(n.Names)))
					}
				}
			case *ast.CompositeLit:
				st, _ := typeOrNil(h.info.TypeOf(n)).Underlying().(*types.Struct)
				for i, e := range n.Elts {
					kv, ok := e.(*ast.KeyValueExpr)
					if !ok {
						// &T{&u, client}: an unkeyed literal sets its fields in order.
						if st != nil && i < st.NumFields() {
							h.flow(st.Field(i), e)
						}
						continue
					}
					if id, ok := kv.Key.(*ast.Ident); ok {
						if fv, ok := h.info.Uses[id].(*types.Var); ok && fv.IsField() {
							h.flow(fv, kv.Value)
						}
					}
				}
			case *ast.CallExpr:
				h.passed(n)
			}
			return true
		})
	}
	return h
}

// rhsFor returns the expression assigned to lhs[i]: the matching value,
// or for x, err := f() the call (standing for its first result). n is
// the number of names when lhs is nil (a var spec).
func rhsFor(lhs, rhs []ast.Expr, i int, tok token.Token, n ...int) ast.Expr {
	names := len(lhs)
	if lhs == nil && len(n) > 0 {
		names = n[0]
	}
	if tok != token.ASSIGN && tok != token.DEFINE {
		return nil // x += y
	}
	switch {
	case len(rhs) == names:
		return rhs[i]
	case len(rhs) == 1 && i == 0:
		if _, ok := ast.Unparen(rhs[0]).(*ast.CallExpr); ok {
			return rhs[0]
		}
	}
	return nil
}

// localVar returns the function-local variable id names, or nil.
func (h *holders) localVar(id *ast.Ident) *types.Var {
	if id.Name == "_" {
		return nil
	}
	obj := h.info.Defs[id]
	if obj == nil {
		obj = h.info.Uses[id]
	}
	v, ok := obj.(*types.Var)
	if !ok || v.IsField() || v.Pkg() == nil || v.Parent() == v.Pkg().Scope() {
		return nil
	}
	return v
}

// store records lhs = rhs: a field set on a value, or a value kept in a
// field, package variable or multi-assigned local.
func (h *holders) store(lhs, rhs ast.Expr) {
	lhs = ast.Unparen(lhs)
	if sel, ok := lhs.(*ast.SelectorExpr); ok && (rhs == nil || !h.zeroConst(rhs)) {
		if s := h.info.Selections[sel]; s != nil && s.Kind() == types.FieldVal {
			if k := h.key(sel.X); k != nil {
				h.setField(k, sel.Sel.Name)
			}
		}
	}
	if rhs == nil {
		return
	}
	if o, ok := h.key(lhs).(types.Object); ok {
		h.flow(o, rhs)
	}
}

func (h *holders) setField(k any, name string) {
	if h.set[k] == nil {
		h.set[k] = map[string]bool{}
	}
	h.set[k][name] = true
}

func (h *holders) flow(o types.Object, rhs ast.Expr) {
	k := h.key(rhs)
	if k == nil {
		return
	}
	h.flows[o] = append(h.flows[o], k)
	if e, ok := k.(ast.Expr); ok {
		h.held[e] = append(h.held[e], o)
	}
}

// passed records the fields a function of this package may set on the
// values handed to it by pointer: those its body assigns on the
// parameter (p.ReadHeaderTimeout = ...), directly or through the
// functions of the package it hands the parameter to. A parameter the
// function keeps, returns, dereferences or calls a method of this
// package on may have any field set. Functions of other packages set
// nothing: their parameters are not followed.
func (h *holders) passed(call *ast.CallExpr) {
	var fn *types.Func
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		fn, _ = h.info.Uses[f].(*types.Func)
	case *ast.SelectorExpr:
		fn, _ = h.info.Uses[f.Sel].(*types.Func)
	}
	if fn == nil || fn.Pkg() != h.pkg {
		return
	}
	sets := h.paramSets(fn)
	for i, a := range call.Args {
		if _, ok := h.info.TypeOf(a).(*types.Pointer); !ok {
			continue
		}
		k := h.key(a)
		if k == nil {
			continue
		}
		if i >= len(sets) || sets[i] == nil {
			h.setField(k, "*")
			continue
		}
		for f := range sets[i] {
			h.setField(k, f)
		}
	}
}

// paramSets returns, for each parameter of fn, a function of this
// package, the fields its body may set on it; nil for possibly any
// field. A function without a body, a variadic one, or one reached
// again while being summarised (recursion) may set any.
func (h *holders) paramSets(fn *types.Func) []map[string]bool {
	if s, ok := h.sums[fn]; ok {
		return s
	}
	h.sums[fn] = nil // in progress: any field
	decl := h.decls[fn]
	if decl == nil || decl.Body == nil || fn.Signature().Variadic() {
		return nil
	}
	var params []*types.Var
	for _, fld := range decl.Type.Params.List {
		if len(fld.Names) == 0 {
			params = append(params, nil)
		}
		for _, id := range fld.Names {
			v, _ := h.info.Defs[id].(*types.Var)
			params = append(params, v)
		}
	}
	sets := make([]map[string]bool, len(params))
	index := map[*types.Var]int{}
	for i, v := range params {
		sets[i] = map[string]bool{}
		if v != nil {
			index[v] = i
		}
	}
	inspectStack(decl.Body, func(n ast.Node, stack []ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok {
			return true
		}
		v, _ := h.info.Uses[id].(*types.Var)
		i, ok := index[v]
		if !ok || sets[i] == nil {
			return true
		}
		if !h.paramUse(stack, sets[i]) {
			sets[i] = nil
		}
		return true
	})
	h.sums[fn] = sets
	return sets
}

// paramUse adds to set the fields the use of a parameter at the top of
// stack (its identifier, then its parents) sets on it, and reports
// false if the use may set any field.
func (h *holders) paramUse(stack []ast.Node, set map[string]bool) bool {
	id := stack[len(stack)-1].(ast.Expr)
	var parent, grand ast.Node
	if len(stack) > 1 {
		parent = stack[len(stack)-2]
	}
	if len(stack) > 2 {
		grand = stack[len(stack)-3]
	}
	switch p := parent.(type) {
	case *ast.SelectorExpr:
		s := h.info.Selections[p]
		if s == nil {
			return false
		}
		if s.Kind() != types.FieldVal {
			// A method: one of this package may set anything.
			return s.Obj().Pkg() != h.pkg
		}
		switch g := grand.(type) {
		case *ast.AssignStmt:
			for _, l := range g.Lhs {
				if l == p {
					set[p.Sel.Name] = true
				}
			}
		case *ast.IncDecStmt:
			set[p.Sel.Name] = true
		case *ast.UnaryExpr:
			if g.Op == token.AND {
				set[p.Sel.Name] = true
			}
		}
		return true
	case *ast.CallExpr:
		if p.Fun == id {
			return false
		}
		var fn *types.Func
		switch f := ast.Unparen(p.Fun).(type) {
		case *ast.Ident:
			fn, _ = h.info.Uses[f].(*types.Func)
			if _, ok := h.info.Uses[f].(*types.Builtin); ok {
				return true // len, cap...
			}
		case *ast.SelectorExpr:
			fn, _ = h.info.Uses[f.Sel].(*types.Func)
		}
		if fn == nil {
			return false // a function value, a conversion
		}
		if fn.Pkg() != h.pkg {
			return true // not followed, as in passed
		}
		sub := h.paramSets(fn)
		for i, a := range p.Args {
			if a != id {
				continue
			}
			if i >= len(sub) || sub[i] == nil {
				return false
			}
			for f := range sub[i] {
				set[f] = true
			}
		}
		return true
	case *ast.BinaryExpr:
		return true // p == nil
	case *ast.IfStmt, *ast.ExprStmt:
		return true
	}
	return false
}

// key returns what e's value is keyed by: the expression that built it
// or the object that holds it; nil if neither is known.
func (h *holders) key(e ast.Expr) any {
	for depth := 0; depth < 8; depth++ {
		switch x := ast.Unparen(e).(type) {
		case *ast.UnaryExpr:
			if x.Op != token.AND {
				return nil
			}
			e = x.X
		case *ast.StarExpr:
			e = x.X // a copy has the fields of its original
		case *ast.CompositeLit, *ast.CallExpr:
			return x
		case *ast.Ident:
			obj := h.info.Uses[x]
			if obj == nil {
				obj = h.info.Defs[x]
			}
			v, ok := obj.(*types.Var)
			if !ok {
				return nil
			}
			if lv := h.localVar(x); lv != nil && !h.multi[lv] {
				def := h.defs[lv]
				if def == nil {
					return v // a parameter, a range variable...
				}
				if id, ok := def.(*ast.Ident); ok && h.info.Defs[id] == v {
					return def // var x T
				}
				e = def
				continue
			}
			return v
		case *ast.SelectorExpr:
			if s := h.info.Selections[x]; s != nil {
				if s.Kind() == types.FieldVal {
					return s.Obj()
				}
				return nil
			}
			if v, ok := h.info.Uses[x.Sel].(*types.Var); ok {
				return v // pkg.Var
			}
			return nil
		default:
			return nil
		}
	}
	return nil
}

// typeOrNil returns t, or an empty struct type for nil, so that
// Underlying can be called on it.
func typeOrNil(t types.Type) types.Type {
	if t == nil {
		return types.NewStruct(nil, nil)
	}
	return t
}

// origins returns the values e may hold (the expressions that built
// them) and every key on the way, for fields set later.
func (h *holders) origins(e ast.Expr) (built []ast.Expr, keys []any) {
	return h.originsOf(h.key(e))
}

// originsOf is origins from a key: an expression that builds a value,
// or the object that holds one.
func (h *holders) originsOf(start any) (built []ast.Expr, keys []any) {
	seen := map[any]bool{}
	var walk func(k any)
	walk = func(k any) {
		if k == nil || seen[k] {
			return
		}
		seen[k] = true
		keys = append(keys, k)
		switch k := k.(type) {
		case ast.Expr:
			built = append(built, k)
			for _, o := range h.held[k] {
				if !seen[o] {
					seen[o] = true
					keys = append(keys, o)
				}
			}
		case types.Object:
			for _, f := range h.flows[k] {
				walk(f)
			}
		}
	}
	walk(start)
	return built, keys
}

// setLater reports whether one of fields (or possibly any field) is
// assigned on a value through one of keys.
func (h *holders) setLater(keys []any, fields ...string) bool {
	for _, k := range keys {
		for _, f := range append(fields, "*") {
			if h.set[k][f] {
				return true
			}
		}
	}
	return false
}

// builds reports whether e builds a pkg.name value from nothing: a
// composite literal, new(pkg.name), or var x pkg.name.
func (h *holders) builds(e ast.Expr, pkg, name string) bool {
	switch x := e.(type) {
	case *ast.CompositeLit:
		return isNamed(h.info.TypeOf(x), pkg, name)
	case *ast.CallExpr:
		if builtinCall(h.info, x, "new") && len(x.Args) == 1 {
			return isNamed(h.info.TypeOf(x.Args[0]), pkg, name)
		}
	case *ast.Ident:
		if v, ok := h.info.Defs[x].(*types.Var); ok {
			_, ptr := v.Type().(*types.Pointer)
			return !ptr && isNamed(v.Type(), pkg, name)
		}
	}
	return false
}

// hasField reports whether e, a value-building expression, sets one of
// fields: a keyed literal naming it with a value other than a constant
// zero (ReadHeaderTimeout: 0 leaves it unset), or an unkeyed literal
// (which sets them all).
func (h *holders) hasField(e ast.Expr, fields ...string) bool {
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		return false
	}
	for _, el := range lit.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			return true
		}
		if id, ok := kv.Key.(*ast.Ident); ok {
			for _, f := range fields {
				if id.Name == f && !h.zeroConst(kv.Value) {
					return true
				}
			}
		}
	}
	return false
}

// zeroConst reports whether e is a constant zero (0, 0 * time.Second) or
// nil.
func (h *holders) zeroConst(e ast.Expr) bool {
	tv, ok := h.info.Types[e]
	if !ok {
		return false
	}
	if tv.IsNil() {
		return true
	}
	return tv.Value != nil && tv.Value.Kind() == constant.Int && constant.Sign(tv.Value) == 0
}

// fieldValue returns the value a keyed literal gives field, or nil.
func fieldValue(e ast.Expr, field string) ast.Expr {
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		return nil
	}
	for _, el := range lit.Elts {
		if kv, ok := el.(*ast.KeyValueExpr); ok {
			if id, ok := kv.Key.(*ast.Ident); ok && id.Name == field {
				return kv.Value
			}
		}
	}
	return nil
}

// sourceFields returns the struct fields the value at start is read
// from: start itself, or fields whose values flow into it, following
// the values stored in fields, package variables and locals.
func (h *holders) sourceFields(start any) []*types.Var {
	var out []*types.Var
	seen := map[any]bool{}
	var walk func(k any)
	walk = func(k any) {
		o, ok := k.(types.Object)
		if !ok || seen[k] {
			return
		}
		seen[k] = true
		if v, ok := o.(*types.Var); ok && v.IsField() {
			out = append(out, v)
		}
		for _, f := range h.flows[o] {
			walk(f)
		}
	}
	walk(start)
	return out
}
