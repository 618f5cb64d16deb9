package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vigilhq/vigil/scheduler/dag"
)

// Pools are named concurrency limits kept in the store, so that every
// scheduler sharing it enforces the same limit (parallelism and a DAG's
// max_active_tasks bound one scheduler process each). A task names its
// pool with the DAG key pool (dag.DefaultPool if none) and takes
// pool_slots of its slots while queued or running.
//
// The store enforces them in Apply, in the transaction that moves an
// instance into queued: it locks the pool's row, counts the slots taken
// by the pool's queued and running instances across all schedulers, and
// refuses the change with ErrPoolFull when the task's slots do not fit,
// or ErrNoPool when the pool does not exist. The instance stays where it
// was (no transition is recorded) and the loop keeps it waiting until the
// pool may have room (see poolWait).

// UnlimitedSlots is the Slots of a pool without a limit. dag.DefaultPool
// has it until someone sets a number.
const UnlimitedSlots = -1

// ErrPoolFull is returned (wrapped) by Store.Apply for a change into
// queued whose task's slots do not fit in what its pool has free.
var ErrPoolFull = errors.New("pool full")

// ErrNoPool is returned (wrapped) by Store.Apply for a change into queued
// whose task names a pool that does not exist.
var ErrNoPool = errors.New("pool does not exist")

// ErrPoolInUse is returned (wrapped) by PoolStore.DeletePool for a pool
// that queued or running tasks hold slots of.
var ErrPoolInUse = errors.New("pool in use")

// IsPoolRefusal reports whether err is Apply refusing a change for its pool.
func IsPoolRefusal(err error) bool { return errors.Is(err, ErrPoolFull) || errors.Is(err, ErrNoPool) }

// Pool is a named concurrency limit.
type Pool struct {
	Name string `json:"name"`
	// Slots is how many slots the pool's queued and running tasks may
	// take at once; UnlimitedSlots for no limit.
	Slots       int    `json:"slots"`
	Description string `json:"description"`
	// UpdatedAt and UpdatedBy say who set the pool last.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	UpdatedBy Actor     `json:"updated_by,omitzero"`
	// Reason is why it was set, recorded in the change (PoolChange)
	// and not kept with the pool.
	Reason string `json:"-"`
}

// PoolStatus is a pool and what its tasks take of it now, across every
// scheduler sharing the store.
type PoolStatus struct {
	Pool
	// Missing marks a pool that tasks name but nobody created: they wait
	// until it is (vigil pools set NAME --slots N).
	Missing bool `json:"missing,omitempty"`
	// Occupied is the slots taken by the pool's queued and running
	// instances; Queued and Running count those instances.
	Occupied int `json:"occupied"`
	Queued   int `json:"queued"`
	Running  int `json:"running"`
	// Scheduled counts the instances of the pool waiting to be queued:
	// scheduled (for their upstreams or for a slot) or up for retry.
	Scheduled int `json:"scheduled"`
}

// PoolChange is one record of a pool's history: who set or deleted it.
type PoolChange struct {
	Seq  int64     `json:"seq"`
	Pool string    `json:"pool"`
	At   time.Time `json:"at"`
	By   Actor     `json:"by"`
	// Action is "set" or "delete". Slots and Description are the values
	// set; PrevSlots the slots before (absent for a new pool).
	Action      string `json:"action"`
	Slots       int    `json:"slots"`
	PrevSlots   *int   `json:"prev_slots,omitempty"`
	Description string `json:"description"`
	// Reason is why, as the one who made the change gave it.
	Reason string `json:"reason,omitempty"`
}

// PoolStore is implemented by stores that keep pools. Such a store
// enforces them in Apply (see ErrPoolFull).
type PoolStore interface {
	// SetPool creates or updates a pool (p.UpdatedAt and p.UpdatedBy say
	// who and when) and records the change in the pools' history.
	SetPool(ctx context.Context, p Pool) error
	// DeletePool deletes a pool and records it, or fails with ErrPoolInUse
	// (naming the tasks) while queued or running tasks hold its slots,
	// ErrNotFound if there is none. dag.DefaultPool cannot be deleted.
	// reason is recorded with the change.
	DeletePool(ctx context.Context, name string, by Actor, at time.Time, reason string) error
	// ListPools returns every pool, with dag.DefaultPool and the missing
	// pools tasks wait for, ordered by name.
	ListPools(ctx context.Context) ([]PoolStatus, error)
	// PoolHistory returns the changes of a pool (of every pool if name is
	// ""), oldest first.
	PoolHistory(ctx context.Context, name string) ([]PoolChange, error)
}

