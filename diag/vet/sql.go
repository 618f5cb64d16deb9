package vet

import (
	"go/ast"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// SQL reports database/sql calls nothing bounds.
var SQL = &analysis.Analyzer{
	Name: "sqlcontext",
	Doc: `report database/sql calls without a context, or with a background one

Reports Query, QueryRow, Exec, Begin, Prepare and Ping on *sql.DB, *sql.Tx,
*sql.Conn and *sql.Stmt (they run under context.Background()), and their
Context forms (and BeginTx, DB.Conn) given a background context. A
package whose database drivers, imported in its own files, are all ones
that cannot wait forever (SQLite compiled in: no network; rqlite's, whose
client has a Timeout) is left alone; a package that imports no driver, or
an unknown package for its side effects, is checked. A network driver
imported by name (for pq.QuoteIdentifier) beside a SQLite one counts only
if the package opens a database other than SQLite, or opens none. A
package that imports no driver, but a package of its module left alone
this way and none of its module that imports a network driver, is left
alone too.`,
	Requires:  []*analysis.Analyzer{buildSSA, Facts},
	FactTypes: []analysis.Fact{new(sqlCtxFact)},
	Run:       runSQL,
}

const sqlWhy = "a dead database connection, a held lock or a full connection pool blocks it forever"

// sqlTypes are the database/sql types whose calls wait on the database.
var sqlTypes = []string{"DB", "Tx", "Conn", "Stmt"}

// boundedDrivers are database/sql drivers on which no call waits
// forever: embedded SQLite (a local file, no network; without a busy
// timeout a held lock fails at once) and rqlite's (HTTP with a 10 s
// client Timeout by default).
var boundedDrivers = []string{
	"modernc.org/sqlite",
	"github.com/mattn/go-sqlite3",
	"github.com/ncruces/go-sqlite3/driver",
	"github.com/glebarez/go-sqlite",
	"github.com/rqlite/gorqlite/stdlib",
}

// networkDrivers are drivers that talk to a server with no timeout of
// their own; importing one, even by name (pq.Array), means a network.
var networkDrivers = []string{
	"github.com/lib/pq",
	"github.com/jackc/pgx",
	"github.com/go-sql-driver/mysql",
	"github.com/denisenkom/go-mssqldb",
	"github.com/microsoft/go-mssqldb",
	"github.com/sijms/go-ora",
	"github.com/ClickHouse/clickhouse-go",
	"github.com/snowflakedb/gosnowflake",
}

// boundedDatabase reports whether the package's files import a driver of
// boundedDrivers, none of networkDrivers, and no other package for its
// side effects outside the standard library (an unknown one may be a
// network driver).
func boundedDatabase(pass *analysis.Pass) bool {
	found, named := false, false
	for _, f := range pass.Files {
		if strings.HasSuffix(pass.Fset.File(f.Pos()).Name(), "_test.go") {
			continue // a test's SQLite says nothing of the program's database
		}
		for _, spec := range f.Imports {
			path, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return false
			}
			switch {
			case hasPathPrefix(path, networkDrivers) && blankImport(spec):
				return false
			case hasPathPrefix(path, networkDrivers):
				named = true // pq.QuoteIdentifier, pq.Array: judged below
			case hasPathPrefix(path, boundedDrivers):
				found = true
			case blankImport(spec) && strings.Contains(strings.SplitN(path, "/", 2)[0], "."):
				return false
			}
		}
	}
	return found && (!named || opensOnlyLocal(pass))
}

// localDriverNames are the database/sql driver names of the SQLite
// drivers in boundedDrivers.
var localDriverNames = []string{"sqlite", "sqlite3"}

// opensOnlyLocal reports whether the package opens databases (sql.Open,
// sqlx's Open and Connect) and names a SQLite driver, a constant, in
// every one: a network driver it imports by name then serves helpers
// (dbmate's SQLite driver quotes identifiers with pq.QuoteIdentifier).
func opensOnlyLocal(pass *analysis.Pass) bool {
	opens, local := 0, 0
	for _, f := range pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			fn := calleeFunc(pass.TypesInfo, call)
			if !isFunc(fn, "database/sql", "Open") && !isFunc(fn, "github.com/jmoiron/sqlx", "Open", "Connect") {
				return true
			}
			opens++
			if tv, ok := pass.TypesInfo.Types[call.Args[0]]; ok && tv.Value != nil {
				if name, err := strconv.Unquote(tv.Value.ExactString()); err == nil && slices.Contains(localDriverNames, name) {
					local++
				}
			}
			return true
		})
	}
	return opens > 0 && opens == local
}

// hasPathPrefix reports whether path is one of prefixes or in one.
func hasPathPrefix(path string, prefixes []string) bool {
	for _, d := range prefixes {
		if path == d || strings.HasPrefix(path, d+"/") {
			return true
		}
	}
	return false
}

func blankImport(spec *ast.ImportSpec) bool { return spec.Name != nil && spec.Name.Name == "_" }

// sqlDriversFact says what database drivers a package's own files
// import: only SQLite (Local), or a network one (Network).
type sqlDriversFact struct{ Local, Network bool }

func (*sqlDriversFact) AFact() {}

// localThroughImports reports whether the package imports no driver of
// its own but a package of the module that imports only SQLite (FerretDB's
// SQLite backend, whose pool package opens the files and whose metadata
// package queries them through a wrapper shared with network backends),
// and no package that imports a network driver.
func localThroughImports(pass *analysis.Pass) bool {
	local := false
	for _, imp := range pass.Pkg.Imports() {
		if hasPathPrefix(imp.Path(), networkDrivers) {
			return false
		}
		var f sqlDriversFact
		if !sameModule(pass, imp.Path()) || !pass.ImportPackageFact(imp, &f) {
			continue // another module's SQLite says nothing of this one's database
		}
		if f.Network {
			return false
		}
		local = local || f.Local
	}
	return local
}

// sameModule reports whether path is in the module of the package under
// analysis (with no module path, as in GOPATH mode, under the same first path
// element).
func sameModule(pass *analysis.Pass, path string) bool {
	root := pass.Pkg.Path()
	if pass.Module != nil && pass.Module.Path != "" {
		root = pass.Module.Path
	} else if i := strings.Index(root, "/"); i >= 0 {
		root = root[:i]
	}
	return path == root || strings.HasPrefix(path, root+"/")
}

// importsNetworkDriver reports whether the package's files (not its
// tests) import a network database driver.
func importsNetworkDriver(pass *analysis.Pass) bool {
	for _, f := range pass.Files {
		if strings.HasSuffix(pass.Fset.File(f.Pos()).Name(), "_test.go") {
			continue
		}
		for _, spec := range f.Imports {
			if path, err := strconv.Unquote(spec.Path.Value); err == nil && hasPathPrefix(path, networkDrivers) {
				return true
			}
		}
	}
	return false
}

// exportDrivers exports the package's sqlDriversFact (from the Facts
// analyzer, whose facts every package's analysis sees) and reports
// whether the package's databases are SQLite only through its imports.
func exportDrivers(pass *analysis.Pass) (localThroughImport bool) {
	switch {
	case boundedDatabase(pass):
		pass.ExportPackageFact(&sqlDriversFact{Local: true})
	case importsNetworkDriver(pass):
		pass.ExportPackageFact(&sqlDriversFact{Network: true})
	default:
		return localThroughImports(pass)
	}
	return false
}

func runSQL(pass *analysis.Pass) (any, error) {
	if boundedDatabase(pass) || pass.ResultOf[Facts].(*summary).sqlLocal {
		return nil, nil
	}
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
