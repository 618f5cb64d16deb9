package dag

import (
	"fmt"
	"strings"
	"testing"
)

// unknownDeps is a DAG of n tasks, each depending on a task that does not
// exist. The first three name a real task with one typo; the others
// (missing_00003...) are near nothing.
func unknownDeps(n int) string {
	var b strings.Builder
	b.WriteString("id: big\ntasks:\n")
	for i := range n {
		dep := fmt.Sprintf("missing_%05d", i)
		if i < 3 {
			dep = fmt.Sprintf("t%05dx", i+1)
		}
		fmt.Fprintf(&b, "  - id: t%05d\n    command: [\"true\"]\n    depends_on: [%s]\n", i, dep)
	}
	return b.String()
}

// knownDeps is the same DAG with every dependency known.
func knownDeps(n int) string {
	var b strings.Builder
	b.WriteString("id: big\ntasks:\n  - id: t00000\n    command: [\"true\"]\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "  - id: t%05d\n    command: [\"true\"]\n    depends_on: [t%05d]\n", i, i-1)
	}
	return b.String()
}

// A file naming 5,000 unknown tasks used to compare each with every task
// id (25 million edit distances, 2.5 minutes and 2.3 GB on the loop,
// issue 16). The work is now bounded by a number of searches per file,
// whatever the number of unknown names, and the first ones still get
// their suggestion.
func TestUnknownDependenciesBoundedWork(t *testing.T) {
	const n = 5000
	r := &reader{file: "big.yaml"}
	_, err := r.parse([]byte(unknownDeps(n)))
	if err == nil {
		t.Fatal("Parse accepted unknown dependencies")
	}
	if r.searches > maxSuggestions {
		t.Errorf("searches = %d, want at most %d", r.searches, maxSuggestions)
	}
	// Each search compares with at most every task id.
	if limit := maxSuggestions * n; r.compared > limit {
		t.Errorf("compared %d names, want at most %d (searches x tasks), not unknown deps x tasks = %d", r.compared, limit, n*n)
	}
	msg := err.Error()
	for i := range 3 {
		want := fmt.Sprintf(`task "t%05d": depends on unknown task "t%05dx"; did you mean "t%05d"?`, i, i+1, i+1)
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks the suggestion %q", want)
		}
	}
	// No message lists the 5,000 ids, and the list stops at maxReported.
	lines := strings.Split(msg, "\n")
	if len(lines) != maxReported {
		t.Errorf("error has %d lines, want %d", len(lines), maxReported)
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, fmt.Sprintf("big.yaml: %d more problems not shown", n-maxReported+1)) {
		t.Errorf("last line = %q, want it to count the problems left out", last)
	}
	if len(msg) > 200*maxReported {
		t.Errorf("error is %d bytes, want it bounded by the problems shown", len(msg))
	}
	if want := `depends on unknown task "missing_00050"; no task of the 5000 in this DAG has that id, so check the spelling`; !strings.Contains(msg, want) {
		t.Errorf("error lacks %q", want)
	}
}

// Parsing a file full of unknown dependencies allocates about what parsing
// the same file with known ones does: the suggestions add no work per
// task.
func TestUnknownDependenciesAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("parses 5,000-task files")
	}
	const n = 5000
	known, unknown := []byte(knownDeps(n)), []byte(unknownDeps(n))
	base := testing.AllocsPerRun(1, func() {
		if _, err := Parse("big.yaml", known, nil); err != nil {
			t.Fatal(err)
		}
	})
	got := testing.AllocsPerRun(1, func() {
		if _, err := Parse("big.yaml", unknown, nil); err == nil {
			t.Fatal("no error")
		}
	})
	t.Logf("allocations: known deps %.0f, unknown deps %.0f", base, got)
	if got > 1.5*base {
		t.Errorf("parsing %d unknown deps made %.0f allocations, want at most 1.5x the %.0f of known deps", n, got, base)
	}
}

func TestSuggestionsKeepOrder(t *testing.T) {
	// On a tie the first candidate in list order wins, as it always did,
	// even though candidates are grouped by length.
	for _, tt := range []struct {
		in    string
		cands []string
		want  string
	}{
		{"abcd", []string{"abcdef", "abc", "abce"}, "abc"},
		{"abcd", []string{"abce", "abc"}, "abce"},
		{"AB-CD", []string{"abcx", "ab_cd", "abcd"}, "ab_cd"},
		{"load", []string{"extract", "transform"}, ""},
	} {
		if got := closest(tt.in, tt.cands); got != tt.want {
			t.Errorf("closest(%q, %q) = %q, want %q", tt.in, tt.cands, got, tt.want)
		}
	}
}
