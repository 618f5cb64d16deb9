package vet

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/ast/astutil"
	"golang.org/x/tools/go/types/typeutil"
)

// What the checks know of a value of a tracked type (a client, a
// config, a dialer, a context): where it was built and whether it has a
// timeout, from the package's own code or its dependencies' facts.

// tracked is a struct type whose values are bounded by setting one of
// its fields.
type tracked struct {
	pkg, name string
	fields    []string // any one of them bounds the value
	noun      string   // for messages
}

var (
	httpClientT = &tracked{"net/http", "Client", []string{"Timeout"}, "http.Client"}
	restConfigT = &tracked{restPkg, "Config", []string{"Timeout"}, "rest.Config"}
	netDialerT  = &tracked{"net", "Dialer", []string{"Timeout", "Deadline"}, "net.Dialer"}
	sshConfigT  = &tracked{sshPkg, "ClientConfig", []string{"Timeout"}, "ssh.ClientConfig"}
	wsDialerT   = &tracked{websocketPkg, "Dialer", []string{"HandshakeTimeout"}, "websocket.Dialer"}
	trackedAll  = []*tracked{httpClientT, restConfigT, netDialerT, sshConfigT, wsDialerT}
	// contextT stands for a context.Context a function returns: timed
	// when it has a deadline, untimed when it is background. Only
	// results are tracked: a context kept in a field is assumed bounded.
	contextT = &tracked{"context", "Context", nil, "context"}
)

// untimedMakers are functions outside the module known to return a
// tracked value without its timeout. Facts cover the module's own
// functions; other modules are loaded without source, hence the table.
// A maker with bgCtx set is judged only when its first argument is
// context.Background() or context.TODO() written out: golang.org/x/oauth2
// copies the Timeout of a client the context carries, and a background
// one carries none.
var untimedMakers = []struct {
	pkg, name string
	t         *tracked
	bgCtx     bool
}{
	{"github.com/hashicorp/go-cleanhttp", "DefaultClient", httpClientT, false},
	{"github.com/hashicorp/go-cleanhttp", "DefaultPooledClient", httpClientT, false},
	{"golang.org/x/oauth2", "NewClient", httpClientT, true},
	{"golang.org/x/oauth2/google", "DefaultClient", httpClientT, true},
}

// kubeClientT stands for a client-go client (a clientset, a dynamic or
// REST client): timed when a NewForConfig (or kin) made it from a config
// with Timeout, for then client-go bounds every request. It has no
// timeout field of its own.
var kubeClientT = &tracked{clientGo, "", nil, "client-go client"}

// isKubeClient reports whether t is, or points to, a type of client-go
// other than rest.Config.
func isKubeClient(t types.Type) bool {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	if !ok {
		return false
	}
	o := n.Origin().Obj()
	return o.Pkg() != nil && strings.HasPrefix(o.Pkg().Path(), clientGo) && !(o.Pkg().Path() == restPkg && o.Name() == "Config")
}

// trackedAny is trackedOf, or kubeClientT for a client-go client: what
// function results and struct fields are summarised for.
func trackedAny(t types.Type) *tracked {
	if tt := trackedOf(t); tt != nil {
		return tt
	}
	if isKubeClient(t) {
		return kubeClientT
	}
	return nil
}

// trackedOf returns the tracked type t is, or points to, or nil.
func trackedOf(t types.Type) *tracked {
	for _, tt := range trackedAll {
		if isNamed(t, tt.pkg, tt.name) {
			return tt
		}
	}
	return nil
}

// boundKind is what is known of a value's timeout.
type boundKind uint8

const (
	unknownBound boundKind = iota // a parameter, a call nobody summarised...: assumed bounded
	timed                         // built with its timeout field set, or set later
	untimed                       // built without it, on some path
)

// A bound is what is known of one value of a tracked type.
type bound struct {
	kind boundKind
	// pos is where an untimed value was built, when that is in the
	// package being checked: a finding goes there. NoPos otherwise.
	pos token.Pos
	// desc says where an untimed value comes from when pos is not
	// enough: "http.Client built at client.go:12, returned by httpx.New".
	desc string
}

