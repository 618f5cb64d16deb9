package scheduler

import (
	"context"
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
}
