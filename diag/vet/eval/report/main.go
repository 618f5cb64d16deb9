// Command report turns the output of diag/vet/eval/run.sh into the
// markdown tables of diag/vet/eval/RESULTS.md: recall on the fix-commit
// cases and precision on the modules, for one set (tune or heldout).
//
//	go run ./diag/vet/eval/report -set diag/vet/eval/heldout -out $HOME/.cache/vigil/vet-eval/out/heldout
//
// run.sh leaves, for each case, <out>/cases/<id>.json (diag vet -o json),
// <id>.rc (its exit status) and <id>.dir (the module's directory); and for
// each module <out>/modules/<n>.json, .rc and .dir, n being its row in
// modules.tsv counted from 1.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

func main() {
	set := flag.String("set", "", "the set's directory (cases.tsv, modules.tsv, findings.tsv)")
	out := flag.String("out", "", "run.sh's output directory for the set")
	flag.Parse()
	if *set == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "report: -set and -out are required")
		os.Exit(2)
	}
	if err := run(os.Stdout, *set, *out); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

// Finding is one line of diag vet -o json.
type Finding struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Analyzer string `json:"analyzer"`
	Message  string `json:"message"`
}

func run(w io.Writer, setDir, outDir string) error {
	cases, err := LoadCases(filepath.Join(setDir, "cases.tsv"))
	if err != nil {
		return err
	}
	mods, err := LoadModules(filepath.Join(setDir, "modules.tsv"))
	if err != nil {
		return err
	}
	verdicts, err := LoadVerdicts(filepath.Join(setDir, "findings.tsv"))
	if err != nil {
		return err
	}

	fmt.Fprintf(w, "### Recall: %s\n\n", filepath.Base(setDir))
	fmt.Fprintln(w, "| case | repo | fix commit | module@version | expected | result | reported at |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	var exact, sameFunc, missed, failed int
	for _, c := range cases {
		res, where := judgeCase(c, filepath.Join(outDir, "cases", c.ID))
		switch res {
		case "exact line":
			exact++
		case "same function":
			sameFunc++
		case "missed":
			missed++
		default:
			failed++
		}
		want := fmt.Sprintf("%s:%d", c.File, c.Line)
		if len(c.Also) > 0 {
			want += " (or " + joinInts(c.Also) + ")"
		}
		fmt.Fprintf(w, "| %s | %s | %.12s | %s@%s | %s | %s | %s |\n", c.ID, c.Repo, c.Commit, c.Module, c.Version, want, res, where)
	}
	fmt.Fprintf(w, "\nExact line: **%d/%d**; same function only: %d; missed: %d; not run (load or download error): %d.\n\n",
		exact, len(cases), sameFunc, missed, failed)

	fmt.Fprintf(w, "### Precision: %s\n\n", filepath.Base(setDir))
	fmt.Fprintln(w, "| module@version | packages | findings | true | false | unclassified | precision |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	var tt, tf, tu, tn int
	var unclassified []string
	for i, m := range mods {
		base := filepath.Join(outDir, "modules", strconv.Itoa(i+1))
		fs, rc, err := readFindings(base)
		pkgs := countLines(base + ".pkgs")
		if err != nil || (rc != 0 && rc != 1) {
			fmt.Fprintf(w, "| %s@%s | %d | not run (exit %d) | | | | |\n", m.Module, m.Version, pkgs, rc)
			continue
		}
		var t, f, u int
		for _, x := range fs {
			switch verdicts[verdictKey(m.Module, m.Version, x.File, x.Line, x.Analyzer)] {
			case "true":
				t++
			case "false":
				f++
			default:
				u++
				unclassified = append(unclassified, fmt.Sprintf("%s\t%s\t%s\t%d\t%s\t?\t%s", m.Module, m.Version, x.File, x.Line, x.Analyzer, x.Message))
			}
		}
		tt, tf, tu, tn = tt+t, tf+f, tu+u, tn+len(fs)
		fmt.Fprintf(w, "| %s@%s | %d | %d | %d | %d | %d | %s |\n", m.Module, m.Version, pkgs, len(fs), t, f, u, precision(t, f, u))
	}
	fmt.Fprintf(w, "| **total** | | **%d** | **%d** | **%d** | **%d** | **%s** |\n\n", tn, tt, tf, tu, precision(tt, tf, tu))
	if len(unclassified) > 0 {
		fmt.Fprintf(w, "Unclassified findings (classify by hand in findings.tsv before quoting a figure):\n\n```\n%s\n```\n\n", strings.Join(unclassified, "\n"))
	}
	return nil
}

func precision(t, f, u int) string {
	if u > 0 {
		return "n/a (unclassified)"
	}
	if t+f == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(t)/float64(t+f))
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

// judgeCase says whether diag vet reported the case's line, another line
// of the function holding it, or neither.
func judgeCase(c Case, base string) (result, where string) {
	fs, rc, err := readFindings(base)
	if err != nil {
		return "not run", err.Error()
	}
	if rc != 0 && rc != 1 {
		return "not run", fmt.Sprintf("diag vet exit %d", rc)
	}
	dir, _ := os.ReadFile(base + ".dir")
	lo, hi := enclosingFunc(filepath.Join(strings.TrimSpace(string(dir)), c.File), c.Line)
	var same []string
	for _, f := range fs {
		if filepath.ToSlash(f.File) != c.File {
			continue
		}
		if f.Line == c.Line || contains(c.Also, f.Line) {
			return "exact line", fmt.Sprintf("%d (%s)", f.Line, f.Analyzer)
		}
		if lo > 0 && f.Line >= lo && f.Line <= hi {
			same = append(same, fmt.Sprintf("%d (%s)", f.Line, f.Analyzer))
		}
	}
	if len(same) > 0 {
		return "same function", strings.Join(same, ", ")
	}
	return "missed", fmt.Sprintf("%d findings in the package", len(fs))
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// enclosingFunc returns the first and last lines of the function
// declaration holding line in file, or zeros.
func enclosingFunc(file string, line int) (int, int) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
	if err != nil {
		return 0, 0
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok {
			continue
		}
		lo, hi := fset.Position(fd.Pos()).Line, fset.Position(fd.End()).Line
		if line >= lo && line <= hi {
			return lo, hi
		}
	}
	return 0, 0
}

func readFindings(base string) ([]Finding, int, error) {
	rcText, err := os.ReadFile(base + ".rc")
	if err != nil {
		return nil, -1, fmt.Errorf("not run: %v", err)
	}
	rc, err := strconv.Atoi(strings.TrimSpace(string(rcText)))
	if err != nil {
		return nil, -1, fmt.Errorf("%s.rc: %v", base, err)
	}
	if rc != 0 && rc != 1 {
		return nil, rc, nil
	}
	data, err := os.ReadFile(base + ".json")
	if err != nil {
		return nil, rc, err
	}
	var fs []Finding
	if err := json.Unmarshal(data, &fs); err != nil {
		return nil, rc, fmt.Errorf("%s.json: %v", base, err)
	}
	return fs, rc, nil
}

func countLines(name string) int {
	data, err := os.ReadFile(name)
	if err != nil {
		return 0
	}
	return len(strings.Fields(string(data)))
}
