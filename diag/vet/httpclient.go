package vet

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ssa"
)

// HTTPClient reports outbound HTTP requests nothing bounds.
var HTTPClient = &analysis.Analyzer{
	Name: "httpclient",
	Doc: `report outbound HTTP requests with no timeout and no deadline

Reports http.Get, Head, Post and PostForm; uses of http.DefaultClient (Do
on it only when its request has no context or a background one);
http.NewRequest when its request is sent as it is; and an http.Client
built in the package (literal, new or var) without Timeout, when Get, Head,
Post or PostForm is called on it, or Do with a request built with no
context or a background one, or when it is handed to another library
(passed to its function, stored in its struct's field); an AWS SDK (v1)
session made with no HTTPClient; and http.Server.Shutdown on a background
context (it waits for every active connection to go idle).`,
	Requires:  []*analysis.Analyzer{buildSSA, Facts},
	FactTypes: []analysis.Fact{new(httpCtxFact)},
	Run:       runHTTPClient,
}

const (
	httpWhy = "a server that accepts the connection and never answers blocks it forever"
)

func runHTTPClient(pass *analysis.Pass) (any, error) {
	c := newChecker(pass)
	c.sites(func(s *site) {
		switch {
		case isFunc(s.callee, "net/http", "Get", "Head", "Post", "PostForm"):
			c.report(s.pos(), "http.%s uses http.DefaultClient, which has no Timeout: %s; use an http.Client with Timeout, or http.NewRequestWithContext with a deadline and Do", s.callee.Name(), httpWhy)
		case isFunc(s.callee, "net/http", "NewRequest") && c.sent(s):
			c.report(s.pos(), "http.NewRequest makes a request without a context: nothing can give it a deadline or cancel it; use http.NewRequestWithContext with a context that has a deadline")
		case isFunc(s.callee, awsSessionPkg, "NewSession", "New", "NewSessionWithOptions") && c.awsDefaultClient(s):
			c.report(s.pos(), "AWS SDK session.%s with no HTTPClient in its config: the SDK then sends on http.DefaultClient, which has no Timeout, so every call made through it without a context that has a deadline (each context-free form) blocks forever on a server that accepts the connection and never answers; set aws.Config's HTTPClient to a client with Timeout", s.callee.Name())
		default:
			c.contextFreeSender(s)
		}
	})
	c.defaultClientUses()
	c.handedFields()
	c.flowContexts(c.httpSink, func() ctxFact { return new(httpCtxFact) })
	return nil, nil
}

// A clientSender is a function outside the module that keeps the
// http.Client it is given and later sends requests on it with no
// context, so the client's Timeout is the only bound they have. Facts
// cannot follow a client there (diag vet checks one module), hence the
// table.
type clientSender struct {
	pkg, name string
	arg       int    // the client's argument
	sends     string // what it does with the client, for the message
}

var clientSenders = []clientSender{
	{"k8s.io/client-go/transport/spdy", "NewDialer", 1, "its Dial sends the connection-upgrade request (port-forward, exec, attach) without a context"},
}

