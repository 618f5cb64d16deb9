package bundle

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/diag/watchdog"
)

// Findings is the part of a bundle's summary that links what is stale to
// what is blocking it:
//
//	scheduler.loop stale 41s; blocked in POST /api/v1/namespaces/x/pods for 41s, NO DEADLINE
//
// A heartbeat is linked to the calls made under its loop: the heartbeat
// "scheduler.loop" to the calls whose goroutine carries the pprof label
// loop=scheduler (the part of the name before the first dot). Among them
// the oldest network or database call is named, since that is where the
// loop waits on the outside world; an executor call wrapping it is named
// as the route. Without a stale heartbeat, the oldest call in flight is
// named. The in-flight calls follow, oldest first, at most maxCalls.
func Findings(heartbeats []watchdog.Status, calls []inflight.Call) string {
	var b strings.Builder
	stale := 0
	for _, hb := range heartbeats {
		if !hb.Stale {
			continue
		}
		stale++
		kind := ""
		if hb.Advisory {
			kind = " (advisory)"
		}
		fmt.Fprintf(&b, "%s%s stale %s (period %s)", hb.Name, kind, round(hb.Age), hb.Period)
		loop, _, _ := strings.Cut(hb.Name, ".")
		if c, via, ok := Blocking(calls, loop); ok {
			fmt.Fprintf(&b, "; blocked in %s", describe(c))
			if via != nil {
				fmt.Fprintf(&b, " (in %s %s)", via.Kind, via.Op)
			}
		} else {
			b.WriteString("; no call in flight under this loop: see stacks.txt for where it waits")
		}
		b.WriteByte('\n')
	}
	if stale == 0 {
		b.WriteString("no heartbeat is stale\n")
	}
	if len(calls) == 0 {
		b.WriteString("no outbound call in flight\n")
		return b.String()
	}
	fmt.Fprintf(&b, "\n%d outbound call(s) in flight, oldest first:\n", len(calls))
	for i, c := range calls {
		if i == maxCalls {
			fmt.Fprintf(&b, "  ... and %d more (inflight.json)\n", len(calls)-maxCalls)
			break
		}
		fmt.Fprintf(&b, "  %s %s\n", c.Kind, describe(c))
		if c.Site != "" {
			fmt.Fprintf(&b, "      at %s\n", c.Site)
		}
		if len(c.Labels) > 0 {
			fmt.Fprintf(&b, "      labels %s\n", labels(c.Labels))
		}
	}
	return b.String()
}

const maxCalls = 20

// Blocking picks the call a loop is blocked in: the oldest http or db
// call under the loop (the calls whose pprof label loop is loop), with the
// oldest executor call under it as the route. calls are oldest first, as
// inflight.Registry.Snapshot returns them. The operations API's /health
// names it the same way.
func Blocking(calls []inflight.Call, loop string) (inflight.Call, *inflight.Call, bool) {
	var wire, exec *inflight.Call
	for i := range calls { // oldest first
		c := &calls[i]
		if c.Labels["loop"] != loop {
			continue
		}
		switch {
		case c.Kind == "executor" && exec == nil:
			exec = c
		case c.Kind != "executor" && wire == nil:
			wire = c
		}
	}
	switch {
	case wire != nil:
		return *wire, exec, true
	case exec != nil:
		return *exec, nil, true
	}
	return inflight.Call{}, nil, false
}

func describe(c inflight.Call) string {
	s := c.Op
	if c.Target != "" && c.Kind != "executor" {
		s += " on " + c.Target
	}
	s += " for " + round(c.Age).String()
	if c.NoDeadline() {
		return s + ", NO DEADLINE"
	}
	left := c.Deadline.Sub(c.Start.Add(c.Age))
	if left < 0 {
		return s + fmt.Sprintf(", deadline passed %s ago", round(-left))
	}
	return s + fmt.Sprintf(", deadline in %s", round(left))
}

func labels(m map[string]string) string {
	var parts []string
	for _, k := range []string{"loop", "phase", "dag", "run", "task"} {
		if v, ok := m[k]; ok {
			parts = append(parts, k+"="+v)
		}
	}
	for k, v := range m {
		switch k {
		case "loop", "phase", "dag", "run", "task":
		default:
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

func round(d time.Duration) time.Duration {
	if d > 10*time.Second {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}
