package vet

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"go/token"
	"go/types"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ssa"
)

// A ctxSink is a call that waits as long as the context it is given
// lets it.
type ctxSink struct {
	val  ssa.Value // the context, a channel from ctx.Done(), or an *http.Request
	what string    // "client-go call Create"
	why  string    // "a dead connection blocks this call for ~15 minutes"
	fix  string    // "pass a context with a deadline"
	at   token.Pos // where a direct finding goes, if not at the call
	// direct, if set, words a direct finding given what the context is.
	direct func(ctx string) string
}

// witness is the sink a parameter reaches, for a message.
type witness struct {
	sink *ctxSink
	pos  token.Pos
	via  []string // functions between the parameter and the sink
	loop string   // the loop on the way that runs the sink again and again, if any
	at   string   // where the sink is, when in another package ("slack/slack.go:93")
}

// place says where the sink is.
func (w *witness) place(c *checker) string {
	if w.at != "" {
		return w.at
	}
	return c.where(w.pos)
}

// ctxFact is what a package tells the packages importing it about its
// functions: which context parameters reach a sink unbounded. Each
// analyzer has its own type (go/analysis wants one owner per fact
// type), all holding a ctxParams.
type ctxFact interface {
	analysis.Fact
	params() *ctxParams
}

// ctxParams lists the context parameters of a function (by SSA index:
// a method's receiver is 0) that reach a sink, and what the sink is.
type ctxParams struct{ Params []ctxParam }

type ctxParam struct {
	Index          int
	What, Why, Fix string
	At, Loop       string
	Via            []string
}

func (p *ctxParams) params() *ctxParams { return p }

func (p *ctxParams) String() string {
	var b strings.Builder
	for _, q := range p.Params {
		fmt.Fprintf(&b, "param %d reaches %s at %s; ", q.Index, q.What, q.At)
	}
	return b.String()
}

type (
	httpCtxFact struct{ ctxParams }
	kubeCtxFact struct{ ctxParams }
	sqlCtxFact  struct{ ctxParams }
	dialCtxFact struct{ ctxParams }
)

func (*httpCtxFact) AFact() {}
func (*kubeCtxFact) AFact() {}
func (*sqlCtxFact) AFact()  {}
func (*dialCtxFact) AFact() {}

// GobEncode and GobDecode carry the embedded, unexported ctxParams.
func (p *ctxParams) GobEncode() ([]byte, error) {
	var buf bytes.Buffer
	err := gob.NewEncoder(&buf).Encode(p.Params)
	return buf.Bytes(), err
}

func (p *ctxParams) GobDecode(b []byte) error {
	return gob.NewDecoder(bytes.NewReader(b)).Decode(&p.Params)
}

// pkgWhere is where pos is, for a message read in another package:
// the package's directory name and the file's.
func (c *checker) pkgWhere(pos token.Pos) string {
	p := c.pass.Fset.Position(pos)
	return fmt.Sprintf("%s/%s:%d", filepath.Base(filepath.Dir(p.Filename)), filepath.Base(p.Filename), p.Line)
}

