package printer_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// wireDirs hold the types that -o json and -o yaml print, relative to
// this package: the operations API's wire types (vigil's read commands),
// the debug API's (diag's), and what diag's commands print of their own
// (vet's Finding, attach's Screen, hangs' Report, ...).
var wireDirs = []struct {
	dir string
	// all: every struct type is a wire type; otherwise only structs with
	// at least one json or yaml tag are (printer's YAML is JSON's, so a
	// yaml tag alone leaks Go names to -o json and -o yaml).
	all bool
}{
	{"../../api", true},
	{"../../diag/debugapi", true},
	{"../../diag/cli/vet", false},
	{"../../diag/cli/attach", false},
	{"../../diag/cli/hangs", false},
	{"../../diag/cli/health", false},
	{"../../diag/cli/bundle", false},
	{"../../diag/cli/loglevel", false},
	{"../../diag/cli/profile", false},
	{"../../diag/cli/tasks", false},
	{"../../diag/cli/trace", false},
	{"../../diag/cli/version", false},
	{"../../diag/cli/stacks", false},
	{"../../cmd/vigil/cli/cmdutil", false},
	{"../../cmd/vigil/cli/clicfg", false},
	{"../../cmd/vigil/cli/dags", false},
	{"../../cmd/vigil/cli/ops", false},
	{"../../cmd/vigil/cli/pools", false},
	{"../../cmd/vigil/cli/runs", false},
	{"../../cmd/vigil/cli/status", false},
	{"../../cmd/vigil/cli/tasks", false},
}

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// TestWireTags reads the source of every wire type and checks the JSON
// grammar of issue 21: every exported field has an explicit snake_case
// json name (no Go field names leak into scripts), and every time.Time is
// left out when zero (omitzero, or a pointer with omitempty), so no
// "0001-01-01T00:00:00Z" reaches a script.
func TestWireTags(t *testing.T) {
	checked := 0
	for _, wd := range wireDirs {
		fset := token.NewFileSet()
		files, err := filepath.Glob(filepath.Join(wd.dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				ts, ok := n.(*ast.TypeSpec)
				if !ok || !ts.Name.IsExported() {
					return true
				}
				st, ok := ts.Type.(*ast.StructType)
				if !ok || (!wd.all && !hasJSONTag(st)) {
					return true
				}
				checked++
				for _, fld := range st.Fields.List {
					checkField(t, fset, ts.Name.Name, fld)
				}
				return true
			})
		}
	}
	if checked < 50 {
		t.Errorf("checked %d wire types; the source walk is broken", checked)
	}
}

func hasJSONTag(st *ast.StructType) bool {
	for _, fld := range st.Fields.List {
		if fld.Tag != nil && (strings.Contains(fld.Tag.Value, `json:"`) || strings.Contains(fld.Tag.Value, `yaml:"`)) {
			return true
		}
	}
	return false
}

func checkField(t *testing.T, fset *token.FileSet, typ string, fld *ast.Field) {
	t.Helper()
	pos := fset.Position(fld.Pos())
	where := func(name string) string {
		return filepath.Base(filepath.Dir(pos.Filename)) + "/" + filepath.Base(pos.Filename) + ":" + strconv.Itoa(pos.Line) + " " + typ + "." + name
	}
	var tag string
	if fld.Tag != nil {
		raw, err := strconv.Unquote(fld.Tag.Value)
		if err != nil {
			t.Errorf("%s: bad tag %s", where("?"), fld.Tag.Value)
			return
		}
		tag = reflect.StructTag(raw).Get("json")
	}
	if len(fld.Names) == 0 {
		// An embedded struct is flattened into its parent; it is checked
		// where it is declared.
		return
	}
	for _, n := range fld.Names {
		if !n.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		switch {
		case tag == "":
			t.Errorf("%s: no json tag: scripts would see the Go name %q", where(n.Name), n.Name)
			continue
		case name == "-":
			continue
		case !snakeCase.MatchString(name):
			t.Errorf("%s: json name %q is not snake_case", where(n.Name), name)
		}
		if isTime(fld.Type) && !strings.Contains(","+opts+",", ",omitzero,") {
			t.Errorf("%s: a time.Time without omitzero prints 0001-01-01 when unset", where(n.Name))
		}
		if star, ok := fld.Type.(*ast.StarExpr); ok && isTime(star.X) && !strings.Contains(","+opts+",", ",omitempty,") && !strings.Contains(","+opts+",", ",omitzero,") {
			t.Errorf("%s: a *time.Time without omitempty prints null when unset", where(n.Name))
		}
	}
}

func isTime(e ast.Expr) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "time" && sel.Sel.Name == "Time"
}