// contextFreeSender reports an http.Client without Timeout handed to a
// clientSender, or to any other library's function or method (see
// handedTo).
func (c *checker) contextFreeSender(s *site) {
	if s.expr == nil {
		return
	}
	for _, cs := range clientSenders {
		if !isFunc(s.callee, cs.pkg, cs.name) || len(s.expr.Args) <= cs.arg {
			continue
		}
		for _, b := range untimedOnly(c.sum.judge(s.expr.Args[cs.arg], httpClientT)) {
			c.reportHanded(b, s.pos(), fmt.Sprintf("%s.%s at %s: %s, so %s; set the client's Timeout", pathBase(cs.pkg), cs.name, c.where(s.pos()), cs.sends, httpWhy))
		}
		return
	}
	if s.callee == nil || !c.handedTo(s.callee.Pkg()) {
		return
	}
	if nilDefaultClient(s.callee) {
		for i, a := range s.expr.Args {
			if tv, ok := c.pass.TypesInfo.Types[a]; ok && tv.IsNil() && i < s.callee.Signature().Params().Len() && isHTTPClient(s.callee.Signature().Params().At(i).Type()) {
				c.report(s.pos(), "%s.%s(nil) sends on http.DefaultClient, which has no Timeout: %s; pass an http.Client with Timeout", s.callee.Pkg().Name(), s.callee.Name(), httpWhy)
			}
		}
	}
	for _, a := range s.expr.Args {
		if isHTTPClient(c.typeOf(a)) {
			for _, b := range untimedOnly(c.sum.judge(a, httpClientT)) {
				c.reportHanded(b, s.pos(), fmt.Sprintf("%s.%s at %s: %s", s.callee.Pkg().Name(), s.callee.Name(), c.where(s.pos()), handedWhy))
			}
		}
	}
}

// nilDefaultClient reports whether f is a library's constructor known
// to send on http.DefaultClient when given a nil *http.Client: go-github's
// NewClient (any major version) and githubv4's.
func nilDefaultClient(f *types.Func) bool {
	p := f.Pkg().Path()
	return f.Name() == "NewClient" && f.Signature().Recv() == nil &&
		(strings.HasPrefix(p, "github.com/google/go-github/") && strings.HasSuffix(p, "/github") || p == "github.com/shurcooL/githubv4")
}

const handedWhy = "unless that library gives each request a deadline of its own, a server that accepts the connection and never answers blocks its requests forever; set the client's Timeout"

// handedTo reports whether an http.Client handed to a function of pkg,
// or stored in a field of one of its types, is another library's to
// send requests on, which vet cannot follow: a package outside the
// standard library and the module. client-go's and controller-runtime's
// are left out: a client for their watches must have no Timeout, and
// kubeclient judges their configs.
func (c *checker) handedTo(pkg *types.Package) bool {
	if pkg == nil || !c.foreignPkg(pkg.Path()) {
		return false
	}
	return !underAny(pkg.Path(), []string{"k8s.io", "sigs.k8s.io"})
}

// foreignPkg reports whether path is a package of another module: not
// the standard library's (no dot in its first element) and not one of
// the module being checked.
func (c *checker) foreignPkg(path string) bool {
	if stdPath(path) {
		return false
	}
	mod := c.pass.Module
	return mod == nil || (path != mod.Path && !strings.HasPrefix(path, mod.Path+"/"))
}

// stdPath reports whether path is the standard library's: no dot in its
// first element.
func stdPath(path string) bool { return !strings.Contains(strings.Split(path, "/")[0], ".") }

// handedFields reports an http.Client without Timeout stored in a field
// of another library's struct, by a composite literal
// (&credentials.IAM{Client: hc}) or an assignment (cfg.HTTPClient = hc).
func (c *checker) handedFields() {
	check := func(field *types.Var, val ast.Expr, at ast.Node) {
		if field == nil || !isHTTPClient(field.Type()) || !c.handedTo(field.Pkg()) {
			return
		}
		for _, b := range untimedOnly(c.sum.judge(val, httpClientT)) {
			c.reportHanded(b, at.Pos(), fmt.Sprintf("field %s of %s at %s: %s", field.Name(), c.fieldOwner(at), c.where(at.Pos()), handedWhy))
		}
	}
	c.inspect(func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CompositeLit:
			st, ok := types.Unalias(c.typeOf(n)).Underlying().(*types.Struct)
			if !ok {
				return true
			}
			for i, e := range n.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok {
					if id, ok := kv.Key.(*ast.Ident); ok {
						v, _ := c.pass.TypesInfo.Uses[id].(*types.Var)
						check(v, kv.Value, n)
					}
				} else if i < st.NumFields() {
					check(st.Field(i), e, n)
				}
			}
		case *ast.AssignStmt:
			if len(n.Lhs) != len(n.Rhs) {
				return true
			}
			for i, l := range n.Lhs {
				if sel, ok := ast.Unparen(l).(*ast.SelectorExpr); ok {
					if v, ok := c.pass.TypesInfo.Uses[sel.Sel].(*types.Var); ok && v.IsField() {
						check(v, n.Rhs[i], sel)
					}
				}
			}
		}
		return true
	})
}

