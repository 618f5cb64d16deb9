package vet

import (
	"go/ast"
	"go/types"
)

// Libraries whose connections read replies with no deadline unless one
// is asked for: redigo (no read timeout unless DialReadTimeout) and
// go-ldap (no request timeout unless SetTimeout).
var (
	redigoPkgs = []string{"github.com/gomodule/redigo/redis", "github.com/garyburd/redigo/redis"}
	ldapPkgs   = []string{"github.com/go-ldap/ldap/v3", "github.com/go-ldap/ldap", "gopkg.in/ldap.v3", "gopkg.in/ldap.v2"}
)

const (
	redisReplyWhy = "redigo reads every reply with no deadline unless the connection has a read timeout, so a server that accepts a command and never answers blocks Do forever"
	ldapReplyWhy  = "go-ldap waits for each response with no deadline unless SetTimeout is called, so a directory that accepts a request and never answers blocks Bind or Search forever"
)

// libConns reports connections of those libraries made with no bound on
// their replies: redigo's Dial, DialContext and DialURL given no
// DialReadTimeout option (options from a slice are not judged), in a
// package that never uses DoWithTimeout or ReceiveWithTimeout; and
// go-ldap's Dial, DialURL and DialTLS in a package that never calls
// SetTimeout.
func (c *checker) libConns() {
	perCall, ldapTimeout := false, false
	c.inspect(func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		f, _ := c.pass.TypesInfo.Uses[sel.Sel].(*types.Func)
		if f == nil || f.Pkg() == nil {
			return true
		}
		switch {
		case underAny(f.Pkg().Path(), redigoPkgs) && (f.Name() == "DoWithTimeout" || f.Name() == "ReceiveWithTimeout"):
			perCall = true
		case underAny(f.Pkg().Path(), ldapPkgs) && f.Name() == "SetTimeout":
			ldapTimeout = true
		}
		return true
	})
	c.sites(func(s *site) {
		if s.expr == nil || s.callee == nil || s.callee.Signature().Recv() != nil {
			return
		}
		for _, p := range redigoPkgs {
			if !perCall && isFunc(s.callee, p, "Dial", "DialContext", "DialURL") && !s.expr.Ellipsis.IsValid() && !c.passesOption(s.expr, p, "DialReadTimeout") {
				c.report(s.pos(), "redis.%s without DialReadTimeout: %s; add redis.DialReadTimeout (and DialWriteTimeout), or use DoWithTimeout", s.callee.Name(), redisReplyWhy)
			}
		}
		for _, p := range ldapPkgs {
			if !ldapTimeout && isFunc(s.callee, p, "Dial", "DialURL", "DialTLS") {
				c.report(s.pos(), "ldap.%s and no SetTimeout in the package: %s; call SetTimeout on the connection", s.callee.Name(), ldapReplyWhy)
			}
		}
	})
}

// passesOption reports whether call has an argument that is a call of
// pkg's function name (redis.DialReadTimeout(5*time.Second)).
func (c *checker) passesOption(call *ast.CallExpr, pkg, name string) bool {
	for _, a := range call.Args {
		ac, ok := ast.Unparen(a).(*ast.CallExpr)
		if !ok {
			continue
		}
		if sel, ok := ast.Unparen(ac.Fun).(*ast.SelectorExpr); ok {
			if f, _ := c.pass.TypesInfo.Uses[sel.Sel].(*types.Func); isFunc(f, pkg, name) {
				return true
			}
		}
	}
	return false
}