// merge joins the bounds of two values a variable may hold: untimed if
// either is, timed if both are, unknown otherwise.
func merge(a, b bound) bound {
	switch {
	case a.kind == untimed:
		return a
	case b.kind == untimed:
		return b
	case a.kind == timed && b.kind == timed:
		return a
	}
	return bound{}
}

// funcResults returns what f's results are, one bound each (nil when
// none is of a tracked type): from f's body in this package, or from
// the fact its own package exported.
func (s *summary) funcResults(f *types.Func) []bound {
	if f == nil {
		return nil
	}
	f = f.Origin()
	if f.Pkg() != s.pass.Pkg {
		var fact resultsFact
		if f.Pkg() == nil || !s.pass.ImportObjectFact(f, &fact) {
			return nil
		}
		out := make([]bound, len(fact.Results))
		for i, r := range fact.Results {
			out[i] = fromFact(r)
		}
		return out
	}
	if rs, ok := s.results[f]; ok {
		return rs
	}
	decl := s.decls[f]
	if decl == nil || s.busy[f] {
		return nil // no body here, or recursion: nothing known
	}
	res := f.Signature().Results()
	kinds := make([]*tracked, res.Len())
	anyTracked := false
	for i := range res.Len() {
		kinds[i] = trackedAny(res.At(i).Type())
		if isContext(res.At(i).Type()) {
			kinds[i] = contextT
		}
		anyTracked = anyTracked || kinds[i] != nil
	}
	if !anyTracked {
		s.results[f] = nil
		return nil
	}
	s.busy[f] = true
	out := make([]bound, res.Len())
	seen := make([]bool, res.Len())
	add := func(i int, b bound) {
		if !seen[i] {
			out[i], seen[i] = b, true
			return
		}
		out[i] = merge(out[i], b)
	}
	ast.Inspect(decl.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false // its returns are its own
		case *ast.ReturnStmt:
			switch {
			case len(n.Results) == 0:
				for i := range kinds {
					if kinds[i] != nil {
						add(i, bound{}) // named results: not followed
					}
				}
			case len(n.Results) == 1 && res.Len() > 1:
				call, _ := ast.Unparen(n.Results[0]).(*ast.CallExpr)
				var inner []bound
				if call != nil {
					inner = s.funcResults(calleeFunc(s.pass.TypesInfo, call))
				}
				for i := range kinds {
					if kinds[i] != nil {
						b := bound{}
						switch {
						case i == 0 && call != nil:
							// return kubernetes.NewForConfig(cfg), context.WithTimeout(...)
							b = s.origin(call, kinds[0])
						case i < len(inner):
							b = inner[i]
						}
						add(i, b)
					}
				}
			default:
				for i, e := range n.Results {
					if i >= len(kinds) || kinds[i] == nil {
						continue
					}
					if tv, ok := s.pass.TypesInfo.Types[e]; ok && tv.IsNil() {
						continue // return nil, err: no value to bound
					}
					add(i, s.value(e, kinds[i]))
				}
			}
		}
		return true
	})
	delete(s.busy, f)
	for i := range out {
		switch {
		case kinds[i] == nil:
			out[i] = bound{}
		case out[i].kind == untimed && out[i].desc == "" && out[i].pos.IsValid():
			// Kept with its position, so a finding in this package goes
			// to the literal; the words are for a message elsewhere.
			out[i].desc = "built at " + s.where(out[i].pos) + ", returned by " + funcLabel(f)
		}
	}
	s.results[f] = out
	return out
}

// calleeFunc returns the function or method call calls, or nil.
func calleeFunc(info *types.Info, call *ast.CallExpr) *types.Func {
	f, _ := typeutil.Callee(info, call).(*types.Func)
	return f
}

// value is the bound of what e may hold, all its origins merged.
func (s *summary) value(e ast.Expr, t *tracked) bound { return mergeAll(s.judge(e, t)) }

// judge returns the bounds of the values e may hold, one per origin
// found (none when nothing is known): built in the package, returned
// by a summarised function, or held in a field another package filled.
// A timeout field set later on any holder on the way bounds them all.
func (s *summary) judge(e ast.Expr, t *tracked) []bound {
	if e == nil {
		return nil
	}
	k := s.hold.key(e)
	if k == nil || s.visiting[k] || len(s.visiting) > 32 {
		return nil // a cycle (ctx, cancel = context.WithCancel(ctx)) adds nothing
	}
	if s.visiting == nil {
		s.visiting = map[any]bool{}
	}
	s.visiting[k] = true
	defer delete(s.visiting, k)
	return s.judgeOrigins(k, t)
}

