package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/cmd/vigil/cli/cmdutil"
	"github.com/vigilhq/vigil/runbooks"
)

// TestRunbookRemediations: the runbooks that end with a "Remediate"
// section (zombie-tasks and tasks-stuck-queued at least) give vigil
// commands that exist, with flags they take.
func TestRunbookRemediations(t *testing.T) {
	found := map[string]bool{}
	for _, name := range runbooks.Names() {
		text, err := runbooks.Page(name)
		if err != nil {
			t.Fatal(err)
		}
		_, section, ok := strings.Cut(text, "\n## Remediate\n")
		if !ok {
			continue
		}
		if strings.Contains(section, "\n## ") {
			t.Errorf("%s: Remediate is not the last section", name)
		}
		for _, line := range strings.Split(section, "\n") {
			line, _, _ = strings.Cut(line, " #")
			if !strings.HasPrefix(line, "vigil ") {
				continue
			}
			found[name] = true
			a := &app{ctx: context.Background(), out: &bytes.Buffer{}, errOut: &bytes.Buffer{}}
			root := a.rootCmd(&cmdutil.Factory{Server: &cmdutil.ServerFlags{}})
			args := shellFields(strings.TrimPrefix(line, "vigil "))
			cmd, rest, err := root.Find(args)
			if err != nil || cmd == root || cmd.RunE == nil {
				t.Errorf("%s: %q is not a vigil command (%v)", name, line, err)
				continue
			}
			if err := cmd.ParseFlags(rest); err != nil {
				t.Errorf("%s: %q: %v", name, line, err)
			}
		}
	}
	for _, name := range []string{"zombie-tasks.md", "tasks-stuck-queued.md"} {
		if !found[name] {
			t.Errorf("%s does not end with a Remediate section of vigil commands", name)
		}
	}
}

// shellFields splits a command line on spaces, keeping "double-quoted"
// words whole.
func shellFields(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case r == ' ' && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}
