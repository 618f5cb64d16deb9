// Package render draws what several diag verbs show alike: in-flight calls,
// goroutine groups, heartbeats. Tables go through text/tabwriter and never
// depend on the terminal, so golden files hold them exactly.
package render

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/diag/stacks"
)

// Calls prints in-flight calls, oldest first as given, with NO DEADLINE
// in capitals so it stands out.
func Calls(w io.Writer, calls []inflight.Call) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AGE\tKIND\tCALL\tDEADLINE\tLABELS\tSITE")
	for _, c := range calls {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", cmdutil.Age(c.Age), c.Kind, Call(c), Deadline(c),
			Labels(c.Labels), CallSite(c.Site))
	}
	return tw.Flush()
}

// CallSite shortens an in-flight call's site, "pkg/path.Func /abs/file.go:123",
// to "path.Func (dir/file.go:123)" like the goroutine tables.
func CallSite(site string) string {
	fn, loc, ok := strings.Cut(site, " ")
	if !ok {
		return site
	}
	return fmt.Sprintf("%s (%s)", shortFunc(fn), shortFile(loc))
}

// Call is a call's one-line description: "POST apiserver /api/v1/...".
func Call(c inflight.Call) string {
	s := c.Op
	if c.Target != "" {
		s += " " + c.Target
	}
	if c.Detail != "" {
		s += " " + c.Detail
	}
	return s
}

// Deadline is "NO DEADLINE", or how long the call has left ("in 3s") or
// how long ago its deadline passed ("passed 2s ago").
func Deadline(c inflight.Call) string {
	if c.NoDeadline() {
		return "NO DEADLINE"
	}
	left := c.Deadline.Sub(c.Start) - c.Age
	if left < 0 {
		return "passed " + cmdutil.Age(-left) + " ago"
	}
	return "in " + cmdutil.Age(left)
}

// labelOrder puts the labels an engineer reads first, first.
var labelOrder = []string{"loop", "phase", "dag", "run", "task"}

// Labels renders labels as k=v, the well-known ones first.
func Labels(labels map[string]string) string {
	if len(labels) == 0 {
		return "-"
	}
	var parts []string
	for _, k := range labelOrder {
		if v, ok := labels[k]; ok {
			parts = append(parts, k+"="+v)
		}
	}
	var rest []string
	for k, v := range labels {
		if !slices.Contains(labelOrder, k) {
			rest = append(rest, k+"="+v)
		}
	}
	slices.Sort(rest)
	return strings.Join(append(parts, rest...), " ")
}

// Groups prints goroutine groups, at most limit of them (0: all).
func Groups(w io.Writer, groups []stacks.Group, limit int) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COUNT\tSTATE\tWAIT\tLABELS\tWHERE")
	for i, g := range groups {
		if limit > 0 && i == limit {
			break
		}
		state := g.State
		if state == "" {
			state = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", g.Count, state, Wait(g.Wait), Labels(g.Labels), Site(g))
	}
	return tw.Flush()
}

// Wait renders what is known of a wait: "41s" when exact, "≥41s" when a
// lower bound, "-" when unknown.
func Wait(w stacks.Wait) string {
	switch {
	case !w.Known():
		return "-"
	case w.Exact && w.Max > w.Min:
		return cmdutil.Age(w.Min) + "-" + cmdutil.Age(w.Max)
	case w.Exact:
		return cmdutil.Age(w.Min)
	}
	return ">=" + cmdutil.Age(w.Longest())
}

// Site is where a group's goroutines are, in the program's own code: the
// first frame outside the runtime and the standard library's plumbing,
// as "func (file:line)".
func Site(g stacks.Group) string {
	f, ok := SiteFrame(g.Stack)
	if !ok {
		return "(no stack recorded)"
	}
	return fmt.Sprintf("%s (%s:%d)", shortFunc(f.Func), shortFile(f.File), f.Line)
}

// SiteFrame is the first frame of stack that is not in the runtime or
// in the standard library's waiting machinery.
func SiteFrame(stack []stacks.Frame) (stacks.Frame, bool) {
	for _, f := range stack {
		if !plumbing(f.Func) {
			return f, true
		}
	}
	// All plumbing (an idle server connection, a pool's reader): the
	// outermost frame says whose goroutine it is.
	for i := len(stack) - 1; i >= 0; i-- {
		if stack[i].Func != "runtime.goexit" {
			return stack[i], true
		}
	}
	return stacks.Frame{}, false
}

// plumbing are packages whose frames say how a goroutine waits, not
// where: the interesting frame is the first one below them.
var plumbing = func(fn string) bool {
	for _, p := range []string{"runtime.", "internal/", "sync.", "syscall.", "time.Sleep", "net.", "net/http.", "os.", "io.", "bufio.", "context.", "crypto/tls.", "golang.org/x/net/"} {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	return false
}

func shortFunc(fn string) string {
	if i := strings.LastIndex(fn, "/"); i >= 0 {
		return fn[i+1:]
	}
	return fn
}

// shortFile keeps the last two path elements: "kube/pods.go".
func shortFile(file string) string {
	parts := strings.Split(file, "/")
	if len(parts) > 2 {
		parts = parts[len(parts)-2:]
	}
	return strings.Join(parts, "/")
}