// judgeOrigins is judge from a holders key.
func (s *summary) judgeOrigins(start any, t *tracked) []bound {
	built, keys := s.hold.originsOf(start)
	if len(t.fields) > 0 && s.hold.setLater(keys, t.fields...) {
		return []bound{{kind: timed}}
	}
	var out []bound
	for _, b := range built {
		out = append(out, s.origin(b, t))
	}
	// Only the fields the value is read from: a field it is also stored
	// in may hold other values, which do not make this one untimed.
	for _, v := range s.hold.sourceFields(start) {
		if b, ok := s.foreignField(v); ok {
			out = append(out, b)
		} else if v.Pkg() == s.pass.Pkg && len(s.hold.flows[v]) == 0 {
			if z := s.zeroField(v, t); z.kind != unknownBound {
				out = append(out, z)
			}
		}
	}
	return out
}

// origin is the bound of one value-building expression.
func (s *summary) origin(b ast.Expr, t *tracked) bound {
	switch t {
	case contextT:
		return s.contextOrigin(b)
	case kubeClientT:
		return s.kubeClientOrigin(b)
	}
	if t == restConfigT {
		if call, ok := b.(*ast.CallExpr); ok && len(call.Args) > 0 && isCopyConfig(calleeFunc(s.pass.TypesInfo, call)) {
			return s.value(call.Args[0], t) // a copy has its original's Timeout
		}
		if s.hold.configOrigin(b) {
			if s.hold.hasField(b, t.fields...) {
				return bound{kind: timed}
			}
			return bound{kind: untimed, pos: b.Pos()}
		}
	} else if s.hold.builds(b, t.pkg, t.name) {
		if s.hold.hasField(b, t.fields...) {
			return bound{kind: timed}
		}
		if t == httpClientT && s.inProcessTransport(b) {
			return bound{} // nothing goes over a network: nothing known
		}
		return bound{kind: untimed, pos: b.Pos()}
	}
	call, ok := b.(*ast.CallExpr)
	if !ok {
		return bound{}
	}
	f := calleeFunc(s.pass.TypesInfo, call)
	for _, u := range untimedMakers {
		if u.t == t && isFunc(f, u.pkg, u.name) && (!u.bgCtx || len(call.Args) > 0 && isBackgroundCall(s.pass.TypesInfo, call.Args[0])) {
			return bound{kind: untimed, pos: call.Pos()}
		}
	}
	rs := s.funcResults(f)
	if len(rs) == 0 {
		return bound{}
	}
	return rs[0] // x := f() and x, err := f() hold its first result
}

// foreignField returns the fact on a field declared in another package.
func (s *summary) foreignField(v *types.Var) (bound, bool) {
	if v.Pkg() == nil || v.Pkg() == s.pass.Pkg {
		return bound{}, false
	}
	var fact fieldFact
	if !s.pass.ImportObjectFact(v, &fact) {
		return bound{}, false
	}
	return fromFact(fact.Bound), true
}

// zeroField is the bound of a field of this package that holds a
// tracked struct by value and is never assigned: its zero value, with
// no timeout unless one is set on it somewhere.
func (s *summary) zeroField(v *types.Var, t *tracked) bound {
	if _, ptr := types.Unalias(v.Type()).(*types.Pointer); ptr || t == kubeClientT || trackedOf(v.Type()) != t {
		return bound{}
	}
	if t == restConfigT {
		return bound{} // a zero rest.Config has no host: it is filled in elsewhere
	}
	if s.hold.setLater([]any{v}, t.fields...) {
		return bound{kind: timed}
	}
	return bound{kind: untimed, desc: fmt.Sprintf("the zero %s in field %s (%s), never given %s", t.noun, fieldLabel(v), s.where(v.Pos()), t.fields[0])}
}

// fieldBound is what a field of this package holds, for its fact.
func (s *summary) fieldBound(v *types.Var, t *tracked) bound {
	return mergeAll(s.judgeOrigins(v, t))
}

