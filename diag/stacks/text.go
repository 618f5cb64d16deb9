package stacks

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TextOptions select what WriteText prints.
type TextOptions struct {
	// MinWait hides groups whose longest known wait is shorter; groups
	// with an unknown wait are hidden when MinWait > 0.
	MinWait time.Duration
	// Match hides groups none of whose frames ("func file:line"), labels
	// ("key=value") or state match it: a regular expression, or a plain
	// substring when it does not compile as one ("(*Conn).Read").
	Match string
	// MaxGroups, when positive, prints only the first MaxGroups groups.
	MaxGroups int
}

// CompileMatch turns a TextOptions.Match string into the expression
// Filter takes: s as a regular expression, or as a literal substring when
// it is not a valid one. The empty string gives nil, which matches all.
func CompileMatch(s string) *regexp.Regexp {
	if s == "" {
		return nil
	}
	if re, err := regexp.Compile(s); err == nil {
		return re
	}
	return regexp.MustCompile(regexp.QuoteMeta(s))
}

// Filter returns the groups of s whose longest known wait is at least
// minWait (unknown waits are dropped when minWait > 0) and that match
// match (any frame "func file:line", label "key=value" or state; nil
// matches all). Goroutines stays the total of s; the result shares its
// groups' slices and maps with s.
func (s *Snapshot) Filter(minWait time.Duration, match *regexp.Regexp) *Snapshot {
	out := *s
	out.Groups = nil
	for _, g := range s.Groups {
		if minWait > 0 && (!g.Wait.Known() || g.Wait.Longest() < minWait) {
			continue
		}
		if match != nil && !groupMatches(&g, match) {
			continue
		}
		out.Groups = append(out.Groups, g)
	}
	return &out
}

func groupMatches(g *Group, re *regexp.Regexp) bool {
	if re.MatchString(g.State) {
		return true
	}
	for _, f := range g.Stack {
		if re.MatchString(f.String()) {
			return true
		}
	}
	if g.CreatedBy != nil && re.MatchString(g.CreatedBy.String()) {
		return true
	}
	for k, v := range g.Labels {
		if re.MatchString(k + "=" + v) {
			return true
		}
	}
	return false
}

// WriteText writes the snapshot for people: a summary line, then each
// group as
//
//	3 goroutines [IO wait, wait 41s (inflight)] labels loop=scheduler dag=etl
//	  calls 17 18 21
//	  internal/poll.runtime_pollWait
//	      /usr/local/go/src/runtime/netpoll.go:351
//
// with a blank line between groups.
func (s *Snapshot) WriteText(w io.Writer, opts TextOptions) error {
	shown := s.Filter(opts.MinWait, CompileMatch(opts.Match))
	bw := bufio.NewWriter(w)
	s.writeSummary(bw)
	groups := shown.Groups
	if opts.MinWait > 0 || opts.Match != "" {
		fmt.Fprintf(bw, "showing %d of %d groups (%s):", len(groups), len(s.Groups), plural(countOf(groups), "goroutine"))
		if opts.MinWait > 0 {
			fmt.Fprintf(bw, " wait >=%s", formatDuration(opts.MinWait))
		}
		if opts.Match != "" {
			fmt.Fprintf(bw, " matching %q", opts.Match)
		}
		bw.WriteString("\n")
	}
	var hidden []Group
	if opts.MaxGroups > 0 && len(groups) > opts.MaxGroups {
		groups, hidden = groups[:opts.MaxGroups], groups[opts.MaxGroups:]
	}
	for i := range groups {
		bw.WriteString("\n")
		writeGroup(bw, &groups[i])
	}
	if len(hidden) > 0 {
		fmt.Fprintf(bw, "\n... %s (%s) not shown\n", plural(len(hidden), "more group"), plural(countOf(hidden), "goroutine"))
	}
	return bw.Flush()
}