// flowContexts reports the calls find recognises as sinks when they get
// an unbounded context made in the same function, and computes, to a
// fixpoint, which context parameters of the package's functions reach
// such a sink, to report the calls that pass a background context into
// one.
//
// The context parameters that reach a sink are exported as facts of
// type newFact on the package's functions, and a call into another
// package's function whose fact says a parameter reaches a sink is a
// sink for that argument, so a background context is followed from
// package to package within what the driver analyzes from source.
func (c *checker) flowContexts(find func(*site) *ctxSink, newFact func() ctxFact) {
	var sites []*site
	c.sites(func(s *site) { sites = append(sites, s) })
	marks := map[*ssa.Function]map[int]*witness{}
	mark := func(p param, w *witness) bool {
		if marks[p.fn] == nil {
			marks[p.fn] = map[int]*witness{}
		}
		if marks[p.fn][p.i] != nil {
			return false
		}
		marks[p.fn][p.i] = w
		return true
	}
	for _, s := range sites {
		if s.static != nil && s.callee != nil && s.callee.Pkg() == c.pass.Pkg {
			continue // the package's own function: followed below
		}
		c.importedSinks(s, newFact, mark)
		k := find(s)
		if k == nil || k.val == nil {
			continue
		}
		st := c.trace(k.val)
		if st.bg != nil && !wrapper(s) {
			c.reportSink(s, k, st.bg.describe())
		}
		loop := c.loopOf(s)
		for _, p := range st.params {
			mark(p, &witness{sink: k, pos: s.pos(), loop: loop})
		}
	}
	for changed := true; changed; {
		changed = false
		for _, s := range sites {
			for _, a := range c.markedArgs(marks, s) {
				for _, p := range c.trace(s.common.Args[a.i]).params {
					if p.fn == s.static && p.i == a.i {
						continue // recursion adds nothing
					}
					loop := a.w.loop
					if loop == "" {
						loop = c.loopOf(s)
					}
					if mark(p, &witness{sink: a.w.sink, pos: a.w.pos, at: a.w.at, via: append([]string{a.name}, a.w.via...), loop: loop}) {
						changed = true
					}
				}
			}
		}
	}
	for _, s := range sites {
		for _, a := range c.markedArgs(marks, s) {
			st := c.trace(s.common.Args[a.i])
			if st.bg == nil || wrapper(s) {
				continue
			}
			w := a.w
			via := w.via
			if a.name != a.callee {
				via = append([]string{a.name}, via...) // the callback's
			}
			through := ""
			if len(via) > 0 {
				through = " (through " + strings.Join(via, ", ") + ")"
			}
			fix := w.sink.fix
			if w.loop != "" {
				fix += fmt.Sprintf(", one per call made inside %s (context.WithTimeout per iteration), not on the context passed to %s, which would end the loop",
					w.loop, a.callee)
			}
			c.report(s.pos(), "%s passed to %s reaches %s at %s%s with no deadline: %s; %s",
				st.bg.describe(), a.callee, w.sink.what, w.place(c), through, w.sink.why, fix)
			break
		}
	}
	c.exportCtxFacts(marks, newFact)
}

// exportCtxFacts exports, for each exported function or method of the
// package (not a generic instance) with a context parameter
// that reaches a sink, a fact saying which and what it reaches.
func (c *checker) exportCtxFacts(marks map[*ssa.Function]map[int]*witness, newFact func() ctxFact) {
	for fn, ms := range marks {
		if fn.Parent() != nil || fn.Origin() != nil || len(ms) == 0 {
			continue
		}
		f, _ := fn.Object().(*types.Func)
		if f == nil || f.Pkg() != c.pass.Pkg || !f.Exported() {
			continue // another package cannot call it
		}
		fact := newFact()
		for i, w := range ms {
			at := w.at
			if at == "" {
				at = c.pkgWhere(w.pos)
			}
			fact.params().Params = append(fact.params().Params, ctxParam{
				Index: i, What: w.sink.what, Why: w.sink.why, Fix: w.sink.fix, At: at, Loop: w.loop, Via: w.via,
			})
		}
		slices.SortFunc(fact.params().Params, func(a, b ctxParam) int { return a.Index - b.Index })
		c.pass.ExportObjectFact(f, fact)
	}
}

// importedSinks treats a static call of another package's function as
// a sink for each argument its fact says reaches one: a background
// context there is reported, and a parameter there is marked.
func (c *checker) importedSinks(s *site, newFact func() ctxFact, mark func(param, *witness) bool) {
	if s.callee == nil || s.static == nil || s.common.IsInvoke() || s.callee.Pkg() == nil {
		return
	}
	f := s.callee.Origin()
	fact := newFact()
	if !c.pass.ImportObjectFact(f, fact) {
		return
	}
	name := f.Pkg().Name() + "." + funcName(s.static)
	for _, q := range fact.params().Params {
		if q.Index >= len(s.common.Args) {
			continue
		}
		k := &ctxSink{val: s.common.Args[q.Index], what: q.What, why: q.Why, fix: q.Fix}
		via := append([]string{name}, q.Via...)
		st := c.trace(k.val)
		if st.bg != nil && !wrapper(s) {
			fix := q.Fix
			if q.Loop != "" {
				fix += fmt.Sprintf(", one per call made inside %s (context.WithTimeout per iteration), not on the context passed to %s, which would end the loop", q.Loop, name)
			}
			c.report(s.pos(), "%s passed to %s reaches %s at %s (through %s) with no deadline: %s; %s",
				st.bg.describe(), name, q.What, q.At, strings.Join(via, ", "), q.Why, fix)
		}
		loop := q.Loop
		if loop == "" {
			loop = c.loopOf(s)
		}
		for _, p := range st.params {
			mark(p, &witness{sink: k, pos: s.pos(), at: q.At, via: via, loop: loop})
		}
	}
}

