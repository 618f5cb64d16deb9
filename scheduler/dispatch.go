package scheduler

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// ErrTaskInvalid is returned (wrapped) by an executor's Start for a try it
// can never run (no command, a spec the cluster rejects). The task fails
// at once, without retries, with the executor's message as the reason.
var ErrTaskInvalid = errors.New("task cannot be run")

// dispatch evaluates the candidate instances: those whose upstreams all
// succeeded go to the executor, within the parallelism limits; those with
// a failed or skipped upstream end.
func (s *Scheduler) dispatch(ctx context.Context, now time.Time) {
	for k, t := range s.timed {
		if !now.Before(t) {
			delete(s.timed, k)
			if !s.resubmitRefused(ctx, k) {
				s.candidates[k] = struct{}{}
			}
		}
	}
	s.slotFreed = false
	if len(s.candidates) == 0 && (len(s.blocked) == 0 || s.active >= s.opts.Parallelism) {
		return
	}
	q := make(candidateHeap, 0, len(s.candidates))
	for k := range s.candidates {
		delete(s.blocked, k) // looked at now; its place in blockedQ lapses
		c := candidate{key: k}
		if rs, ti := s.instance(k); ti != nil {
			c.date, c.priority = rs.run.LogicalDate, ti.Spec.Priority
		}
		q = append(q, c)
	}
	clear(s.candidates)
	heap.Init(&q)

	var changes []Change
	queuedDAG := map[string]int{}
	queued := 0
	room := func(dagID string) bool { return s.activeDAG[dagID]+queuedDAG[dagID] < s.maxTasks(dagID) }
	for {
		if s.active+queued >= s.opts.Parallelism {
			// No slot is left: the rest wait for one, unlooked-at, in
			// order (see block).
			for _, c := range q {
				s.block(c)
			}
			break
		}
		// The next is the first of the new candidates or of the blocked,
		// whichever comes first; only as many blocked are looked at as
		// there are slots (a 100,000-task run made this quadratic when
		// every freed slot brought them all back).
		b, ok := s.nextBlocked(room)
		var cand candidate
		switch {
		case q.Len() > 0 && (!ok || q[0].before(b)):
			cand = heap.Pop(&q).(candidate)
		case ok:
			cand = s.popBlocked(b)
		}
		if cand.key == (TaskKey{}) {
			break // nothing left that may go
		}
		k := cand.key
		rs, ti := s.instance(k)
		if ti == nil {
			continue
		}
		// Stamp with the clock now, not the turn's start: runs created
		// earlier in this turn must not appear to come after their tasks
		// were queued.
		c := Change{Key: k, From: ti.State, Actor: s.actor, At: s.opts.Now()}
		if rs.cancelled != "" {
			// A try sent back by a failed submit after its run was
			// cancelled: the cancel skips it at the next sync.
			continue
		}
		switch ti.State {
		case StateScheduled:
			verdict, reason := upstreamVerdict(rs, ti)
			switch verdict {
			case upstreamWait:
				continue
			case upstreamFailed:
				c.To, c.Reason = StateUpstreamFailed, reason
				changes = append(changes, c)
				continue
			case upstreamSkipped:
				c.To, c.Reason = StateSkipped, reason
				changes = append(changes, c)
				continue
			}
			c.Reason = reason
			switch {
			case ti.Try > ti.TryBase:
				// A try that was lost or requeued goes again as itself.
				c.Reason = fmt.Sprintf("submitting try %d again", ti.Try)
			case ti.Try > 0:
				// Cleared by hand: the next try gets a new number.
				c.Reason = fmt.Sprintf("%s; try %d, after a clear", reason, ti.Try+1)
			}
		case StateUpForRetry:
			if now.Before(ti.RetryAt) {
				s.timed[k] = ti.RetryAt
				continue
			}
			c.Reason = fmt.Sprintf("retry delay elapsed; try %d of %d", ti.Try+1, ti.Spec.Retries+1)
			if ti.Evictions > 0 {
				c.Reason = fmt.Sprintf("retry delay elapsed; try %d (%d of %d counted, %d evicted not counted)", ti.Try+1, ti.Counted()+1, ti.Spec.Retries+1, ti.Evictions)
			}
		default:
			continue
		}
		if pool := ti.Spec.PoolName(); s.pools.isClosed(pool) {
			s.pools.wait(pool, k)
			continue
		}
		if s.active+queued >= s.opts.Parallelism || !room(k.DAGID) {
			s.block(cand)
			continue
		}
		c.To = StateQueued
		changes = append(changes, c)
		queued++
		queuedDAG[k.DAGID]++
	}
	results, err := s.commit(ctx, changes)
	if err != nil {
		s.log.Warn("queue tasks; will try again", zap.Int("tasks", len(changes)), zap.Error(err))
		for _, c := range changes {
			s.candidates[c.Key] = struct{}{}
		}
		s.timedRetry(now)
		return
	}
	for i, r := range results {
		switch {
		case r.Err != nil:
			if IsPoolRefusal(r.Err) {
				s.poolRefused(changes[i], r.Err)
			}
		case r.Instance.State == StateQueued:
			s.poolAdmitted(r.Instance)
			s.startSubmit(ctx, r.Instance)
		}
	}
	// A change that failed took no slot it was counted for: what was
	// blocked by that count is looked at again at the next dispatch,
	// which takes the blocked whenever a slot is free (see nextBlocked).
}

