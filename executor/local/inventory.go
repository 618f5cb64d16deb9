package local

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

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
	tracked := make(map[scheduler.TryKey]bool, len(procs))
	for _, p := range procs {
		tracked[p.key] = true
	}
	untracked, err := e.untracked(ctx, tracked)
	return append(out, untracked...), err
}

// maxScanned bounds the try folders one inventory looks at: a folder
// that has kept every try for a year may hold millions.
const maxScanned = 200_000

// untracked finds the live processes in Dir that this executor does not
// watch: tries a crashed or killed scheduler left running after their
// task instance moved on (orphans), or another scheduler's. A finished
// try costs one stat (its exit status is there).
func (e *Executor) untracked(ctx context.Context, tracked map[scheduler.TryKey]bool) ([]scheduler.Workload, error) {
	var out []scheduler.Workload
	scanned := 0
	dags, _ := os.ReadDir(e.dir)
	for _, d := range dags {
		runs := subdirs(filepath.Join(e.dir, d.Name()), d)
		for _, r := range runs {
			tasks := subdirs(filepath.Join(e.dir, d.Name(), r.Name()), r)
			for _, t := range tasks {
				base := filepath.Join(e.dir, d.Name(), r.Name(), t.Name())
				for _, try := range subdirs(base, t) {
					if scanned++; scanned > maxScanned {
						return out, nil
					}
					if err := ctx.Err(); err != nil {
						return out, fmt.Errorf("local executor inventory: %w", err)
					}
					n, ok := strings.CutPrefix(try.Name(), "try-")
					num, err := strconv.Atoi(n)
					if !ok || err != nil {
						continue
					}
					dir := filepath.Join(base, try.Name())
					if _, err := os.Stat(filepath.Join(dir, exitFile)); err == nil {
						continue // ended
					}
					key, ok := keyOf(d.Name(), r.Name(), t.Name(), num)
					if !ok || tracked[key] {
						continue
					}
					st, err := inspect(dir)
					if err != nil || !st.alive {
						continue
					}
					w := e.workload(&proc{key: key, dir: dir, pid: st.pid, start: st.start})
					w.Tracked = false
					out = append(out, w)
				}
			}
		}
	}
	return out, nil
}

// subdirs lists the folders in dir (entry is dir's own entry); nil for a
// file or a hidden entry (.vigil-store).
func subdirs(dir string, entry os.DirEntry) []os.DirEntry {
	if !entry.IsDir() || strings.HasPrefix(entry.Name(), ".") {
		return nil
	}
	list, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	return slices.DeleteFunc(list, func(e os.DirEntry) bool { return !e.IsDir() })
}

// keyOf reads a try's key back from its folder names (safeName's
// inverse); false for a name shortened with a hash.
func keyOf(dag, run, task string, try int) (scheduler.TryKey, bool) {
	var ids [3]string
	for i, name := range []string{dag, run, task} {
		if strings.Contains(name, "~") {
			return scheduler.TryKey{}, false
		}
		if name == "%" {
			continue // the empty id
		}
		id, err := url.PathUnescape(name)
		if err != nil {
			return scheduler.TryKey{}, false
		}
		if safeName(id) != name {
			return scheduler.TryKey{}, false // not a folder safeName made
		}
		ids[i] = id
	}
	k := scheduler.TryKey{TaskKey: scheduler.TaskKey{DAGID: ids[0], RunID: ids[1], TaskID: ids[2]}, Try: try}
	return k, true
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
