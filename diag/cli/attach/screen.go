package attach

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/health"
	"github.com/vigilhq/vigil/diag/cli/render"
	"github.com/vigilhq/vigil/diag/stacks"
	"github.com/vigilhq/vigil/diag/watchdog"
)

func writeHeader(w io.Writer, scr *Screen) {
	if i := scr.Info; i != nil {
		rev := i.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			rev = " (" + rev + ")"
		}
		fmt.Fprintf(w, "%s %s%s  pid %d on %s  up %s  %s  %d goroutines  heap %s\n",
			i.Service, i.Version, rev, i.PID, i.Host, cmdutil.Age(i.Uptime), i.GoVersion, i.Goroutines, cmdutil.Bytes(int64(i.HeapBytes)))
	} else {
		missing(w, scr, "info")
	}
	fmt.Fprintf(w, "via %s at %s\n", scr.Target, scr.Taken.UTC().Format("2006-01-02 15:04:05Z"))
	if scr.Health != nil {
		switch scr.Health.Status {
		case "stale":
			fmt.Fprintf(w, "\nSTALE: %s\n", firstLine(scr.Findings, health.StaleNames(scr.Health.Heartbeats)))
			for _, l := range restLines(scr.Findings) {
				fmt.Fprintf(w, "       %s\n", l)
			}
		case "degraded":
			fmt.Fprintf(w, "\nDEGRADED: %s\n", firstLine(scr.Findings, "an advisory heartbeat is stale"))
		}
	}
}

func section(w io.Writer, title string) { fmt.Fprintf(w, "\n%s\n", title) }

func missing(w io.Writer, scr *Screen, part string) {
	msg := scr.Missing[part]
	if msg == "" {
		msg = "not available"
	}
	fmt.Fprintf(w, "  (%s: %s)\n", part, msg)
}

func writeHeartbeats(w io.Writer, hbs []watchdog.Status) error {
	if len(hbs) == 0 {
		fmt.Fprintln(w, "  (none registered)")
		return nil
	}
	return health.WriteTable(w, hbs)
}

func writeCalls(w io.Writer, scr *Screen) error {
	if _, ok := scr.Missing["inflight"]; ok {
		missing(w, scr, "inflight")
		return nil
	}
	if len(scr.Calls) == 0 {
		fmt.Fprintln(w, "  (none)")
		return nil
	}
	return render.Calls(w, scr.Calls)
}

func writeGoroutines(w io.Writer, scr *Screen, groups int) error {
	snap := scr.Goroutines
	if snap == nil {
		section(w, "GOROUTINES")
		missing(w, scr, "stacks")
		return nil
	}
	show := Pick(snap.Groups, groups)
	section(w, fmt.Sprintf("GOROUTINES (%d in %d groups; the largest, and every loop)", snap.Goroutines, len(snap.Groups)))
	return render.Groups(w, show, 0)
}

// Pick returns the n largest groups, then every group of a labelled loop
// not among them: a loop is one goroutine, never the largest group, and
// the one an engineer paged for a stale heartbeat looks for first.
func Pick(groups []stacks.Group, n int) []stacks.Group {
	n = min(n, len(groups))
	out := append([]stacks.Group(nil), groups[:n]...)
	for _, g := range groups[n:] {
		if g.Labels["loop"] != "" {
			out = append(out, g)
		}
	}
	return out
}

func writeWireErrors(w io.Writer, scr *Screen) error {
	if _, ok := scr.Missing["wiretrace"]; ok {
		missing(w, scr, "wiretrace")
		return nil
	}
	if len(scr.WireErrors) == 0 {
		fmt.Fprintln(w, "  (none)")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WHEN\tCLIENT\tREQUEST\tSTATUS\tTOOK")
	for _, e := range scr.WireErrors {
		status := fmt.Sprint(e.Status)
		if e.Err != "" {
			status = e.Err
		}
		req := e.Method + " " + e.URL
		if e.Verb != "" {
			req = fmt.Sprintf("%s %s (%s)", e.Method, e.URL, e.Verb+" "+e.Resource)
		}
		fmt.Fprintf(tw, "%s ago\t%s\t%s\t%s\t%s\n", cmdutil.Age(scr.Taken.Sub(e.Start)), orDash(e.Client), req, status, cmdutil.Age(e.Duration))
	}
	return tw.Flush()
}

func writeBundle(w io.Writer, scr *Screen) {
	b := scr.LastBundle
	if b == nil {
		if _, ok := scr.Missing["bundles"]; ok {
			missing(w, scr, "bundles")
		} else {
			fmt.Fprintln(w, "  (none written)")
		}
		return
	}
	fmt.Fprintf(w, "  %s  %s ago  %s", b.Name, cmdutil.Age(scr.Taken.Sub(b.Time)), cmdutil.Bytes(b.Size))
	if b.Reason != "" {
		fmt.Fprintf(w, "  reason: %s", b.Reason)
	}
	fmt.Fprintln(w)
	if s := firstLine(b.Summary, ""); s != "" {
		fmt.Fprintf(w, "  %s\n", s)
	}
	fmt.Fprintln(w, "  get it: diag bundle get "+b.Name)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func firstLine(s, fallback string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return fallback
	}
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func restLines(s string) []string {
	var out []string
	for i, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if i > 0 && strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}