// submitResult is the outcome of one Executor.Start, made off the loop.
type submitResult struct {
	ti  TaskInstance
	err error
}

// startSubmit hands a queued try to the executor on a goroutine of its
// own, so a slow or hanging API (incident 1: a pod create that never
// returned) holds up only that try, for at most ExecutorTimeout, and never
// the loop. The result comes back to the loop through s.submits.
func (s *Scheduler) startSubmit(ctx context.Context, ti TaskInstance) {
	s.inflight[ti.TaskKey] = struct{}{}
	s.submitting.Add(1)
	gen := s.leaseGen.Load()
	dates, params := s.runDates(ti.TaskKey), s.runParams(ti.TaskKey)
	go withTry(ctx, ti.TaskKey, "submit", func(ctx context.Context) {
		defer s.submitting.Done()
		var err error
		select {
		case s.submitSlots <- struct{}{}:
			if err = s.leaseValid(gen); err == nil {
				cctx, cancel := s.execCtx(ctx)
				end := s.execCall(cctx, "Start", ti.TryKey())
				err = s.opts.Executor.Start(cctx, Try{Key: ti.TryKey(), Spec: ti.Spec, Dates: dates, Params: params})
				end()
				cancel()
			}
			<-s.submitSlots
		case <-ctx.Done():
			err = ctx.Err()
		}
		select {
		case s.submits <- submitResult{ti: ti, err: err}:
		case <-s.stopped:
		}
	})
}

// handleSubmits records the submits that failed: a requeue with backoff,
// or a failure for a task the executor can never run.
func (s *Scheduler) handleSubmits(ctx context.Context, results []submitResult) {
	var failed []Change
	refusals := map[TaskKey]bool{}
	for _, r := range results {
		delete(s.inflight, r.ti.TaskKey)
		if r.err == nil {
			if rf := s.refused[r.ti.TaskKey]; rf != nil {
				s.log.Info("submit accepted after refusals", zap.Stringer("try", r.ti.TryKey()), zap.Int("refusals", rf.attempts),
					zap.Duration("waited", s.opts.Now().Sub(rf.since)))
				delete(s.refused, r.ti.TaskKey)
			}
			continue
		}
		_, cur := s.instance(r.ti.TaskKey)
		if cur == nil {
			s.log.Info("submit answered for a run this scheduler no longer owns; its owner reconciles the try", zap.Stringer("try", r.ti.TryKey()), zap.Error(r.err))
			continue
		}
		// A create that timed out on our side may have succeeded on the
		// server: if the try's events already moved it on, it is running.
		if cur.State != StateQueued || cur.Try != r.ti.Try {
			s.log.Info("submit reported an error but the try already runs; keeping it", zap.Stringer("try", r.ti.TryKey()), zap.Error(r.err))
			continue
		}
		var ref *RefusedError
		if errors.As(r.err, &ref) {
			if c, ok := s.refuse(*cur, ref, s.opts.Now()); ok {
				failed = append(failed, c)
				refusals[c.Key] = true
			}
			continue
		}
		failed = append(failed, s.submitFailure(r.ti, r.err))
	}
	if _, err := s.commit(ctx, failed); err != nil {
		// The tries stay queued in the store with nothing running them:
		// the next sync asks the executor about them and requeues them as
		// lost. A refused try is submitted again at its time, and its
		// refusal recorded then.
		s.log.Warn("record failed submits; reconciling them at the next sync", zap.Int("tasks", len(failed)), zap.Error(err))
		for _, c := range failed {
			if rf := s.refused[c.Key]; refusals[c.Key] && rf != nil {
				rf.said = ""
				continue
			}
			s.unresolved[c.Key] = leftBySelf
		}
	}
}

