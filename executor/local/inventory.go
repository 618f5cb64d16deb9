package local

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/vigilhq/vigil/scheduler"
)

var _ scheduler.Inventory = (*Executor)(nil)

// Inventory lists the tries this executor runs or watches (those it
// started and those it adopted), each with its process: pid, the task's
// command line, when it started and the size of its output so far. It
// reads the try folders and /proc, never the store; `diag tasks` sets it
// against the store's live task instances.
func (e *Executor) Inventory(ctx context.Context) ([]scheduler.Workload, error) {
	e.mu.Lock()
	procs := make([]*proc, 0, len(e.procs))
	for _, p := range e.procs {
		procs = append(procs, p)
	}
	e.mu.Unlock()
	sort.Slice(procs, func(i, j int) bool { return procs[i].key.String() < procs[j].key.String() })
	out := make([]scheduler.Workload, 0, len(procs))
	for _, p := range procs {
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("local executor inventory: %w", err)
		}
		select {
		case <-p.ready:
		default:
			// Being started: no pid yet.
			out = append(out, scheduler.Workload{Key: p.key, Phase: "Pending", Tracked: true, Created: e.now(),
				Reason: "being started"})
			continue
		}
		if p.err != nil {
			continue // the start failed; the try is not running
		}
		out = append(out, e.workload(p))
	}
	return out, nil
}

// workload describes p's process as its try folder and /proc show it.
func (e *Executor) workload(p *proc) scheduler.Workload {
	w := scheduler.Workload{Key: p.key, ExternalID: p.externalID(), PID: p.pid, Tracked: true, Phase: "Running"}
	if fi, err := os.Stat(filepath.Join(p.dir, pidFile)); err == nil {
		w.Created = fi.ModTime() // written as the process started
	}
	if fi, err := os.Stat(filepath.Join(p.dir, logFile)); err == nil {
		w.OutputBytes = fi.Size()
	}
	w.Command = commandOf(p.pid)
	st, err := inspect(p.dir)
	switch {
	case err != nil:
		w.Reason = err.Error()
	case st.exited:
		// Ended, and the executor has not recorded it yet.
		w.Phase = "Succeeded"
		if st.code != 0 {
			w.Phase = "Failed"
		}
		w.Reason = exitReason(st.code)
		if fi, err := os.Stat(filepath.Join(p.dir, exitFile)); err == nil {
			w.Ended = fi.ModTime()
		}
	case !st.alive:
		w.Phase, w.Reason = "Failed", lostReason(p.pid)
	}
	return w
}

// commandOf reads the task's command line from the wrapper's: "sh -c
// SCRIPT vigil-try DIR COMMAND...". Nil when the process is gone or is
// not a wrapper.
func commandOf(pid int) []string {
	if pid <= 0 {
		return nil
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return nil
	}
	args := bytes.Split(bytes.TrimSuffix(data, []byte{0}), []byte{0})
	for i, a := range args {
		if string(a) == "vigil-try" && i+1 < len(args) {
			var cmd []string
			for _, c := range args[i+2:] {
				cmd = append(cmd, string(c))
			}
			return cmd
		}
	}
	return nil
}
