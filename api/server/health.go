package server

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/diag/bundle"
	"github.com/vigilhq/vigil/diag/inflight"
	"github.com/vigilhq/vigil/diag/watchdog"
	"github.com/vigilhq/vigil/scheduler"
)

// health answers from the serving process's own watchdog and in-flight
// registry, not the store: it works while the database hangs, and names
// the call a stale loop waits on.
func (s *Server) health(r *http.Request, _ Token) (int, any, error) {
	var beats []watchdog.Status
	if s.opts.Watchdog != nil {
		beats = s.opts.Watchdog.Snapshot()
	}
	var calls []inflight.Call
	if s.opts.Inflight != nil {
		calls = s.opts.Inflight.Snapshot()
	}
	return http.StatusOK, Health(s.opts.Instance, s.opts.Now(), beats, calls), nil
}

// maxBlocking is how many calls /health lists for stale loops with no
// call of their own.
const maxBlocking = 5

// Health builds the health report of heartbeats and in-flight calls
// (oldest first) at now.
func Health(instance string, now time.Time, beats []watchdog.Status, calls []inflight.Call) api.Health {
	h := api.Health{Instance: instance, Now: now.UTC(), Healthy: true, Loops: []api.Loop{}}
	var sentences []string
	seen := map[uint64]bool{}
	block := func(c inflight.Call) {
		if !seen[c.ID] {
			seen[c.ID] = true
			h.Blocking = append(h.Blocking, toCall(c))
		}
	}
	for _, b := range beats {
		l := toLoop(b)
		loop, _, _ := strings.Cut(b.Name, ".")
		c, via, found := bundle.Blocking(calls, loop)
		if found {
			l.Phase = c.Labels["phase"]
		}
		h.Loops = append(h.Loops, l)
		if !b.Stale {
			continue
		}
		if !b.Advisory {
			h.Healthy = false
		}
		what := fmt.Sprintf("The %s loop has not beaten for %s (stale after %s)", loopName(b.Name), round(b.Age), round(watchdog.DefaultFactor*b.Period))
		if b.LastBeat.IsZero() {
			what = fmt.Sprintf("The %s loop has not beaten since it started %s ago (stale after %s)", loopName(b.Name), round(b.Age), round(watchdog.DefaultFactor*b.Period))
		}
		if b.Advisory {
			what += " (advisory)"
		}
		switch {
		case found:
			block(c)
			what += ": it waits on " + callTarget(c) + ", " + callTiming(c)
			if via != nil {
				block(*via)
				what += fmt.Sprintf(" (in %s %s)", via.Kind, via.Op)
			}
		case len(calls) > 0:
			for i, c := range calls {
				if i == maxBlocking {
					break
				}
				block(c)
			}
			what += fmt.Sprintf(": no call in flight under it; the oldest call in flight is %s, %s", callTarget(calls[0]), callTiming(calls[0]))
		default:
			what += ": no outbound call in flight; its goroutine's stack (GET /api/v1/debug/stacks) shows where it waits"
		}
		sentences = append(sentences, what+".")
	}
	switch {
	case len(sentences) > 0:
		h.Summary = strings.Join(sentences, " ")
	case len(beats) == 0:
		h.Summary = "No loop is registered yet: the scheduler is starting."
	default:
		h.Summary = fmt.Sprintf("All %d loops beat within their deadlines.", len(beats))
	}
	return h
}

// loopName turns "scheduler.loop" into "scheduler", "executor.kube.watch"
// into "executor kube watch".
func loopName(name string) string {
	return strings.ReplaceAll(strings.TrimSuffix(name, ".loop"), ".", " ")
}

func callTiming(c inflight.Call) string {
	s := "in flight " + round(c.Age).String()
	if c.NoDeadline() {
		return s + ", no deadline"
	}
	left := c.Deadline.Sub(c.Start.Add(c.Age))
	if left < 0 {
		return s + fmt.Sprintf(", deadline passed %s ago", round(-left))
	}
	return s + fmt.Sprintf(", deadline in %s", round(left))
}

func round(d time.Duration) time.Duration {
	if d > 10*time.Second {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

func (s *Server) status(r *http.Request, _ Token) (int, any, error) {
	st, ctx, cancel, err := s.store(r)
	if err != nil {
		return 0, nil, err
	}
	defer cancel()
	rep, err := scheduler.ReadStatus(ctx, st, s.opts.Now())
	if err != nil {
		return 0, nil, err
	}
	out := api.Status{Schedulers: []api.Heartbeat{}, Tasks: map[string]int{}, RunsUnowned: rep.Unowned}
	for _, sc := range rep.Schedulers {
		out.Schedulers = append(out.Schedulers, toHeartbeat(sc, sc.Instance == s.opts.Instance))
	}
	for state, n := range rep.Tasks {
		out.Tasks[string(state)] = n
	}
	return http.StatusOK, out, nil
}

func (s *Server) whoami(r *http.Request, who Token) (int, any, error) {
	return http.StatusOK, api.WhoAmI{Name: who.Name, Role: who.Role, Instance: s.opts.Instance, Version: s.opts.Version}, nil
}
