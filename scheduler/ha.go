package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// Several schedulers on one store (a Store that is a Claimer).
//
// Each run has one owner, and only the owner acts on it: it loads the runs
// it owns at each sync, claims more when it has room (and, always, the runs
// of schedulers that went silent), and fences every change it stores with
// its name, so a change it decided before losing a run is refused
// (ErrNotOwner) rather than applied over the new owner's.
//
// Its beat in the store is its lease. The store judges it by its own
// clock: silent for StaleAfter, the scheduler's runs go to whoever claims
// them. The scheduler judges itself by its clock, conservatively: once its
// last successful beat was sent more than StaleAfter/2 ago (a lost
// database, a long pause), it lets go of every run before anyone else may
// take them, and claims them again when beats get through.

// ha reports whether this scheduler shares its store with others.
func (s *Scheduler) ha() bool { return s.claimer != nil }

// beatEvery is how often the lease is renewed: often enough that several
// beats can fail in a row before the lease is let go.
func (s *Scheduler) beatEvery() time.Duration {
	return min(max(s.opts.StaleAfter/9, 100*time.Millisecond), s.opts.StoreHeartbeatEvery)
}

// holdsLease reports whether this scheduler may act on its runs.
func (s *Scheduler) holdsLease(now time.Time) bool {
	return !s.ha() || (!s.leaseAt.IsZero() && now.Sub(s.leaseAt) < s.opts.StaleAfter/2)
}

// leaseValid reports, from any goroutine, whether the lease the loop held
// when it took generation gen still holds. A submit checks it just before
// the executor starts a try: a scheduler frozen between queueing a try and
// starting it (a paused VM) must not start a try that its run's new owner
// has started meanwhile. The lease ends StaleAfter/2 after the last beat,
// while the store lets others claim only after StaleAfter, so a freeze
// shorter than StaleAfter/2 between this check and the start is harmless.
func (s *Scheduler) leaseValid(gen uint64) error {
	if !s.ha() {
		return nil
	}
	// Until before gen: checkLease bumps gen before renewLease moves
	// until on, so an until from after a lapse comes with a new gen.
	until := s.leaseUntil.Load()
	if s.leaseGen.Load() != gen {
		return errLeaseLost
	}
	if left := time.Duration(until - s.opts.Now().UnixNano()); left <= 0 {
		return fmt.Errorf("%w (it ran out %s ago)", errLeaseLost, (-left).Round(time.Millisecond))
	}
	return nil
}

// errLeaseLost is a submit refused because the lease lapsed after the try
// was queued. The try was not started; the run's owner starts it.
var errLeaseLost = errors.New("not started: this scheduler's lease in the store lapsed since the try was queued (was the process paused?); the run's owner starts it")

// renewLease beats in the store when due. A failure is retried within the
// second; the lease runs out on its own if they keep failing.
func (s *Scheduler) renewLease(ctx context.Context, now time.Time) {
	if !s.ha() || now.Before(s.nextBeat) {
		return
	}
	sent := s.opts.Now()
	cctx, cancel := s.storeCtx(ctx)
	err := s.claimer.Beat(cctx, s.opts.Instance, false)
	cancel()
	if err != nil {
		s.stats.storeErrors.Add(1)
		s.nextBeat = now.Add(min(time.Second, s.beatEvery()))
		s.log.Warn("beat in the store; retrying", zap.Duration("since_last_beat", now.Sub(s.leaseAt)), zap.Error(err))
		return
	}
	if !s.holdsLease(sent) {
		s.log.Info("beating in the store again; claiming runs", zap.String("instance", s.opts.Instance))
	}
	s.leaseAt, s.lapsed = sent, false
	s.leaseUntil.Store(sent.Add(s.opts.StaleAfter / 2).UnixNano())
	s.dbHB.Beat()
	s.nextBeat = now.Add(s.beatEvery())
}

// checkLease lets go of every run once the lease may have run out.
func (s *Scheduler) checkLease(now time.Time) {
	if s.holdsLease(now) {
		return
	}
	if !s.lapsed {
		s.lapsed = true
		s.leaseGen.Add(1)
	}
	if len(s.runs) == 0 {
		return
	}
	why := fmt.Sprintf("no beat reached the store for %s (stale after %s): another scheduler may take the run over",
		now.Sub(s.leaseAt).Round(time.Second), s.opts.StaleAfter)
	if s.leaseAt.IsZero() {
		why = "no beat reached the store yet"
	}
	for key := range s.runs {
		s.forgetRun(key, why)
	}
	// Runs still ours when beats get through again are taken back, and
	// their records say why nobody watched them meanwhile.
	s.resumeNote = fmt.Sprintf("taken back after the store was out of reach (no beat since %s)", s.leaseAt.UTC().Format(time.RFC3339))
}

// maxTakeover bounds the runs of silent schedulers one claim takes: a
// dead scheduler's runs are all taken within a few loop turns, however
// many, without one transaction holding thousands of rows.
const maxTakeover = 256

