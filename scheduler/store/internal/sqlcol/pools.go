package sqlcol

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

// The columns ScanPool reads, and the query both stores count the
// instances of each pool with.
const (
	PoolColumns = `name, slots, description, updated_at, updated_by_component, updated_by_instance`
	PoolCounts  = `SELECT pool, state, COUNT(*), SUM(pool_slots) FROM task_instances
		WHERE state IN ('scheduled', 'up_for_retry', 'queued', 'running') GROUP BY pool, state`
	PoolChangeColumns = `seq, pool, at, actor_component, actor_instance, action, slots, prev_slots, description, reason`
)

// ScanPool reads a row of PoolColumns.
func ScanPool(r Row) (scheduler.Pool, error) {
	var p scheduler.Pool
	err := r.Scan(&p.Name, &p.Slots, &p.Description, Time(&p.UpdatedAt), &p.UpdatedBy.Component, &p.UpdatedBy.Instance)
	return p, err
}

// ScanPoolChange reads a row of PoolChangeColumns.
func ScanPoolChange(r Row) (scheduler.PoolChange, error) {
	var c scheduler.PoolChange
	err := r.Scan(&c.Seq, &c.Pool, Time(&c.At), &c.By.Component, &c.By.Instance, &c.Action, &c.Slots, IntPtr(&c.PrevSlots), &c.Description, &c.Reason)
	return c, err
}

// PoolStatus merges the pools with the rows of PoolCounts (pool, state,
// instances, slots): every pool, dag.DefaultPool and the pools instances
// name that do not exist (Missing), ordered by name.
func PoolStatus(pools []scheduler.Pool, counts Rows) ([]scheduler.PoolStatus, error) {
	by := map[string]*scheduler.PoolStatus{}
	for _, p := range pools {
		by[p.Name] = &scheduler.PoolStatus{Pool: p}
	}
	if by[dag.DefaultPool] == nil {
		by[dag.DefaultPool] = &scheduler.PoolStatus{Pool: scheduler.Pool{Name: dag.DefaultPool, Slots: scheduler.UnlimitedSlots}}
	}
	for counts.Next() {
		var name string
		var state scheduler.State
		var n, slots int
		if err := counts.Scan(&name, &state, &n, &slots); err != nil {
			return nil, err
		}
		st := by[name]
		if st == nil {
			st = &scheduler.PoolStatus{Pool: scheduler.Pool{Name: name}, Missing: true}
			by[name] = st
		}
		switch state {
		case scheduler.StateQueued:
			st.Queued += n
			st.Occupied += slots
		case scheduler.StateRunning:
			st.Running += n
			st.Occupied += slots
		default:
			st.Scheduled += n
		}
	}
	if err := counts.Err(); err != nil {
		return nil, err
	}
	out := make([]scheduler.PoolStatus, 0, len(by))
	for _, st := range by {
		out = append(out, *st)
	}
	slices.SortFunc(out, func(a, b scheduler.PoolStatus) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Rows is the part of *sql.Rows PoolStatus reads.
type Rows interface {
	Row
	Next() bool
	Err() error
}

// PoolInUse is the error DeletePool returns for a pool whose slots the
// tasks held (up to a few of them named) and n in all hold.
func PoolInUse(name string, held []scheduler.TaskKey, n int) error {
	names := make([]string, len(held))
	for i, k := range held {
		names[i] = k.String()
	}
	more := ""
	if n > len(held) {
		more = fmt.Sprintf(" and %d more", n-len(held))
	}
	return fmt.Errorf("%w: %d queued or running tasks hold slots of pool %s (%s%s); wait for them to finish, or set its slots to 0 so no more start",
		scheduler.ErrPoolInUse, n, name, strings.Join(names, ", "), more)
}

// InstancePools returns, for the tasks of a new run that are not in
// dag.DefaultPool with one slot, their ids, pools and slots: the
// instances whose pool columns CreateRun sets.
func InstancePools(tasks []scheduler.TaskInstance) (ids, pools []string, slots []int) {
	for _, ti := range tasks {
		if p, n := ti.Spec.PoolName(), ti.Spec.Slots(); p != dag.DefaultPool || n != 1 {
			ids, pools, slots = append(ids, ti.TaskID), append(pools, p), append(slots, n)
		}
	}
	return ids, pools, slots
}

// DAGChangeColumns are the columns ScanDAGChange reads.
const DAGChangeColumns = `seq, dag_id, at, actor_component, actor_instance, action, reason`

// ScanDAGChange reads a row of DAGChangeColumns.
func ScanDAGChange(r Row) (scheduler.DAGChange, error) {
	var c scheduler.DAGChange
	err := r.Scan(&c.Seq, &c.DAGID, Time(&c.At), &c.Actor.Component, &c.Actor.Instance, &c.Action, &c.Reason)
	return c, err
}

// CheckDAGChange says what is wrong with a DAG change to record.
func CheckDAGChange(c scheduler.DAGChange) error {
	if c.Action != scheduler.DAGPause && c.Action != scheduler.DAGUnpause {
		return fmt.Errorf("dag %s: change %q: want %s or %s", c.DAGID, c.Action, scheduler.DAGPause, scheduler.DAGUnpause)
	}
	if c.Actor.Component == "" {
		return fmt.Errorf("dag %s: %s needs an actor", c.DAGID, c.Action)
	}
	return nil
}