// wrapper reports whether s sits in a context-free form of a function,
// which passes a background context (or calls another context-free
// form) by design:
//
//	func (d *Client) ServerVersion() (*Info, error) {
//		return d.ServerVersionWithContext(context.Background())
//	}
//
// A function is such a form when it takes no context and a function
// or method of the same name plus WithContext or Context does, or it
// calls one under that name. The finding belongs to its callers. A
// method whose receiver holds a context of its own (a transaction begun
// under one) is no such form: it has a context to pass and passes a
// background one instead.
func wrapper(s *site) bool {
	fn := s.fn
	if fn.Parent() != nil || s.callee == nil {
		return false
	}
	for i, p := range fn.Params {
		if isContext(p.Type()) || i == 0 && fn.Signature.Recv() != nil && holdsContext(p.Type()) {
			return false
		}
	}
	f := funcObject(fn)
	if f == nil {
		return false
	}
	return s.callee.Name() == f.Name()+"WithContext" || s.callee.Name() == f.Name()+"Context" || contextForm(f) != nil
}

// contextForm returns f's sibling that takes a context: the method of
// f's receiver type, or the function of f's package, named f's name
// plus WithContext (or Context), whose first parameter is a context.
// For a method of an interface X it also looks at XWithContext
// (client-go's discovery declares ServerVersionInterfaceWithContext).
func contextForm(f *types.Func) *types.Func {
	if f == nil || f.Pkg() == nil {
		return nil
	}
	for _, name := range []string{f.Name() + "WithContext", f.Name() + "Context"} {
		var obj types.Object
		if r := f.Signature().Recv(); r != nil {
			obj, _, _ = types.LookupFieldOrMethod(r.Type(), true, f.Pkg(), name)
			t := r.Type()
			if p, ok := t.(*types.Pointer); ok {
				t = p.Elem()
			}
			if n, ok := types.Unalias(t).(*types.Named); ok && obj == nil {
				if tn, ok := f.Pkg().Scope().Lookup(n.Obj().Name() + "WithContext").(*types.TypeName); ok {
					obj, _, _ = types.LookupFieldOrMethod(tn.Type(), true, f.Pkg(), name)
				}
			}
		} else {
			obj = f.Pkg().Scope().Lookup(name)
		}
		if with, ok := obj.(*types.Func); ok && firstParamIsContext(with) {
			return with
		}
	}
	return nil
}

// A markedArg is an argument of a call whose context reaches a sink.
type markedArg struct {
	i      int      // the argument's index in the call's Args
	w      *witness // the sink it reaches
	callee string   // the function called, for a message
	name   string   // what the context goes through first, for a message's via
}

// markedArgs returns the arguments of s whose context reaches a sink,
// in order: those that go into marked parameters of its static callee,
// and the context handed with a function whose context parameter is
// marked (sm.Any(ctx, g, func(ctx context.Context, ...) error {...}),
// retry.Do(ctx, op)): such a callee runs the function on the context it
// was given, or one derived from it. A callee of the package is followed
// into to see that it does; one of another package is taken at its word
// unless its name or a parameter's says it bounds the call (Timeout,
// Deadline: wait.PollUntilContextTimeout).
func (c *checker) markedArgs(marks map[*ssa.Function]map[int]*witness, s *site) []markedArg {
	var out []markedArg
	if s.static != nil && marks[s.static] != nil {
		name := funcName(s.static)
		for i, w := range marks[s.static] {
			if i < len(s.common.Args) {
				out = append(out, markedArg{i: i, w: w, callee: name, name: name})
			}
		}
	}
	if ci, cbs := callbacks(marks, s); ci >= 0 && s.callee != nil && !boundsCallbacks(s.callee) {
		own := s.static != nil && s.callee.Pkg() == c.pass.Pkg
		callee := funcLabel(s.callee)
		if own {
			callee = funcName(s.static)
		}
		for _, cb := range cbs {
			if own && len(s.static.Blocks) > 0 && !c.passesToCallback(s.static, ci, cb.arg) {
				continue
			}
			out = append(out, markedArg{i: ci, w: cb.w, callee: callee, name: "the function given to " + callee})
			break
		}
	}
	slices.SortStableFunc(out, func(a, b markedArg) int { return a.i - b.i })
	return out
}

