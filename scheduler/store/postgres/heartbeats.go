package postgres

import (
	"context"
	"fmt"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/store/internal/sqlcol"
)

// WriteHeartbeat inserts or replaces the beat of hb's component and
// instance.
func (s *Store) WriteHeartbeat(ctx context.Context, hb scheduler.HeartbeatRecord) error {
	ctx, cancel := s.call(ctx, "WriteHeartbeat")
	defer cancel()
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO heartbeats (component, instance, host, pid, period, last_beat, started_at, stopped_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (component, instance) DO UPDATE SET
			host = excluded.host, pid = excluded.pid, period = excluded.period,
			last_beat = excluded.last_beat, started_at = excluded.started_at,
			stopped_at = excluded.stopped_at`,
		hb.Component, hb.Instance, hb.Host, hb.PID, int64(hb.Period), sqlcol.TimeArg(hb.LastBeat), sqlcol.TimeArg(hb.StartedAt), sqlcol.TimeArg(hb.StoppedAt))
	if err != nil {
		return fmt.Errorf("write heartbeat of %s@%s: %w", hb.Component, hb.Instance, err)
	}
	return nil
}

// ListHeartbeats returns every recorded beat, ordered by component and
// instance.
func (s *Store) ListHeartbeats(ctx context.Context) ([]scheduler.HeartbeatRecord, error) {
	ctx, cancel := s.call(ctx, "ListHeartbeats")
	defer cancel()
	rows, err := s.db.QueryContext(ctx, `SELECT component, instance, host, pid, period, last_beat, started_at, stopped_at
		FROM heartbeats ORDER BY component, instance`)
	if err != nil {
		return nil, fmt.Errorf("list heartbeats: %w", err)
	}
	defer rows.Close()
	var hbs []scheduler.HeartbeatRecord
	for rows.Next() {
		var hb scheduler.HeartbeatRecord
		if err := rows.Scan(&hb.Component, &hb.Instance, &hb.Host, &hb.PID, &hb.Period,
			sqlcol.Time(&hb.LastBeat), sqlcol.Time(&hb.StartedAt), sqlcol.Time(&hb.StoppedAt)); err != nil {
			return nil, fmt.Errorf("list heartbeats: %w", err)
		}
		hbs = append(hbs, hb)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list heartbeats: %w", err)
	}
	return hbs, nil
}
