package vet

import (
	"go/token"
	"go/types"
	"slices"

	"golang.org/x/tools/go/ssa"
)

// ctxState is what can reach a call as its context: a context value, a
// channel from a context's Done, or an *http.Request (its context).
type ctxState struct {
	bg      *bgOrigin // some path carries a context with no deadline, made in this package
	params  []param   // some paths start at a parameter: the caller's job
	bounded bool      // every path has a deadline
}

// bgOrigin is where an unbounded context was made.
type bgOrigin struct {
	desc    string // "context.Background()"
	derived bool   // through WithCancel, WithValue, NotifyContext...
}

// param is a function's parameter, by its index in ssa.Function.Params.
type param struct {
	fn *ssa.Function
	i  int
}

// identity is the state join starts from (and what a cycle adds).
var identity = ctxState{bounded: true}

func (s ctxState) join(t ctxState) ctxState {
	if s.bg == nil {
		s.bg = t.bg
	}
	for _, p := range t.params {
		if !slices.Contains(s.params, p) {
			s.params = append(s.params, p)
		}
	}
	s.bounded = s.bounded && t.bounded
	return s
}

// describe says what the unbounded context is, for a message.
func (o *bgOrigin) describe() string {
	if o.derived {
		return "a context derived from " + o.desc + " with no deadline"
	}
	return o.desc
}

// trace follows v back through the function (and the functions that
// enclose it, for a captured variable) to where it was made.
func (c *checker) trace(v ssa.Value) ctxState {
	t := &tracer{c: c, seen: map[ssa.Value]bool{}}
	return t.value(v)
}

type tracer struct {
	c    *checker
	seen map[ssa.Value]bool
}

func (t *tracer) value(v ssa.Value) ctxState {
	if v == nil {
		return ctxState{}
	}
	if t.seen[v] {
		return identity // a loop adds nothing new
	}
	t.seen[v] = true
	switch v := v.(type) {
	case *ssa.Call:
		return t.call(v.Common())
	case *ssa.Extract:
		if call, ok := v.Tuple.(*ssa.Call); ok && !call.Common().IsInvoke() {
			if f := staticFunc(call.Common()); v.Index == 1 && isFunc(f, "golang.org/x/sync/errgroup", "WithContext") {
				return derive(t.value(call.Common().Args[0]))
			}
		}
		if v.Index == 0 {
			if call, ok := v.Tuple.(*ssa.Call); ok && isContextFunc(staticFunc(call.Common()), "WithCancel", "WithCancelCause") && cancelledByTimer(call) {
				return ctxState{} // it ends by a timer: bounded, by how much not known
			}
			return t.value(v.Tuple)
		}
	case *ssa.Phi:
		st := identity
		for _, e := range v.Edges {
			if boundedElsewhere(v, e) {
				continue
			}
			st = st.join(t.value(e))
		}
		return st
	case *ssa.Parameter:
		if i := slices.Index(v.Parent().Params, v); i >= 0 {
			return ctxState{params: []param{{v.Parent(), i}}}
		}
	case *ssa.UnOp:
		if v.Op == token.MUL {
			return t.load(v, v.X)
		}
	case *ssa.ChangeType:
		return t.value(v.X)
	}
	return ctxState{}
}

// boundedElsewhere reports whether edge e of phi is a context that
// another edge bounds with WithTimeout or WithDeadline, under a test of
// that very timeout: ctx := context.Background(); if timeout > 0 { ctx,
// cancel = context.WithTimeout(ctx, timeout) }. The function gives the
// context a deadline whenever one is configured; the edge without is the
// configuration's choice (a zero timeout meaning none), not an
// oversight, and is not reported. A deadline made of the timeout
// (WithDeadline(ctx, time.Now().Add(timeout))) counts as the timeout. A
// branch on anything else (a mode flag) is still judged.
func boundedElsewhere(phi *ssa.Phi, e ssa.Value) bool {
	for _, o := range phi.Edges {
		ex, ok := o.(*ssa.Extract)
		if !ok || ex.Index != 0 {
			continue
		}
		call, ok := ex.Tuple.(*ssa.Call)
		if !ok || len(call.Common().Args) == 0 {
			continue
		}
		args := call.Common().Args
		if isContextFunc(staticFunc(call.Common()), "WithTimeout", "WithDeadline", "WithTimeoutCause", "WithDeadlineCause") && args[0] == e && len(args) > 1 && testedIn(phi.Parent(), durationOf(args[1])) {
			return true
		}
	}
	return false
}