// fieldOwner names the struct a literal builds, or the selector an
// assignment stores into, for a message.
func (c *checker) fieldOwner(at ast.Node) string {
	switch at := at.(type) {
	case *ast.CompositeLit:
		return types.TypeString(c.typeOf(at), func(p *types.Package) string { return p.Name() })
	case *ast.SelectorExpr:
		return types.ExprString(at.X)
	}
	return "a struct"
}

// isHTTPClient reports whether t is an http.Client or a pointer to one.
func isHTTPClient(t types.Type) bool { return t != nil && isNamed(t, "net/http", "Client") }

// reportHanded reports an untimed client handed to another library at
// its construction, or where it is handed when it was built elsewhere.
func (c *checker) reportHanded(b bound, at token.Pos, what string) {
	if b.pos.IsValid() {
		c.report(b.pos, "http.Client without Timeout, handed to %s", what)
		return
	}
	c.report(at, "http.Client without Timeout (%s) handed to %s", b.desc, what)
}

// pathBase is the last element of an import path: the name a caller
// usually writes.
func pathBase(path string) string {
	return path[strings.LastIndex(path, "/")+1:]
}

// sent reports whether the request http.NewRequest made at s is sent
// as it is: passed to a Do or RoundTrip method (but Do on an
// http.Client the package built with Timeout), to a function of the
// package, returned, or stored. A request only inspected (a proxy
// lookup, a dump) or given a context with WithContext is not.
func (c *checker) sent(s *site) bool {
	call, ok := s.instr.(*ssa.Call)
	if !ok {
		return false
	}
	for _, r := range *call.Referrers() {
		if ex, ok := r.(*ssa.Extract); ok && ex.Index == 0 && c.sentValue(ex, s.fn.Pkg, map[ssa.Value]bool{}) {
			return true
		}
	}
	return false
}

// timedClient reports whether common is Do on an http.Client the
// package built, every one it may be with Timeout.
func (c *checker) timedClient(common *ssa.CallCommon) bool {
	if common.IsInvoke() || !isMethod(staticFunc(common), "net/http", "Client", "Do") {
		return false
	}
	expr := c.calls[common.Pos()]
	if expr == nil {
		return false
	}
	sel, ok := ast.Unparen(expr.Fun).(*ast.SelectorExpr)
	if !ok {
		return false
	}
	bs := c.sum.judge(sel.X, httpClientT)
	for _, b := range bs {
		if b.kind != timed {
			return false
		}
	}
	return len(bs) > 0
}

func (c *checker) sentValue(v ssa.Value, pkg *ssa.Package, seen map[ssa.Value]bool) bool {
	if seen[v] {
		return false
	}
	seen[v] = true
	for _, u := range *v.Referrers() {
		switch u := u.(type) {
		case *ssa.Phi:
			if c.sentValue(u, pkg, seen) {
				return true
			}
		case *ssa.Return:
			if c.returnedSent(u, v, pkg, seen) {
				return true
			}
		case *ssa.Store, *ssa.Send:
			return true
		case ssa.CallInstruction:
			common := u.Common()
			var name string
			switch {
			case common.IsInvoke():
				name = common.Method.Name()
			case common.StaticCallee() != nil:
				sc := common.StaticCallee()
				if sc.Pkg == pkg && !onlyReceiver(common, v) {
					// The package's own function: it sends the request
					// if what it does with the parameter does.
					if c.passedSent(common, sc, v, pkg, seen) {
						return true
					}
					continue
				}
				name = sc.Name()
			}
			if (name == "Do" || name == "RoundTrip") && !onlyReceiver(common, v) && !c.timedClient(common) {
				return true
			}
		}
	}
	return false
}

