// Package runbooks reads the on-call runbooks in this folder, so that tests
// can run each page's first command against a staged incident and check it
// still names the cause (a renamed command or a changed output fails the
// build).
package runbooks

import (
	"embed"
	"fmt"
	"strings"
)

//go:embed *.md
var pages embed.FS

// Sections every runbook has, in order.
var Sections = []string{"## How it shows", "## First command", "## Reading it", "## Fixes", "## Escalate"}

// Page returns a runbook's text.
func Page(name string) (string, error) {
	b, err := pages.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("runbook %s: %w", name, err)
	}
	return string(b), nil
}

// Names lists the runbooks (every page but the index).
func Names() []string {
	entries, _ := pages.ReadDir(".")
	var out []string
	for _, e := range entries {
		if e.Name() != "README.md" {
			out = append(out, e.Name())
		}
	}
	return out
}

// FirstCommand returns the command in the code block under "## First
// command": the tool ("diag" or "vigil") and its arguments.
func FirstCommand(name string) (tool string, args []string, err error) {
	text, err := Page(name)
	if err != nil {
		return "", nil, err
	}
	_, after, ok := strings.Cut(text, "## First command")
	if !ok {
		return "", nil, fmt.Errorf("runbook %s has no \"## First command\" section", name)
	}
	_, block, ok := strings.Cut(after, "```sh\n")
	if !ok {
		return "", nil, fmt.Errorf("runbook %s: no ```sh block under \"## First command\"", name)
	}
	line, _, _ := strings.Cut(block, "\n")
	fields := strings.Fields(line)
	if len(fields) < 2 || (fields[0] != "diag" && fields[0] != "vigil") {
		return "", nil, fmt.Errorf("runbook %s: first command %q is not a diag or vigil command", name, line)
	}
	return fields[0], fields[1:], nil
}

// Alerts returns the alerts a page names on its "Alert: `A`, `B`" line,
// the line after its title.
func Alerts(name string) ([]string, error) {
	text, err := Page(name)
	if err != nil {
		return nil, err
	}
	_, rest, _ := strings.Cut(text, "\n")
	rest = strings.TrimLeft(rest, "\n")
	line, _, _ := strings.Cut(rest, "\n")
	list, ok := strings.CutPrefix(line, "Alert: ")
	if !ok {
		return nil, fmt.Errorf("runbook %s: no \"Alert: `Name`\" line after the title", name)
	}
	var out []string
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		a, ok := strings.CutPrefix(f, "`")
		a, ok2 := strings.CutSuffix(a, "`")
		if !ok || !ok2 || a == "" {
			return nil, fmt.Errorf("runbook %s: Alert line: %q is not a `Name`", name, f)
		}
		out = append(out, a)
	}
	return out, nil
}
