package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommittedSetsParse checks the committed evaluation sets: every row
// well formed, full commit hashes, release tags the proxy can serve.
func TestCommittedSetsParse(t *testing.T) {
	for _, set := range []string{"tune", "heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6", "heldout7", "heldout8", "heldout9", "heldout10", "heldout11", "heldout12"} {
		dir := filepath.Join("..", set)
		cs, err := LoadCases(filepath.Join(dir, "cases.tsv"))
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == 0 {
			t.Errorf("%s: no cases", dir)
		}
		ms, err := LoadModules(filepath.Join(dir, "modules.tsv"))
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 0 {
			t.Errorf("%s: no modules", dir)
		}
		if _, err := LoadVerdicts(filepath.Join(dir, "findings.tsv")); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHeldout2Apart checks that the second held-out set shares no case
// or module with the sets run before it (a shared project would leak what
// was tuned). It was run once, on the analyzers of a9b79c9 (RESULTS.md).
func TestHeldout2Apart(t *testing.T) {
	checkApart(t, "heldout2", "tune", "heldout")
}

// TestHeldout3Apart checks the same for the third held-out set, against
// every set before it: heldout2 is spent too, and its misses are being
// studied.
func TestHeldout3Apart(t *testing.T) {
	checkApart(t, "heldout3", "tune", "heldout", "heldout2")
}

// TestHeldout4Apart checks the same for the fourth held-out set, picked
// blind while heldout3 was still held out, against every set before it.
func TestHeldout4Apart(t *testing.T) {
	checkApart(t, "heldout4", "tune", "heldout", "heldout2", "heldout3")
}

// TestHeldout5Apart checks the same for the fifth held-out set, picked
// blind once heldout4 was spent, against every set before it.
func TestHeldout5Apart(t *testing.T) {
	checkApart(t, "heldout5", "tune", "heldout", "heldout2", "heldout3", "heldout4")
}

// TestHeldout6Apart checks the same for the sixth held-out set, picked
// blind once heldout5 was spent, against every set before it.
func TestHeldout6Apart(t *testing.T) {
	checkApart(t, "heldout6", "tune", "heldout", "heldout2", "heldout3", "heldout4", "heldout5")
}

// TestHeldout7Apart checks the same for the seventh held-out set, picked
// blind once heldout6 was spent, against every set before it.
func TestHeldout7Apart(t *testing.T) {
	checkApart(t, "heldout7", "tune", "heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6")
}

// TestHeldout8Apart checks the same for the eighth held-out set, picked
// blind while heldout7 was still held out, against every set before it
// (heldout7 included: it is run before heldout8 and may be studied).
func TestHeldout8Apart(t *testing.T) {
	checkApart(t, "heldout8", "tune", "heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6", "heldout7")
}

// TestHeldout9Apart checks the same for the ninth held-out set, picked
// blind once heldout8 was spent, against every set before it.
func TestHeldout9Apart(t *testing.T) {
	checkApart(t, "heldout9", "tune", "heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6", "heldout7", "heldout8")
}

// TestHeldout10Apart checks the same for the tenth held-out set, picked
// blind once heldout9 was spent, against every set before it.
func TestHeldout10Apart(t *testing.T) {
	checkApart(t, "heldout10", "tune", "heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6", "heldout7", "heldout8", "heldout9")
}

// TestHeldout11Apart checks the same for the eleventh held-out set, picked
// blind once heldout10 was spent, against every set before it.
func TestHeldout11Apart(t *testing.T) {
	checkApart(t, "heldout11", "tune", "heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6", "heldout7", "heldout8", "heldout9", "heldout10")
}

// TestHeldout12Apart checks the same for the twelfth held-out set, picked
// blind once heldout11 was spent, against every set before it.
func TestHeldout12Apart(t *testing.T) {
	checkApart(t, "heldout12", "tune", "heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6", "heldout7", "heldout8", "heldout9", "heldout10", "heldout11")
}

// checkApart fails if a repository or module of set's cases, or a module
// of its modules.tsv, appears in any of the earlier sets.
func checkApart(t *testing.T, set string, earlier ...string) {
	t.Helper()
	cs, err := LoadCases(filepath.Join("..", set, "cases.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := LoadModules(filepath.Join("..", set, "modules.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]string{}
	for _, e := range earlier {
		ecs, err := LoadCases(filepath.Join("..", e, "cases.tsv"))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range ecs {
			used[c.Module] = e
			used[c.Repo] = e
		}
		ems, err := LoadModules(filepath.Join("..", e, "modules.tsv"))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ems {
			used[m.Module] = e
		}
	}
	for _, c := range cs {
		for _, k := range []string{c.Repo, c.Module} {
			if e, ok := used[k]; ok {
				t.Errorf("%s case %s: %s is already in %s/", set, c.ID, k, e)
			}
		}
	}
	for _, m := range ms {
		if e, ok := used[m.Module]; ok {
			t.Errorf("%s module %s is already in %s/", set, m.Module, e)
		}
	}
}

func TestBadRowsRefused(t *testing.T) {
	head := strings.Join(caseHeader, "\t") + "\n"
	good := "c1\to/r\t" + strings.Repeat("a", 40) + "\tex.com/m\tv1.2.3\t./p\tp/f.go\t10\t-\tk\td\n"
	for name, tc := range map[string]struct{ text, want string }{
		"short commit": {strings.Replace(good, strings.Repeat("a", 40), "abc123", 1), "not a full 40-hex commit"},
		"pseudo":       {strings.Replace(good, "v1.2.3", "v0.0.0-20200101000000-abcdefabcdef", 1), "not a release tag"},
		"branch":       {strings.Replace(good, "v1.2.3", "main", 1), "not a release tag"},
		"bad line":     {strings.Replace(good, "\t10\t", "\tx\t", 1), "line \"x\""},
		"empty field":  {strings.Replace(good, "\tk\t", "\t\t", 1), "field kind is empty"},
		"missing col":  {strings.Replace(good, "\tk\t", "\t", 1), "10 fields, want 11"},
		"dup id":       {good + good, "id c1 used twice"},
		"also":         {strings.Replace(good, "\t-\t", "\t12,x\t", 1), "also_accept"},
	} {
		t.Run(name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "cases.tsv")
			if err := os.WriteFile(f, []byte(head+tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadCases(f)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	f := filepath.Join(t.TempDir(), "findings.tsv")
	os.WriteFile(f, []byte(strings.Join(verdictHeader, "\t")+"\nm\tv1.0.0\tf.go\t3\thttpclient\tmaybe\tr\n"), 0o644)
	if _, err := LoadVerdicts(f); err == nil || !strings.Contains(err.Error(), "verdict \"maybe\"") {
		t.Errorf("verdict maybe: err = %v", err)
	}
}