func (s *Snapshot) writeSummary(w *bufio.Writer) {
	if s.Taken.IsZero() {
		w.WriteString("goroutine dump: ")
	} else {
		fmt.Fprintf(w, "goroutines at %s: ", s.Taken.UTC().Format(time.RFC3339Nano))
	}
	fmt.Fprintf(w, "%s in %s", plural(s.Goroutines, "goroutine"), plural(len(s.Groups), "group"))
	if s.Took > 0 {
		fmt.Fprintf(w, ", took %s", formatDuration(s.Took))
	}
	if s.Pauses > 0 {
		fmt.Fprintf(w, ", stopped the world %s, longest <=%s", plural(s.Pauses, "time"), s.Pause)
	}
	w.WriteString("\n")
}

func writeGroup(w *bufio.Writer, g *Group) {
	fmt.Fprintf(w, "%s [%s]", plural(g.Count, "goroutine"), bracket(g))
	if len(g.Labels) > 0 {
		w.WriteString(" labels")
		for _, k := range labelOrder(g.Labels) {
			fmt.Fprintf(w, " %s=%s", k, quoteIfNeeded(g.Labels[k]))
		}
	}
	w.WriteString("\n")
	if len(g.Calls) > 0 {
		w.WriteString("  calls")
		for _, id := range g.Calls {
			fmt.Fprintf(w, " %d", id)
		}
		w.WriteString("\n")
	}
	if len(g.IDs) > 0 {
		w.WriteString("  goroutine")
		for _, id := range g.IDs {
			fmt.Fprintf(w, " %d", id)
		}
		if len(g.IDs) < g.Count {
			w.WriteString(" ...")
		}
		w.WriteString("\n")
	}
	for _, f := range g.Stack {
		writeFrame(w, "", f)
	}
	if g.CreatedBy != nil {
		writeFrame(w, "created by ", *g.CreatedBy)
	}
}

func writeFrame(w *bufio.Writer, prefix string, f Frame) {
	fmt.Fprintf(w, "  %s%s\n", prefix, f.Func)
	if f.File != "" || f.Line != 0 {
		fmt.Fprintf(w, "      %s:%d\n", f.File, f.Line)
	}
}

// bracket is the part between the brackets of a group's header: state,
// thread lock, wait.
func bracket(g *Group) string {
	parts := make([]string, 0, 3)
	state := g.State
	if state == "" {
		state = "unknown"
	}
	parts = append(parts, state)
	if g.Locked {
		parts = append(parts, "locked to thread")
	}
	if wt := waitText(g.Wait); wt != "" {
		parts = append(parts, wt)
	}
	return strings.Join(parts, ", ")
}

// waitText is "wait 41s (inflight)" or "wait 12s to 41s (inflight)" for an
// exact wait, "wait >=2m (seen)" for a lower bound (the longest waiter's),
// "" when unknown.
func waitText(w Wait) string {
	switch {
	case !w.Known():
		return ""
	case w.Exact && w.Min == w.Max:
		return fmt.Sprintf("wait %s (%s)", formatDuration(w.Min), w.Source)
	case w.Exact:
		return fmt.Sprintf("wait %s to %s (%s)", formatDuration(w.Min), formatDuration(w.Max), w.Source)
	default:
		return fmt.Sprintf("wait >=%s (%s)", formatDuration(w.Longest()), w.Source)
	}
}

// formatDuration rounds to what a person reads: milliseconds under a
// second, seconds above, and drops the trailing zero units ("5m", not
// "5m0s").
func formatDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		d = d.Round(time.Second)
	case d >= time.Millisecond:
		d = d.Round(time.Millisecond)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// labelOrder puts the scheduler's labels first, in the order they nest,
// then the others alphabetically.
func labelOrder(l map[string]string) []string {
	rank := func(k string) int {
		switch k {
		case "loop":
			return 0
		case "phase":
			return 1
		case "dag":
			return 2
		case "run":
			return 3
		case "task":
			return 4
		}
		return 5
	}
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	return keys
}

func quoteIfNeeded(v string) string {
	if v == "" || strings.ContainsAny(v, " \t\n\"=") || !strconv.CanBackquote(v) {
		return strconv.Quote(v)
	}
	return v
}

func countOf(groups []Group) int {
	n := 0
	for _, g := range groups {
		n += g.Count
	}
	return n
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
