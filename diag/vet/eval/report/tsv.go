package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Case is one row of cases.tsv: a public fix commit that added a missing
// timeout, and the line of the release before it where diag vet should
// report.
type Case struct {
	ID, Repo, Commit string
	// Module and Version are what the Go module proxy serves: the last
	// release tag before the fix, which still has the bug.
	Module, Version string
	// Package is the package's directory relative to the module root
	// (what diag vet is run on); File is relative to the module root.
	Package, File string
	Line          int
	// Also are other lines accepted as exact (the client's construction
	// when the call is expected, or the other way round).
	Also              []int
	Kind, Description string
}

// Module is one row of modules.tsv: a module whose every finding is
// classified by hand in findings.tsv.
type Module struct {
	Module, Version, Patterns, Kind, Description string
}

var (
	caseHeader    = []string{"id", "repo", "fix_commit", "module", "version", "package", "file", "line", "also_accept", "kind", "description"}
	moduleHeader  = []string{"module", "version", "patterns", "kind", "description"}
	verdictHeader = []string{"module", "version", "file", "line", "analyzer", "verdict", "reason"}
	commitRE      = regexp.MustCompile(`^[0-9a-f]{40}$`)
	versionRE     = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`)
	pseudoRE      = regexp.MustCompile(`[0-9]{14}-[0-9a-f]{12}$`)
)

// readTSV returns the rows of a tab-separated file after its header,
// which must be want; every row must have len(want) fields.
func readTSV(name string, want []string) ([][]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if n > 1 && strings.TrimSpace(line) == "" {
			continue
		}
		fields := strings.Split(line, "\t")
		if n == 1 {
			if strings.Join(fields, "\t") != strings.Join(want, "\t") {
				return nil, fmt.Errorf("%s:1: header is %q, want %q (tab-separated)", name, line, strings.Join(want, "\t"))
			}
			continue
		}
		if len(fields) != len(want) {
			return nil, fmt.Errorf("%s:%d: %d fields, want %d (%s), tab-separated", name, n, len(fields), len(want), strings.Join(want, ", "))
		}
		for i, x := range fields {
			if strings.TrimSpace(x) == "" {
				return nil, fmt.Errorf("%s:%d: field %s is empty (write - for none)", name, n, want[i])
			}
		}
		rows = append(rows, fields)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: empty, want a header line", name)
	}
	return rows, nil
}

// LoadCases reads and checks cases.tsv.
func LoadCases(name string) ([]Case, error) {
	rows, err := readTSV(name, caseHeader)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var cs []Case
	for i, r := range rows {
		at := fmt.Sprintf("%s:%d", name, i+2)
		c := Case{ID: r[0], Repo: r[1], Commit: r[2], Module: r[3], Version: r[4], Package: r[5], File: r[6], Kind: r[9], Description: r[10]}
		if seen[c.ID] {
			return nil, fmt.Errorf("%s: id %s used twice", at, c.ID)
		}
		seen[c.ID] = true
		if !commitRE.MatchString(c.Commit) {
			return nil, fmt.Errorf("%s: fix_commit %q is not a full 40-hex commit", at, c.Commit)
		}
		if !versionRE.MatchString(c.Version) || pseudoRE.MatchString(c.Version) {
			return nil, fmt.Errorf("%s: version %q is not a release tag (the proxy serves tags only)", at, c.Version)
		}
		if c.Package != "." && !strings.HasPrefix(c.Package, "./") {
			return nil, fmt.Errorf("%s: package %q must be . or start with ./", at, c.Package)
		}
		if !strings.HasSuffix(c.File, ".go") || strings.HasPrefix(c.File, "/") {
			return nil, fmt.Errorf("%s: file %q must be a .go file relative to the module root", at, c.File)
		}
		if c.Line, err = strconv.Atoi(r[7]); err != nil || c.Line <= 0 {
			return nil, fmt.Errorf("%s: line %q is not a positive number", at, r[7])
		}
		if r[8] != "-" {
			for _, s := range strings.Split(r[8], ",") {
				n, err := strconv.Atoi(strings.TrimSpace(s))
				if err != nil || n <= 0 {
					return nil, fmt.Errorf("%s: also_accept %q: want line numbers separated by commas, or -", at, r[8])
				}
				c.Also = append(c.Also, n)
			}
		}
		cs = append(cs, c)
	}
	return cs, nil
}

// LoadModules reads and checks modules.tsv.
func LoadModules(name string) ([]Module, error) {
	rows, err := readTSV(name, moduleHeader)
	if err != nil {
		return nil, err
	}
	var ms []Module
	for i, r := range rows {
		m := Module{Module: r[0], Version: r[1], Patterns: r[2], Kind: r[3], Description: r[4]}
		if !versionRE.MatchString(m.Version) || pseudoRE.MatchString(m.Version) {
			return nil, fmt.Errorf("%s:%d: version %q is not a release tag", name, i+2, m.Version)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

func verdictKey(module, version, file string, line int, analyzer string) string {
	return fmt.Sprintf("%s@%s %s:%d %s", module, version, file, line, analyzer)
}

// LoadVerdicts reads findings.tsv, the hand classification of every
// finding on the modules, keyed by verdictKey.
func LoadVerdicts(name string) (map[string]string, error) {
	rows, err := readTSV(name, verdictHeader)
	if err != nil {
		return nil, err
	}
	v := map[string]string{}
	for i, r := range rows {
		at := fmt.Sprintf("%s:%d", name, i+2)
		line, err := strconv.Atoi(r[3])
		if err != nil || line <= 0 {
			return nil, fmt.Errorf("%s: line %q is not a positive number", at, r[3])
		}
		if r[5] != "true" && r[5] != "false" {
			return nil, fmt.Errorf("%s: verdict %q, want true or false", at, r[5])
		}
		k := verdictKey(r[0], r[1], r[2], line, r[4])
		if _, dup := v[k]; dup {
			return nil, fmt.Errorf("%s: %s classified twice", at, k)
		}
		v[k] = r[5]
	}
	return v, nil
}
