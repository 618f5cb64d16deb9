package dag

import (
	"fmt"
	"math"
	"regexp"

	"go.yaml.in/yaml/v3"
)

// DefaultPool is the pool of a task that names none.
const DefaultPool = "default_pool"

// slotKeys are the keys that say where a task waits for a slot and in
// which order: its pool, the slots of the pool it takes, its priority.
var slotKeys = []string{"pool", "pool_slots", "priority"}

// slots holds the slot settings a task or the defaults may set.
type slots struct {
	Pool      *string
	PoolSlots *int
	Priority  *int
}

var poolPattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$`)

// CheckPoolName returns nil if name can name a pool: letters, digits, '_',
// '.' and '-', starting and ending with a letter or digit, at most 63
// characters.
func CheckPoolName(name string) error {
	if !poolPattern.MatchString(name) {
		return fmt.Errorf("bad pool name %q: use letters, digits, '_', '.' and '-', starting and ending with a letter or digit, at most 63 characters", name)
	}
	return nil
}

func (r *reader) slots(fields map[string]field, task string) slots {
	var o slots
	if f, ok := fields["pool"]; ok {
		if s, ok := r.str(f, task); ok {
			if poolPattern.MatchString(s) {
				o.Pool = &s
			} else {
				r.poolNameError(f.val, task, s)
			}
		}
	}
	if f, ok := fields["pool_slots"]; ok {
		if v, ok := r.integer(f, task, 1); ok {
			o.PoolSlots = &v
		}
	}
	if f, ok := fields["priority"]; ok {
		if v, ok := r.integer(f, task, math.MinInt32); ok && v <= math.MaxInt32 {
			o.Priority = &v
		} else if ok {
			r.errorf(f.val, task, "priority must be at most %d, got %d", math.MaxInt32, v)
		}
	}
	return o
}

func (r *reader) poolNameError(at *yaml.Node, task, s string) {
	r.errorf(at, task, "bad pool name %q: use letters, digits, '_', '.' and '-', starting and ending with a letter or digit, at most 63 characters; leave pool: out for %s", s, DefaultPool)
}

// PoolName is the pool whose slots the task takes: its own, or
// DefaultPool.
func (s TaskSpec) PoolName() string {
	if s.Pool == "" {
		return DefaultPool
	}
	return s.Pool
}

// Slots is how many slots of its pool the task takes while queued or
// running: PoolSlots, at least 1 (a spec stored before pools had none).
func (s TaskSpec) Slots() int { return max(1, s.PoolSlots) }