// passedSent reports whether the package's function sc, given v as an
// argument, may send it: what it does with the parameter sends it, or
// sc has no body here to follow.
func (c *checker) passedSent(common *ssa.CallCommon, sc *ssa.Function, v ssa.Value, pkg *ssa.Package, seen map[ssa.Value]bool) bool {
	if len(sc.Blocks) == 0 || len(sc.Params) != len(common.Args) {
		return true
	}
	for i, a := range common.Args {
		if a == v && c.sentValue(sc.Params[i], pkg, seen) {
			return true
		}
	}
	return false
}

// returnedSent reports whether a request v that the function returns
// at ret may be sent: by whoever calls it, when it is exported or used
// other than by direct calls in the package; by what its callers in
// the package do with the result otherwise (a helper that builds the
// request for a Do on a client with Timeout does not send it).
func (c *checker) returnedSent(ret *ssa.Return, v ssa.Value, pkg *ssa.Package, seen map[ssa.Value]bool) bool {
	fn := ret.Parent()
	idx := slices.Index(ret.Results, v)
	f := funcObject(fn)
	if idx < 0 || f == nil || f.Exported() || fn.Parent() != nil {
		return true
	}
	var results []ssa.Value
	calls := 0
	for _, g := range c.funcs {
		for _, b := range g.Blocks {
			for _, instr := range b.Instrs {
				call, ok := instr.(*ssa.Call)
				if !ok {
					if refersTo(instr, fn) {
						return true // a func value: anyone may call it
					}
					continue
				}
				if call.Common().StaticCallee() != fn {
					if refersTo(instr, fn) {
						return true
					}
					continue
				}
				calls++
				if len(ret.Results) == 1 {
					results = append(results, call)
					continue
				}
				for _, r := range *call.Referrers() {
					if ex, ok := r.(*ssa.Extract); ok && ex.Index == idx {
						results = append(results, ex)
					}
				}
			}
		}
	}
	if calls == 0 {
		return true // called from elsewhere (a test, another package through a func value)
	}
	for _, r := range results {
		if c.sentValue(r, pkg, seen) {
			return true
		}
	}
	return false
}

// refersTo reports whether instr uses fn as a value (not as the callee
// of a static call).
func refersTo(instr ssa.Instruction, fn *ssa.Function) bool {
	var ops [8]*ssa.Value
	for _, op := range instr.Operands(ops[:0]) {
		if op != nil && *op == ssa.Value(fn) {
			if call, ok := instr.(ssa.CallInstruction); ok && call.Common().Value == ssa.Value(fn) && !call.Common().IsInvoke() {
				continue // the callee itself
			}
			return true
		}
	}
	return false
}

// onlyReceiver reports whether v is only the receiver of a static
// method call (req.Header..., req.WithContext(ctx)), not an argument.
func onlyReceiver(common *ssa.CallCommon, v ssa.Value) bool {
	if common.IsInvoke() {
		return false
	}
	sc := common.StaticCallee()
	if sc == nil || sc.Signature.Recv() == nil || len(common.Args) == 0 || common.Args[0] != v {
		return false
	}
	for _, a := range common.Args[1:] {
		if a == v {
			return false
		}
	}
	return true
}

// isDefaultClient reports whether e is http.DefaultClient.
func (c *checker) isDefaultClient(e ast.Expr) bool {
	switch x := ast.Unparen(e).(type) {
	case *ast.SelectorExpr:
		return isVar(c.pass.TypesInfo.Uses[x.Sel], "net/http", "DefaultClient")
	case *ast.Ident:
		return isVar(c.pass.TypesInfo.Uses[x], "net/http", "DefaultClient")
	}
	return false
}

