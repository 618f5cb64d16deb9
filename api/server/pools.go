package server

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

// pools returns the store's pools, or a 503 for a store without.
func poolStore(st scheduler.Store) (scheduler.PoolStore, error) {
	ps, ok := st.(scheduler.PoolStore)
	if !ok {
		return nil, errUnavailable(fmt.Sprintf("the store %T keeps no pools", st))
	}
	return ps, nil
}

func (s *Server) listPools(r *http.Request, _ Token) (int, any, error) {
	pq, err := readPage(r)
	if err != nil {
		return 0, nil, err
	}
	st, ctx, cancel, err := s.store(r)
	if err != nil {
		return 0, nil, err
	}
	defer cancel()
	ps, err := poolStore(st)
	if err != nil {
		return 0, nil, err
	}
	pools, err := ps.ListPools(ctx)
	if err != nil {
		return 0, nil, err
	}
	// Pools are few and listed whole; a cursor is the last pool's name.
	if pq.cursor != "" {
		i := 0
		for i < len(pools) && pools[i].Name <= pq.cursor {
			i++
		}
		pools = pools[i:]
	}
	if pq.limit > 0 && len(pools) > pq.limit+1 {
		pools = pools[:pq.limit+1]
	}
	return http.StatusOK, pageOf(pools, pq, func(p scheduler.PoolStatus) string { return p.Name }, toPool), nil
}

func (s *Server) setPool(r *http.Request, who Token) (int, any, error) {
	var req api.PoolSet
	if err := decode(r, &req, false); err != nil {
		return 0, nil, err
	}
	name := r.PathValue("pool")
	p := scheduler.Pool{Name: name, Slots: req.Slots, Description: req.Description, UpdatedAt: s.opts.Now(), UpdatedBy: actor(who), Reason: req.Reason}
	if err := scheduler.CheckPool(p); err != nil {
		return 0, nil, errBadRequest("%v", err)
	}
	st, ctx, cancel, err := s.store(r)
	if err != nil {
		return 0, nil, err
	}
	defer cancel()
	ps, err := poolStore(st)
	if err != nil {
		return 0, nil, err
	}
	if err := ps.SetPool(ctx, p); err != nil {
		return 0, nil, fmt.Errorf("pool %s: %w", name, err)
	}
	pools, err := ps.ListPools(ctx)
	if err != nil {
		return 0, nil, err
	}
	for _, cur := range pools {
		if cur.Name == name {
			return http.StatusOK, toPool(cur), nil
		}
	}
	return 0, nil, fmt.Errorf("pool %s was set but is not listed", name)
}

func (s *Server) deletePool(r *http.Request, who Token) (int, any, error) {
	name := r.PathValue("pool")
	if name == dag.DefaultPool {
		return 0, nil, errBadRequest("pool %s is the pool of every task that names none and cannot be deleted; set its slots to %d for no limit (PUT %s/pools/%s)",
			name, scheduler.UnlimitedSlots, api.Prefix, name)
	}
	st, ctx, cancel, err := s.store(r)
	if err != nil {
		return 0, nil, err
	}
	defer cancel()
	ps, err := poolStore(st)
	if err != nil {
		return 0, nil, err
	}
	err = ps.DeletePool(ctx, name, actor(who), s.opts.Now(), r.URL.Query().Get("reason"))
	switch {
	case errors.Is(err, scheduler.ErrNotFound):
		return 0, nil, errNotFound("pool %s: %v (GET %s/pools lists them)", name, err, api.Prefix)
	case errors.Is(err, scheduler.ErrPoolInUse):
		return 0, nil, errConflict("%v", err)
	case err != nil:
		return 0, nil, fmt.Errorf("pool %s: %w", name, err)
	}
	return http.StatusNoContent, nil, nil
}

func (s *Server) poolHistory(r *http.Request, _ Token) (int, any, error) {
	pq, err := readPage(r)
	if err != nil {
		return 0, nil, err
	}
	st, ctx, cancel, err := s.store(r)
	if err != nil {
		return 0, nil, err
	}
	defer cancel()
	ps, err := poolStore(st)
	if err != nil {
		return 0, nil, err
	}
	changes, err := ps.PoolHistory(ctx, r.URL.Query().Get("pool"))
	if err != nil {
		return 0, nil, err
	}
	// Oldest first, as vigil pools history prints them; a cursor is the
	// last change's seq. Pool changes are few: the store lists them all.
	if pq.cursor != "" {
		var after int64
		if _, err := fmt.Sscan(pq.cursor, &after); err != nil {
			return 0, nil, errBadRequest("?cursor=%q: %v", pq.cursor, scheduler.ErrBadCursor)
		}
		i := 0
		for i < len(changes) && changes[i].Seq <= after {
			i++
		}
		changes = changes[i:]
	}
	return http.StatusOK, pageOf(changes, pq, func(c scheduler.PoolChange) string { return fmt.Sprint(c.Seq) }, toPoolChange), nil
}
