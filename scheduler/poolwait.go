package scheduler

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"
)

// poolWaits holds the instances ready to run that wait for a slot of
// their pool, and the pools known to have none. Owned by the loop.
//
// When the store refuses to queue an instance for its pool (ErrPoolFull,
// ErrNoPool) the instance stays as it was, with no transition recorded,
// and waits here; its pool is closed, so the dispatches after send the
// pool's other ready instances straight here too, without asking the
// store. A pool opens again, and its waiters become candidates (highest
// priority first, see candidateHeap), when it may have room: when one of
// its instances this scheduler tracks stops holding slots, and at every
// sync, since other schedulers sharing the store free slots this one does
// not see. So a full pool costs one refused Apply per slot freed here and
// per sync, not one per turn of the loop.
type poolWaits struct {
	waiting map[string]map[TaskKey]struct{} // pool → instances
	closed  map[string]bool
	// said is what was logged about a pool (full, missing, a task that
	// never fits) since it last admitted a task, so that a pool that
	// stays full or missing is reported once.
	said map[string]map[string]bool
}

// wait adds k to the instances waiting for pool.
func (p *poolWaits) wait(pool string, k TaskKey) {
	if p.waiting == nil {
		p.waiting = map[string]map[TaskKey]struct{}{}
		p.closed = map[string]bool{}
		p.said = map[string]map[string]bool{}
	}
	w := p.waiting[pool]
	if w == nil {
		w = map[TaskKey]struct{}{}
		p.waiting[pool] = w
	}
	w[k] = struct{}{}
}

// isClosed reports whether pool refused a task since it last had room.
func (p *poolWaits) isClosed(pool string) bool { return p.closed[pool] }

// open moves pool's waiters into candidates.
func (p *poolWaits) open(pool string, candidates map[TaskKey]struct{}) {
	delete(p.closed, pool)
	for k := range p.waiting[pool] {
		candidates[k] = struct{}{}
	}
	delete(p.waiting, pool)
}

// openAll opens every pool (at each sync: others may have freed slots).
func (p *poolWaits) openAll(candidates map[TaskKey]struct{}) {
	for pool := range p.waiting {
		p.open(pool, candidates)
	}
	clear(p.closed)
}

// count is the number of instances waiting for a pool.
func (p *poolWaits) count() int {
	n := 0
	for _, w := range p.waiting {
		n += len(w)
	}
	return n
}

// poolRefused records the store's refusal of c for the instance's pool:
// the instance waits and the pool closes. A pool that stays full or
// missing is logged once, with what to do.
func (s *Scheduler) poolRefused(c Change, err error) {
	_, ti := s.instance(c.Key)
	if ti == nil {
		return
	}
	pool := ti.Spec.PoolName()
	s.pools.wait(pool, c.Key)
	s.pools.closed[pool] = true
	var pe *PoolError
	if !errors.As(err, &pe) {
		return
	}
	// Said once per pool and kind, until the pool admits a task; a task
	// that can never fit is said once for itself.
	what := "full"
	switch {
	case pe.Missing:
		what = "missing"
	case pe.NeverFits():
		what = "never fits: " + c.Key.String()
	}
	if s.pools.said[pool][what] {
		return
	}
	if s.pools.said[pool] == nil {
		s.pools.said[pool] = map[string]bool{}
	}
	s.pools.said[pool][what] = true
	switch {
	case pe.Missing:
		s.log.Warn("tasks wait for a pool that does not exist; create it with: vigil pools set "+pool+" --slots N",
			zap.String("pool", pool), zap.Stringer("task", c.Key))
	case pe.NeverFits():
		s.log.Warn("task needs more slots than its pool has; it waits until the pool grows", zap.String("pool", pool), zap.Error(err))
	default:
		s.log.Info("pool full; its tasks wait for a slot", zap.String("pool", pool), zap.Int("slots", pe.Slots), zap.Int("taken", pe.Used))
	}
}

// poolAdmitted notes that pool took a task: what is said next about it is
// news.
func (s *Scheduler) poolAdmitted(ti TaskInstance) {
	if s.pools.said != nil {
		delete(s.pools.said, ti.Spec.PoolName())
	}
}

// Pools returns the store's pools and what their tasks take of them now,
// across every scheduler sharing the store, or ErrNotFound (wrapped) if
// the store keeps none. It may be called from any goroutine.
func (s *Scheduler) Pools(ctx context.Context) ([]PoolStatus, error) {
	ps, ok := s.opts.Store.(PoolStore)
	if !ok {
		return nil, fmt.Errorf("pools: %w: the store keeps none", ErrNotFound)
	}
	cctx, cancel := s.storeCtx(ctx)
	defer cancel()
	return ps.ListPools(cctx)
}