// mergeAll merges bounds; nothing known of none.
func mergeAll(bs []bound) bound {
	if len(bs) == 0 {
		return bound{}
	}
	b := bs[0]
	for _, o := range bs[1:] {
		b = merge(b, o)
	}
	return b
}

// fieldLabel names a struct field for a message: Type.field when the
// struct is a named type of the package.
func fieldLabel(v *types.Var) string {
	if v.Pkg() == nil {
		return v.Name()
	}
	scope := v.Pkg().Scope()
	for _, name := range scope.Names() {
		tn, ok := scope.Lookup(name).(*types.TypeName)
		if !ok {
			continue
		}
		st, ok := tn.Type().Underlying().(*types.Struct)
		if !ok {
			continue
		}
		for i := range st.NumFields() {
			if st.Field(i) == v {
				return tn.Name() + "." + v.Name()
			}
		}
	}
	return v.Name()
}

// contextOrigin is the bound of a context a call makes: untimed for a
// background one, timed for one with a deadline.
func (s *summary) contextOrigin(b ast.Expr) bound {
	call, ok := b.(*ast.CallExpr)
	if !ok {
		return bound{}
	}
	f := calleeFunc(s.pass.TypesInfo, call)
	switch {
	case isContextFunc(f, "Background", "TODO"):
		return bound{kind: untimed, pos: call.Pos(), desc: "context." + f.Name() + "()"}
	case isContextFunc(f, "WithoutCancel"):
		return bound{kind: untimed, pos: call.Pos(), desc: "context.WithoutCancel(...)"}
	case isContextFunc(f, "WithTimeout", "WithDeadline", "WithTimeoutCause", "WithDeadlineCause"):
		return bound{kind: timed}
	case isContextFunc(f, "WithCancel", "WithCancelCause") && s.endsByTimer(call):
		return bound{} // ended by a timer: bounded, by how much not known
	case isContextFunc(f, "WithCancel", "WithCancelCause", "WithValue"), isFunc(f, "os/signal", "NotifyContext"):
		if len(call.Args) > 0 {
			return s.value(call.Args[0], contextT)
		}
		return bound{}
	}
	rs := s.funcResults(f)
	if len(rs) == 0 {
		return bound{}
	}
	return rs[0]
}

// kubeClientOrigin is the bound of a client-go client a call makes:
// timed when a NewForConfig (or kin) makes it from a config with
// Timeout, or a function of the module returns such a client.
func (s *summary) kubeClientOrigin(b ast.Expr) bound {
	call, ok := b.(*ast.CallExpr)
	if !ok {
		return bound{}
	}
	f := calleeFunc(s.pass.TypesInfo, call)
	if isConfigSink(f) {
		for _, a := range call.Args {
			if isNamed(s.pass.TypesInfo.TypeOf(a), restPkg, "Config") && s.value(a, restConfigT).kind == timed {
				return bound{kind: timed}
			}
		}
		return bound{} // without Timeout the request's context is what counts
	}
	rs := s.funcResults(f)
	if len(rs) == 0 || rs[0].kind != timed {
		return bound{}
	}
	return rs[0]
}

// inProcessTransport reports whether an http.Client literal's Transport
// is a value of a struct type, not the standard library's, that holds
// nothing able to reach a network: no RoundTripper, dialer, connection,
// function or empty interface (fake-gcs-server's muxTransport, which
// hands each request to an http.Handler in the process).
func (s *summary) inProcessTransport(b ast.Expr) bool {
	lit, ok := b.(*ast.CompositeLit)
	if !ok {
		return false
	}
	v := keyed(lit, "Transport")
	if v == nil {
		return false
	}
	t := s.pass.TypesInfo.TypeOf(v)
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	if !ok || n.Obj().Pkg() == nil || stdPath(n.Obj().Pkg().Path()) && n.Obj().Pkg() != s.pass.Pkg {
		return false
	}
	st, ok := n.Underlying().(*types.Struct)
	if !ok {
		return false
	}
	for i := range st.NumFields() {
		if mayReachNetwork(st.Field(i).Type(), 0) {
			return false
		}
	}
	return true
}