// durationOf is the duration a deadline is made of (d in
// time.Now().Add(d)), or v itself.
func durationOf(v ssa.Value) ssa.Value {
	if call, ok := v.(*ssa.Call); ok && isMethod(staticFunc(call.Common()), "time", "Time", "Add") && len(call.Common().Args) == 2 {
		return call.Common().Args[1]
	}
	return v
}

// testedIn reports whether fn branches on a comparison of v (or of the
// same field of the same value, loaded again: if p.timeout > 0).
func testedIn(fn *ssa.Function, v ssa.Value) bool {
	for _, b := range fn.Blocks {
		if len(b.Instrs) == 0 {
			continue
		}
		ifi, ok := b.Instrs[len(b.Instrs)-1].(*ssa.If)
		if !ok {
			continue
		}
		cmp, ok := ifi.Cond.(*ssa.BinOp)
		if ok && (sameValue(cmp.X, v) || sameValue(cmp.Y, v)) {
			return true
		}
	}
	return false
}

// sameValue reports whether a and b are one value, or loads of the same
// field of one value.
func sameValue(a, b ssa.Value) bool {
	if a == b {
		return true
	}
	ka, kb := keyOf(a), keyOf(b)
	return ka.field >= 0 && ka == kb
}

// derive is the state of a context derived from one in st without a
// new deadline (WithCancel, WithValue...).
func derive(st ctxState) ctxState {
	if st.bg != nil {
		bg := *st.bg
		bg.derived = true
		st.bg = &bg
	}
	return st
}

func staticFunc(common *ssa.CallCommon) *types.Func {
	if sc := common.StaticCallee(); sc != nil {
		return funcObject(sc)
	}
	return nil
}

func (t *tracer) call(common *ssa.CallCommon) ctxState {
	if common.IsInvoke() {
		if common.Method.Name() == "Done" && isContext(common.Value.Type()) {
			return t.value(common.Value)
		}
		return ctxState{}
	}
	f := staticFunc(common)
	switch {
	case isContextFunc(f, "Background", "TODO"):
		return ctxState{bg: &bgOrigin{desc: "context." + f.Name() + "()"}}
	case isContextFunc(f, "WithoutCancel"):
		// WithoutCancel drops the parent's deadline too.
		return ctxState{bg: &bgOrigin{desc: "context.WithoutCancel(...) (it drops any deadline)"}}
	case isContextFunc(f, "WithTimeout", "WithDeadline", "WithTimeoutCause", "WithDeadlineCause"):
		return identity
	case isContextFunc(f, "WithCancel", "WithCancelCause", "WithValue"), isFunc(f, "os/signal", "NotifyContext"):
		return derive(t.value(common.Args[0]))
	case isFunc(f, "net/http", "NewRequestWithContext"):
		return t.value(common.Args[0])
	case isFunc(f, "net/http", "NewRequest"):
		return ctxState{bg: &bgOrigin{desc: "a request from http.NewRequest (no context)"}}
	case isMethod(f, "net/http", "Request", "WithContext", "Clone"):
		return t.value(common.Args[1])
	}
	// A helper of the module that returns a background context
	// (ctx, cancel := newContext()), known from its body or its fact.
	if res := common.Signature().Results(); f != nil && res.Len() > 0 && isContext(res.At(0).Type()) {
		if rs := t.c.sum.funcResults(f); len(rs) > 0 && rs[0].kind == untimed {
			return ctxState{bg: &bgOrigin{desc: rs[0].desc + " (returned by " + funcLabel(f) + ")"}}
		}
	}
	// A function of the package that returns a context first (a hook
	// that decorates the one it is given: ctx, event :=
	// db.beforeQuery(ctx, ...)): what it returns, its parameters mapped
	// to this call's arguments.
	if sc := common.StaticCallee(); sc != nil && f != nil && f.Pkg() == t.c.pass.Pkg && len(sc.Blocks) > 0 &&
		sc.Signature.Results().Len() > 0 && isContext(sc.Signature.Results().At(0).Type()) {
		return t.returned(sc, common)
	}
	return ctxState{}
}

