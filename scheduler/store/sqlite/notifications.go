package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/store/internal/sqlcol"
)

var _ scheduler.Outbox = (*Store)(nil)

const insertNotification = `INSERT INTO notifications (dag_id, run_id, task_id, try, event, receiver, to_state, reason, at,
	state, attempts, next_at, status_code, error, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// ClaimNotifications gives me the pending notifications due by now that
// no live claim holds. The immediate transaction excludes other writers,
// so two senders on one file never claim the same row.
func (s *Store) ClaimNotifications(ctx context.Context, me string, now time.Time, lease time.Duration, limit int) ([]scheduler.Notification, error) {
	ctx, cancel := s.call(ctx, "ClaimNotifications")
	defer cancel()
	var out []scheduler.Notification
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		out = nil
		rows, err := tx.QueryContext(ctx, `SELECT `+sqlcol.NotificationColumns+` FROM notifications
			WHERE state = 'pending' AND next_at <= ? AND (claim_until IS NULL OR claim_until < ?)
			ORDER BY next_at, id LIMIT ?`, sqlcol.TimeArg(now), sqlcol.TimeArg(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			n, err := sqlcol.ScanNotification(rows)
			if err != nil {
				return err
			}
			out = append(out, n)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		for _, n := range out {
			if _, err := tx.ExecContext(ctx, `UPDATE notifications SET claimed_by = ?, claim_until = ? WHERE id = ?`,
				me, sqlcol.TimeArg(now.Add(lease)), n.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim notifications: %w", err)
	}
	return out, nil
}

// FinishAttempt records an attempt at n and releases me's claim on it.
func (s *Store) FinishAttempt(ctx context.Context, me string, n scheduler.Notification) error {
	ctx, cancel := s.call(ctx, "FinishAttempt")
	defer cancel()
	res, err := s.write.ExecContext(ctx, `UPDATE notifications SET state = ?, attempts = ?, next_at = ?, status_code = ?,
		error = ?, updated_at = ?, claimed_by = '', claim_until = NULL
		WHERE id = ? AND claimed_by = ? AND state = 'pending'`,
		n.State, n.Attempts, sqlcol.TimeArg(n.NextAt), n.StatusCode, n.Error, sqlcol.TimeArg(n.UpdatedAt), n.ID, me)
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
	rows, err := s.read.QueryContext(ctx, `SELECT `+sqlcol.NotificationColumns+` FROM notifications
		WHERE dag_id = ? AND run_id = ? AND task_id = ? ORDER BY id`, key.DAGID, key.RunID, key.TaskID)
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
// instance and receiver already stored (notifications_sla_once).
func (s *Store) AddNotifications(ctx context.Context, ns []scheduler.Notification) (int, error) {
	ctx, cancel := s.call(ctx, "AddNotifications")
	defer cancel()
	added := 0
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		added = 0
		for _, n := range ns {
			if n.Event != scheduler.NotifySLAMiss {
				return fmt.Errorf("notification of %s: only %s notifications are added on their own", n.Key, scheduler.NotifySLAMiss)
			}
			res, err := tx.ExecContext(ctx, strings.Replace(insertNotification, "INSERT INTO", "INSERT OR IGNORE INTO", 1), sqlcol.NotificationArgs(n)...)
			if err != nil {
				return err
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			added += int(k)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("add notifications: %w", err)
	}
	return added, nil
}

// PendingNotifications counts the notifications not yet sent or given up.
func (s *Store) PendingNotifications(ctx context.Context) (int, error) {
	ctx, cancel := s.call(ctx, "PendingNotifications")
	defer cancel()
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE state = 'pending'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count pending notifications: %w", err)
	}
	return n, nil
}