// defaultClientUses reports every read of http.DefaultClient but the
// receiver of Do, which flowContexts judges by its request.
func (c *checker) defaultClientUses() {
	for _, f := range c.pass.Files {
		if c.skipped(f.Pos()) {
			continue
		}
		inspectStack(f, func(n ast.Node, stack []ast.Node) bool {
			e, ok := n.(ast.Expr)
			if !ok || !c.isDefaultClient(e) {
				return true
			}
			if _, ok := n.(*ast.Ident); ok && len(stack) > 1 {
				if sel, ok := stack[len(stack)-2].(*ast.SelectorExpr); ok && sel.Sel == n {
					return true // the Sel of http.DefaultClient, seen as its selector
				}
			}
			if c.defaultClientWrite(stack) || c.defaultClientDo(stack) || c.defaultClientLocal(stack) || c.defaultClientField(stack) {
				return true
			}
			c.report(e.Pos(), "http.DefaultClient has no Timeout: %s; use an http.Client with Timeout", httpWhy)
			return true
		})
	}
}

// defaultClientWrite reports whether the use on top of stack is assigned
// to (http.DefaultClient = ..., http.DefaultClient.Timeout = ...).
func (c *checker) defaultClientWrite(stack []ast.Node) bool {
	e := stack[len(stack)-1].(ast.Expr)
	for i := len(stack) - 2; i >= 0; i-- {
		switch p := stack[i].(type) {
		case *ast.SelectorExpr:
			if p.X != e {
				return false
			}
			e = p
			continue
		case *ast.ParenExpr, *ast.StarExpr:
			e = p.(ast.Expr)
			continue
		case *ast.AssignStmt:
			for _, l := range p.Lhs {
				if l == e {
					return true
				}
			}
		}
		return false
	}
	return false
}

// defaultClientLocal reports whether the use on top of stack is kept in
// a local variable (client := http.DefaultClient): httpSink judges the
// calls made on that variable.
func (c *checker) defaultClientLocal(stack []ast.Node) bool {
	if len(stack) < 2 {
		return false
	}
	e := stack[len(stack)-1]
	switch p := stack[len(stack)-2].(type) {
	case *ast.AssignStmt:
		for i, r := range p.Rhs {
			if r == e && len(p.Lhs) == len(p.Rhs) {
				if id, ok := ast.Unparen(p.Lhs[i]).(*ast.Ident); ok && c.hold.localVar(id) != nil {
					return true
				}
			}
		}
	case *ast.ValueSpec:
		for i, r := range p.Values {
			if r == e && len(p.Names) == len(p.Values) && c.hold.localVar(p.Names[i]) != nil {
				return true
			}
		}
	}
	return false
}

// defaultClientField reports whether the use on top of stack is kept in
// an unexported field of one of the package's structs ({c:
// http.DefaultClient}, x.c = http.DefaultClient) that the package only
// calls requests on (x.c.Do(req), x.c.Get(u)): httpSink judges those
// calls, through the field, by their requests. A field handed on
// elsewhere is not followed, so the store is reported.
func (c *checker) defaultClientField(stack []ast.Node) bool {
	if len(stack) < 2 {
		return false
	}
	e := stack[len(stack)-1]
	var field *types.Var
	switch p := stack[len(stack)-2].(type) {
	case *ast.KeyValueExpr:
		if p.Value == e {
			if id, ok := p.Key.(*ast.Ident); ok {
				field, _ = c.pass.TypesInfo.Uses[id].(*types.Var)
			}
		}
	case *ast.CompositeLit:
		st, ok := types.Unalias(c.pass.TypesInfo.TypeOf(p)).Underlying().(*types.Struct)
		if i := slices.Index(p.Elts, e.(ast.Expr)); ok && i >= 0 && i < st.NumFields() {
			field = st.Field(i)
		}
	case *ast.AssignStmt:
		for i, r := range p.Rhs {
			if r == e && len(p.Lhs) == len(p.Rhs) {
				if sel, ok := ast.Unparen(p.Lhs[i]).(*ast.SelectorExpr); ok {
					field, _ = c.pass.TypesInfo.Uses[sel.Sel].(*types.Var)
				}
			}
		}
	}
	if field == nil || !field.IsField() || field.Exported() || field.Pkg() != c.pass.Pkg {
		return false
	}
	return c.fieldOnlyCalled(field, "Do", "Get", "Head", "Post", "PostForm")
}