// returned is the state of the context a call of the package's function
// sc returns first: each return's, with sc's parameters replaced by the
// call's arguments.
func (t *tracer) returned(sc *ssa.Function, common *ssa.CallCommon) ctxState {
	st := identity
	for _, b := range sc.Blocks {
		ret, ok := b.Instrs[len(b.Instrs)-1].(*ssa.Return)
		if !ok || len(ret.Results) == 0 {
			continue
		}
		r := t.value(ret.Results[0])
		if r.bg == nil && len(r.params) == 0 {
			st = st.join(r) // bounded, or not known
			continue
		}
		mapped := identity
		if r.bg != nil {
			mapped = ctxState{bg: r.bg}
		}
		for _, p := range r.params {
			if p.fn == sc && p.i < len(common.Args) {
				mapped = mapped.join(t.value(common.Args[p.i]))
			} else {
				mapped.params = append(mapped.params, p)
			}
		}
		st = st.join(mapped)
	}
	return st
}

// load is the state of the value at addr when at reads it: the stores
// that reach at, and for a captured variable the value it had where the
// closure was made.
func (t *tracer) load(at ssa.Instruction, addr ssa.Value) ctxState {
	switch a := addr.(type) {
	case *ssa.Global:
		if isVar(a.Object(), "k8s.io/apimachinery/pkg/util/wait", "NeverStop") {
			return ctxState{bg: &bgOrigin{desc: "wait.NeverStop"}}
		}
		return ctxState{}
	case *ssa.FieldAddr:
		return t.c.fieldContext(a)
	case *ssa.Alloc, *ssa.FreeVar:
	default:
		return ctxState{} // a slice element...: not followed
	}
	if !onlyStored(addr) {
		return ctxState{} // its address escapes: anything may write it
	}
	defs, entry := storesReaching(at, addr)
	st, found := identity, false
	for _, s := range defs {
		st, found = st.join(t.value(s.Val)), true
	}
	if fv, ok := addr.(*ssa.FreeVar); ok && entry {
		fn := fv.Parent()
		mc := t.c.makeClosure(fn)
		i := slices.Index(fn.FreeVars, fv)
		if mc == nil || i < 0 {
			return ctxState{}
		}
		st, found = st.join(t.load(mc, mc.Bindings[i])), true
	}
	if !found {
		return ctxState{}
	}
	return st
}

// onlyStored reports whether addr is only stored to, loaded from and
// captured: no pointer to it goes anywhere else.
func onlyStored(addr ssa.Value) bool {
	refs := addr.Referrers()
	if refs == nil {
		return false
	}
	for _, r := range *refs {
		switch r := r.(type) {
		case *ssa.Store:
			if r.Val == addr {
				return false
			}
		case *ssa.UnOp, *ssa.MakeClosure, *ssa.DebugRef:
		default:
			return false
		}
	}
	return true
}

// storesReaching returns the stores to addr that reach at on some path
// in at's function, and whether a path reaches the function's entry
// with none.
func storesReaching(at ssa.Instruction, addr ssa.Value) (defs []*ssa.Store, entry bool) {
	seen := map[*ssa.BasicBlock]bool{}
	var scan func(b *ssa.BasicBlock, from int)
	scan = func(b *ssa.BasicBlock, from int) {
		for i := from - 1; i >= 0; i-- {
			if st, ok := b.Instrs[i].(*ssa.Store); ok && st.Addr == addr {
				defs = append(defs, st)
				return
			}
		}
		if len(b.Preds) == 0 {
			entry = true
			return
		}
		for _, p := range b.Preds {
			if !seen[p] {
				seen[p] = true
				scan(p, len(p.Instrs))
			}
		}
	}
	b := at.Block()
	scan(b, slices.Index(b.Instrs, at))
	return defs, entry
}

// makeClosure returns the instruction that makes the function literal
// fn with its captured variables, or nil.
func (c *checker) makeClosure(fn *ssa.Function) *ssa.MakeClosure {
	if c.closures == nil {
		c.closures = map[*ssa.Function]*ssa.MakeClosure{}
		for _, f := range c.funcs {
			for _, b := range f.Blocks {
				for _, instr := range b.Instrs {
					if mc, ok := instr.(*ssa.MakeClosure); ok {
						c.closures[mc.Fn.(*ssa.Function)] = mc
					}
				}
			}
		}
	}
	return c.closures[fn]
}

