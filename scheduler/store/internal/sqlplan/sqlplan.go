// Package sqlplan checks the query plans of the SQL stores (issue 18): the
// queries the scheduler loop and the admin commands make on the history
// tables must read through an index, so that neither slows as history
// grows. Each store's plan_test.go lists its queries, runs EXPLAIN on
// each against its real database and judges the plan here; CheckListed
// fails for a query in the store's source that the list lacks.
package sqlplan

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Query is one query a store makes, with arguments to plan it by.
type Query struct {
	Name string
	SQL  string
	Args []any
	// Paged marks a list read a page at a time: it may walk an index
	// from its start, since the LIMIT stops it, but must not sort every
	// match first.
	Paged bool
	// Partial names the partial index the query may walk whole, and what
	// bounds it ("notifications_pending: only pending notifications"): its
	// size follows the live rows it holds, not the history.
	Partial string
}

// history are the tables that grow with history.
const history = `runs|task_instances|transitions|ops|dag_changes|notifications`

var (
	sqliteScan      = regexp.MustCompile(`^SCAN (\w+)\b(.*)$`)
	sqliteSort      = regexp.MustCompile(`^USE TEMP B-TREE FOR ORDER BY`)
	postgresSeqScan = regexp.MustCompile(`Seq Scan on (` + history + `)\b`)
	// An incremental sort sorts only the ties of an index's order.
	postgresSort = regexp.MustCompile(`^\s*(->\s*)?Sort\b`)
)

// BadSQLite says what is wrong with q's plan from EXPLAIN QUERY PLAN (the
// detail column, one row a line), or "" if nothing is. SQLite names a
// table by its alias in q, if it has one.
func BadSQLite(q Query, plan []string) string {
	names := historyNames(q.SQL)
	for _, line := range plan {
		if m := sqliteScan.FindStringSubmatch(line); m != nil && names[m[1]] != "" {
			table := names[m[1]]
			usesIndex := strings.Contains(m[2], "USING INDEX") || strings.Contains(m[2], "USING COVERING INDEX")
			// A paged list may walk an index, or the table of ops in its
			// rowid order, from the start: its LIMIT ends the walk.
			if index, _, _ := strings.Cut(q.Partial, ":"); index != "" && usesIndex && strings.HasSuffix(strings.TrimSpace(m[2]), " "+index) {
				continue // a partial index, bounded by its live rows
			}
			if !q.Paged || (!usesIndex && table != "ops") {
				return "full scan of " + table + ": " + line
			}
		}
		if q.Paged && sqliteSort.MatchString(line) {
			return "a paged list sorts every match before its LIMIT: " + line
		}
	}
	return ""
}

// historyNames maps the names q gives the history tables (their own, and
// their aliases) to the tables.
func historyNames(q string) map[string]string {
	names := map[string]string{}
	for _, t := range strings.Split(history, "|") {
		names[t] = t
	}
	for _, m := range tableRef.FindAllStringSubmatch(q, -1) {
		if alias := m[2]; alias != "" && !sqlWords[strings.ToUpper(alias)] {
			names[alias] = m[1]
		}
	}
	return names
}

var (
	tableRef = regexp.MustCompile(`(?i)\b(?:FROM|JOIN|UPDATE)\s+(` + history + `)\b(?:\s+(?:AS\s+)?(\w+))?`)
	sqlWords = map[string]bool{"WHERE": true, "ORDER": true, "GROUP": true, "LIMIT": true, "SET": true, "ON": true,
		"JOIN": true, "CROSS": true, "INNER": true, "LEFT": true, "USING": true, "AS": true, "UNION": true, "RETURNING": true}
)

// BadPostgres says what is wrong with a plan from EXPLAIN (text format,
// one line a row), or "" if nothing is.
func BadPostgres(plan []string, paged bool) string {
	for _, line := range plan {
		if m := postgresSeqScan.FindStringSubmatch(line); m != nil {
			return "full scan of " + m[1] + ": " + strings.TrimSpace(line)
		}
		if paged && postgresSort.MatchString(line) {
			return "a paged list sorts every match before its LIMIT: " + strings.TrimSpace(line)
		}
	}
	return ""
}

// readsHistory matches a piece of SQL that reads or changes a history
// table (INSERTs plan nothing to check).
var readsHistory = regexp.MustCompile(`(?i)\b(FROM|UPDATE)\s+(` + history + `)\b`)

// CheckListed fails t for each string literal in the Go files of dir (not
// tests) that reads or changes a history table and is not part of a
// listed query: a new query must join the list, and so be planned.
func CheckListed(t *testing.T, dir string, listed []Query) {
	t.Helper()
	var all []string
	for _, q := range listed {
		all = append(all, normalize(q.SQL))
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !readsHistory.MatchString(s) {
				return true
			}
			s = normalize(s)
			for _, q := range all {
				if strings.Contains(q, s) {
					return true
				}
			}
			t.Errorf("%s: a query not in plan_test.go's list; add it there so its plan is checked:\n%s", fset.Position(lit.Pos()), s)
			return true
		})
	}
}

// normalize collapses runs of white space, so that a query's layout in
// the source does not matter.
func normalize(s string) string { return strings.Join(strings.Fields(s), " ") }
