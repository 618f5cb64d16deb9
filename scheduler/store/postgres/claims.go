package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// This file holds the pieces several schedulers on one database are built
// from (docs/ARCHITECTURE.md, "Several schedulers"): a liveness row per
// scheduler, kept by the database's clock so that clock skew between
// machines does not count, and the claiming of runs. The scheduler does
// not use them yet.

// Beat records that scheduler instance is alive now, by the database's
// clock.
func (s *Store) Beat(ctx context.Context, instance string) error {
	ctx, cancel := s.call(ctx, "Beat")
	defer cancel()
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO schedulers (instance, last_beat, started_at) VALUES ($1, now(), now())
		ON CONFLICT (instance) DO UPDATE SET last_beat = now()`, instance)
	if err != nil {
		return fmt.Errorf("beat %s: %w", instance, err)
	}
	return nil
}

// Claim is a run a scheduler took: from no owner (From empty) or from a
// scheduler whose last beat was StaleFor ago (Beat never called: -1).
type Claim struct {
	DAGID, RunID string
	From         string
	StaleFor     time.Duration
}

// ClaimRuns makes me the owner of up to limit running runs that have no
// owner, or whose owner has not beaten for staleAfter, oldest key first.
// Rows another scheduler is claiming at the same moment are skipped, not
// waited for (FOR UPDATE SKIP LOCKED), so each run goes to one claimer.
//
// The owner's freshness is a correlated subquery, not a join: when a row
// changed under the scan, PostgreSQL re-checks the WHERE clause on the new
// version (READ COMMITTED), and a LEFT JOIN would re-use the old row's
// missing match, taking a run another scheduler had just claimed
// (TestClaimRunsOnce found this).
func (s *Store) ClaimRuns(ctx context.Context, me string, staleAfter time.Duration, limit int) ([]Claim, error) {
	ctx, cancel := s.call(ctx, "ClaimRuns")
	defer cancel()
	var claims []Claim
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
			WITH candidates AS (
				SELECT r.dag_id, r.run_id, r.owner,
					COALESCE((SELECT EXTRACT(EPOCH FROM (now() - sc.last_beat)) FROM schedulers sc WHERE sc.instance = r.owner), -1) AS stale_s
				FROM runs r
				WHERE r.state = 'running' AND (r.owner IS NULL OR (r.owner <> $1 AND NOT EXISTS (
					SELECT 1 FROM schedulers sc
					WHERE sc.instance = r.owner AND sc.last_beat >= now() - make_interval(secs => $2))))
				ORDER BY r.dag_id, r.run_id
				LIMIT $3
				FOR UPDATE OF r SKIP LOCKED
			)
			UPDATE runs r SET owner = $1, owner_since = now()
			FROM candidates c WHERE r.dag_id = c.dag_id AND r.run_id = c.run_id
			RETURNING r.dag_id, r.run_id, COALESCE(c.owner, ''), c.stale_s`,
			me, staleAfter.Seconds(), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c Claim
			var staleS float64
			if err := rows.Scan(&c.DAGID, &c.RunID, &c.From, &staleS); err != nil {
				return err
			}
			if c.From == "" {
				c.StaleFor = 0
			} else if staleS < 0 {
				c.StaleFor = -1
			} else {
				c.StaleFor = time.Duration(staleS * float64(time.Second))
			}
			claims = append(claims, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim runs for %s: %w", me, err)
	}
	return claims, nil
}

// RunOwner returns the scheduler that owns a run ("" for none), or
// scheduler.ErrNotFound.
func (s *Store) RunOwner(ctx context.Context, dagID, runID string) (string, error) {
	ctx, cancel := s.call(ctx, "RunOwner")
	defer cancel()
	var owner sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT owner FROM runs WHERE dag_id = $1 AND run_id = $2`, dagID, runID).Scan(&owner)
	if err != nil {
		return "", fmt.Errorf("owner of run %s/%s: %w", dagID, runID, notFound(err))
	}
	return owner.String, nil
}
