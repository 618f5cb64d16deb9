package scheduler

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"go.uber.org/zap"
)

// A platform that refuses a try (403: the scheduler's account may not
// create pods, or the namespace's quota is used up) does not change its
// mind within seconds. Requeueing such a try every SubmitBackoff made 105
// refused creates a minute for 12 tasks and two history records per
// attempt, forever (issue 16). A refused try now stays queued and is
// submitted again with exponential backoff, and its history gets one
// record per distinct refusal.

// The reasons of a RefusedError.
const (
	// RefusedForbidden: the scheduler's account lacks the permission
	// (RBAC), or an admission policy refuses the try.
	RefusedForbidden = "forbidden"
	// RefusedQuota: the namespace's resource quota is used up.
	RefusedQuota = "waiting for quota"
)

// RefusedError is returned by an executor's Start when its platform
// refused the try for a reason that does not clear by itself within
// seconds: Reason is RefusedForbidden or RefusedQuota, Err the platform's
// answer. The try stays queued and is submitted again after
// SubmitBackoff, doubling with each refusal up to MaxSubmitBackoff (with
// jitter); its history gets one record per distinct refusal.
type RefusedError struct {
	Reason string
	Err    error
}

func (e *RefusedError) Error() string { return e.Reason + ": " + e.Err.Error() }
func (e *RefusedError) Unwrap() error { return e.Err }

// defaultMaxSubmitBackoff caps the wait between refused submits.
const defaultMaxSubmitBackoff = 5 * time.Minute

// refusal is what the loop remembers of a queued try its executor
// refuses.
type refusal struct {
	try      int
	attempts int       // refused submits in a row
	reason   string    // the last refusal's Reason
	said     string    // the last recorded refusal, normalised ("" for none)
	since    time.Time // the first refusal
	next     time.Time // when to submit again
}

// refuse handles a refused submit: it schedules the next attempt and
// returns the record to store if this refusal differs from the last one
// recorded for the try.
func (s *Scheduler) refuse(ti TaskInstance, ref *RefusedError, now time.Time) (Change, bool) {
	s.stats.submitErrors.Add(1)
	s.stats.submitFailures.add(ti.DAGID, submitReason(ref.Reason))
	k := ti.TaskKey
	r := s.refused[k]
	if r == nil || r.try != ti.Try {
		r = &refusal{try: ti.Try, since: now}
		s.refused[k] = r
	}
	r.attempts++
	r.reason = ref.Reason
	wait := s.submitBackoff(r.attempts)
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(ref.Err, &ra) && ra.RetryAfter() > wait {
		wait = ra.RetryAfter()
	}
	r.next = now.Add(wait)
	s.timed[k] = r.next
	said := ref.Reason + "\x00" + normalise(ref.Err.Error())
	if said == r.said {
		s.log.Debug("submit refused again; waiting", zap.Stringer("try", ti.TryKey()), zap.String("reason", ref.Reason),
			zap.Int("attempts", r.attempts), zap.Duration("next_in", wait))
		return Change{}, false
	}
	r.said = said
	s.log.Warn("submit refused; the try stays queued and is submitted again with backoff", zap.Stringer("try", ti.TryKey()),
		zap.String("reason", ref.Reason), zap.Error(ref.Err), zap.Int("attempts", r.attempts), zap.Duration("next_in", wait))
	return Change{Key: k, From: StateQueued, To: StateQueued, Actor: s.actor, At: now,
		Reason: fmt.Sprintf("%s: %v; try %d stays queued, submitted again with backoff (next in %s, then up to every %s)",
			ref.Reason, ref.Err, ti.Try, wait.Round(time.Millisecond), s.opts.MaxSubmitBackoff)}, true
}

// submitBackoff is the wait after the n-th refusal in a row:
// SubmitBackoff doubling up to MaxSubmitBackoff, within ±20% so that
// tries refused together do not come back together.
func (s *Scheduler) submitBackoff(n int) time.Duration {
	d := s.opts.SubmitBackoff
	for i := 1; i < n && d < s.opts.MaxSubmitBackoff; i++ {
		d *= 2
	}
	d = min(d, s.opts.MaxSubmitBackoff)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// normalise makes two refusals that differ only in their numbers (a
// quota's "used: pods=3" then "used: pods=4") the same refusal.
func normalise(msg string) string {
	var b strings.Builder
	digits := false
	for _, c := range msg {
		if c >= '0' && c <= '9' {
			if !digits {
				b.WriteByte('#')
			}
			digits = true
			continue
		}
		digits = false
		b.WriteRune(c)
	}
	return b.String()
}

// resubmitRefused submits again a refused try whose backoff elapsed, off
// the loop like any submit. It reports whether k was such a try (then it
// is not a dispatch candidate: it is queued already).
func (s *Scheduler) resubmitRefused(ctx context.Context, k TaskKey) bool {
	r := s.refused[k]
	if r == nil {
		return false
	}
	_, ti := s.instance(k)
	if ti == nil || ti.State != StateQueued || ti.Try != r.try {
		delete(s.refused, k)
		return false
	}
	if _, busy := s.inflight[k]; !busy {
		s.startSubmit(ctx, *ti)
	}
	return true
}

// waitingRefused reports whether k is a queued try waiting out a refusal:
// the reconciler leaves it alone (no pod is expected).
func (s *Scheduler) waitingRefused(k TaskKey, ti *TaskInstance) bool {
	r := s.refused[k]
	return r != nil && ti != nil && ti.State == StateQueued && ti.Try == r.try
}