// fieldContext is the state of a context kept in the struct field fa
// addresses: background when the field is an unexported one of a type
// of the package and every store to it in the package (constructors'
// literals included) keeps a background context or one derived from it
// (s.ctx, s.cancel = context.WithCancel(context.Background())), a
// service's lifetime context, which has no deadline. Any other store (a
// parameter, a context with a deadline, a call's result) and fields
// other packages may set are assumed bounded, as is a field never set.
func (c *checker) fieldContext(fa *ssa.FieldAddr) ctxState {
	v := fieldVar(fa)
	if v == nil || v.Exported() || v.Pkg() != c.pass.Pkg || !isContext(v.Type()) {
		return ctxState{}
	}
	if st, ok := c.fieldCtx[v]; ok {
		return st
	}
	c.fieldCtx[v] = ctxState{} // a cycle through the field adds nothing
	var bg *bgOrigin
	for _, fn := range c.funcs {
		for _, b := range fn.Blocks {
			for _, instr := range b.Instrs {
				st, ok := instr.(*ssa.Store)
				if !ok {
					continue
				}
				addr, ok := st.Addr.(*ssa.FieldAddr)
				if !ok || fieldVar(addr) != v {
					continue
				}
				s := c.trace(st.Val)
				if s.bg == nil || len(s.params) > 0 {
					return ctxState{} // c.fieldCtx[v] stays unknown
				}
				if bg == nil {
					bg = &bgOrigin{desc: s.bg.desc + " kept in field " + v.Name(), derived: s.bg.derived}
				}
			}
		}
	}
	if bg == nil {
		return ctxState{}
	}
	c.fieldCtx[v] = ctxState{bg: bg}
	return c.fieldCtx[v]
}

// fieldVar is the field fa addresses.
func fieldVar(fa *ssa.FieldAddr) *types.Var {
	p, ok := types.Unalias(fa.X.Type()).Underlying().(*types.Pointer)
	if !ok {
		return nil
	}
	st, ok := types.Unalias(p.Elem()).Underlying().(*types.Struct)
	if !ok || fa.Field >= st.NumFields() {
		return nil
	}
	return st.Field(fa.Field)
}

// cancelledByTimer reports whether the cancel function that call (a
// WithCancel or WithCancelCause) returns is handed to time.AfterFunc, or
// to a goroutine the function starts that also waits on a timer (a
// helper that keeps a context's values, drops its cancellation and ends
// it a few seconds after the parent is done): the context ends by that
// timer.
func cancelledByTimer(call *ssa.Call) bool {
	for _, r := range *call.Referrers() {
		cancel, ok := r.(*ssa.Extract)
		if !ok || cancel.Index != 1 {
			continue
		}
		uses := *cancel.Referrers()
		for _, u := range uses {
			// A variable a closure captures lives in a cell: its users
			// are the cell's.
			if st, ok := u.(*ssa.Store); ok && st.Val == ssa.Value(cancel) {
				if cell, ok := st.Addr.(*ssa.Alloc); ok {
					uses = append(uses[:len(uses):len(uses)], *cell.Referrers()...)
				}
			}
		}
		for _, u := range uses {
			switch u := u.(type) {
			case *ssa.Call:
				if isFunc(staticFunc(u.Common()), "time", "AfterFunc") && slices.Contains(u.Common().Args, ssa.Value(cancel)) {
					return true
				}
			case *ssa.MakeClosure:
				fn, _ := u.Fn.(*ssa.Function)
				if startedAsGoroutine(u) && waitsOnTimer(fn, 0) {
					return true
				}
			}
		}
	}
	return false
}

// startedAsGoroutine reports whether the closure is the function of a go
// statement.
func startedAsGoroutine(mc *ssa.MakeClosure) bool {
	for _, r := range *mc.Referrers() {
		if g, ok := r.(*ssa.Go); ok && g.Call.Value == ssa.Value(mc) {
			return true
		}
	}
	return false
}

// timerFuncs are the time package's functions that make a timer or
// sleep: a goroutine that calls one ends what it cancels in time.
var timerFuncs = []string{"After", "NewTimer", "Tick", "NewTicker", "AfterFunc", "Sleep"}

// waitsOnTimer reports whether fn, or a closure in it, calls one of
// timerFuncs.
func waitsOnTimer(fn *ssa.Function, depth int) bool {
	if fn == nil || depth > 2 {
		return false
	}
	for _, b := range fn.Blocks {
		for _, instr := range b.Instrs {
			ci, ok := instr.(ssa.CallInstruction)
			if !ok {
				continue
			}
			if isFunc(staticFunc(ci.Common()), "time", timerFuncs...) {
				return true
			}
		}
	}
	for _, anon := range fn.AnonFuncs {
		if waitsOnTimer(anon, depth+1) {
			return true
		}
	}
	return false
}
