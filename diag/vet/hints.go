package vet

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/ssa"
)

// Fix hints that do not mislead (issue 21): a deadline proposed for a
// whole worker loop stops the loop, and a client's or config's Timeout
// cuts a long-lived stream. Where a call sits in a loop, or is a watch
// or a stream, the fix says what bounds it without breaking it.

// streamFix is the fix for a long-lived stream or watch.
const streamFix = "do not give it a fixed deadline or set the client's (or config's) Timeout, which would cut a healthy stream: pass a context you cancel when no data has arrived for a while (an idle timeout), and bound the connection with the transport's ResponseHeaderTimeout"

// httpStreamFix is the fix for an http.Client whose response is read
// as a long-lived stream (server-sent events, a follow or a watch).
const httpStreamFix = "the response is read as a long-lived stream, which a client Timeout would cut: bound the connection instead (the Transport's ResponseHeaderTimeout and a dialer with Timeout) and cancel the request's context when no data has arrived for a while"

// inLoop reports whether instr's block is on a cycle of its function:
// the call runs once per iteration.
func (c *checker) inLoop(instr ssa.Instruction) bool {
	b := instr.Block()
	if b == nil {
		return false
	}
	if c.loops == nil {
		c.loops = map[*ssa.BasicBlock]bool{}
	}
	if v, ok := c.loops[b]; ok {
		return v
	}
	seen := map[*ssa.BasicBlock]bool{}
	stack := append([]*ssa.BasicBlock(nil), b.Succs...)
	found := false
	for len(stack) > 0 && !found {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if x == b {
			found = true
			break
		}
		if seen[x] {
			continue
		}
		seen[x] = true
		stack = append(stack, x.Succs...)
	}
	c.loops[b] = found
	return found
}

// loopOf names the loop a call runs in, for a message: "a loop in
// worker", or "wait.Until" for a function literal handed to one of
// apimachinery's wait loops; "" if it is in none this can see.
func (c *checker) loopOf(s *site) string {
	if c.inLoop(s.instr) {
		return "a loop in " + funcName(s.fn)
	}
	if s.fn.Parent() == nil {
		return ""
	}
	mc := c.makeClosure(s.fn)
	if mc == nil {
		return ""
	}
	for _, r := range *mc.Referrers() {
		call, ok := r.(ssa.CallInstruction)
		if !ok {
			continue
		}
		if f := staticFunc(call.Common()); f != nil && f.Pkg() != nil && f.Pkg().Path() == waitPkg && isWaitLoop(f.Name()) {
			return "wait." + f.Name()
		}
		if c.inLoop(call) {
			return "a loop in " + funcName(call.Parent())
		}
	}
	return ""
}

// isWaitLoop reports whether wait.name runs its function again and
// again until stopped (Until, Forever, JitterUntil...), as opposed to
// polling a condition to an end.
func isWaitLoop(name string) bool {
	return strings.Contains(name, "Until") && !strings.HasPrefix(name, "Poll") || strings.HasPrefix(name, "Forever") || strings.HasPrefix(name, "Jitter") || strings.HasPrefix(name, "NonSlidingUntil")
}

// streamCall reports whether s is a client-go call that opens a
// long-lived stream: a Watch, or a rest.Request's Stream (GetLogs with
// Follow, exec, port-forward).
func streamCall(f *types.Func) bool {
	if f == nil || f.Pkg() == nil || !strings.HasPrefix(f.Pkg().Path(), clientGo) {
		return false
	}
	return f.Name() == "Watch" || f.Name() == "WatchList" || isMethod(f, restPkg, "Request", "Stream")
}

// streamsAt says where the package, or a package of its module that
// it imports, opens a long-lived stream on the Kubernetes API (a Watch
// or a Stream); "" if none does.
func (c *checker) streamsAt() string { return c.sum.streams }

// httpStream reports whether the function around an HTTP Do reads a
// long-lived response: it asks for server-sent events, follows or
// watches, or reads the body line by line.
func (c *checker) httpStream(fn *ssa.Function) bool {
	for fn.Parent() != nil {
		fn = fn.Parent()
	}
	syn := fn.Syntax()
	if syn == nil {
		return false
	}
	found := false
	ast.Inspect(syn, func(n ast.Node) bool {
		if found {
			return false
		}
		switch n := n.(type) {
		case *ast.BasicLit:
			if n.Kind == token.STRING {
				v := strings.ToLower(n.Value)
				for _, m := range []string{"text/event-stream", "follow=true", "follow=1", "watch=true", "watch=1", "stream=true"} {
					if strings.Contains(v, m) {
						found = true
					}
				}
			}
		case *ast.CallExpr:
			if f := calleeFunc(c.pass.TypesInfo, n); isFunc(f, "bufio", "NewScanner", "NewReader") && len(n.Args) == 1 {
				if sel, ok := ast.Unparen(n.Args[0]).(*ast.SelectorExpr); ok && sel.Sel.Name == "Body" && isNamed(c.typeOf(sel.X), "net/http", "Response") {
					found = true
				}
			}
		}
		return true
	})
	return found
}
