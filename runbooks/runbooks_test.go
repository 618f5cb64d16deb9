package runbooks

import (
	"strings"
	"testing"

	"github.com/vigilhq/vigil/diag/cli"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
)

// TestEveryRunbook: each page has the five sections in order and the index
// links it; its first command is a diag or vigil command, and a diag
// command exists with the flags it uses (vigil commands are checked by
// the drills, which run them).
func TestEveryRunbook(t *testing.T) {
	index, err := Page("README.md")
	if err != nil {
		t.Fatal(err)
	}
	names := Names()
	if len(names) < 10 {
		t.Fatalf("%d runbooks, want at least the 10 failure modes of issue 8", len(names))
	}
	for _, name := range names {
		text, _ := Page(name)
		at := 0
		for _, s := range Sections {
			i := strings.Index(text[at:], s)
			if i < 0 {
				t.Errorf("%s: no %q section after the previous one", name, s)
				break
			}
			at += i + len(s)
		}
		if !strings.Contains(index, "("+name+")") {
			t.Errorf("README.md does not link %s", name)
		}
		tool, args, err := FirstCommand(name)
		if err != nil {
			t.Error(err)
			continue
		}
		if tool != "diag" {
			continue
		}
		ios, _, _, _ := iostreams.Test()
		root := cli.NewRootCmd(cli.NewFactory(ios, "test"))
		cmd, rest, err := root.Find(args)
		if err != nil || cmd == root {
			t.Errorf("%s: diag %v is not a diag command (%v)", name, args, err)
			continue
		}
		if err := cmd.ParseFlags(rest); err != nil {
			t.Errorf("%s: diag %v: %v", name, args, err)
		}
	}
}
