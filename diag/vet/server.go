package vet

import (
	"go/ast"

	"golang.org/x/tools/go/analysis"
)

// HTTPServer reports HTTP servers that wait forever for a request's
// headers.
var HTTPServer = &analysis.Analyzer{
	Name: "httpserver",
	Doc: `report HTTP servers without a header timeout

Reports an http.Server built in the package (literal, new or var) with
neither ReadHeaderTimeout nor ReadTimeout, in the literal or assigned later
in the package, and http.ListenAndServe, ListenAndServeTLS, Serve and
ServeTLS, whose server has no timeouts.`,
	Requires: []*analysis.Analyzer{buildSSA, Facts},
	Run:      runServer,
}

const serverWhy = "a client that opens a connection and never finishes its request headers holds it, and a goroutine, forever"

func runServer(pass *analysis.Pass) (any, error) {
	c := newChecker(pass)
	for _, f := range pass.Files {
		if c.skipped(f.Pos()) {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var e ast.Expr
			switch n := n.(type) {
			case *ast.CompositeLit, *ast.CallExpr:
				e = n.(ast.Expr)
			case *ast.ValueSpec:
				if len(n.Values) == 0 {
					for _, id := range n.Names {
						c.checkServer(id)
					}
				}
				return true
			default:
				return true
			}
			c.checkServer(e)
			return true
		})
	}
	c.sites(func(s *site) {
		if isFunc(s.callee, "net/http", "ListenAndServe", "ListenAndServeTLS", "Serve", "ServeTLS") {
			c.report(s.pos(), "http.%s serves with no timeouts: %s; use an http.Server with ReadHeaderTimeout", s.callee.Name(), serverWhy)
		}
	})
	return nil, nil
}

// checkServer reports e if it builds an http.Server that never gets a
// header timeout.
func (c *checker) checkServer(e ast.Expr) {
	if !c.hold.builds(e, "net/http", "Server") || c.hold.hasField(e, "ReadHeaderTimeout", "ReadTimeout") {
		return
	}
	keys := []any{e}
	for _, o := range c.hold.held[e] {
		keys = append(keys, o)
	}
	if c.hold.setLater(keys, "ReadHeaderTimeout", "ReadTimeout") {
		return
	}
	c.report(e.Pos(), "http.Server without ReadHeaderTimeout: %s; set ReadHeaderTimeout", serverWhy)
}
