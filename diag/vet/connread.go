package vet

import (
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/ssa"
)

const replyWhy = "a server that accepts the request and never answers blocks it forever (a dead peer only after TCP keepalive gives up)"

// isConnType reports whether t is a network connection whose reads wait
// for the peer: net.Conn, or a connection type of net, crypto/tls or
// uTLS. A program's own connection types may bound their reads inside
// and are not judged.
func isConnType(t types.Type) bool {
	if isNamed(t, "net", "Conn") {
		return true
	}
	p, ok := types.Unalias(t).(*types.Pointer)
	if !ok {
		return false
	}
	n, ok := types.Unalias(p.Elem()).(*types.Named)
	if !ok || n.Obj().Pkg() == nil {
		return false
	}
	switch n.Obj().Pkg().Path() {
	case "net":
		return n.Obj().Name() == "TCPConn" || n.Obj().Name() == "UDPConn"
	case "crypto/tls", utlsPkg:
		return n.Obj().Name() == "Conn" || n.Obj().Name() == "UConn"
	}
	return false
}

// clientConnFrom reports whether a connection returned by f is the
// client's end of one: not a listener's Accept, a hijacked or
// server-side TLS connection, or an in-memory pipe.
func clientConnFrom(f *types.Func) bool {
	if f == nil {
		return false
	}
	n := f.Name()
	if strings.HasPrefix(n, "Accept") || n == "Hijack" || strings.Contains(n, "Server") || strings.Contains(n, "Listen") {
		return false
	}
	return !isFunc(f, "net", "Pipe", "FileConn")
}

// readsAndWrites says what the uses of a connection value do with it.
type readsAndWrites struct {
	read, write, deadline bool
	readAt                ssa.Instruction // the instruction of the first function through which it is read
}

// connUses follows v through conversions and phis, into the package's
// functions it is passed to (up to depth 3), and records whether it is
// read (Read, or passed where an io.Reader is wanted: io.ReadFull,
// bufio.NewReader, a decoder), written (Write, or passed as an
// io.Writer), or given a deadline.
func (c *checker) connUses(v ssa.Value, depth int, top bool, u *readsAndWrites, seen map[ssa.Value]bool) {
	if seen[v] || depth > 3 {
		return
	}
	seen[v] = true
	read := func(at ssa.Instruction) {
		u.read = true
		if top && (u.readAt == nil || at.Pos() < u.readAt.Pos()) {
			u.readAt = at
		}
	}
	for _, r := range *v.Referrers() {
		switch r := r.(type) {
		case *ssa.Phi, *ssa.ChangeInterface, *ssa.MakeInterface, *ssa.ChangeType:
			c.connUses(r.(ssa.Value), depth, top, u, seen)
		case ssa.CallInstruction:
			cc := r.Common()
			switch methodOn(cc, v) {
			case "Read", "WriteTo":
				read(r)
				continue
			case "Write", "ReadFrom":
				u.write = true
				continue
			case "SetDeadline", "SetReadDeadline":
				u.deadline = true
				continue
			case "":
				// Not a method of v: v is an argument, judged below.
			default:
				continue
			}
			sig := cc.Signature()
			for i, a := range cc.Args {
				if a != v {
					continue
				}
				if sc := cc.StaticCallee(); sc != nil && sc.Pkg != nil && sc.Pkg.Pkg == c.pass.Pkg && i < len(sc.Params) {
					before := u.read
					c.connUses(sc.Params[i], depth+1, false, u, seen)
					if u.read && !before {
						read(r)
					}
					continue
				}
				j := i
				if !cc.IsInvoke() && sig.Recv() != nil {
					j-- // a static method call passes its receiver first
				}
				if j < 0 || j >= sig.Params().Len() {
					continue
				}
				pt := sig.Params().At(j).Type()
				if sig.Variadic() && j == sig.Params().Len()-1 {
					continue // fmt.Fprint's ...any
				}
				r1, w1 := hasMethod(pt, "Read"), hasMethod(pt, "Write")
				switch {
				case r1 && !w1 && c.wrapsOnly(cc) && !readThrough(r):
					// bufio.NewReader(conn) kept: read later, elsewhere.
				case r1 && !w1:
					read(r)
				case w1 && !r1:
					u.write = true
				}
			}
		}
	}
}

// wrapsOnly reports whether cc wraps the reader it is given for reads
// that come later (bufio.NewReader, json.NewDecoder: a function named
// New...) in a package that sets a read deadline somewhere: those reads
// may be bounded where they happen. In a package that sets none they
// cannot be, and the wrapping counts as a read.
func (c *checker) wrapsOnly(cc *ssa.CallCommon) bool {
	name := ""
	if cc.IsInvoke() {
		name = cc.Method.Name()
	} else if sc := cc.StaticCallee(); sc != nil {
		name = sc.Name()
	}
	if !strings.HasPrefix(name, "New") {
		return false
	}
	if c.anyReadDeadline == nil {
		found := false
		for _, fn := range c.funcs {
			if setsDeadline(fn) {
				found = true
				break
			}
		}
		c.anyReadDeadline = &found
	}
	return *c.anyReadDeadline
}

// readThrough reports whether the wrapper that call returns is read
// in the same function: a method named Read..., Decode, Scan or Peek
// called on it (bufio.NewReader(conn).ReadString('\n')).
func readThrough(call ssa.CallInstruction) bool {
	v, ok := call.(ssa.Value)
	if !ok {
		return false
	}
	for _, r := range *v.Referrers() {
		ci, ok := r.(ssa.CallInstruction)
		if !ok {
			continue
		}
		cc := ci.Common()
		name := methodOn(cc, v)
		if strings.HasPrefix(name, "Read") || name == "Decode" || name == "Scan" || name == "Peek" {
			return true
		}
	}
	return false
}

