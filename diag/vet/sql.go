package vet

import (
	"golang.org/x/tools/go/analysis"
)

// SQL reports database/sql calls nothing bounds.
var SQL = &analysis.Analyzer{
	Name: "sqlcontext",
	Doc: `report database/sql calls without a context, or with a background one

Reports Query, QueryRow, Exec, Begin, Prepare and Ping on *sql.DB, *sql.Tx,
*sql.Conn and *sql.Stmt (they run under context.Background()), and their
Context forms (and BeginTx, DB.Conn) given a background context.`,
	Requires:  []*analysis.Analyzer{buildSSA, Facts},
	FactTypes: []analysis.Fact{new(sqlCtxFact)},
	Run:       runSQL,
}

const sqlWhy = "a dead database connection, a held lock or a full connection pool blocks it forever"

// sqlTypes are the database/sql types whose calls wait on the database.
var sqlTypes = []string{"DB", "Tx", "Conn", "Stmt"}

func runSQL(pass *analysis.Pass) (any, error) {
	c := newChecker(pass)
	c.sites(func(s *site) {
		for _, t := range sqlTypes {
			if isMethod(s.callee, "database/sql", t, "Query", "QueryRow", "Exec", "Begin", "Prepare", "Ping") {
				with := s.callee.Name() + "Context"
				if with == "BeginContext" {
					with = "BeginTx"
				}
				c.report(s.pos(), "(*sql.%s).%s has no context: %s; use %s with a context that has a deadline", t, s.callee.Name(), sqlWhy, with)
			}
		}
	})
	c.flowContexts(func(s *site) *ctxSink {
		for _, t := range sqlTypes {
			if isMethod(s.callee, "database/sql", t, "QueryContext", "QueryRowContext", "ExecContext", "PrepareContext", "PingContext", "BeginTx", "Conn") {
				return &ctxSink{val: s.arg(0), what: "(*sql." + t + ")." + s.callee.Name(), why: sqlWhy, fix: "pass a context with a deadline"}
			}
		}
		return nil
	}, func() ctxFact { return new(sqlCtxFact) })
	return nil, nil
}