// claimRuns takes, when due, the runs of schedulers that stopped or went
// silent (always: their tries may be running unwatched), then runs nobody
// owns while this scheduler's backlog leaves room, and loads them. It is
// due at each sync, and again at the next turn while claims come back
// full.
func (s *Scheduler) claimRuns(ctx context.Context, now time.Time) {
	if !s.ha() || !s.holdsLease(now) || now.Before(s.nextClaim) {
		return
	}
	s.nextClaim = now.Add(s.opts.SyncInterval)
	full := false
	claim := func(limit int, staleOnly bool) []Claim {
		cctx, cancel := s.storeCtx(ctx)
		defer cancel()
		claims, err := s.claimer.ClaimRuns(cctx, s.opts.Instance, s.opts.StaleAfter, limit, staleOnly)
		if err != nil {
			s.stats.storeErrors.Add(1)
			s.log.Warn("claim runs; will try again", zap.Error(err))
			return nil
		}
		full = full || len(claims) == limit
		return claims
	}
	claims := claim(maxTakeover, true)
	if s.backlog() < s.opts.Parallelism {
		claims = append(claims, claim(s.opts.ClaimBatch, false)...)
	}
	if full {
		s.nextClaim = now
	}
	var changes []Change
	for _, c := range claims {
		cs, err := s.loadClaimed(ctx, c)
		if err != nil {
			// The run is ours in the store; the next sync loads it as
			// one of ours.
			s.stats.storeErrors.Add(1)
			s.log.Warn("load a claimed run; will load it at the next sync", zap.String("dag", c.DAGID), zap.String("run", c.RunID), zap.Error(err))
			continue
		}
		changes = append(changes, cs...)
	}
	if _, err := s.commit(ctx, changes); err != nil {
		s.log.Warn("record the adoption of claimed runs", zap.Int("tasks", len(changes)), zap.Error(err))
	}
}

// backlog counts the instances of this scheduler's runs that have not
// ended: the work it has before it needs more.
func (s *Scheduler) backlog() int {
	n := 0
	for _, rs := range s.runs {
		n += rs.open
	}
	return n
}

// loadClaimed starts tracking a claimed run. It returns the transitions
// that record a takeover on each waiting instance; live ones are
// reconciled, and their records say the same.
func (s *Scheduler) loadClaimed(ctx context.Context, c Claim) ([]Change, error) {
	cctx, cancel := s.storeCtx(ctx)
	defer cancel()
	run, err := s.opts.Store.GetRun(cctx, c.DAGID, c.RunID)
	if err != nil {
		return nil, err
	}
	tis, err := s.opts.Store.ListTaskInstances(cctx, TaskFilter{DAGID: c.DAGID, RunID: c.RunID})
	if err != nil {
		return nil, err
	}
	s.addRun(run, tis)
	s.stats.runsClaimed.Add(1)
	why := c.Why()
	s.log.Info("run claimed", zap.String("dag", c.DAGID), zap.String("run", c.RunID), zap.String("why", why), zap.Int("tasks", len(tis)))
	var changes []Change
	for _, ti := range tis {
		switch {
		case ti.State.Active():
			s.unresolved[ti.TaskKey] = why
		case c.From != "" && !ti.State.Terminal():
			changes = append(changes, Change{Key: ti.TaskKey, From: ti.State, To: ti.State, Reason: why,
				Actor: s.actor, At: s.opts.Now()})
		}
	}
	return changes, nil
}

// forgetRun stops tracking a run this scheduler no longer owns, and
// everything derived from it; its tries are left to the new owner.
func (s *Scheduler) forgetRun(key runKey, why string) {
	rs := s.runs[key]
	if rs == nil {
		return
	}
	for _, ti := range rs.tis {
		k := ti.TaskKey
		if ti.State.Active() {
			s.active--
			s.activeDAG[k.DAGID]--
		}
		delete(s.candidates, k)
		delete(s.blocked, k)
		delete(s.timed, k)
		delete(s.deadlines, k)
		delete(s.unresolved, k)
		delete(s.refused, k)
		delete(s.stopping, ti.TryKey())
	}
	delete(s.runs, key)
	if d := s.dags[key.dagID]; d != nil && d.activeRun > 0 {
		d.activeRun--
	}
	s.stats.runsLost.Add(1)
	s.log.Warn("run no longer this scheduler's; leaving it", zap.String("dag", key.dagID), zap.String("run", key.runID), zap.String("why", why))
}

// forgetNotOwned lets go of the runs whose changes the store refused as
// another scheduler's.
func (s *Scheduler) forgetNotOwned(changes []Change, results []ChangeResult) {
	for i, r := range results {
		if errors.Is(r.Err, ErrNotOwner) {
			k := changes[i].Key
			s.forgetRun(runKey{k.DAGID, k.RunID}, r.Err.Error())
		}
	}
}

// releaseLease tells the store this scheduler stopped, so the others take
// its runs at once.
func (s *Scheduler) releaseLease(ctx context.Context) {
	if !s.ha() {
		return
	}
	cctx, cancel := s.storeCtx(ctx)
	defer cancel()
	if err := s.claimer.Beat(cctx, s.opts.Instance, true); err != nil {
		s.log.Warn("record the stop in the store; the others take the runs over once the beat is stale", zap.Error(err))
	}
}