// CheckPool returns an error saying what to fix if p cannot be stored.
func CheckPool(p Pool) error {
	if err := dag.CheckPoolName(p.Name); err != nil {
		return err
	}
	if p.Slots < UnlimitedSlots {
		return fmt.Errorf("pool %s: slots must be %d (no limit) or more, got %d", p.Name, UnlimitedSlots, p.Slots)
	}
	return nil
}

// takesSlot reports whether a transition from → to takes a slot of the
// instance's pool; freesSlot whether it gives one back.
func takesSlot(from, to State) bool { return !from.Active() && to.Active() }
func freesSlot(from, to State) bool { return from.Active() && !to.Active() }

// PoolLedger is the slot count of the pools one Store.Apply transaction
// touches. The store fills it, under the pools' locks, with each pool's
// slots and the slots its instances hold, then calls Admit for each
// change before writing it: a store's Apply enforces pools this way
// whatever its SQL.
type PoolLedger struct {
	pools map[string]*poolCount
}

type poolCount struct{ slots, used int }

// PoolsTouched returns the pools of the instances that changes may move
// into queued or running, given the instances as loaded: those Apply must
// lock and count. (A batch that only frees slots needs no pool: it takes
// none.)
func PoolsTouched(changes []Change, spec func(TaskKey) (dag.TaskSpec, bool)) []string {
	seen := map[string]bool{}
	var names []string
	for _, c := range changes {
		if !takesSlot(c.From, c.To) {
			continue
		}
		s, ok := spec(c.Key)
		if !ok {
			continue
		}
		if n := s.PoolName(); !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return names
}

// NewPoolLedger returns an empty ledger; pools not Set in it do not exist.
func NewPoolLedger() *PoolLedger { return &PoolLedger{pools: map[string]*poolCount{}} }

// Set records a pool's slots and the slots its instances hold now.
func (l *PoolLedger) Set(name string, slots, used int) {
	l.pools[name] = &poolCount{slots: slots, used: used}
}

// Admit checks the change of one instance from before to after against
// its pool and counts the slots it takes or frees. It returns a
// *PoolError (ErrPoolFull or ErrNoPool) for a change it refuses, which
// must then not be applied.
func (l *PoolLedger) Admit(before, after TaskInstance) error {
	name, need := after.Spec.PoolName(), after.Spec.Slots()
	p := l.pools[name]
	switch {
	case freesSlot(before.State, after.State):
		if p != nil {
			p.used -= need
		}
		return nil
	case !takesSlot(before.State, after.State):
		return nil
	case p == nil && name == dag.DefaultPool:
		return nil // unlimited unless set
	case p == nil:
		return &PoolError{Task: after.TaskKey, Pool: name, Need: need, Missing: true}
	case p.slots != UnlimitedSlots && p.used+need > p.slots:
		return &PoolError{Task: after.TaskKey, Pool: name, Need: need, Used: p.used, Slots: p.slots}
	}
	p.used += need
	return nil
}

// PoolError is Apply's refusal of a change into queued for its task's
// pool. It matches ErrNoPool if the pool does not exist, ErrPoolFull
// otherwise.
type PoolError struct {
	Task TaskKey
	Pool string
	// Need is the slots the task takes; Used and Slots what the pool had
	// taken and has in all.
	Need, Used, Slots int
	Missing           bool
}

// NeverFits reports whether the task needs more slots than its pool has
// in all: it waits until the pool grows.
func (e *PoolError) NeverFits() bool { return !e.Missing && e.Need > e.Slots }

func (e *PoolError) Error() string {
	switch {
	case e.Missing:
		return fmt.Sprintf("%v: task %s names pool %q; create it with: vigil pools set %s --slots N", ErrNoPool, e.Task, e.Pool, e.Pool)
	case e.NeverFits():
		return fmt.Sprintf("%v: task %s needs %d slots of pool %q, which has %d in all; it cannot run until: vigil pools set %s --slots %d",
			ErrPoolFull, e.Task, e.Need, e.Pool, e.Slots, e.Pool, e.Need)
	}
	return fmt.Sprintf("%v: task %s needs %d of pool %q's slots; %d of %d are taken", ErrPoolFull, e.Task, e.Need, e.Pool, e.Used, e.Slots)
}

// Is makes errors.Is match ErrNoPool or ErrPoolFull.
func (e *PoolError) Is(target error) bool {
	if e.Missing {
		return target == ErrNoPool
	}
	return target == ErrPoolFull
}