// fieldOnlyCalled reports whether every read of field in the package is
// the receiver of a call of one of methods (x.f.Do(...)); stores to it
// do not count.
func (c *checker) fieldOnlyCalled(field *types.Var, methods ...string) bool {
	only := true
	for _, f := range c.pass.Files {
		inspectStack(f, func(n ast.Node, stack []ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok || !only || c.pass.TypesInfo.Uses[sel.Sel] != field {
				return true
			}
			if c.defaultClientWrite(stack) {
				return true // x.f = ...
			}
			if len(stack) >= 3 {
				if m, ok := stack[len(stack)-2].(*ast.SelectorExpr); ok && m.X == sel && slices.Contains(methods, m.Sel.Name) {
					if call, ok := stack[len(stack)-3].(*ast.CallExpr); ok && call.Fun == m {
						return true
					}
				}
			}
			only = false
			return true
		})
	}
	return only
}

// mayBeDefaultClient reports whether e may hold http.DefaultClient
// through local variables.
func (c *checker) mayBeDefaultClient(e ast.Expr) bool {
	_, keys := c.hold.origins(e)
	for _, k := range keys {
		if o, ok := k.(types.Object); ok && isVar(o, "net/http", "DefaultClient") {
			return true
		}
	}
	return false
}

// defaultClientDo reports whether the use on top of stack is the
// receiver of a Do call.
func (c *checker) defaultClientDo(stack []ast.Node) bool {
	if len(stack) < 3 {
		return false
	}
	sel, ok := stack[len(stack)-2].(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Do" {
		return false
	}
	call, ok := stack[len(stack)-3].(*ast.CallExpr)
	return ok && call.Fun == sel
}

const shutdownWhy = "Shutdown waits for every active connection to go idle, forever if a request never finishes (a stalled client, a stuck handler, a long poll or event stream)"

// httpSink recognises Shutdown on an http.Server, which waits as long
// as its context lets it, and Do on http.DefaultClient or on a client
// without Timeout, whose bound is then the request's context; Get,
// Head, Post and PostForm on a client without Timeout are reported at
// the client.
func (c *checker) httpSink(s *site) *ctxSink {
	if isMethod(s.callee, "net/http", "Server", "Shutdown") {
		return &ctxSink{val: s.arg(0), what: "http.Server.Shutdown", why: shutdownWhy,
			fix: "pass a context with a deadline, and Close the server when it expires"}
	}
	if !isMethod(s.callee, "net/http", "Client", "Do", "Get", "Head", "Post", "PostForm") || s.expr == nil {
		return nil
	}
	sel, ok := ast.Unparen(s.expr.Fun).(*ast.SelectorExpr)
	if !ok {
		return nil
	}
	name := s.callee.Name()
	if direct := c.isDefaultClient(sel.X); direct || c.mayBeDefaultClient(sel.X) {
		switch {
		case name == "Do":
			return &ctxSink{val: s.arg(0), what: "http.DefaultClient.Do", why: "http.DefaultClient has no Timeout, so " + httpWhy,
				fix: "give the request a context with a deadline or use an http.Client with Timeout"}
		case !direct:
			c.report(s.pos(), "%s on http.DefaultClient, which has no Timeout: %s; use an http.Client with Timeout", name, httpWhy)
		}
		return nil // a direct use is reported as such
	}
	bad := untimedOnly(c.sum.judge(sel.X, httpClientT))
	if len(bad) == 0 {
		return nil
	}
	stream := c.httpStream(s.fn)
	if name != "Do" {
		fix, fixThere := "set Timeout", "set Timeout where it is built"
		if stream {
			fix, fixThere = httpStreamFix, httpStreamFix
		}
		for _, b := range bad {
			if b.pos.IsValid() {
				c.report(b.pos, "http.Client without Timeout, used with %s at %s: %s; %s", name, c.where(s.pos()), httpWhy, fix)
				continue
			}
			c.report(s.pos(), "%s on an http.Client without Timeout (%s): %s; %s", name, b.desc, httpWhy, fixThere)
		}
		return nil
	}
	b := bad[0]
	at, from := b.pos, c.boundWhere(b)
	if !at.IsValid() {
		at = s.pos()
	}
	fix, fixHere, fixThere := "set the client's Timeout or give the request a context with a deadline",
		"set Timeout, or give the request a context with a deadline", "set Timeout where it is built, or give the request a context with a deadline"
	if stream {
		fix, fixHere, fixThere = httpStreamFix, httpStreamFix, httpStreamFix
	}
	return &ctxSink{
		val: s.arg(0), at: at,
		what: "Do on an http.Client without Timeout (" + from + ")",
		why:  httpWhy, fix: fix,
		direct: func(ctx string) string {
			if !b.pos.IsValid() {
				return fmt.Sprintf("Do on an http.Client without Timeout (%s) runs with %s: %s; %s", b.desc, ctx, httpWhy, fixThere)
			}
			return fmt.Sprintf("http.Client without Timeout: its Do at %s runs with %s: %s; %s", c.where(s.pos()), ctx, httpWhy, fixHere)
		},
	}
}

