package attach

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/health"
	"github.com/vigilhq/vigil/diag/cli/render"
	"github.com/vigilhq/vigil/diag/watchdog"
)

// WriteFit renders the screen for --watch on a terminal of width x height
// (issue 21): every line fits in width, long names (functions, task ids,
// call targets) cut with "…" rather than wrapped, and at most height-1
// lines, so the screen never scrolls and the cursor line stays free. The
// stale line and the heartbeats are kept whole in number; the other
// sections share what is left, each showing its first rows and how many
// more there are.
func WriteFit(w io.Writer, scr *Screen, groups, width, height int) error {
	width, height = max(width, 40), max(height, 12)
	budget := height - 1
	var top []string
	top = append(top, fitHeader(scr)...)
	top = append(top, fitStale(scr)...)

	top = append(top, "HEARTBEATS")
	if scr.Health == nil {
		top = append(top, missingLine(scr, "heartbeats"))
	} else {
		// Every heartbeat if that leaves 8 lines to the rest (a table of
		// calls and of goroutines); otherwise the stale ones first, at
		// least 6 lines' worth, and always 4 lines left: one per section
		// and the bundle's.
		avail, need := budget-len(top), len(scr.Health.Heartbeats)+1
		room := need
		if need > avail-8 {
			room = max(avail-8, min(need, 6))
		}
		room = min(room, avail-4)
		top = append(top, fitHeartbeats(scr.Health.Heartbeats, width, room)...)
	}

	calls := fitSection{title: fmt.Sprintf("CALLS IN FLIGHT (%d, oldest first)", len(scr.Calls)), more: "diag hangs"}
	if _, ok := scr.Missing["inflight"]; ok {
		calls.note = missingLine(scr, "inflight")
	} else {
		calls.header = []string{"AGE", "KIND", "CALL", "DEADLINE", "LABELS", "SITE"}
		for _, c := range scr.Calls {
			calls.rows = append(calls.rows, []string{cmdutil.Age(c.Age), c.Kind, render.Call(c), render.Deadline(c), render.Labels(c.Labels), render.CallSite(c.Site)})
		}
	}
	gor := fitSection{title: "GOROUTINES", more: "diag stacks"}
	if snap := scr.Goroutines; snap == nil {
		gor.note = missingLine(scr, "stacks")
	} else {
		gor.title = fmt.Sprintf("GOROUTINES (%d in %d groups)", snap.Goroutines, len(snap.Groups))
		gor.header = []string{"COUNT", "STATE", "WAIT", "LABELS", "WHERE"}
		for _, g := range Pick(snap.Groups, groups) {
			gor.rows = append(gor.rows, []string{fmt.Sprint(g.Count), orDash(g.State), render.Wait(g.Wait), render.Labels(g.Labels), render.Site(g)})
		}
	}
	wire := fitSection{title: fmt.Sprintf("RECENT WIRE ERRORS (trace mode %s)", orDash(scr.WireMode)), more: "diag trace tail"}
	if _, ok := scr.Missing["wiretrace"]; ok {
		wire.note = missingLine(scr, "wiretrace")
	} else {
		wire.header = []string{"WHEN", "CLIENT", "REQUEST", "STATUS", "TOOK"}
		for _, e := range scr.WireErrors {
			status := fmt.Sprint(e.Status)
			if e.Err != "" {
				status = e.Err
			}
			wire.rows = append(wire.rows, []string{cmdutil.Age(scr.Taken.Sub(e.Start)) + " ago", orDash(e.Client), e.Method + " " + e.URL, status, cmdutil.Age(e.Duration)})
		}
	}
	sections := []*fitSection{&calls, &gor, &wire}
	last := bundleLine(scr)
	share(sections, budget-len(top)-1)

	lines := top
	for _, s := range sections {
		lines = append(lines, s.lines(width)...)
	}
	lines = append(lines, last)
	if len(lines) > budget {
		lines = lines[:budget]
	}
	for _, l := range lines {
		if _, err := fmt.Fprintln(w, cut(l, width)); err != nil {
			return err
		}
	}
	return nil
}

func fitHeader(scr *Screen) []string {
	var first string
	if i := scr.Info; i != nil {
		rev := i.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			rev = " (" + rev + ")"
		}
		first = fmt.Sprintf("%s %s%s  pid %d  up %s  %d goroutines  heap %s  on %s",
			i.Service, i.Version, rev, i.PID, cmdutil.Age(i.Uptime), i.Goroutines, cmdutil.Bytes(int64(i.HeapBytes)), i.Host)
	} else {
		first = missingLine(scr, "info")
	}
	return []string{first, fmt.Sprintf("via %s at %s", scr.Target, scr.Taken.UTC().Format("2006-01-02 15:04:05Z"))}
}

// fitStale is the stale line and the call its loop is blocked in, with
// its site: the first thing an engineer paged reads. (The findings' other
// lines repeat the calls section.)
func fitStale(scr *Screen) []string {
	if scr.Health == nil {
		return nil
	}
	switch scr.Health.Status {
	case "stale":
		out := []string{"STALE: " + firstLine(scr.Findings, health.StaleNames(scr.Health.Heartbeats))}
		for _, l := range restLines(scr.Findings) {
			l = strings.TrimSpace(l)
			if len(out) == 3 {
				break
			}
			if !strings.HasSuffix(l, ":") && !strings.HasPrefix(l, "labels ") {
				out = append(out, "       "+l)
			}
		}
		return out
	case "degraded":
		return []string{"DEGRADED: " + firstLine(scr.Findings, "an advisory heartbeat is stale")}
	}
	return nil
}