// A callback is an argument of a call that is a function whose context
// parameter reaches a sink.
type callback struct {
	arg int
	w   *witness
}

// callbacks returns the index of s's first context argument and the
// functions it is handed with (literals, or functions of the package
// given by name) whose context parameter is marked; -1 if there is no
// context argument or no such function.
func callbacks(marks map[*ssa.Function]map[int]*witness, s *site) (int, []callback) {
	ci := -1
	var cbs []callback
	for i, a := range s.common.Args {
		if ci < 0 && isContext(a.Type()) {
			ci = i
			continue
		}
		fn, _ := a.(*ssa.Function)
		if mc, ok := a.(*ssa.MakeClosure); ok {
			fn, _ = mc.Fn.(*ssa.Function)
		}
		if fn == nil {
			continue
		}
		for k, p := range fn.Params {
			if w := marks[fn][k]; w != nil && isContext(p.Type()) {
				cbs = append(cbs, callback{arg: i, w: w})
				break
			}
		}
	}
	if ci < 0 || len(cbs) == 0 {
		return -1, nil
	}
	return ci, cbs
}

// passesToCallback reports whether fn, a function of the package, calls
// its function parameter cb (by index in Args, which for a method
// counts the receiver, as fn.Params does) with a context derived without
// a deadline from its context parameter ctx.
func (c *checker) passesToCallback(fn *ssa.Function, ctx, cb int) bool {
	if cb >= len(fn.Params) || ctx >= len(fn.Params) {
		return false
	}
	for _, b := range fn.Blocks {
		for _, instr := range b.Instrs {
			call, ok := instr.(ssa.CallInstruction)
			if !ok || call.Common().Value != fn.Params[cb] {
				continue
			}
			for _, a := range call.Common().Args {
				if isContext(a.Type()) && slices.Contains(c.trace(a).params, param{fn, ctx}) {
					return true
				}
			}
		}
	}
	return false
}

// boundsCallbacks reports whether f's name or one of its parameters'
// says it runs what it is given under a deadline of its own
// (PollUntilContextTimeout, WithTimeout(ctx, timeout, fn)).
func boundsCallbacks(f *types.Func) bool {
	says := func(name string) bool {
		n := strings.ToLower(name)
		return strings.Contains(n, "timeout") || strings.Contains(n, "deadline")
	}
	if says(f.Name()) {
		return true
	}
	ps := f.Signature().Params()
	for i := range ps.Len() {
		if says(ps.At(i).Name()) {
			return true
		}
	}
	return false
}

func (c *checker) reportSink(s *site, k *ctxSink, ctx string) {
	pos := k.at
	if !pos.IsValid() {
		pos = s.pos()
	}
	if k.direct != nil {
		c.report(pos, "%s", k.direct(ctx))
		return
	}
	fix := k.fix
	if loop := c.loopOf(s); loop != "" {
		fix += ", one per call made inside " + loop + " (context.WithTimeout per iteration, cancel after the call), not one on a context the whole loop shares, which would end the loop"
	}
	c.report(pos, "%s with %s: %s; %s", k.what, ctx, k.why, fix)
}

// holdsContext reports whether t (or what it points to) is a struct with
// a field of type context.Context.
func holdsContext(t types.Type) bool {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	st, ok := types.Unalias(t).Underlying().(*types.Struct)
	if !ok {
		return false
	}
	for i := range st.NumFields() {
		if isContext(st.Field(i).Type()) {
			return true
		}
	}
	return false
}
