package scheduler

import (
	"context"
	"fmt"
	"time"
)

// Notifications (issue 20): a task's on_failure, on_retry and on_success
// receivers are told of those transitions. The scheduling loop never
// sends anything: the store writes a pending notification in the same
// transaction as the transition that makes it due (see Due, called by
// every Store's Apply), so a process killed right after the transition
// cannot lose it, and a sender (package scheduler/notify) claims pending
// notifications from the Outbox and delivers them off the loop, with
// deadlines, retries and backoff. Delivery is at least once: a sender
// killed after a receiver accepted a notification but before it recorded
// that sends it again once its claim expires.

// NotifyEvent is what a notification tells of.
type NotifyEvent string

// The events a task notifies of.
const (
	NotifyFailure NotifyEvent = "failure"
	NotifyRetry   NotifyEvent = "retry"
	NotifySuccess NotifyEvent = "success"
	// NotifySLAMiss: the task had not ended by its SLA (see SLAMisses).
	NotifySLAMiss NotifyEvent = "sla_miss"
)

// NotificationState is where a notification's delivery is.
type NotificationState string

// The states of a notification.
const (
	NotificationPending NotificationState = "pending"
	NotificationSent    NotificationState = "sent"
	// NotificationGivenUp: every attempt failed; Error says why.
	NotificationGivenUp NotificationState = "given_up"
)

// Notification is one event of one task instance for one receiver.
type Notification struct {
	ID       int64       `json:"id"` // assigned by the store
	Key      TaskKey     `json:"task"`
	Try      int         `json:"try"`
	Event    NotifyEvent `json:"event"`
	Receiver string      `json:"receiver"`
	// To, Reason and At are the transition's that made it due.
	To     State     `json:"to"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`

	State NotificationState `json:"state"`
	// Attempts counts the deliveries tried; NextAt is when a pending
	// notification may be tried again.
	Attempts int       `json:"attempts"`
	NextAt   time.Time `json:"next_at"`
	// StatusCode is the receiver's answer to the last attempt (0 when it
	// gave none); Error why the last attempt failed.
	StatusCode int       `json:"status_code,omitempty"`
	Error      string    `json:"error,omitempty"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Due returns the notifications transition rec of instance next makes
// due, pending from rec.At: one per receiver its spec names for the
// event. Stores call it in Apply and insert what it returns in the same
// transaction as rec.
func Due(next TaskInstance, rec Transition) []Notification {
	if rec.From == rec.To {
		return nil
	}
	var ev NotifyEvent
	var receivers []string
	n := next.Spec.Notify
	switch rec.To {
	case StateFailed:
		ev, receivers = NotifyFailure, n.OnFailure
	case StateUpForRetry:
		ev, receivers = NotifyRetry, n.OnRetry
	case StateSuccess:
		ev, receivers = NotifySuccess, n.OnSuccess
	default:
		return nil
	}
	out := make([]Notification, 0, len(receivers))
	for _, r := range receivers {
		out = append(out, Notification{
			Key: rec.Key, Try: rec.Try, Event: ev, Receiver: r,
			To: rec.To, Reason: rec.Reason, At: rec.At,
			State: NotificationPending, NextAt: rec.At, UpdatedAt: rec.At,
		})
	}
	return out
}

// SLADeadline is when task instance ti of run should have ended: the
// run's start plus the task's SLA, the start being the later of the run's
// logical date and its creation (a catch-up or backfill run of an old
// tick is not late from its birth). ok is false for a task without one.
func SLADeadline(run Run, ti TaskInstance) (deadline time.Time, ok bool) {
	if ti.Spec.SLA <= 0 || len(ti.Spec.Notify.OnSLAMiss) == 0 {
		return time.Time{}, false
	}
	start := run.CreatedAt
	if run.LogicalDate.After(start) {
		start = run.LogicalDate
	}
	return start.Add(ti.Spec.SLA), true
}

// SLAMisses returns the notifications due at now for the instances of
// run that have not ended by their SLA deadline: one per receiver of
// each. An instance that ended (success, failed, skipped,
// upstream_failed), even late, misses nothing: its own events tell of it.
// The store keeps one sla_miss per instance and receiver
// (Outbox.AddNotifications), so calling this again is harmless.
func SLAMisses(run Run, tis []TaskInstance, now time.Time) []Notification {
	var out []Notification
	for _, ti := range tis {
		deadline, ok := SLADeadline(run, ti)
		if !ok || ti.State.Terminal() || now.Before(deadline) {
			continue
		}
		reason := fmt.Sprintf("not done within its SLA of %s: due %s, %s at %s",
			ti.Spec.SLA, deadline.UTC().Format(time.RFC3339), ti.State, now.UTC().Format(time.RFC3339))
		for _, r := range ti.Spec.Notify.OnSLAMiss {
			out = append(out, Notification{
				Key: ti.TaskKey, Try: ti.Try, Event: NotifySLAMiss, Receiver: r, To: ti.State, Reason: reason, At: deadline,
				State: NotificationPending, NextAt: now, UpdatedAt: now,
			})
		}
	}
	return out
}

// Outbox is the store side of notifications, implemented by both stores.
// Several schedulers may share one: a claim gives a notification to one
// sender for a lease, and claims skip rows another claimer holds locked.
type Outbox interface {
	// ClaimNotifications gives me up to limit pending notifications due
	// by now (NextAt ≤ now) that no one holds a live claim on, oldest
	// first, and holds them for me until now+lease.
	ClaimNotifications(ctx context.Context, me string, now time.Time, lease time.Duration, limit int) ([]Notification, error)
	// FinishAttempt records an attempt at notification n.ID: its State,
	// Attempts, NextAt, StatusCode, Error and UpdatedAt become n's, and
	// the claim is released. It changes nothing, and returns
	// ErrNotOwner, if me no longer holds the claim.
	FinishAttempt(ctx context.Context, me string, n Notification) error
	// ListNotifications returns an instance's notifications, oldest first.
	ListNotifications(ctx context.Context, key TaskKey) ([]Notification, error)
	// PendingNotifications counts the notifications not yet sent or
	// given up.
	PendingNotifications(ctx context.Context) (int, error)
	// AddNotifications stores sla_miss notifications (SLAMisses), each
	// unless one of the same instance and receiver is stored already,
	// and returns how many it added. Several schedulers may add the same
	// at once: one of them wins.
	AddNotifications(ctx context.Context, ns []Notification) (int, error)
}
