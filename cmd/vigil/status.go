package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/diag/watchdog"
	"github.com/vigilhq/vigil/scheduler"
)

type statusItem struct {
	scheduler.HeartbeatRecord
	Age   time.Duration `json:"age_ns"`
	Stale bool          `json:"stale"`
	// Runs counts the running runs the scheduler owns (several
	// schedulers on one PostgreSQL; always 0 on SQLite).
	Runs int `json:"runs_owned"`
}

type statusReport struct {
	Heartbeats []statusItem            `json:"heartbeats"`
	Tasks      map[scheduler.State]int `json:"tasks"`
	// Unowned counts running runs no scheduler has claimed yet.
	Unowned int `json:"runs_unowned"`
}

func (a *app) statusCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "status",
		Short: "Show every scheduler's heartbeat and the task counts",
		Long: `Show the heartbeat each scheduler process writes to the database, with its
age, and how many task instances are in each state. A heartbeat older than
three periods is STALE: that scheduler is stuck or was killed (a scheduler
that stops cleanly says so). With several schedulers on one PostgreSQL, RUNS
is how many running runs each owns; a stale scheduler's runs go to the
others once its beat is older than their --stale-after. The exit status is 3
when no scheduler is live.`,
		Example: `  vigil status
  vigil status -o json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return a.withStore(func(ctx context.Context, cfg config, st scheduler.Store) error {
				hbs, err := st.ListHeartbeats(ctx)
				if err != nil {
					return err
				}
				tis, err := st.ListTaskInstances(ctx, scheduler.TaskFilter{States: []scheduler.State{
					scheduler.StateScheduled, scheduler.StateQueued, scheduler.StateRunning, scheduler.StateUpForRetry}})
				if err != nil {
					return err
				}
				running, err := st.ListRuns(ctx, scheduler.RunFilter{States: []scheduler.RunState{scheduler.RunRunning}})
				if err != nil {
					return err
				}
				owned := map[string]int{}
				for _, r := range running {
					owned[r.Owner]++
				}
				now := time.Now()
				rep := statusReport{Heartbeats: []statusItem{}, Tasks: map[scheduler.State]int{}}
				if _, shared := st.(scheduler.Claimer); shared {
					rep.Unowned = owned[""]
				}
				var newest *statusItem
				for _, hb := range hbs {
					age := now.Sub(hb.LastBeat)
					it := statusItem{HeartbeatRecord: hb, Age: age, Stale: hb.StoppedAt.IsZero() && age > watchdog.DefaultFactor*hb.Period,
						Runs: owned[hb.Instance]}
					rep.Heartbeats = append(rep.Heartbeats, it)
					if newest == nil || hb.LastBeat.After(newest.LastBeat) {
						newest = &rep.Heartbeats[len(rep.Heartbeats)-1]
					}
				}
				for _, ti := range tis {
					rep.Tasks[ti.State]++
				}
				if err := a.render(rep, func(w io.Writer) {
					row(w, "COMPONENT", "INSTANCE", "HOST", "PID", "LAST HEARTBEAT", "RUNS", "STATUS")
					for _, h := range rep.Heartbeats {
						status := "ok"
						switch {
						case !h.StoppedAt.IsZero():
							status = "stopped " + ago(now, h.StoppedAt)
						case h.Stale:
							status = "STALE"
						}
						runs := "-"
						if _, shared := st.(scheduler.Claimer); shared {
							runs = fmt.Sprint(h.Runs)
						}
						row(w, h.Component, h.Instance, h.Host, h.PID, ago(now, h.LastBeat), runs, status)
					}
				}); err != nil {
					return err
				}
				if a.output != "json" {
					fmt.Fprintf(a.out, "\ntasks: %d scheduled, %d queued, %d running, %d up for retry\n",
						rep.Tasks[scheduler.StateScheduled], rep.Tasks[scheduler.StateQueued], rep.Tasks[scheduler.StateRunning], rep.Tasks[scheduler.StateUpForRetry])
					if rep.Unowned > 0 {
						fmt.Fprintf(a.out, "runs: %d running with no owner yet (claimed at the schedulers' next sync)\n", rep.Unowned)
					}
					if newest == nil {
						fmt.Fprintln(a.out, "no scheduler has written a heartbeat yet; is 'vigil run' running on this database?")
					} else if !newest.StoppedAt.IsZero() {
						fmt.Fprintf(a.out, "no scheduler running: the last one (host %s, pid %d) stopped cleanly %s\n", newest.Host, newest.PID, ago(now, newest.StoppedAt))
					} else if newest.Stale {
						fmt.Fprintf(a.out, "scheduler on host %s (pid %d): last heartbeat %s, STALE; it is stuck or was killed\n", newest.Host, newest.PID, ago(now, newest.LastBeat))
					}
				}
				if newest == nil || newest.Stale || !newest.StoppedAt.IsZero() {
					return &problemError{"no live scheduler"}
				}
				return nil
			})
		},
	}
	a.addOutputFlag(c)
	return c
}