// timedRetry delays the next dispatch after a store failure, so a store
// that is down is not hammered by a loop with work to do.
func (s *Scheduler) timedRetry(now time.Time) {
	for k := range s.candidates {
		s.timed[k] = now.Add(time.Second)
	}
	clear(s.candidates)
}

// submitFailure is the change that records a failed submit.
func (s *Scheduler) submitFailure(ti TaskInstance, err error) Change {
	s.stats.submitErrors.Add(1)
	s.stats.submitFailures.add(ti.DAGID, SubmitError)
	now := s.opts.Now()
	c := Change{Key: ti.TaskKey, From: StateQueued, Actor: s.actor, At: now}
	if errors.Is(err, ErrTaskInvalid) {
		c.To, c.Reason = StateFailed, fmt.Sprintf("%s cannot run the task: %v", s.opts.Executor.Name(), err)
		s.log.Error("task cannot be run", zap.Stringer("try", ti.TryKey()), zap.Error(err))
		return c
	}
	backoff := s.opts.SubmitBackoff
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) && ra.RetryAfter() > backoff {
		backoff = ra.RetryAfter() // the server said when (429 Retry-After)
	}
	c.To = StateScheduled
	c.Reason = fmt.Sprintf("submit of try %d failed: %v; requeued, next attempt in %s", ti.Try, err, backoff)
	s.timed[ti.TaskKey] = now.Add(backoff)
	s.log.Warn("submit failed; requeued", zap.Stringer("try", ti.TryKey()), zap.Error(err))
	return c
}

func (s *Scheduler) maxTasks(dagID string) int {
	if d := s.dags[dagID]; d != nil && d.maxTasks > 0 {
		return d.maxTasks
	}
	return s.opts.Parallelism
}

// candidate is a task instance dispatch looks at, with its priority and
// its run's logical date, looked up once.
type candidate struct {
	key      TaskKey
	date     time.Time
	priority int
	seq      uint64 // when blocked: its entry in s.blocked (see block)
}

// candidateHeap yields candidates highest priority first (the DAG key
// priority: when slots are scarce, a pool's or parallelism's, the
// important tasks take them), then oldest run first, then by run and task
// ID: a fair and repeatable order. When the parallelism limit is reached
// most candidates are tasks that were blocked, brought back because a slot
// freed; sorting them all on every turn made a 10,000-task run quadratic,
// while a heap hands out only as many as there is room for.
type candidateHeap []candidate

func (h candidateHeap) Len() int { return len(h) }

func (h candidateHeap) Less(i, j int) bool { return h[i].before(h[j]) }

// before reports whether a goes before b.
func (a candidate) before(b candidate) bool {
	if a.priority != b.priority {
		return a.priority > b.priority
	}
	if !a.date.Equal(b.date) {
		return a.date.Before(b.date)
	}
	if a.key.RunID != b.key.RunID {
		return a.key.RunID < b.key.RunID
	}
	if a.key.DAGID != b.key.DAGID {
		return a.key.DAGID < b.key.DAGID
	}
	return a.key.TaskID < b.key.TaskID
}

func (h candidateHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }

func (h *candidateHeap) Push(x any) { *h = append(*h, x.(candidate)) }

func (h *candidateHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}