// methodOn returns the name of the method cc calls on v (through an
// interface or on a concrete receiver), or "" when cc calls no method
// of v.
func methodOn(cc *ssa.CallCommon, v ssa.Value) string {
	if cc.IsInvoke() && cc.Value == v {
		return cc.Method.Name()
	}
	if sc := cc.StaticCallee(); sc != nil && sc.Signature.Recv() != nil && len(cc.Args) > 0 && cc.Args[0] == v {
		return sc.Name()
	}
	return ""
}

// hasMethod reports whether t's method set (or its pointer's) has name.
func hasMethod(t types.Type, name string) bool {
	obj, _, _ := types.LookupFieldOrMethod(t, true, nil, name)
	_, ok := obj.(*types.Func)
	return ok
}

// connExchanges reports a request sent and its reply awaited on a
// client's connection with no read deadline: a connection a call of the
// function returns (a dial, or a helper of the package that dials),
// written to and then read, by the function or the package's functions
// it is handed to (an MQTT CONNECT and its CONNACK); and a connection
// read in a function that sets a write deadline on it and no read
// deadline (a SASL exchange). A function that sets a read deadline on
// anything, itself or through the package's functions it calls, is left
// alone, as is a connection only read (a subscription's reader waits for
// the server by design).
func (c *checker) connExchanges() {
	c.sites(func(s *site) {
		if s.callee == nil || !clientConnFrom(s.callee) {
			return
		}
		v, ok := s.instr.(ssa.Value)
		if !ok {
			return
		}
		var conn ssa.Value
		if tup, ok := v.Type().(*types.Tuple); ok {
			if tup.Len() == 0 || !isConnType(tup.At(0).Type()) {
				return
			}
			for _, r := range *v.Referrers() {
				if e, ok := r.(*ssa.Extract); ok && e.Index == 0 {
					conn = e
				}
			}
		} else if isConnType(v.Type()) {
			conn = v
		}
		// setsDeadline walks the package's callees: asked only for a
		// call that returns a connection, not for every call.
		if conn == nil || setsDeadline(s.fn) {
			return
		}
		u := &readsAndWrites{}
		c.connUses(conn, 0, true, u, map[ssa.Value]bool{})
		if u.read && u.write && !u.deadline && u.readAt != nil {
			c.report(c.instrPos(u.readAt), "the reply to a request on a connection from %s is read with no read deadline: %s; SetReadDeadline (or SetDeadline) on the connection before the exchange", methodOrFunc(s.callee), replyWhy)
		}
	})
	// A write deadline alone.
	for _, fn := range c.funcs {
		if setsDeadline(fn) {
			continue
		}
		keys := map[connKey]bool{}
		var vals []ssa.Value
		for _, b := range fn.Blocks {
			for _, instr := range b.Instrs {
				if ci, ok := instr.(ssa.CallInstruction); ok {
					cc := ci.Common()
					if cc.IsInvoke() && cc.Method.Name() == "SetWriteDeadline" && isConnType(cc.Value.Type()) {
						keys[keyOf(cc.Value)] = true
					} else if sc := cc.StaticCallee(); sc != nil && sc.Name() == "SetWriteDeadline" && len(cc.Args) > 0 && isConnType(cc.Args[0].Type()) {
						keys[keyOf(cc.Args[0])] = true
					}
				}
				if v, ok := instr.(ssa.Value); ok && isConnType(v.Type()) {
					vals = append(vals, v)
				}
			}
		}
		if len(keys) == 0 {
			continue
		}
		for _, v := range vals {
			if !keys[keyOf(v)] {
				continue
			}
			u := &readsAndWrites{}
			c.connUses(v, 0, true, u, map[ssa.Value]bool{})
			if u.read && !u.deadline && u.readAt != nil {
				c.report(c.instrPos(u.readAt), "a connection with a write deadline and no read deadline is read: the write is bounded, the reply is not: %s; SetReadDeadline too (or SetDeadline for both)", replyWhy)
			}
		}
	}
}

// connKey names a connection across loads: a struct field of a base
// value (b.conn loaded twice), or the value itself.
type connKey struct {
	base  ssa.Value
	field int
}

func keyOf(v ssa.Value) connKey {
	if u, ok := v.(*ssa.UnOp); ok && u.Op == token.MUL {
		if fa, ok := u.X.(*ssa.FieldAddr); ok {
			return connKey{fa.X, fa.Field}
		}
	}
	return connKey{v, -1}
}

// instrPos is where a finding about instr goes: the start of its call
// expression, when it is a call found in the source.
func (c *checker) instrPos(instr ssa.Instruction) token.Pos {
	if ci, ok := instr.(ssa.CallInstruction); ok {
		if e := c.calls[ci.Common().Pos()]; e != nil {
			return e.Pos()
		}
	}
	return instr.Pos()
}

// methodOrFunc names f for a message: pkg.Type.Method or pkg.Func.
func methodOrFunc(f *types.Func) string {
	if f.Signature().Recv() != nil {
		if _, ok := types.Unalias(f.Signature().Recv().Type()).(*types.Interface); !ok {
			return methodName(f)
		}
		return f.Name()
	}
	return f.Pkg().Name() + "." + f.Name()
}
