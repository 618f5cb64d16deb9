package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/store/internal/sqlcol"
)

var _ scheduler.Outbox = (*Store)(nil)

const insertNotification = `INSERT INTO notifications (dag_id, run_id, task_id, try, event, receiver, to_state, reason, at,
	state, attempts, next_at, status_code, error, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`

// ClaimNotifications gives me the pending notifications due by now that
// no live claim holds. Rows another scheduler is claiming at the same
// moment are skipped, not waited for (FOR UPDATE SKIP LOCKED), so each
// notification goes to one sender; the claim then holds it for lease.
func (s *Store) ClaimNotifications(ctx context.Context, me string, now time.Time, lease time.Duration, limit int) ([]scheduler.Notification, error) {
	ctx, cancel := s.call(ctx, "ClaimNotifications")
	defer cancel()
	rows, err := s.db.QueryContext(ctx, `
		UPDATE notifications SET claimed_by = $1, claim_until = $2
		WHERE id IN (
			SELECT id FROM notifications
			WHERE state = 'pending' AND next_at <= $3 AND (claim_until IS NULL OR claim_until < $3)
			ORDER BY next_at, id LIMIT $4
			FOR UPDATE SKIP LOCKED)
		AND state = 'pending' AND (claim_until IS NULL OR claim_until < $3)
		RETURNING `+sqlcol.NotificationColumns,
		me, sqlcol.TimeArg(now.Add(lease)), sqlcol.TimeArg(now), limit)
	if err != nil {
		return nil, fmt.Errorf("claim notifications: %w", err)
	}
	defer rows.Close()
	var out []scheduler.Notification
	for rows.Next() {
		n, err := sqlcol.ScanNotification(rows)
		if err != nil {
			return nil, fmt.Errorf("claim notifications: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim notifications: %w", err)
	}
	return out, nil
}

// FinishAttempt records an attempt at n and releases me's claim on it.
func (s *Store) FinishAttempt(ctx context.Context, me string, n scheduler.Notification) error {
	ctx, cancel := s.call(ctx, "FinishAttempt")
	defer cancel()
	res, err := s.db.ExecContext(ctx, `UPDATE notifications SET state = $1, attempts = $2, next_at = $3, status_code = $4,
		error = $5, updated_at = $6, claimed_by = '', claim_until = NULL
		WHERE id = $7 AND claimed_by = $8 AND state = 'pending'`,
		string(n.State), n.Attempts, sqlcol.TimeArg(n.NextAt), n.StatusCode, n.Error, sqlcol.TimeArg(n.UpdatedAt), n.ID, me)
	if err != nil {
		return fmt.Errorf("finish notification %d: %w", n.ID, err)
	}
	if k, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("finish notification %d: %w", n.ID, err)
	} else if k == 0 {
		return fmt.Errorf("finish notification %d: %w: %s holds no claim on it", n.ID, scheduler.ErrNotOwner, me)
	}
	return nil
}

// ListNotifications returns an instance's notifications, oldest first.
func (s *Store) ListNotifications(ctx context.Context, key scheduler.TaskKey) ([]scheduler.Notification, error) {
	ctx, cancel := s.call(ctx, "ListNotifications")
	defer cancel()
	rows, err := s.db.QueryContext(ctx, `SELECT `+sqlcol.NotificationColumns+` FROM notifications
		WHERE dag_id = $1 AND run_id = $2 AND task_id = $3 ORDER BY id`, key.DAGID, key.RunID, key.TaskID)
	if err != nil {
		return nil, fmt.Errorf("list notifications of %s: %w", key, err)
	}
	defer rows.Close()
	var out []scheduler.Notification
	for rows.Next() {
		n, err := sqlcol.ScanNotification(rows)
		if err != nil {
			return nil, fmt.Errorf("list notifications of %s: %w", key, err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list notifications of %s: %w", key, err)
	}
	return out, nil
}

// AddNotifications stores sla_miss notifications, skipping those of an
// instance and receiver already stored (notifications_sla_once): of
// several schedulers adding the same at once, one inserts it.
func (s *Store) AddNotifications(ctx context.Context, ns []scheduler.Notification) (int, error) {
	ctx, cancel := s.call(ctx, "AddNotifications")
	defer cancel()
	added := 0
	for _, n := range ns {
		if n.Event != scheduler.NotifySLAMiss {
			return added, fmt.Errorf("add notifications: %s: only %s notifications are added on their own", n.Key, scheduler.NotifySLAMiss)
		}
		res, err := s.db.ExecContext(ctx, insertNotification+
			` ON CONFLICT (dag_id, run_id, task_id, receiver) WHERE event = 'sla_miss' DO NOTHING`, sqlcol.NotificationArgs(n)...)
		if err != nil {
			return added, fmt.Errorf("add notifications: %w", err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return added, fmt.Errorf("add notifications: %w", err)
		}
		added += int(k)
	}
	return added, nil
}

// PendingNotifications counts the notifications not yet sent or given up.
func (s *Store) PendingNotifications(ctx context.Context) (int, error) {
	ctx, cancel := s.call(ctx, "PendingNotifications")
	defer cancel()
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE state = 'pending'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count pending notifications: %w", err)
	}
	return n, nil
}