// fitHeartbeats is the heartbeat table in at most room lines (header
// included): stale heartbeats first when they do not all fit.
func fitHeartbeats(hbs []watchdog.Status, width, room int) []string {
	if len(hbs) == 0 {
		return []string{"  (none registered)"}
	}
	room = max(room, 2)
	if len(hbs)+1 > room {
		hbs = slices.Clone(hbs)
		slices.SortStableFunc(hbs, func(a, b watchdog.Status) int {
			switch {
			case a.Stale == b.Stale:
				return 0
			case a.Stale:
				return -1
			}
			return 1
		})
	}
	s := fitSection{header: []string{"HEARTBEAT", "AGE", "PERIOD", "BEATS", "STATUS"}, more: "diag health", shown: room - 1}
	s.rows = health.Table(hbs).Rows()
	return s.lines(width)
}

// fitSection is one part of the fitted screen: a title, then a table of
// which shown rows fit, or a note.
type fitSection struct {
	title  string
	note   string
	header []string
	rows   [][]string
	// shown is how many lines the rows get (the last may say how many
	// more there are).
	shown int
	// more is the command that shows all of them.
	more string
}

func (s *fitSection) lines(width int) []string {
	switch {
	case s.note != "":
		return []string{s.title + ": " + strings.TrimSpace(s.note)}
	case len(s.rows) == 0:
		return []string{s.title + ": none"}
	case s.shown <= 0:
		return []string{fmt.Sprintf("%s  [%d not shown: %s]", s.title, len(s.rows), s.more)}
	}
	rows := s.rows
	title := s.title
	if len(rows) > s.shown {
		title = fmt.Sprintf("%s  [+%d: %s]", title, len(rows)-s.shown, s.more)
		rows = rows[:s.shown]
	}
	if s.title == "" {
		// The heartbeats: their title is printed above, and the last line
		// says how many more there are.
		if len(s.rows) <= s.shown {
			return fitTable(s.header, s.rows, width)
		}
		rows = s.rows[:max(s.shown-1, 1)]
		return append(fitTable(s.header, rows, width), fmt.Sprintf("  … %d more: %s", len(s.rows)-len(rows), s.more))
	}
	return append([]string{title}, fitTable(s.header, rows, width)...)
}

// share hands room lines to the sections. Each has its title line; then,
// first section first, each that has rows gets its header and one row,
// and the rows left go round until room runs out.
func share(sections []*fitSection, room int) {
	room -= len(sections)
	for _, s := range sections {
		if s.note == "" && len(s.rows) > 0 && room >= 2 {
			s.shown = 1
			room -= 2
		}
	}
	for {
		gave := false
		for _, s := range sections {
			if s.shown == 0 || s.shown >= len(s.rows) || room <= 0 {
				continue
			}
			s.shown++
			room--
			gave = true
		}
		if !gave {
			return
		}
	}
}

// fitTable lays out a table in width columns: when it is too wide, the
// widest columns give up space first, and cells longer than their column
// are cut with "…".
func fitTable(header []string, rows [][]string, width int) []string {
	const gap = 2
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = runeLen(h)
	}
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], runeLen(c))
		}
	}
	total := func() int {
		n := gap * (len(widths) - 1)
		for _, w := range widths {
			n += w
		}
		return n
	}
	for total() > width {
		widest := 0
		for i, w := range widths {
			if w > widths[widest] {
				widest = i
			}
		}
		if widths[widest] <= 4 {
			break
		}
		widths[widest]--
	}
	line := func(cells []string) string {
		var b strings.Builder
		for i, c := range cells {
			c = cut(c, widths[i])
			b.WriteString(c)
			if i < len(cells)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-runeLen(c)+gap))
			}
		}
		return strings.TrimRight(b.String(), " ")
	}
	out := []string{line(header)}
	for _, r := range rows {
		out = append(out, line(r))
	}
	return out
}

func bundleLine(scr *Screen) string {
	b := scr.LastBundle
	if b == nil {
		if _, ok := scr.Missing["bundles"]; ok {
			return "LAST BUNDLE " + strings.TrimSpace(missingLine(scr, "bundles"))
		}
		return "LAST BUNDLE (none written)"
	}
	s := fmt.Sprintf("LAST BUNDLE %s ago  %s  %s", cmdutil.Age(scr.Taken.Sub(b.Time)), b.Name, cmdutil.Bytes(b.Size))
	if b.Reason != "" {
		s += "  " + b.Reason
	}
	return s
}

func missingLine(scr *Screen, part string) string {
	msg := scr.Missing[part]
	if msg == "" {
		msg = "not available"
	}
	return fmt.Sprintf("  (%s: %s)", part, msg)
}

// cut shortens s to width columns, ending in "…" when it was longer.
func cut(s string, width int) string {
	r := []rune(s)
	if len(r) <= width {
		return s
	}
	if width <= 1 {
		return string(r[:width])
	}
	return string(r[:width-1]) + "…"
}

func runeLen(s string) int { return len([]rune(s)) }