// untimedOnly keeps the untimed bounds.
func untimedOnly(bs []bound) []bound {
	var out []bound
	for _, b := range bs {
		if b.kind == untimed {
			out = append(out, b)
		}
	}
	return out
}

// boundWhere says where an untimed value was built, for a message.
func (c *checker) boundWhere(b bound) string {
	if b.pos.IsValid() {
		return c.where(b.pos)
	}
	return b.desc
}

// typeOf is e's type, or nil.
func (c *checker) typeOf(e ast.Expr) types.Type { return c.pass.TypesInfo.TypeOf(e) }

const (
	awsPkg        = "github.com/aws/aws-sdk-go/aws"
	awsSessionPkg = "github.com/aws/aws-sdk-go/aws/session"
)

// awsDefaultClient reports whether an AWS SDK (v1) session is made with
// no HTTPClient: every config it is given is a literal here
// (&aws.Config{...}, or session.Options{Config: aws.Config{...}}) that
// sets none, or it is given none. A config from anywhere else, or one
// that calls WithHTTPClient, may set one: not judged.
func (c *checker) awsDefaultClient(s *site) bool {
	if s.expr == nil || s.expr.Ellipsis.IsValid() {
		return false
	}
	for _, a := range s.expr.Args {
		lit, ok := ast.Unparen(a).(*ast.CompositeLit)
		if u, isAddr := ast.Unparen(a).(*ast.UnaryExpr); isAddr {
			lit, ok = ast.Unparen(u.X).(*ast.CompositeLit)
		}
		if !ok {
			return false
		}
		if isNamed(c.typeOf(lit), awsSessionPkg, "Options") {
			cfg := keyed(lit, "Config")
			if cfg == nil {
				continue // no Config: the defaults
			}
			if lit, ok = ast.Unparen(cfg).(*ast.CompositeLit); !ok {
				return false
			}
		}
		if !isNamed(c.typeOf(lit), awsPkg, "Config") || keyed(lit, "HTTPClient") != nil {
			return false
		}
	}
	return true
}

// keyed returns the value of the field named name in a keyed composite
// literal, or nil.
func keyed(lit *ast.CompositeLit, name string) ast.Expr {
	for _, e := range lit.Elts {
		if kv, ok := e.(*ast.KeyValueExpr); ok {
			if id, ok := kv.Key.(*ast.Ident); ok && id.Name == name {
				return kv.Value
			}
		}
	}
	return nil
}