// mayReachNetwork reports whether a value of type t may send requests or
// dial: it has a RoundTrip, Dial or DialContext method, is of package net
// or crypto/tls, is a function or an empty interface, or is a struct
// (two levels deep) holding one.
func mayReachNetwork(t types.Type, depth int) bool {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	switch u := types.Unalias(t).Underlying().(type) {
	case *types.Signature:
		return true
	case *types.Interface:
		if u.NumMethods() == 0 {
			return true
		}
	case *types.Struct:
		if depth < 2 {
			for i := range u.NumFields() {
				if mayReachNetwork(u.Field(i).Type(), depth+1) {
					return true
				}
			}
		}
	}
	if n, ok := types.Unalias(t).(*types.Named); ok && n.Obj().Pkg() != nil {
		if p := n.Obj().Pkg().Path(); p == "net" || p == "crypto/tls" {
			return true
		}
	}
	lt := t
	if !types.IsInterface(t) {
		lt = types.NewPointer(t)
	}
	for _, m := range []string{"RoundTrip", "Dial", "DialContext"} {
		if obj, _, _ := types.LookupFieldOrMethod(lt, true, nil, m); obj != nil {
			if _, ok := obj.(*types.Func); ok {
				return true
			}
		}
	}
	return false
}

// isBackgroundCall reports whether e is context.Background() or
// context.TODO() written out.
func isBackgroundCall(info *types.Info, e ast.Expr) bool {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	return ok && isFunc(calleeFunc(info, call), "context", "Background", "TODO")
}

// endsByTimer reports whether the cancel function of call (ctx, cancel
// := context.WithCancel(...)) is handed to time.AfterFunc, or called in
// a goroutine the enclosing function starts that also makes a timer:
// the context ends by that timer. It is cancelledByTimer's twin for the
// summaries, which work on the syntax.
func (s *summary) endsByTimer(call *ast.CallExpr) bool {
	var file *ast.File
	for _, f := range s.pass.Files {
		if f.FileStart <= call.Pos() && call.Pos() < f.FileEnd {
			file = f
		}
	}
	if file == nil {
		return false
	}
	path, _ := astutil.PathEnclosingInterval(file, call.Pos(), call.End())
	if len(path) < 3 {
		return false
	}
	as, ok := path[1].(*ast.AssignStmt)
	if !ok || len(as.Lhs) != 2 || len(as.Rhs) != 1 || as.Rhs[0] != ast.Expr(call) {
		return false
	}
	id, ok := as.Lhs[1].(*ast.Ident)
	cancel := s.pass.TypesInfo.ObjectOf(id)
	if !ok || cancel == nil {
		return false
	}
	var body *ast.BlockStmt
	for _, n := range path[2:] {
		if fd, ok := n.(*ast.FuncDecl); ok {
			body = fd.Body
		} else if fl, ok := n.(*ast.FuncLit); ok {
			body = fl.Body
		}
		if body != nil {
			break
		}
	}
	if body == nil {
		return false
	}
	return containsNode(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			lit, ok := n.Call.Fun.(*ast.FuncLit)
			return ok && s.refersTo(lit, cancel) && s.makesTimer(lit)
		case *ast.CallExpr:
			if isFunc(calleeFunc(s.pass.TypesInfo, n), "time", "AfterFunc") && len(n.Args) == 2 {
				arg, ok := ast.Unparen(n.Args[1]).(*ast.Ident)
				return ok && s.pass.TypesInfo.Uses[arg] == cancel
			}
		}
		return false
	})
}

// refersTo reports whether obj is used in n.
func (s *summary) refersTo(n ast.Node, obj types.Object) bool {
	return containsNode(n, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		return ok && s.pass.TypesInfo.Uses[id] == obj
	})
}

// makesTimer reports whether n calls one of timerFuncs.
func (s *summary) makesTimer(n ast.Node) bool {
	return containsNode(n, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		return ok && isFunc(calleeFunc(s.pass.TypesInfo, call), "time", timerFuncs...)
	})
}

// containsNode reports whether pred holds for root or a node below it.
func containsNode(root ast.Node, pred func(ast.Node) bool) bool {
	found := false
	ast.Inspect(root, func(n ast.Node) bool {
		found = found || n != nil && pred(n)
		return !found
	})
	return found
}
